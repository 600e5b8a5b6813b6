// calibrate's run as a library call (issue 12: export/ only renders, app/ only reads flags): the
// plans, the fit and the reproduction of each profile come from run_calibrate.
#include "calibrate/calibrate_run.h"

#include <cmath>

#include <gtest/gtest.h>

#include "export/calibrate_report.h"
#include "profile/profile_readers.h"
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

TEST(CalibrateRun, PlansFitAndReproducesEachProfile) {
  const Scenario base = qwen3_8b_disabled();
  std::vector<Profile> profiles;
  for (const char* n : {"8", "32"}) {
    profiles.push_back(load_profile(test::source_path(std::string("sample_profiles/profiles/calibration-qwen3-8b-tp4-off-t") + n)));
  }
  const CalibrateRun run = run_calibrate(base, std::move(profiles), {});
  ASSERT_EQ(run.plans.size(), 2u);
  EXPECT_EQ(run.plans[0].tokens.scheduled_tokens, 8);  // read from the profiles' matmul shapes
  EXPECT_EQ(run.plans[1].tokens.scheduled_tokens, 32);
  ASSERT_EQ(run.checks.size(), 2u);
  EXPECT_EQ(run.checks[0].num_tokens, 8);
  EXPECT_FALSE(run.calibration.ops.empty());
  for (const auto& c : run.checks) EXPECT_LT(std::abs(c.step_error_pct), 5.0) << c.num_tokens;
  // The report only reads the run.
  const std::string text = calibrate_text(base, run, "");
  EXPECT_PRED2(test::contains, text, "calibrated Qwen3-8B from 2 profiles");
  EXPECT_PRED2(test::contains, text, "reproduction at 32 tokens");
  const nlohmann::json j = calibrate_json(base, run);
  EXPECT_EQ(j.at("reproduction").size(), 2u);
  EXPECT_TRUE(j.at("additional_config").is_object());
}

TEST(CalibrateRun, TokenCountsMustMatchTheProfiles) {
  const Scenario base = qwen3_8b_disabled();
  std::vector<Profile> profiles;
  profiles.push_back(load_profile(test::source_path("sample_profiles/profiles/calibration-qwen3-8b-tp4-off-t8")));
  EXPECT_PRED2(test::contains, test::error_of([&] { run_calibrate(base, profiles, {8, 32}); }), "2 token counts for 1 profiles");
}

}  // namespace
}  // namespace pt
