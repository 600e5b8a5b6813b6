#include "sim/scenario.h"

#include <cmath>
#include <filesystem>
#include <string>

#include <gtest/gtest.h>

#include "export/site_text.h"

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

TEST(LoadScenario, DefaultsToEnabledWithDefaultRatiosOnV023) {
  Scenario s = load_scenario(inputs());
  EXPECT_EQ(s.model.name, "Qwen3-32B");
  EXPECT_EQ(s.hardware.name, "a3-die");
  EXPECT_EQ(s.layer_template.name, "dense");
  EXPECT_STREQ(s.release->tag, "v0.23.0");
  EXPECT_EQ(s.vllm_ascend_version, "v0.23.0");
  EXPECT_EQ(s.plan.release, s.release);
  EXPECT_EQ(s.config, WeightPrefetchConfig::defaults_enabled(s.release->semantics));
  EXPECT_EQ(s.config_origin, "vllm-ascend defaults with {\"enabled\": true}");
  EXPECT_EQ(s.cap_reading, CapReading::kCode);
  EXPECT_FALSE(s.legacy_equivalent.has_value());
  EXPECT_TRUE(s.warnings.empty());
}

TEST(LoadScenario, EveryReleaseTagLoadsAndLaterOnesAreRefused) {
  EXPECT_EQ(releases().size(), 16u);
  for (const auto& r : releases()) {
    ScenarioInputs in = inputs("Qwen3-8B");
    in.vllm_ascend_version = r.tag;
    EXPECT_STREQ(load_scenario(in).release->tag, r.tag);
  }
  for (const char* later : {"v0.24.0rc1", "v0.25.1rc1", "v1.0.0"}) {
    ScenarioInputs in = inputs();
    in.vllm_ascend_version = later;
    const std::string msg = error_of([&] { load_scenario(in); });
    EXPECT_PRED2(contains, msg, "removed weight prefetch in v0.24.0rc1 (PR #11949");
  }
  ScenarioInputs in = inputs();
  in.vllm_ascend_version = "v0.10.1rc1";
  EXPECT_PRED2(contains, error_of([&] { load_scenario(in); }), "expected one of v0.13.0rc1, ");
  // v0.11 / v0.12 have the feature (the v0.13.0rc1 code) but are not modelled: the message says so.
  in.vllm_ascend_version = "v0.12.0";
  EXPECT_PRED2(contains, error_of([&] { load_scenario(in); }), "closest modelled release is v0.13.0rc1");
}

// v0.15.0rc1:vllm_ascend/ops/weight_prefetch.py:146-149 / :162-164: the legacy MLP path on a MoE
// model fails only where something reads a dense mlp: an o_proj custom row op or a shared expert.
TEST(LoadScenario, LegacyMlpOnAMoeModelFailsOnlyWhereADenseMlpIsRead) {
  ScenarioInputs in = inputs();
  in.vllm_ascend_version = "v0.16.0rc1";
  in.model = "Qwen3-30B-A3B";
  in.deployment.num_tokens = 64;
  in.env_assignments = {"VLLM_ASCEND_ENABLE_PREFETCH_MLP=1"};
  // TP4 with flashcomm1: the o_proj custom row op reads mlp.gate_up_proj.
  in.deployment.tensor_parallel = 4;
  EXPECT_PRED2(contains, error_of([&] { load_scenario(in); }), "the o_proj custom row op (flashcomm1)");
  // TP1: no custom row op, no shared expert in Qwen3-MoE: it starts and no MLP CMO is issued.
  in.deployment.tensor_parallel = 1;
  const Scenario s = load_scenario(in);
  bool noted = false;
  for (const auto& n : s.notes) noted |= contains(n, "issues no MLP CMO");
  EXPECT_TRUE(noted);
}

// v0.15.0rc1:vllm_ascend/ops/weight_prefetch.py:151-158 int() takes a negative size; max_size <= 0
// then prefetches the whole tensor (:225-226). v0.13 passes it to npu_prefetch, which needs > 0.
TEST(LoadScenario, ANegativeLegacySizeIsTheWholeTensorFromV015AndAStartUpErrorBefore) {
  ScenarioInputs in = inputs();
  in.model = "Qwen3-8B";
  in.deployment.num_tokens = 16;
  in.env_assignments = {"VLLM_ASCEND_ENABLE_PREFETCH_MLP=1", "VLLM_ASCEND_MLP_DOWN_PREFETCH_SIZE=-1"};
  in.vllm_ascend_version = "v0.16.0rc1";
  const Scenario s = load_scenario(in);
  bool warned = false;
  for (const auto& w : s.warnings) warned |= contains(w, "down_proj");
  EXPECT_TRUE(warned) << "the whole-tensor trap is reported";
  in.vllm_ascend_version = "v0.14.0rc1";
  EXPECT_PRED2(contains, error_of([&] { load_scenario(in); }), "requires max_size > 0");
}

