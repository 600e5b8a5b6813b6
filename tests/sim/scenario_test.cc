#include "sim/scenario.h"

#include <cmath>
#include <filesystem>
#include <string>

#include <gtest/gtest.h>

#include "test_support.h"

namespace pt {
namespace {

using test::contains;
using test::error_of;

ScenarioInputs inputs(const std::string& model = "Qwen3-32B") {
  ScenarioInputs in;
  in.model = model;
  in.use_process_env = false;  // the tests must not depend on the caller's environment
  return in;
}

double weight_of(const Scenario& s, const std::string& linear) {
  for (const auto& l : s.plan.linears) {
    if (l.name == linear) return l.weight_bytes();
  }
  ADD_FAILURE() << "no linear " << linear;
  return 0;
}

const SiteSummary& site(const StepResult& r, const std::string& name) {
  for (const auto& s : r.sites) {
    if (s.site == name) return s;
  }
  ADD_FAILURE() << "no site " << name;
  return r.sites.front();
}

TEST(LoadScenario, DefaultsToEnabledWithDefaultRatios) {
  Scenario s = load_scenario(inputs());
  EXPECT_EQ(s.model.name, "Qwen3-32B");
  EXPECT_EQ(s.hardware.name, "a3-die");
  EXPECT_EQ(s.layer_template.name, "dense");
  EXPECT_TRUE(s.config.enabled);
  EXPECT_EQ(s.config.ratio, WeightPrefetchConfig::defaults_enabled().ratio);
  EXPECT_EQ(s.config_origin, "vllm-ascend defaults with {\"enabled\": true}");
  EXPECT_EQ(s.cap_reading, CapReading::kCode);
  EXPECT_FALSE(s.legacy_equivalent.has_value());
  EXPECT_TRUE(s.warnings.empty());
}

// 18 MiB over the weight, rounded up to 6 decimals so int(ratio * bytes) reaches the size.
void expect_ratio_reaches(double ratio, double size, double weight) {
  EXPECT_NEAR(ratio, size / weight, 1e-6);
  EXPECT_GE(std::floor(ratio * weight), size);               // reaches the size ...
  EXPECT_LT(std::floor((ratio - 1e-6) * weight), size);      // ... with the smallest 6-decimal ratio
}

TEST(LoadScenario, LegacyEnvBecomesTheEquivalentConfig) {
  ScenarioInputs in = inputs();
  in.env_assignments = {"VLLM_ASCEND_ENABLE_PREFETCH_MLP=1"};
  Scenario s = load_scenario(in);
  // Qwen3-32B W8A8 TP4: gate_up 65536000 B, down 32768000 B; the legacy default size is 18 MiB.
  EXPECT_TRUE(s.config.enabled);
  EXPECT_EQ(s.config[RatioKey::kAttnQkv], 0);
  EXPECT_EQ(s.config[RatioKey::kAttnO], 0);
  EXPECT_EQ(s.config[RatioKey::kMoeGateUp], 0);
  ASSERT_EQ(weight_of(s, "gate_up_proj"), 65536000);
  ASSERT_EQ(weight_of(s, "down_proj"), 32768000);
  expect_ratio_reaches(s.config[RatioKey::kMlpGateUp], 18874368, 65536000);  // 18 / 62.5 = 0.288
  expect_ratio_reaches(s.config[RatioKey::kMlpDown], 18874368, 32768000);    // 18 / 31.25 = 0.576
  EXPECT_EQ(s.config_origin, "legacy environment variables");
  // The equivalent --additional-config reads back to the same config.
  ASSERT_TRUE(s.legacy_equivalent.has_value());
  PrefetchConfigParse back = parse_prefetch_config(*s.legacy_equivalent, "equivalent", false);
  EXPECT_EQ(back.config.enabled, s.config.enabled);
  EXPECT_EQ(back.config.ratio, s.config.ratio);
  // Simulated, both MLP prefetches issue 18 MiB and nothing else fires.
  StepResult r = simulate_step(s.plan, s.config, SimOptions{});
  EXPECT_EQ(site(r, "mlp.gate_up").issued_bytes, 18874368);
  EXPECT_EQ(site(r, "mlp.down").issued_bytes, 18874368);
  EXPECT_FALSE(site(r, "attn.qkv").active);
  EXPECT_FALSE(site(r, "attn.o/down_proj").active);
}

TEST(LoadScenario, LegacySizesBecomeRatios) {
  ScenarioInputs in = inputs();
  in.env_assignments = {"VLLM_ASCEND_ENABLE_PREFETCH_MLP=1", "VLLM_ASCEND_MLP_GATE_UP_PREFETCH_SIZE=1000000",
                        "VLLM_ASCEND_MLP_DOWN_PREFETCH_SIZE=4194304"};
  Scenario s = load_scenario(in);
  expect_ratio_reaches(s.config[RatioKey::kMlpGateUp], 1e6, 65536000);
  expect_ratio_reaches(s.config[RatioKey::kMlpDown], 4194304, 32768000);
  EXPECT_TRUE(s.warnings.empty());
}

TEST(LoadScenario, LegacySizeAboveTheCapWarnsAndIsClampedToRatioOne) {
  ScenarioInputs in = inputs("Qwen3-8B");
  // 30 MiB down on a 12 MiB (TP4) down_proj: ratio 1, and above the 18 MiB cap the new config enforces.
  in.env_assignments = {"VLLM_ASCEND_ENABLE_PREFETCH_MLP=1", "VLLM_ASCEND_MLP_DOWN_PREFETCH_SIZE=31457280"};
  Scenario s = load_scenario(in);
  EXPECT_EQ(s.config[RatioKey::kMlpDown], 1.0);
  ASSERT_EQ(s.warnings.size(), 1u);
  EXPECT_PRED2(contains, s.warnings[0], "31457280 bytes exceeds the 18 MiB cap");
}

TEST(LoadScenario, LegacySizesWithoutEnableEnableNothing) {
  ScenarioInputs in = inputs();
  in.env_assignments = {"VLLM_ASCEND_MLP_DOWN_PREFETCH_SIZE=4194304"};
  Scenario s = load_scenario(in);
  EXPECT_FALSE(s.config.enabled);
  bool noted = false;
  for (const auto& n : s.notes) noted = noted || contains(n, "VLLM_ASCEND_ENABLE_PREFETCH_MLP is not 1");
  EXPECT_TRUE(noted);
}

TEST(LoadScenario, LegacyOnMoeModelNotes) {
  ScenarioInputs in = inputs("Qwen3-30B-A3B");
  in.env_assignments = {"VLLM_ASCEND_ENABLE_PREFETCH_MLP=1"};
  Scenario s = load_scenario(in);
  bool noted = false;
  for (const auto& n : s.notes) noted = noted || contains(n, "dense MLP path only");
  EXPECT_TRUE(noted);
  // A MoE model has no dense MLP linears: ratio 0 (no weight to size against).
  EXPECT_EQ(s.config[RatioKey::kMlpGateUp], 0);
}

TEST(LoadScenario, LegacyAndAdditionalConfigTogetherAreRefused) {
  ScenarioInputs in = inputs();
  in.env_assignments = {"VLLM_ASCEND_ENABLE_PREFETCH_MLP=1"};
  in.additional_config = R"({"weight_prefetch_config": {"enabled": true}})";
  EXPECT_PRED2(contains, error_of([&] { load_scenario(in); }), "both --additional-config and the legacy");
}

TEST(LoadScenario, BadLegacyValueIsRefused) {
  ScenarioInputs in = inputs();
  in.env_assignments = {"VLLM_ASCEND_ENABLE_PREFETCH_MLP=yes"};
  EXPECT_PRED2(contains, error_of([&] { load_scenario(in); }), "VLLM_ASCEND_ENABLE_PREFETCH_MLP=yes: expected 0 or 1");
}

TEST(LoadScenario, AdditionalConfigInlineAndFromFile) {
  ScenarioInputs in = inputs();
  in.additional_config = R"({"weight_prefetch_config": {"enabled": true, "prefetch_ratio": {"mlp": {"down": 0.5}}}})";
  Scenario s = load_scenario(in);
  EXPECT_EQ(s.config_origin, "--additional-config");
  EXPECT_EQ(s.config[RatioKey::kMlpDown], 0.5);
  EXPECT_EQ(s.config[RatioKey::kMlpGateUp], 0);
  bool noted = false;
  for (const auto& n : s.notes) noted = noted || contains(n, "mlp.gate_up: not given");
  EXPECT_TRUE(noted);

  const std::string dir = test::make_temp_dir();
  test::write_file(dir + "/c.json", R"({"weight_prefetch_config": {"enable": true}})");
  in.additional_config = "@" + dir + "/c.json";
  EXPECT_PRED2(contains, error_of([&] { load_scenario(in); }), dir + "/c.json: $.weight_prefetch_config.enable");
  in.lenient = true;
  Scenario lenient = load_scenario(in);
  EXPECT_EQ(lenient.config_origin, dir + "/c.json");
  EXPECT_FALSE(lenient.config.enabled);
  ASSERT_EQ(lenient.warnings.size(), 1u);
  EXPECT_PRED2(contains, lenient.warnings[0], "$.weight_prefetch_config.enable");
  std::filesystem::remove_all(dir);
}

TEST(LoadScenario, HardwareOverridesCapReadingAndOpTimes) {
  ScenarioInputs in = inputs("Qwen3-8B");
  in.hardware_overrides = {"hbm_GBps=2000"};
  in.cap_reading = "guide";
  const std::string dir = test::make_temp_dir();
  in.op_times = test::write_file(dir + "/ops.csv", "name,num_tokens,duration_us\ndown_proj,72,12.5\n");
  Scenario s = load_scenario(in);
  EXPECT_EQ(s.hardware.hbm_GBps, 2000);
  EXPECT_EQ(s.plan.hardware.hbm_GBps, 2000);
  EXPECT_EQ(s.cap_reading, CapReading::kGuide);
  EXPECT_EQ(s.op_times.size(), 1u);
  bool found = false;
  for (const auto& op : s.plan.layer_types[0].ops) {
    if (op.name == "down_proj") {
      found = true;
      EXPECT_EQ(op.standalone_us, 12.5);
      EXPECT_EQ(op.cost_source, "op table");
    }
  }
  EXPECT_TRUE(found);
  std::filesystem::remove_all(dir);
}

TEST(LoadScenario, BadInputsAreRefusedNamingThem) {
  {
    ScenarioInputs in = inputs("NoSuchModel");
    EXPECT_PRED2(contains, error_of([&] { load_scenario(in); }), "--model NoSuchModel");
  }
  {
    ScenarioInputs in = inputs();
    in.hardware = "910X";
    EXPECT_PRED2(contains, error_of([&] { load_scenario(in); }), "--hardware 910X");
  }
  {
    ScenarioInputs in = inputs();
    in.hardware_overrides = {"hbm=1"};
    EXPECT_PRED2(contains, error_of([&] { load_scenario(in); }), "--hw-set hbm=1");
  }
  {
    ScenarioInputs in = inputs();
    in.cap_reading = "both";
    EXPECT_PRED2(contains, error_of([&] { load_scenario(in); }), "--cap both");
  }
  {
    ScenarioInputs in = inputs();
    in.deployment.num_tokens = 0;
    EXPECT_PRED2(contains, error_of([&] { load_scenario(in); }), "--num-tokens 0");
  }
  {
    ScenarioInputs in = inputs();
    in.layer_template = "/nonexistent/layers.json";
    EXPECT_PRED2(contains, error_of([&] { load_scenario(in); }), "/nonexistent/layers.json");
  }
  {
    ScenarioInputs in = inputs();
    in.op_times = "/nonexistent/ops.csv";
    EXPECT_PRED2(contains, error_of([&] { load_scenario(in); }), "/nonexistent/ops.csv");
  }
}

TEST(CheckCalibration, ModelAndDeploymentRefusedReleaseAndHardwareWarned) {
  ScenarioInputs in;
  in.model = "Qwen3-8B";
  in.use_process_env = false;
  const Scenario s = load_scenario(in);
  const CalibrationTarget now = calibration_target(s.model, s.plan.deployment, s.hardware, s.vllm_ascend_version);
  EXPECT_EQ(now.model_shape_hash, model_shape_hash(s.model));
  EXPECT_NE(now.model_shape_hash, model_shape_hash(load_model("Qwen3-32B")));
  Calibration c;
  c.fitted_on = now;
  std::vector<std::string> warnings;
  check_calibration(c, now, "c.json", false, warnings);
  EXPECT_TRUE(warnings.empty());
  c.fitted_on.vllm_ascend_version = "v0.15.0";
  c.fitted_on.hardware = "910B4";
  check_calibration(c, now, "c.json", false, warnings);
  EXPECT_EQ(warnings.size(), 2u);
  c.fitted_on = now;
  c.fitted_on.tensor_parallel = 8;
  EXPECT_PRED2(test::contains, test::error_of([&] { check_calibration(c, now, "c.json", false, warnings); }), "parallelism");
  warnings.clear();
  check_calibration(c, now, "c.json", true, warnings);
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_PRED2(test::contains, warnings[0], "used anyway");
  check_calibration(Calibration{}, now, "old.json", false, warnings);
  EXPECT_PRED2(test::contains, warnings.back(), "not checked");
}

}  // namespace
}  // namespace pt
