// calibrate against ground truth: profiles the simulator wrote (export-profile, no jitter) are
// noise-free, so the fit must give back the hardware profile they came from, and the calibrated
// simulator must reproduce them.
#include "analyze/calibration.h"

#include <cmath>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "export/profile_export.h"
#include "profile/profile_readers.h"
#include "sim/scenario.h"
#include "test_support.h"

namespace pt {
namespace {

namespace fs = std::filesystem;
using test::contains;

const char* kDisabled = R"({"weight_prefetch_config":{"enabled":false}})";

Scenario qwen3_8b(int num_tokens, std::optional<std::string> additional_config) {
  ScenarioInputs in;
  in.model = "Qwen3-8B";
  in.deployment.num_tokens = num_tokens;
  in.use_process_env = false;
  in.additional_config = std::move(additional_config);
  return load_scenario(in);
}

// Scenarios at several token counts, each exported (1 step, jitter 0) and read back.
struct Runs {
  std::string tmp = test::make_temp_dir();
  std::vector<std::unique_ptr<Scenario>> scenarios;
  std::vector<Profile> profiles;
  Runs(const std::vector<int>& tokens, std::optional<std::string> config) {
    for (int n : tokens) {
      scenarios.push_back(std::make_unique<Scenario>(qwen3_8b(n, config)));
      ProfileExportOptions o;
      o.steps = 1;
      o.jitter_pct = 0;
      const std::string dir = tmp + "/t" + std::to_string(n);
      write_profile_directory(dir, export_profile(*scenarios.back(), o));
      profiles.push_back(load_profile(dir));
    }
  }
  ~Runs() { fs::remove_all(tmp); }
  std::vector<CalibrationRun> runs() const {
    std::vector<CalibrationRun> r;
    for (size_t i = 0; i < profiles.size(); ++i) r.push_back({&profiles[i], &scenarios[i]->plan, &scenarios[i]->config});
    return r;
  }
  const Scenario& base() const { return *scenarios.front(); }
};

std::map<std::string, double> hardware_fits(const Calibration& c) {
  std::map<std::string, double> m;
  for (const auto& h : c.hardware) m[h.parameter] = h.value;
  return m;
}

class CalibrationOff : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    runs_ = new Runs({8, 32, 72}, kDisabled);
    calibration_ = new Calibration(fit_calibration(runs_->runs(), CapReading::kCode));
  }
  static void TearDownTestSuite() {
    delete calibration_;
    delete runs_;
  }
  static Runs* runs_;
  static Calibration* calibration_;
};
Runs* CalibrationOff::runs_ = nullptr;
Calibration* CalibrationOff::calibration_ = nullptr;

TEST_F(CalibrationOff, StreamingRateAndOverheadAreTheHardwaresOwn) {
  const HardwareProfile& hw = runs_->base().hardware;
  ASSERT_EQ(hw.name, "a3-die");
  ASSERT_DOUBLE_EQ(hw.hbm_GBps, 1600);
  ASSERT_DOUBLE_EQ(hw.op_overhead_us, 2.0);
  const auto fits = hardware_fits(*calibration_);
  // The matmuls show the rate they stream at (its efficiency against the peak), not the peak.
  ASSERT_TRUE(fits.count("matmul_stream_efficiency")) << "notes: " << (calibration_->notes.empty() ? "" : calibration_->notes[0]);
  ASSERT_TRUE(fits.count("op_overhead_us"));
  EXPECT_EQ(fits.count("hbm_GBps"), 0u);
  EXPECT_NEAR(fits.at("matmul_stream_efficiency"), hw.matmul_stream_efficiency, 0.01);
  EXPECT_NEAR(fits.at("op_overhead_us"), 2.0, 0.05);
  // Prefetch disabled: no CMO to fit, and the calibration says so.
  EXPECT_EQ(fits.count("cmo_GBps"), 0u);
  bool noted = false;
  for (const auto& n : calibration_->notes) noted |= contains(n, "cmo_GBps left as it was");
  EXPECT_TRUE(noted);
  EXPECT_EQ(calibration_->sources.size(), 3u);
}

// Per key and token count, the distinct durations (to the nanosecond) of the tasks fitted under it.
std::map<std::string, std::map<int, std::set<long long>>> durations_by_key(const Runs& runs) {
  std::map<std::string, std::map<int, std::set<long long>>> out;
  for (size_t i = 0; i < runs.profiles.size(); ++i) {
    const StepPlan& plan = runs.scenarios[i]->plan;
    for (const auto& t : runs.profiles[i].tasks) {
      if (t.stream_id != kComputeStreamId && !t.is_communication()) continue;
      const std::string key = calibration_key(t, plan);
      if (!key.empty()) out[key][plan.tokens.padded_tokens].insert(std::llround(t.duration_us * 1000));
    }
  }
  return out;
}