TEST(LoadScenario, BeforeV015TheLegacyVariablesRunTheMlpPathBesideTheConfig) {
  ScenarioInputs in = inputs();
  in.vllm_ascend_version = "v0.14.0rc1";
  in.env_assignments = {"VLLM_ASCEND_ENABLE_PREFETCH_MLP=1", "VLLM_ASCEND_MLP_DOWN_PREFETCH_SIZE=4194304"};
  Scenario s = load_scenario(in);
  EXPECT_TRUE(s.config[RatioKey::kAttnQkv].on);  // the config's modules are untouched
  EXPECT_EQ(s.config[RatioKey::kMlpDown].legacy_bytes.value(), 4194304.0);
  EXPECT_EQ(s.config[RatioKey::kMlpGateUp].legacy_bytes.value(), 18874368.0);
  EXPECT_FALSE(s.legacy_equivalent.has_value());  // v0.14 has no mlp module to express it
  const StepResult r = simulate_step(s.plan, s.config, SimOptions{});
  EXPECT_EQ(site(r, "mlp.down").issued_bytes, 4194304);
  EXPECT_EQ(site(r, "mlp.gate_up").issued_bytes, 18874368);
  // Uncapped on this path: 40 MiB of down_proj's 31.25 MiB is clamped to the weight only.
  in.env_assignments = {"VLLM_ASCEND_ENABLE_PREFETCH_MLP=1", "VLLM_ASCEND_MLP_DOWN_PREFETCH_SIZE=41943040"};
  const Scenario big = load_scenario(in);
  EXPECT_EQ(site(simulate_step(big.plan, big.config, SimOptions{}), "mlp.down").issued_bytes, weight_of(big, "down_proj"));
}

TEST(LoadScenario, FromV015ToV017TheLegacyVariablesOverrideAndHaveAnEquivalent) {
  ScenarioInputs in = inputs();
  in.vllm_ascend_version = "v0.16.0rc1";
  in.env_assignments = {"VLLM_ASCEND_ENABLE_PREFETCH_MLP=1"};
  in.additional_config = R"({"weight_prefetch_config": {"enabled": false}})";
  Scenario s = load_scenario(in);
  EXPECT_TRUE(s.config[RatioKey::kMlpGateUp].on);  // on despite "enabled": false
  EXPECT_FALSE(s.config[RatioKey::kAttnQkv].on);
  ASSERT_TRUE(s.legacy_equivalent.has_value());
  const PrefetchConfigParse back = parse_prefetch_config(*s.legacy_equivalent, "equivalent", false, *s.release);
  // The equivalent asks for the same bytes through ratios (capped at 18 MiB either way).
  const StepResult legacy = simulate_step(s.plan, s.config, SimOptions{});
  const StepResult eq = simulate_step(s.plan, back.config, SimOptions{});
  EXPECT_EQ(site(eq, "mlp.gate_up").issued_bytes, site(legacy, "mlp.gate_up").issued_bytes);
  EXPECT_EQ(site(eq, "mlp.down").issued_bytes, site(legacy, "mlp.down").issued_bytes);
  EXPECT_EQ(site(legacy, "mlp.down").issued_bytes, 18874368);
}

TEST(LoadScenario, FromV018TheLegacyVariablesAreIgnoredWithANote) {
  ScenarioInputs in = inputs();
  in.env_assignments = {"VLLM_ASCEND_ENABLE_PREFETCH_MLP=yes"};  // not even parsed there
  Scenario s = load_scenario(in);
  EXPECT_EQ(s.config, WeightPrefetchConfig::defaults_enabled(s.release->semantics));
  bool noted = false;
  for (const auto& n : s.notes) noted = noted || contains(n, "no longer reads");
  EXPECT_TRUE(noted);
}

TEST(LoadScenario, BadLegacyValueIsRefusedWhereTheReleaseReadsIt) {
  ScenarioInputs in = inputs();
  in.vllm_ascend_version = "v0.13.0";
  in.env_assignments = {"VLLM_ASCEND_ENABLE_PREFETCH_MLP=yes"};
  EXPECT_PRED2(contains, error_of([&] { load_scenario(in); }), "VLLM_ASCEND_ENABLE_PREFETCH_MLP=yes: vllm-ascend v0.13.0 reads it with int()");
}

