#include "export/simulate_report.h"

#include <cctype>
#include <optional>
#include <string>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "export/text_table.h"  // fmt_us
#include "test_support.h"

namespace pt {
namespace {

using nlohmann::json;
using test::contains;

Scenario scenario(const std::string& model, int num_tokens, int tp = 4, int dp = 1, bool ep = false,
                  std::optional<int> max_num_seqs = std::nullopt, const std::string& release = "v0.23.0") {
  ScenarioInputs in;
  in.vllm_ascend_version = release;
  in.deployment.max_num_seqs = max_num_seqs;
  in.model = model;
  in.deployment.tensor_parallel = tp;
  in.deployment.data_parallel = dp;
  in.deployment.expert_parallel = ep;
  in.deployment.num_tokens = num_tokens;
  in.use_process_env = false;
  return load_scenario(in);
}

const Scenario& qwen3_8b() {
  static const Scenario s = scenario("Qwen3-8B", 8);
  return s;
}

TEST(SimulateReport, JsonMatchesGolden) {
  SimulateReport r = run_simulate(qwen3_8b(), false);
  test::expect_matches_golden(simulate_json(r).dump(2) + "\n", "qwen3_8b_tp4_w8a8_t8.simulate.json");
}

TEST(SimulateReport, TextMatchesGolden) {
  SimulateReport r = run_simulate(qwen3_8b(), false);
  test::expect_matches_golden(simulate_text(r), "qwen3_8b_tp4_w8a8_t8.simulate.txt");
}

TEST(SimulateReport, BaselineIsThePrefetchDisabledRun) {
  const Scenario& s = qwen3_8b();
  SimulateReport r = run_simulate(s, true);
  WeightPrefetchConfig off = s.config;
  off.enabled = false;
  EXPECT_EQ(r.baseline.step_time_us, simulate_step(s.plan, off, SimOptions{s.cap_reading, false}).step_time_us);
  EXPECT_EQ(r.with_config.step_time_us, simulate_step(s.plan, s.config, SimOptions{s.cap_reading, false}).step_time_us);
  EXPECT_GT(r.with_config.step_time_us, 0);
  EXPECT_NE(r.with_config.step_time_us, r.baseline.step_time_us);
  EXPECT_DOUBLE_EQ(r.difference_pct(),
                   100.0 * (r.with_config.step_time_us - r.baseline.step_time_us) / r.baseline.step_time_us);
  EXPECT_FALSE(r.with_config.timeline.empty());
  EXPECT_TRUE(r.baseline.timeline.empty());  // only the configured run is recorded
  EXPECT_EQ(r.scenario, &s);
}

TEST(SimulateReport, DifferencePctIsZeroForAnEmptyBaseline) {
  SimulateReport r;
  r.with_config.step_time_us = 5;
  EXPECT_EQ(r.difference_pct(), 0);
  r.baseline.step_time_us = 4;
  EXPECT_DOUBLE_EQ(r.difference_pct(), 25);
}

TEST(SimulateReport, JsonContract) {
  const Scenario& s = qwen3_8b();
  SimulateReport r = run_simulate(s, false);
  const json j = simulate_json(r);
  EXPECT_EQ(j.at("model"), "Qwen3-8B");
  EXPECT_EQ(j.at("architecture"), "Qwen3ForCausalLM");
  EXPECT_EQ(j.at("hardware"), "a3-die");
  EXPECT_EQ(j.at("layer_template"), "dense");
  EXPECT_EQ(j.at("num_layers"), 36);
  EXPECT_EQ(j.at("cap_reading"), "code");
  EXPECT_EQ(j.at("step_time_us").get<double>(), r.with_config.step_time_us);
  EXPECT_EQ(j.at("baseline_step_time_us").get<double>(), r.baseline.step_time_us);
  EXPECT_EQ(j.at("difference_pct").get<double>(), r.difference_pct());
  EXPECT_TRUE(j.at("peak_l2_prefetched_bytes").is_number_integer());
  EXPECT_EQ(j.at("peak_l2_prefetched_bytes").get<long long>(), std::llround(r.with_config.peak_l2_bytes));
  EXPECT_EQ(j.at("vllm_ascend_version"), "v0.23.0");
  EXPECT_EQ(j.at("prefetch_code_version"), "v0.23");
  const Semantics& sem = s.release->semantics;
  EXPECT_EQ(j.at("weight_prefetch_config"), s.config.to_inner_json(sem));
  EXPECT_TRUE(j.at("additional_config").is_object());  // an object, not an escaped string
  EXPECT_EQ(j.at("additional_config").at("weight_prefetch_config"), s.config.to_inner_json(sem));
  EXPECT_EQ(j.at("additional_config_arg"), s.config.to_additional_config(sem));
  EXPECT_EQ(j.at("layer_types"), json::parse(R"([{"name": "dense", "layers": 36}])"));
  const json& d = j.at("deployment");
  EXPECT_EQ(d.at("tensor_parallel_size"), 4);
  EXPECT_EQ(d.at("quantization"), "w8a8");
  EXPECT_EQ(d.at("phase"), "decode");
  EXPECT_EQ(d.at("scheduled_tokens"), 8);
  EXPECT_EQ(d.at("num_tokens"), 8);
  EXPECT_FALSE(d.contains("moe_comm_method"));
  ASSERT_EQ(j.at("sites").size(), r.with_config.sites.size());
  for (const auto& site : j.at("sites")) {
    for (const char* key : {"site", "layer_type", "linear", "config_key", "active", "ratio", "layers", "weight_bytes",
                            "requested_bytes", "issued_bytes", "limit", "stream", "window_ops", "window_us", "prefetch_us",
                            "overlap_pct", "stall_us", "matmul_saved_us", "vector_slowdown_us", "vector_slowdown_pct",
                            "net_gain_us"}) {
      EXPECT_TRUE(site.contains(key)) << key << " in " << site.dump();
    }
    // "reason" only when the site does not fire.
    EXPECT_EQ(site.contains("reason"), !site.at("active").get<bool>()) << site.dump();
  }
  EXPECT_TRUE(j.at("warnings").is_array());
  EXPECT_TRUE(j.at("notes").is_array());
  EXPECT_FALSE(j.contains("legacy_equivalent_additional_config"));
}

TEST(SimulateReport, SiteJsonOfAnInactiveSite) {
  SiteSummary s;
  s.site = "mlp.down";
  s.active = false;
  s.reason = "token gate";
  s.on_compute_stream = true;
  const json j = site_json(s);
  EXPECT_EQ(j.at("reason"), "token gate");
  EXPECT_EQ(j.at("stream"), "compute");
  s.active = true;
  s.on_compute_stream = false;
  EXPECT_FALSE(site_json(s).contains("reason"));
  EXPECT_EQ(site_json(s).at("stream"), "prefetch");
}

TEST(SimulateReport, MoeDeploymentDescription) {
  Scenario s = scenario("Qwen3-235B-A22B", 144, 4, 4, true);
  EXPECT_EQ(describe_deployment(s.plan),
            "TP4 DP4 EP, w8a8 (default), decode, 144 tokens per step, 144 requests x 4096 context, flashcomm1 on, MoE MC2 (36 tokens "
            "per rank at gating)");
  const json d = deployment_json(s.plan);
  EXPECT_EQ(d.at("moe_comm_method"), "MC2");
  EXPECT_EQ(d.at("tokens_per_rank_at_gating"), 36);
  EXPECT_EQ(d.at("enable_expert_parallel"), true);
  EXPECT_EQ(d.at("quantization"), "w8a8");
  EXPECT_EQ(d.at("quantization_source"), "default");
}

TEST(SimulateReport, PaddingIsDescribed) {
  Scenario s = scenario("Qwen3-32B", 70, 4, 1, false, 72);
  EXPECT_PRED2(contains, describe_deployment(s.plan), "72 tokens per step (70 scheduled, padded to capture size 72)");
}

TEST(SimulateReport, TextReportLines) {
  const Scenario& s = qwen3_8b();
  SimulateReport r = run_simulate(s, false);
  const std::string text = simulate_text(r);
  EXPECT_EQ(text.rfind("model     Qwen3-8B (Qwen3ForCausalLM, 36 layers)\n", 0), 0u) << text;
  EXPECT_PRED2(contains, text, "hardware  a3-die (A3): HBM 1600 GB/s (a matmul streams 1280), CMO 1200 GB/s, L2 192.00 MiB\n");
  EXPECT_PRED2(contains, text, "prefetch sites (per layer; us = microseconds, MiB = 2^20 bytes)\n");
  EXPECT_PRED2(contains, text, fmt_us(r.with_config.step_time_us) + " us with this config");
  EXPECT_PRED2(contains, text, "step time  ");
  EXPECT_PRED2(contains, text, "with prefetch disabled");
}

TEST(SimulateReport, LegacyEquivalentAppearsInBothReports) {
  ScenarioInputs in;
  in.model = "Qwen3-32B";
  in.use_process_env = false;
  in.env_assignments = {"VLLM_ASCEND_ENABLE_PREFETCH_MLP=1"};
  // The legacy variables are read from v0.15 to v0.17 only (v0.16.0rc1:vllm_ascend/ascend_config.py:150).
  in.vllm_ascend_version = "v0.16.0rc1";
  Scenario s = load_scenario(in);
  ASSERT_TRUE(s.legacy_equivalent.has_value());
  SimulateReport r = run_simulate(s, false);
  EXPECT_EQ(simulate_json(r).at("legacy_equivalent_additional_config"), json::parse(*s.legacy_equivalent));
  EXPECT_EQ(simulate_json(r).at("legacy_equivalent_additional_config_arg"), *s.legacy_equivalent);
  EXPECT_PRED2(contains, simulate_text(r), "legacy    equivalent new config: --additional-config '" + *s.legacy_equivalent + "'");
}

// The guide's two operating points (default config, W8A8), one release of each prefetch code
// version: the whole report, site table included, as a golden file per pair.
struct ReleaseCase {
  const char* release;
  const char* model;
};

class ReleaseGolden : public ::testing::TestWithParam<ReleaseCase> {};

TEST_P(ReleaseGolden, DefaultScenarioReportMatchesGolden) {
  const ReleaseCase c = GetParam();
  const bool moe = std::string(c.model) == "Qwen3-235B-A22B";
  // Dense: Qwen3-32B W8A8 TP4 at 72 sequences; MoE: Qwen3-235B-A22B W8A8 TP4 DP4 EP at 144.
  const Scenario s = moe ? scenario(c.model, 144, 4, 4, true, std::nullopt, c.release)
                         : scenario(c.model, 72, 4, 1, false, std::nullopt, c.release);
  test::expect_matches_golden(simulate_text(run_simulate(s, false)),
                              fmt::format("releases/{}_{}.simulate.txt", moe ? "qwen3_235b" : "qwen3_32b", c.release));
}

INSTANTIATE_TEST_SUITE_P(
    CodeVersions, ReleaseGolden,
    ::testing::Values(ReleaseCase{"v0.14.0rc1", "Qwen3-32B"}, ReleaseCase{"v0.16.0rc1", "Qwen3-32B"},
                      ReleaseCase{"v0.17.0rc1", "Qwen3-32B"}, ReleaseCase{"v0.18.0", "Qwen3-32B"},
                      ReleaseCase{"v0.23.0", "Qwen3-32B"}, ReleaseCase{"v0.14.0rc1", "Qwen3-235B-A22B"},
                      ReleaseCase{"v0.16.0rc1", "Qwen3-235B-A22B"}, ReleaseCase{"v0.17.0rc1", "Qwen3-235B-A22B"},
                      ReleaseCase{"v0.18.0", "Qwen3-235B-A22B"}, ReleaseCase{"v0.23.0", "Qwen3-235B-A22B"}),
    [](const ::testing::TestParamInfo<ReleaseCase>& info) {
      std::string name = std::string(info.param.model) + "_" + info.param.release;
      for (char& ch : name) {
        if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
      }
      return name;
    });

}  // namespace
}  // namespace pt