// Noise-free profiles: a key whose tasks take one duration at each token count is fitted exactly.
// Not every key is: the fit is per op type for everything but matmuls, and one type can stand for
// ops of different sizes (RmsNorm: input_layernorm over the hidden size and q_norm / k_norm over
// the heads; AscendQuantV2: the quantize before qkv_proj, o_proj and down_proj). Their rmse is the
// spread between those ops, not noise, and is checked against that spread.
TEST_F(CalibrationOff, OpFitsAreExactOnNoiseFreeProfiles) {
  ASSERT_FALSE(calibration_->ops.empty());
  const auto durations = durations_by_key(*runs_);
  EXPECT_EQ(durations.size(), calibration_->ops.size());
  size_t exact = 0, mixed = 0;
  for (const auto& f : calibration_->ops) {
    SCOPED_TRACE(f.key);
    EXPECT_EQ(f.token_counts, 3u);
    EXPECT_GE(f.points, 3u);
    ASSERT_TRUE(durations.count(f.key));
    const auto& per_tokens = durations.at(f.key);
    EXPECT_EQ(per_tokens.size(), 3u);
    long long spread_ns = 0;
    for (const auto& [tokens, set] : per_tokens) spread_ns = std::max(spread_ns, *set.rbegin() - *set.begin());
    if (spread_ns <= 2) {
      ++exact;
      EXPECT_LT(f.rmse_us, 1e-3);
      // The trace's times are whole ns: 1 ns on the shortest ops (about 2 us) is 0.05 %.
      EXPECT_LT(f.mean_abs_error_pct, 0.05);
    } else {
      ++mixed;
      EXPECT_EQ(f.key.find('@'), std::string::npos) << "matmuls are fitted per linear: one size each";
      EXPECT_GT(f.rmse_us, 0);
      EXPECT_LE(f.rmse_us, spread_ns / 1000.0);  // never more than the spread it cannot explain
    }
  }
  EXPECT_GT(exact, mixed);
  bool has_matmul = false;
  for (const auto& f : calibration_->ops) has_matmul |= contains(f.key, "@");
  EXPECT_TRUE(has_matmul) << "matmuls are fitted per linear (\"Type@linear\")";
  // A matmul per linear: each linear of the plan that runs is there.
  for (const char* linear : {"@qkv_proj", "@o_proj", "@gate_up_proj", "@down_proj"}) {
    bool found = false;
    for (const auto& f : calibration_->ops) found |= contains(f.key, linear);
    EXPECT_TRUE(found) << linear;
  }
}

TEST_F(CalibrationOff, CalibratedSimulatorReproducesEveryRun) {
  const Scenario& base = runs_->base();
  HardwareProfile hw = base.hardware;
  OpTimeTable table = base.op_times;
  apply_calibration(*calibration_, hw, table);
  for (size_t i = 0; i < runs_->profiles.size(); ++i) {
    const StepPlan calibrated =
        build_step_plan(base.model, runs_->scenarios[i]->plan.deployment, hw, base.layer_template, *base.release, &table);
    const Reproduction r = reproduce(runs_->profiles[i], calibrated, runs_->scenarios[i]->config, CapReading::kCode);
    SCOPED_TRACE(r.num_tokens);
    EXPECT_EQ(r.num_tokens, runs_->scenarios[i]->plan.tokens.padded_tokens);
    EXPECT_GT(r.profile_step_us, 0);
    EXPECT_LT(std::abs(r.step_error_pct), 0.5) << r.profile_step_us << " vs " << r.simulated_step_us;
    EXPECT_FALSE(r.ops.empty());
  }
}

