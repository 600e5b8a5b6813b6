#include "export/tune_report.h"

#include <algorithm>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "export/simulate_report.h"
#include "export/text_table.h"

namespace pt {

WeightPrefetchConfig TuneReport::recommended_config() const {
  return result.recommend_disable ? WeightPrefetchConfig::disabled() : result.best;
}

std::string TuneReport::recommended_additional_config() const {
  return recommended_config().to_additional_config(scenario->release->semantics);
}

std::vector<std::string> TuneReport::recommended_env() const {
  return recommended_config().legacy_env(scenario->release->semantics);
}

namespace {

std::string method_text(const TuneResult& r) {
  if (r.objective == TuneObjective::kOverlap) {
    return "overlap objective: per key, the largest ratio whose prefetches all end within the stall tolerance";
  }
  return r.method == SearchMethod::kGrid ? "exhaustive grid over every tuned key"
                                         : "decomposed exhaustive search (every group of keys that share a segment, exhaustively)";
}

nlohmann::json ratios_json(const TuneResult& r, const std::vector<double>& ratios) {
  nlohmann::json j = nlohmann::json::object();
  for (size_t i = 0; i < r.tuned.size() && i < ratios.size(); ++i) j[ratio_key_name(r.tuned[i].key)] = ratios[i];
  return j;
}

std::string ratio_text(double r) {
  if (r == 0) return "off";
  return r < 0.005 ? fmt::format("{:.2g}", r) : fmt::format("{:.2f}", r);
}

size_t heaviest(const std::vector<WorkloadPoint>& w) {
  size_t best = 0;
  for (size_t i = 1; i < w.size(); ++i) {
    if (w[i].weight > w[best].weight || (w[i].weight == w[best].weight && w[i].num_tokens > w[best].num_tokens)) best = i;
  }
  return best;
}

}  // namespace

std::string tune_text(const TuneReport& rep) {
  const TuneResult& r = rep.result;
  const Scenario& sc = *rep.scenario;
  std::string out = fmt::format("--additional-config '{}'\n", rep.recommended_additional_config());
  if (auto env = rep.recommended_env(); !env.empty()) {
    out += fmt::format("env {}   (vllm-ascend {} has no mlp module: the MLP prefetch runs from these variables)\n",
                       fmt::join(env, " "), sc.release->tag);
  }
  out += "\n";
  std::vector<std::string> points;
  for (const auto& p : rep.workload) points.push_back(fmt::format("{} tokens x{:g}", p.num_tokens, p.weight));
  out += fmt::format("release     vllm-ascend {} (prefetch code {})\n", sc.release->tag, sc.release->semantics.name);
  out += fmt::format("model       {} on {} ({}), caps: {} reading\n", sc.model.name, sc.hardware.name, sc.hardware.family,
                     cap_reading_name(sc.cap_reading));
  out += fmt::format("serving     {}\n", describe_deployment(*rep.plans[heaviest(rep.workload)]));
  out += fmt::format("workload    {}\n", fmt::join(points, ", "));
  out += fmt::format("search      {} at step {:g}: {} configurations compared, {} segment simulations, {:.1f} ms\n",
                     method_text(r), r.step, r.grid_points, r.segment_simulations, rep.elapsed_ms);
  out += fmt::format("advice      {}\n\n", r.recommendation);
  out += fmt::format("step time (weighted mean over the workload)\n");
  out += fmt::format("  tuned config              {:10.1f} us\n", r.step_time_us);
  out += fmt::format("  vllm-ascend defaults      {:10.1f} us\n", r.default_step_time_us);
  out += fmt::format("  prefetch disabled         {:10.1f} us\n", r.baseline_step_time_us);
  out += fmt::format("  gain                      {:+10.2f} % over disabled, {:+.2f} % over defaults\n\n", r.gain_pct,
                     100.0 * (r.default_step_time_us - r.step_time_us) / r.default_step_time_us);

  const size_t h = heaviest(rep.workload);
  SimOptions options;
  options.cap_reading = sc.cap_reading;
  const StepResult at = simulate_step(*rep.plans[h], rep.recommended_config(), options);
  out += fmt::format("sites at the recommended config, {} tokens (the heaviest weight)\n", rep.workload[h].num_tokens);
  out += site_table_text(*rep.plans[h], at.sites);
  out += "\n";

  std::vector<std::string> header{"tokens", "weight"};
  for (const auto& t : r.tuned) header.push_back(std::string("best ") + ratio_key_name(t.key));
  for (const char* c : {"best us", "tuned us", "defaults us", "disabled us"}) header.emplace_back(c);
  TextTable per(header);
  for (const auto& p : r.per_tokens) {
    std::vector<std::string> row{std::to_string(p.num_tokens), fmt::format("{:g}", p.weight)};
    for (size_t i = 0; i < r.tuned.size(); ++i) row.push_back(ratio_text(p.best_ratios[i]));
    for (double v : {p.best_step_time_us, p.tuned_step_time_us, p.default_step_time_us, p.baseline_step_time_us}) row.push_back(fmt_us(v));
    per.add_row(row);
  }
  out += "per token count (best: that token count tuned alone; tuned: the one config above)\n";
  out += per.render("  ");
  out += "\n";

  if (!r.near_optimal.empty()) {
    TextTable near({"key", "tuned", "near-optimal from", "to", "useful up to"});
    for (size_t i = 0; i < r.near_optimal.size(); ++i) {
      const auto& n = r.near_optimal[i];
      near.add_row({ratio_key_name(n.key), ratio_text(r.best_ratios[i]), ratio_text(n.min),
                    fmt::format("{}{}", ratio_text(n.max), n.contiguous ? "" : " (not contiguous)"),
                    fmt::format("{:.3f}", r.tuned[i].max_useful_ratio)});
    }
    out += fmt::format("near-optimal ratios (step time within the threshold of the best, other keys at their tuned values)\n");
    out += near.render("  ");
    out += "  off: the module's ratios all 0 (the only way vllm-ascend turns a key off); the smallest ratio above it\n"
           "  issues a CMO of one byte, which still pays its fork, wait and set-up\n"
           "  useful up to: above it the cap makes every ratio issue the same bytes\n\n";
  }
  if (!r.left_out.empty()) {
    out += "left out (cannot fire for this model and deployment)\n";
    for (const auto& l : r.left_out) out += fmt::format("  {:<32} {}\n", fmt::format("{} [{}]", l.site, l.layer_type), l.reason);
  }
  for (const auto& w : sc.warnings) out += fmt::format("warning: {}\n", w);
  for (const auto& n : sc.notes) out += fmt::format("note: {}\n", n);
  for (const auto& n : r.notes) out += fmt::format("note: {}\n", n);
  return out;
}

nlohmann::json tune_json(const TuneReport& rep) {
  const TuneResult& r = rep.result;
  const Scenario& sc = *rep.scenario;
  nlohmann::json per = nlohmann::json::array();
  for (const auto& p : r.per_tokens) {
    per.push_back({{"num_tokens", p.num_tokens},
                   {"weight", p.weight},
                   {"best_ratios", ratios_json(r, p.best_ratios)},
                   {"step_time_us", p.best_step_time_us},
                   {"tuned_step_time_us", p.tuned_step_time_us},
                   {"default_step_time_us", p.default_step_time_us},
                   {"baseline_step_time_us", p.baseline_step_time_us}});
  }
  nlohmann::json near = nlohmann::json::array();
  for (size_t i = 0; i < r.near_optimal.size(); ++i) {
    const auto& n = r.near_optimal[i];
    near.push_back({{"site", ratio_key_name(n.key)}, {"min", n.min}, {"max", n.max}, {"contiguous", n.contiguous},
                    {"max_useful_ratio", r.tuned[i].max_useful_ratio}});
  }
  nlohmann::json left = nlohmann::json::array();
  for (const auto& l : r.left_out) left.push_back({{"site", l.site}, {"layer_type", l.layer_type}, {"reason", l.reason}});
  nlohmann::json workload = nlohmann::json::array();
  for (const auto& p : rep.workload) workload.push_back({{"num_tokens", p.num_tokens}, {"weight", p.weight}});
  std::vector<std::string> keys;
  for (const auto& t : r.tuned) keys.emplace_back(ratio_key_name(t.key));
  const Semantics& sem = sc.release->semantics;
  return {
      {"vllm_ascend_version", sc.release->tag},
      {"best", r.best.to_inner_json(sem)},
      {"best_ratios", ratios_json(r, r.best_ratios)},
      {"additional_config", nlohmann::json{{"weight_prefetch_config", r.best.to_inner_json(sem)}}},
      {"recommended_additional_config", nlohmann::json{{"weight_prefetch_config", rep.recommended_config().to_inner_json(sem)}}},
      {"recommended_additional_config_arg", rep.recommended_additional_config()},
      {"recommended_env", rep.recommended_env()},
      {"recommend_disable", r.recommend_disable},
      {"recommendation", r.recommendation},
      {"step_time_us", r.step_time_us},
      {"default_step_time_us", r.default_step_time_us},
      {"baseline_step_time_us", r.baseline_step_time_us},
      {"gain_pct", r.gain_pct},
      {"per_tokens", per},
      {"near_optimal", near},
      {"tuned_keys", keys},
      {"left_out", left},
      {"workload", workload},
      {"objective", r.objective == TuneObjective::kLatency ? "latency" : "overlap"},
      {"search", search_method_name(r.method)},
      {"step", r.step},
      {"configurations_compared", r.grid_points},
      {"notes", r.notes},
      {"model", sc.model.name},
      {"hardware", sc.hardware.name},
      {"cap_reading", cap_reading_name(sc.cap_reading)},
      {"elapsed_ms", rep.elapsed_ms},
  };
}

std::string tune_sweep_csv(const TuneReport& rep) {
  std::string out = "key,ratio,module_off,num_tokens,weight,step_time_us\n";
  for (const auto& c : rep.result.curves) {
    for (size_t i = 0; i < c.ratios.size(); ++i) {
      for (size_t p = 0; p < c.plan_step_time_us.size() && p < rep.workload.size(); ++p) {
        out += fmt::format("{},{},{},{},{},{}\n", ratio_key_name(c.key), c.ratios[i], c.ratios[i] == 0 ? 1 : 0,
                           rep.workload[p].num_tokens, rep.workload[p].weight, c.plan_step_time_us[p][i]);
      }
    }
  }
  return out;
}

}  // namespace pt