TEST(LoadScenario, TheLegacyMlpPathOnAMoeModelIsRefused) {
  for (const char* tag : {"v0.13.0", "v0.17.0rc1"}) {
    ScenarioInputs in = inputs("Qwen3-30B-A3B");
    in.vllm_ascend_version = tag;
    in.env_assignments = {"VLLM_ASCEND_ENABLE_PREFETCH_MLP=1"};
    in.deployment.num_tokens = 128;
    const std::string msg = error_of([&] { load_scenario(in); });
    EXPECT_PRED2(contains, msg, "on a MoE model") << tag;
    EXPECT_PRED2(contains, msg, "fails in the first forward") << tag;
  }
}

// The trap, as the user sees it: a key left out of an enabled module.
TEST(LoadScenario, WarnsWhenAConfigPrefetchesAWholeTensor) {
  ScenarioInputs in = inputs();
  in.additional_config = R"({"weight_prefetch_config": {"enabled": true, "prefetch_ratio": {"mlp": {"down": 0.5}}}})";
  Scenario s = load_scenario(in);
  EXPECT_EQ(s.config_origin, "--additional-config");
  EXPECT_EQ(s.config[RatioKey::kMlpDown].ratio, 0.5);
  ASSERT_EQ(s.warnings.size(), 1u);
  EXPECT_PRED2(contains, s.warnings[0], "mlp.gate_up = 0 (or missing, or dropped) inside an enabled mlp module: "
                                        "vllm-ascend v0.23.0 prefetches the whole 62.50 MiB gate_up_proj");
  EXPECT_PRED2(contains, s.warnings[0], "past the 18 MiB cap");
  const StepResult r = simulate_step(s.plan, s.config, SimOptions{});
  EXPECT_EQ(site(r, "mlp.gate_up").issued_bytes, weight_of(s, "gate_up_proj"));
  EXPECT_EQ(site(r, "mlp.gate_up").limit, IssueLimit::kWholeTensor);
  // A ratio too small for one byte falls in the same trap.
  in.additional_config = R"({"enabled": true, "prefetch_ratio": {"mlp": {"down": 1e-9, "gate_up": 0.1}}})";
  const Scenario tiny = load_scenario(in);
  ASSERT_EQ(tiny.warnings.size(), 1u);
  EXPECT_PRED2(contains, tiny.warnings[0], "mlp.down = 1e-09 gives int(ratio x 32768000 bytes) = 0");
}

