// tune-ratio's report: the paste-ready --additional-config on the first line, and the JSON contract
// (keys and values that scripts read).
#include "export/tune_report.h"

#include <algorithm>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "config/prefetch_config.h"
#include "search/ratio_search.h"
#include "sim/scenario.h"
#include "test_support.h"

namespace pt {
namespace {

using nlohmann::json;
using test::contains;

// A tune-ratio run as the command makes it (app/tune_ratio_command.cc), kept in one place so the
// report's pointers stay valid.
struct Tuned {
  Scenario scenario;
  std::vector<StepPlan> plans;
  TuneReport report;
};

std::unique_ptr<Tuned> tune(const std::string& model, const std::string& quantization, const std::vector<int>& tokens,
                            const std::vector<double>& weights) {
  auto t = std::make_unique<Tuned>();
  ScenarioInputs in;
  in.model = model;
  in.deployment.quantization = parse_quantization(quantization);
  in.deployment.num_tokens = tokens.front();
  in.use_process_env = false;
  // The bundled a3-die estimates predict that prefetch never pays; these faster-L2, cheaper-CMO
  // values make it pay, so the report shows tuned ratios rather than the disable advice.
  in.hardware_overrides = {"l2_read_speedup=4", "cmo_setup_us=0.5", "fork_us=0.3", "join_us=0.3", "cmo_GBps=1600"};
  t->scenario = load_scenario(in);
  for (int n : tokens) {
    Deployment d = t->scenario.plan.deployment;
    d.num_tokens = n;
    t->plans.push_back(build_step_plan(t->scenario.model, d, t->scenario.hardware, t->scenario.layer_template));
  }
  t->report.scenario = &t->scenario;
  for (size_t i = 0; i < tokens.size(); ++i) t->report.workload.push_back({tokens[i], weights[i]});
  for (const auto& p : t->plans) t->report.plans.push_back(&p);
  t->report.result = tune_ratios(t->report.plans, weights, t->scenario.cap_reading, TuneOptions{});
  return t;
}

const Tuned& qwen3_8b() {
  static const std::unique_ptr<Tuned> t = tune("Qwen3-8B", "w8a8", {8, 16, 32}, {1, 2, 1});
  return *t;
}

TEST(TuneReportText, FirstLineIsThePasteReadyArgument) {
  const Tuned& t = qwen3_8b();
  ASSERT_FALSE(t.report.result.recommend_disable) << t.report.result.recommendation;
  const std::string text = tune_text(t.report);
  const std::string first = text.substr(0, text.find('\n'));
  const std::string prefix = "--additional-config '";
  ASSERT_EQ(first.rfind(prefix, 0), 0u) << first;
  ASSERT_EQ(first.back(), '\'');
  EXPECT_EQ(text.substr(first.size(), 2), "\n\n");  // then a blank line
  const std::string arg = first.substr(prefix.size(), first.size() - prefix.size() - 1);
  EXPECT_EQ(arg.find('\''), std::string::npos);  // pastes inside single quotes
  EXPECT_EQ(arg, t.report.recommended_additional_config());

  // vllm-ascend would read it as written: strict parse, nothing ignored, every module set.
  const PrefetchConfigParse parsed = parse_prefetch_config(arg, "first line", /*lenient=*/false, *t.scenario.release);
  EXPECT_TRUE(parsed.warnings.empty());
  EXPECT_TRUE(parsed.config.enabled);
  EXPECT_TRUE(parsed.had_weight_prefetch_config);
  const json j = json::parse(arg);
  const json& ratio = j.at("weight_prefetch_config").at("prefetch_ratio");
  EXPECT_EQ(ratio.size(), 3u);
  for (const char* key : {"attn.qkv", "attn.o", "moe.gate_up", "mlp.gate_up", "mlp.down"}) {
    SCOPED_TRACE(key);
    const std::string k(key);
    const std::string module = k.substr(0, k.find('.')), linear = k.substr(k.find('.') + 1);
    ASSERT_TRUE(ratio.contains(module));
    ASSERT_TRUE(ratio.at(module).contains(linear)) << "the module falls back to vllm-ascend's default";
    const RatioKey rk = *ratio_key_from_name(k);
    EXPECT_EQ(parsed.config[rk].ratio, ratio.at(module).at(linear).get<double>());
    EXPECT_EQ(parsed.config[rk], t.report.result.best[rk]);
  }
  // The tuned config pasted back gives the reported step time.
  EXPECT_NEAR(workload_step_time(t.report.plans, {1, 2, 1}, parsed.config, t.scenario.cap_reading),
              t.report.result.step_time_us, 1e-6 * t.report.result.step_time_us);
}

TEST(TuneReportText, ReportsTheStepTimesAndTheWorkload) {
  const Tuned& t = qwen3_8b();
  const std::string text = tune_text(t.report);
  EXPECT_PRED2(contains, text, "workload    8 tokens x1, 16 tokens x2, 32 tokens x1");
  EXPECT_PRED2(contains, text, fmt::format("  tuned config              {:10.1f} us", t.report.result.step_time_us));
  EXPECT_PRED2(contains, text, fmt::format("  prefetch disabled         {:10.1f} us", t.report.result.baseline_step_time_us));
  // The site table is at the heaviest point: 16 tokens.
  EXPECT_PRED2(contains, text, "sites at the recommended config, 16 tokens (the heaviest weight)");
}

TEST(TuneReportText, DisableAdviceIsTheFirstLineToo) {
  const Tuned& t = qwen3_8b();
  TuneReport rep = t.report;
  rep.result.recommend_disable = true;
  const std::string text = tune_text(rep);
  const std::string first = text.substr(0, text.find('\n'));
  const std::string arg = first.substr(21, first.size() - 22);
  const PrefetchConfigParse parsed = parse_prefetch_config(arg, "first line", false, *t.scenario.release);
  EXPECT_FALSE(parsed.config.enabled);
  EXPECT_EQ(first, "--additional-config '" + rep.recommended_additional_config() + "'");
}

TEST(TuneReportJson, HasTheContractKeysAndValues) {
  const Tuned& t = qwen3_8b();
  const TuneResult& r = t.report.result;
  const json j = tune_json(t.report);
  for (const char* key : {"best", "additional_config", "step_time_us", "default_step_time_us", "baseline_step_time_us",
                          "gain_pct", "per_tokens", "near_optimal"}) {
    EXPECT_TRUE(j.contains(key)) << key;
  }
  EXPECT_EQ(j.at("step_time_us").get<double>(), r.step_time_us);
  EXPECT_EQ(j.at("default_step_time_us").get<double>(), r.default_step_time_us);
  EXPECT_EQ(j.at("baseline_step_time_us").get<double>(), r.baseline_step_time_us);
  EXPECT_NEAR(j.at("gain_pct").get<double>(),
              100.0 * (r.baseline_step_time_us - r.step_time_us) / r.baseline_step_time_us, 1e-9);
  EXPECT_GT(j.at("gain_pct").get<double>(), 0);
  // The tuned config is never worse than the defaults or than disabled.
  EXPECT_LE(r.step_time_us, r.default_step_time_us + 1e-9);
  EXPECT_LE(r.step_time_us, r.baseline_step_time_us + 1e-9);
  // additional_config wraps best; the recommended one is the paste-ready argument, parsed.
  EXPECT_EQ(j.at("additional_config"), (json{{"weight_prefetch_config", j.at("best")}}));
  EXPECT_EQ(j.at("recommended_additional_config"), json::parse(j.at("recommended_additional_config_arg").get<std::string>()));
  EXPECT_EQ(j.at("recommended_additional_config_arg"), t.report.recommended_additional_config());
  EXPECT_EQ(j.at("best").at("enabled"), true);

  std::set<std::string> tuned;
  for (const auto& k : j.at("tuned_keys")) tuned.insert(k.get<std::string>());
  EXPECT_EQ(tuned, (std::set<std::string>{"attn.qkv", "attn.o", "mlp.gate_up", "mlp.down"}));

  ASSERT_TRUE(j.at("per_tokens").is_array());
  ASSERT_EQ(j.at("per_tokens").size(), 3u);
  const int tokens[] = {8, 16, 32};
  for (size_t i = 0; i < 3; ++i) {
    const json& p = j.at("per_tokens")[i];
    SCOPED_TRACE(p.dump());
    EXPECT_EQ(p.at("num_tokens"), tokens[i]);
    ASSERT_TRUE(p.at("best_ratios").is_object());
    std::set<std::string> keys;
    for (const auto& [k, v] : p.at("best_ratios").items()) {
      keys.insert(k);
      EXPECT_GE(v.get<double>(), 0);
      EXPECT_LE(v.get<double>(), 1);
    }
    EXPECT_EQ(keys, tuned);
    // That token count tuned alone is at least as fast as the one config for the workload.
    EXPECT_LE(p.at("step_time_us").get<double>(), p.at("tuned_step_time_us").get<double>() + 1e-9);
    EXPECT_GT(p.at("step_time_us").get<double>(), 0);
  }
  // The weighted mean of the per-token tuned times is the workload step time (weights 1, 2, 1).
  const json& pt = j.at("per_tokens");
  const double mean = (pt[0].at("tuned_step_time_us").get<double>() + 2 * pt[1].at("tuned_step_time_us").get<double>() +
                       pt[2].at("tuned_step_time_us").get<double>()) / 4;
  EXPECT_NEAR(mean, r.step_time_us, 1e-6 * r.step_time_us);

  ASSERT_TRUE(j.at("near_optimal").is_array());
  EXPECT_EQ(j.at("near_optimal").size(), tuned.size());
  for (const auto& n : j.at("near_optimal")) {
    SCOPED_TRACE(n.dump());
    const std::string site = n.at("site").get<std::string>();
    EXPECT_TRUE(tuned.count(site));
    const double best = j.at("best").at("prefetch_ratio").at(site.substr(0, site.find('.'))).at(site.substr(site.find('.') + 1));
    EXPECT_LE(n.at("min").get<double>(), best + 1e-9);
    EXPECT_GE(n.at("max").get<double>(), best - 1e-9);
    EXPECT_GE(n.at("min").get<double>(), 0);
    EXPECT_LE(n.at("max").get<double>(), 1);
  }
}

}  // namespace
}  // namespace pt
