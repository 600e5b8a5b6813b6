// calibrate's run as a library call (issue 12: export/ only renders, app/ only reads flags): the
// plans, the fit and the reproduction of each profile come from run_calibrate.
#include "calibrate/calibrate_run.h"

#include <cmath>

#include <gtest/gtest.h>

#include "export/calibrate_report.h"
#include "test_support.h"

namespace pt {
namespace {

Scenario qwen3_8b_disabled() {
  ScenarioInputs in;
  in.model = "Qwen3-8B";
  in.deployment.tensor_parallel = 4;
  in.additional_config = R"({"weight_prefetch_config":{"enabled":false}})";
  in.use_process_env = false;
  return load_scenario(in);
}

std::string sample(const char* tokens) {
  return test::source_path(std::string("sample_profiles/profiles/calibration-qwen3-8b-tp4-off-t") + tokens);
}

TEST(CalibrateRun, PlansFitAndReproducesEachProfile) {
  const Scenario base = qwen3_8b_disabled();
  const CalibrateRun run = run_calibrate(base, {sample("8"), sample("32")}, {}, 2);
  EXPECT_EQ(run.profiles_named, 2u);
  EXPECT_EQ(run.runs_read, 2u);
  EXPECT_EQ(run.num_tokens, (std::vector<int>{8, 32}));  // read from the profiles' matmul shapes
  ASSERT_EQ(run.checks.size(), 2u);
  EXPECT_EQ(run.checks[0].num_tokens, 8);
  EXPECT_EQ(run.checks[1].num_tokens, 32);
  EXPECT_FALSE(run.calibration.ops.empty());
  EXPECT_EQ(run.calibration.fitted_on.model, "Qwen3-8B");
  // Notes are the fit's (what it left as it was), none from the model check: these have shapes.
  for (const auto& n : run.calibration.notes) EXPECT_FALSE(test::contains(n, "calibration-qwen3-8b")) << n;
  for (const auto& c : run.checks) EXPECT_LT(std::abs(c.step_error_pct), 5.0) << c.num_tokens;
  // The report only reads the run.
  const std::string text = calibrate_text(base, run, "");
  EXPECT_PRED2(test::contains, text, "calibrated Qwen3-8B from 2 profiles on ");
  EXPECT_PRED2(test::contains, text, "reproduction at 32 tokens");
  EXPECT_FALSE(test::contains(text, "ranks)"));
  const nlohmann::json j = calibrate_json(base, run);
  EXPECT_EQ(j.at("reproduction").size(), 2u);
  EXPECT_EQ(j.at("profiles_read"), 2);
  EXPECT_TRUE(j.at("additional_config").is_object());
}

TEST(CalibrateRun, GivenTokenCountsOverrideTheShapesAndOneThreadReadsTheSame) {
  const Scenario base = qwen3_8b_disabled();
  const CalibrateRun two = run_calibrate(base, {sample("8"), sample("32")}, {}, 2);
  const CalibrateRun one = run_calibrate(base, {sample("8"), sample("32")}, {8, 32}, 1);
  EXPECT_EQ(one.num_tokens, two.num_tokens);
  EXPECT_EQ(calibration_to_json(one.calibration).dump(), calibration_to_json(two.calibration).dump());
}

TEST(CalibrateRun, AProfileOfAnotherModelIsRefusedNamingTheLinear) {
  ScenarioInputs in;
  in.model = "Qwen3-32B";
  in.deployment.tensor_parallel = 4;
  in.use_process_env = false;
  const std::string e = test::error_of([&] { run_calibrate(load_scenario(in), {sample("8")}, {}, 2); });
  EXPECT_PRED2(test::contains, e, "the profile does not fit Qwen3-32B at TP4");
}

TEST(CalibrateRun, TokenCountsMustMatchTheProfiles) {
  const Scenario base = qwen3_8b_disabled();
  EXPECT_PRED2(test::contains, test::error_of([&] { run_calibrate(base, {sample("8")}, {8, 32}, 2); }), "2 token counts for 1 profiles");
}

}  // namespace
}  // namespace pt