TEST(LoadScenario, AdditionalConfigFromFile) {
  ScenarioInputs in = inputs();
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

std::string fixture(const std::string& dir) { return test::source_path("tests/data/models/" + dir); }

TEST(LoadScenario, WrappedLanguageModelsGetTheAttentionPathsButNotTheMlpPaths) {
  ScenarioInputs in = inputs(fixture("qwen3-vl-8b"));
  in.deployment.num_tokens = 16;
  const Scenario s = load_scenario(in);
  EXPECT_EQ(s.layer_template.name, "dense");
  const StepResult r = simulate_step(s.plan, s.config, SimOptions{});
  EXPECT_TRUE(site(r, "attn.qkv").active);  // keyed on the linear's class in the W8A8 method
  EXPECT_TRUE(site(r, "attn.o").active);
  for (const char* name : {"mlp.gate_up", "mlp.down"}) {
    EXPECT_FALSE(site(r, name).active) << name;
    EXPECT_PRED2(contains, site_off_sentence(site(r, name).off), "Qwen3VLForConditionalGeneration keeps its decoder under .language_model") << name;
  }
  // The same decoder unwrapped (Qwen3-8B-like shapes aside) runs them.
  ScenarioInputs plain = inputs("Qwen3-8B");
  plain.deployment.num_tokens = 16;
  const Scenario p = load_scenario(plain);
  EXPECT_TRUE(site(simulate_step(p.plan, p.config, SimOptions{}), "mlp.down").active);
}

TEST(LoadScenario, AWrappedMoeModelCrashesTheMoePathBeforeV023) {
  ScenarioInputs in = inputs(fixture("qwen3-vl-30b-a3b"));
  in.vllm_ascend_version = "v0.18.0";
  const std::string msg = error_of([&] { load_scenario(in); });
  EXPECT_PRED2(contains, msg, "Qwen3VLMoeForConditionalGeneration on vllm-ascend v0.18.0: the MoE prefetch");
  EXPECT_PRED2(contains, msg, "fails with an AttributeError");
  // Off, the path is not reached; from v0.23 the lookup returns None.
  in.additional_config = R"({"weight_prefetch_config": {"enabled": true, "prefetch_ratio": {"moe": {"gate_up": 0}}}})";
  EXPECT_NO_THROW(load_scenario(in));
  in.additional_config.reset();
  in.vllm_ascend_version = "v0.23.0";
  EXPECT_NO_THROW(load_scenario(in));
}

TEST(LoadScenario, Glm45AirRunsItsOwnTemplate) {
  ScenarioInputs in = inputs("GLM-4.5-Air");
  in.deployment.num_tokens = 16;
  const Scenario s = load_scenario(in);
  EXPECT_EQ(s.layer_template.name, "glm4_moe");
  EXPECT_EQ(s.plan.variables.at("RF"), 0.5);
  const StepResult r = simulate_step(s.plan, s.config, SimOptions{});
  bool qkv_moe = false, down_dense = false, shared_down = false;
  for (const auto& site : r.sites) {
    if (site.site == "attn.qkv" && site.layer_type == "moe") qkv_moe = site.active;
    if (site.site == "attn.o/down_proj" && site.layer_type == "dense") down_dense = site.active;
    if (site.site == "attn.o/shared_down_proj") {
      shared_down = site.active;
      EXPECT_PRED2(contains, site_off_sentence(site.off), "w8a8_dynamic");  // ModelSlim quantizes the shared expert dynamically
    }
    if (site.site.starts_with("mlp.")) {
      EXPECT_FALSE(site.active) << site.site;  // a MoE model: no MLP path
    }
  }
  EXPECT_TRUE(qkv_moe);
  EXPECT_TRUE(down_dense);
  EXPECT_FALSE(shared_down);
}

// Impossible deployments: every rule reaches every subcommand through load_scenario.
TEST(LoadScenario, TensorParallelSizesVllmRefusesAreRefused) {
  for (int tp : {3, 5, 128}) {
    ScenarioInputs in = inputs();  // Qwen3-32B: 64 q heads, 8 KV heads
    in.deployment.tensor_parallel = tp;
    const std::string msg = error_of([&] { load_scenario(in); });
    EXPECT_PRED2(contains, msg, "Qwen3-32B has 64 attention heads and vLLM needs TP to divide them") << tp;
    EXPECT_PRED2(contains, msg, "TP sizes that work for Qwen3-32B: 1, 2, 4, 8, 16, 32, 64") << tp;
  }
  ScenarioInputs in = inputs();
  in.deployment.tensor_parallel = 16;  // 8 KV heads replicated twice: vLLM starts
  const Scenario s = load_scenario(in);
  EXPECT_EQ(s.plan.variables.at("NKV"), 1);
  EXPECT_EQ(s.plan.variables.at("NQ"), 4);
}

TEST(LoadScenario, ExpertParallelOnADenseModelIsRefused) {
  ScenarioInputs in = inputs();
  in.deployment.expert_parallel = true;
  EXPECT_PRED2(contains, error_of([&] { load_scenario(in); }), "--enable-expert-parallel on Qwen3-32B, a dense model");
}

TEST(LoadScenario, DecodeTokensAboveMaxNumSeqsAreRefused) {
  ScenarioInputs in = inputs();
  in.deployment.num_tokens = 300;
  in.deployment.max_num_seqs = 64;
  EXPECT_PRED2(contains, error_of([&] { load_scenario(in); }),
               "--num-tokens 300 in decode is above --max-num-seqs 64 x (1 + --num-speculative-tokens 0) = 64");
  in.deployment.num_speculative_tokens = 4;  // 64 x 5 = 320 tokens: a full batch with drafts
  EXPECT_EQ(load_scenario(in).plan.tokens.scheduled_tokens, 300);
}

TEST(LoadScenario, WeightsThatDoNotFitTheDeviceAreRefused) {
  ScenarioInputs in = inputs("DeepSeek-V3");
  in.deployment.tensor_parallel = 4;
  const std::string msg = error_of([&] { load_scenario(in); });
  EXPECT_PRED2(contains, msg, "DeepSeek-V3 at TP4 DP1, w8a8: the weights take 15");
  EXPECT_PRED2(contains, msg, "0.9 x 64.0 GiB HBM of a3-die = 57.6 GiB: vLLM fails at start-up");
  // The 32 GiB 910B4 holds Qwen3-32B W8A8 at TP4 (8 GiB of weights) but not at TP1 (31 GiB).
  ScenarioInputs b4 = inputs();
  b4.hardware = "910B4";
  b4.deployment.tensor_parallel = 1;
  b4.deployment.num_tokens = 8;
  EXPECT_PRED2(contains, error_of([&] { load_scenario(b4); }), "0.9 x 32.0 GiB HBM of 910B4 = 28.8 GiB");
  b4.deployment.tensor_parallel = 4;
  EXPECT_NO_THROW(load_scenario(b4));
}

TEST(LoadScenario, KvCacheForTheStepsRequestsIsAWarningOrAnError) {
  ScenarioInputs in = inputs();  // Qwen3-32B TP4: 8 GiB of weights, 256 MiB of KV per 4096-token request
  in.deployment.context_len = 32768;
  in.deployment.num_tokens = 72;
  const Scenario s = load_scenario(in);
  ASSERT_EQ(s.warnings.size(), 1u);
  EXPECT_PRED2(contains, s.warnings[0], "72 requests x 32768 context need 144.0 GiB of KV cache per rank");
  EXPECT_PRED2(contains, s.warnings[0], "vLLM starts, but its scheduler keeps at most 24 such requests running");
  in.deployment.context_len = 1 << 24;  // one request alone needs more than the device
  EXPECT_PRED2(contains, error_of([&] { load_scenario(in); }), "vLLM refuses to start");
  // A profile without the capacity skips the check and says so.
  in.deployment.context_len = 4096;
  const std::string dir = test::make_temp_dir();
  in.hardware = test::write_file(dir + "/hw.json", test::round_hardware_json());
  const Scenario unchecked = load_scenario(in);
  EXPECT_PRED2(contains, unchecked.notes.back(), "gives no hbm_capacity_bytes: whether the weights and KV cache fit is not checked");
  std::filesystem::remove_all(dir);
}

TEST(LoadScenario, QuantizationComesFromTheOptionTheCheckpointOrTheDefault) {
  EXPECT_EQ(load_scenario(inputs()).plan.deployment.quantization_source, QuantizationSource::kDefault);
  ScenarioInputs in = inputs(fixture("qwen3-32b-w8a8-modelslim"));
  in.deployment.quantization = Quantization::kBf16;  // not given: the checkpoint wins
  Scenario s = load_scenario(in);
  EXPECT_EQ(s.plan.deployment.quantization, Quantization::kW8A8Static);
  EXPECT_EQ(s.plan.deployment.quantization_source, QuantizationSource::kCheckpoint);
  EXPECT_EQ(s.plan.deployment.quantization_file, "quant_model_description.json");
  in.deployment.quantization_source = QuantizationSource::kOption;  // -q bf16
  s = load_scenario(in);
  EXPECT_EQ(s.plan.deployment.quantization, Quantization::kBf16);
  EXPECT_EQ(weight_of(s, "o_proj"), 5120.0 * 2048 * 2);
  EXPECT_PRED2(contains, s.notes.back(), "--quantization bf16 overrides the checkpoint's W8A8");
  // An FP8 checkpoint is refused unless -q says what it was converted to.
  ScenarioInputs fp8 = inputs(fixture("deepseek-v3-fp8"));
  fp8.deployment.tensor_parallel = 16;
  EXPECT_PRED2(contains, error_of([&] { load_scenario(fp8); }), "vllm-ascend cannot serve an FP8 checkpoint on A2/A3");
  fp8.deployment.quantization_source = QuantizationSource::kOption;
  EXPECT_NO_THROW(load_scenario(fp8));
}

TEST(LoadScenario, KimiK25LoadsWithAQuantizationForItsShapes) {
  ScenarioInputs in = inputs(fixture("kimi-k2.5"));
  in.deployment.tensor_parallel = 16;
  in.deployment.data_parallel = 2;
  in.deployment.expert_parallel = true;
  in.deployment.num_tokens = 16;
  EXPECT_PRED2(contains, error_of([&] { load_scenario(in); }), "\"compressed-tensors\"");
  in.deployment.quantization_source = QuantizationSource::kOption;
  const Scenario s = load_scenario(in);
  EXPECT_EQ(s.layer_template.name, "deepseek_v3");
  EXPECT_EQ(s.model.num_experts, 384);
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