TEST_F(CalibrationOff, JsonRoundTripsThroughParse) {
  const nlohmann::json j = calibration_to_json(*calibration_);
  EXPECT_EQ(j.at("schema"), "prefetch-tuner/calibration/1");
  const Calibration back = parse_calibration(j.dump(2), "cal.json");
  EXPECT_EQ(back.sources, calibration_->sources);
  ASSERT_EQ(back.hardware.size(), calibration_->hardware.size());
  for (size_t i = 0; i < back.hardware.size(); ++i) {
    // The JSON object is keyed by parameter: the order may differ.
    bool found = false;
    for (const auto& h : calibration_->hardware) {
      if (h.parameter != back.hardware[i].parameter) continue;
      found = true;
      EXPECT_EQ(back.hardware[i].value, h.value) << h.parameter;
      EXPECT_EQ(back.hardware[i].basis, h.basis) << h.parameter;
    }
    EXPECT_TRUE(found) << back.hardware[i].parameter;
  }
  ASSERT_EQ(back.ops.size(), calibration_->ops.size());
  for (size_t i = 0; i < back.ops.size(); ++i) {
    const OpDurationFit& a = calibration_->ops[i];
    const OpDurationFit& b = back.ops[i];
    EXPECT_EQ(b.key, a.key);
    EXPECT_EQ(b.intercept_us, a.intercept_us) << a.key;
    EXPECT_EQ(b.per_token_us, a.per_token_us) << a.key;
    EXPECT_EQ(b.points, a.points) << a.key;
    EXPECT_EQ(b.token_counts, a.token_counts) << a.key;
    EXPECT_EQ(b.rmse_us, a.rmse_us) << a.key;
    EXPECT_EQ(b.mean_abs_error_pct, a.mean_abs_error_pct) << a.key;
  }
  // And the JSON of the parsed calibration is the same JSON, notes aside (not read back).
  nlohmann::json again = calibration_to_json(back);
  nlohmann::json expected = j;
  again.erase("notes");
  expected.erase("notes");
  EXPECT_EQ(again, expected);
}

TEST(CalibrationFit, SingleTokenCountGivesConstants) {
  Runs runs({16}, kDisabled);
  const Calibration c = fit_calibration(runs.runs(), CapReading::kCode);
  ASSERT_FALSE(c.ops.empty());
  const auto durations = durations_by_key(runs);
  for (const auto& f : c.ops) {
    SCOPED_TRACE(f.key);
    EXPECT_EQ(f.per_token_us, 0);
    EXPECT_EQ(f.token_counts, 1u);
    EXPECT_GT(f.intercept_us, 0);
    // A constant: the mean of the key's durations.
    ASSERT_TRUE(durations.count(f.key));
    const auto& set = durations.at(f.key).at(16);
    EXPECT_GE(f.intercept_us, *set.begin() / 1000.0 - 1e-3);
    EXPECT_LE(f.intercept_us, *set.rbegin() / 1000.0 + 1e-3);
    if (set.size() == 1) {
      EXPECT_LT(f.rmse_us, 1e-3);
    }
  }
}

TEST(CalibrationFit, CmoBandwidthFromPrefetchEnabledProfiles) {
  Runs runs({8, 32, 72}, std::nullopt);
  ASSERT_TRUE(runs.base().config.enabled);
  const Calibration c = fit_calibration(runs.runs(), CapReading::kCode);
  const auto fits = hardware_fits(c);
  ASSERT_TRUE(fits.count("cmo_GBps"));
  ASSERT_DOUBLE_EQ(runs.base().hardware.cmo_GBps, 1200);
  // A line through the fastest CMO of each size: the CMOs that ran beside light vector work were
  // not slowed by HBM sharing, so the line is the engine's own rate and set-up.
  EXPECT_NEAR(fits.at("cmo_GBps"), 1200, 24);
  ASSERT_TRUE(fits.count("cmo_setup_us"));
  EXPECT_NEAR(fits.at("cmo_setup_us"), runs.base().hardware.cmo_setup_us, 0.2);
}

TEST(CalibrationKey, MatmulsAreKeyedByTheirLinear) {
  const Scenario s = qwen3_8b(16, kDisabled);
  ProfileTask t;
  t.task_type = "AI_CORE";
  t.op_type = "QuantBatchMatmulV3";
  const Linear* down = nullptr;
  for (const auto& l : s.plan.linears) {
    if (l.name == "down_proj") down = &l;
  }
  ASSERT_NE(down, nullptr);
  t.input_shapes = test::keep("16," + std::to_string(static_cast<long long>(down->in_features)) + ";" +
                   std::to_string(static_cast<long long>(down->out_features)) + "," +
                   std::to_string(static_cast<long long>(down->in_features)));
  EXPECT_EQ(calibration_key(t, s.plan), "QuantBatchMatmulV3@down_proj");
  t.input_shapes = "16,7;9,7";  // no linear of that shape: the op type alone
  EXPECT_EQ(calibration_key(t, s.plan), "QuantBatchMatmulV3");
  t.task_type = "CMO";
  EXPECT_EQ(calibration_key(t, s.plan), "");
  t.task_type = "EVENT_WAIT";
  EXPECT_EQ(calibration_key(t, s.plan), "");
}

}  // namespace
}  // namespace pt
