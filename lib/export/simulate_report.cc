#include "export/simulate_report.h"

#include <cmath>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "export/text_table.h"

namespace pt {

double SimulateReport::difference_pct() const {
  return baseline.step_time_us > 0 ? 100.0 * (with_config.step_time_us - baseline.step_time_us) / baseline.step_time_us : 0;
}

SimulateReport run_simulate(const Scenario& scenario, bool record_timeline) {
  SimulateReport r;
  r.scenario = &scenario;
  SimOptions options;
  options.cap_reading = scenario.cap_reading;
  options.record_timeline = record_timeline;
  r.with_config = simulate_step(scenario.plan, scenario.config, options);
  options.record_timeline = false;
  r.baseline = simulate_step(scenario.plan, WeightPrefetchConfig::disabled(), options);
  return r;
}

std::string describe_deployment(const StepPlan& plan) {
  const Deployment& d = plan.deployment;
  std::string s = fmt::format("TP{} DP{}{}, {}, {}, {} tokens per step", d.tensor_parallel, d.data_parallel,
                              d.expert_parallel ? " EP" : "",
                              quantization_label(d.quantization, d.quantization_source, d.quantization_file),
                              phase_name(d.phase), plan.tokens.padded_tokens);
  if (plan.tokens.padded_tokens != plan.tokens.scheduled_tokens) s += fmt::format(" ({} scheduled, {})", plan.tokens.scheduled_tokens, plan.tokens.padding);
  s += fmt::format(", {} request{} x {} context", plan.tokens.num_seqs, plan.tokens.num_seqs == 1 ? "" : "s", d.context_len);
  s += d.flashcomm1 ? ", flashcomm1 on" : ", flashcomm1 off";
  if (plan.tokens.eager) s += ", eager";
  if (!plan.moe_comm_method.empty()) {
    s += fmt::format(", MoE {} ({} tokens per rank at gating)", plan.moe_comm_method, plan.variables.at("TG"));
  }
  return s;
}

nlohmann::json deployment_json(const StepPlan& plan) {
  const Deployment& d = plan.deployment;
  nlohmann::json j = {
      {"tensor_parallel_size", d.tensor_parallel},
      {"data_parallel_size", d.data_parallel},
      {"enable_expert_parallel", d.expert_parallel},
      {"quantization", quantization_name(d.quantization)},
      {"quantization_source", d.quantization_source == QuantizationSource::kOption       ? "--quantization"
                              : d.quantization_source == QuantizationSource::kCheckpoint ? d.quantization_file
                                                                                          : "default"},
      {"phase", phase_name(d.phase)},
      {"scheduled_tokens", plan.tokens.scheduled_tokens},
      {"num_tokens", plan.tokens.padded_tokens},
      {"padding", plan.tokens.padding},
      {"num_seqs", plan.tokens.num_seqs},
      {"context_len", d.context_len},
      {"num_speculative_tokens", d.num_speculative_tokens},
      {"flashcomm1", d.flashcomm1},
      {"graph_mode", d.graph_mode},
  };
  if (!plan.moe_comm_method.empty()) {
    j["moe_comm_method"] = plan.moe_comm_method;
    j["tokens_per_rank_at_gating"] = plan.variables.at("TG");
  }
  return j;
}

nlohmann::json site_json(const SiteSummary& s) {
  auto bytes = [](double b) { return static_cast<long long>(std::llround(b)); };
  auto us = [](double v) { return std::abs(v) < 1e-9 ? 0.0 : v; };  // no -0 or rounding noise
  nlohmann::json j = {
      {"site", s.site},
      {"layer_type", s.layer_type},
      {"linear", s.linear},
      {"config_key", s.config_key},
      {"active", s.active},
      {"ratio", s.ratio},
      {"layers", s.layers},
      {"weight_bytes", bytes(s.weight_bytes)},
      {"requested_bytes", bytes(s.requested_bytes)},
      {"issued_bytes", bytes(s.issued_bytes)},
      {"limit", issue_limit_name(s.limit)},
      {"stream", s.on_compute_stream ? "compute" : "prefetch"},
      {"joined_by", join_kind_name(s.join)},
      {"races_its_target", s.race},
      {"window_ops", s.window_ops},
      {"window_us", us(s.window_us)},
      {"prefetch_us", us(s.prefetch_us)},
      {"overlap_pct", us(s.overlap_pct)},
      {"stall_us", us(s.stall_us)},
      {"hit_bytes", bytes(s.hit_bytes)},
      {"refetched_bytes", bytes(s.refetched_bytes)},
      {"matmul_saved_us", us(s.matmul_saved_us)},
      {"vector_slowdown_us", us(s.vector_slowdown_us)},
      {"vector_slowdown_pct", us(s.vector_slowdown_pct)},
      {"fork_join_us", us(s.fork_join_us)},
      {"unfused_quant_us", us(s.unfused_quant_us)},
      {"net_gain_us", us(s.net_gain_us)},
  };
  if (!s.active) j["reason"] = s.reason;
  return j;
}

std::string site_table_text(const StepPlan& plan, const std::vector<SiteSummary>& sites) {
  std::string out;
  TextTable active({"site", "layers", "ratio", "weight MiB", "asked MiB", "issued MiB", "limit", "window ops", "waited by",
                    "window us", "CMO us", "overlap %", "stall us", "saved us", "vec slow us", "net us"});
  std::vector<const SiteSummary*> off;
  for (const auto& s : sites) {
    if (!s.active) {
      off.push_back(&s);
      continue;
    }
    std::string window = s.on_compute_stream ? "(in compute stream)" : fmt::format("{}", fmt::join(s.window_ops, "+"));
    const bool multi_type = plan.layer_types.size() > 1;
    active.add_row({multi_type ? fmt::format("{} [{}]", s.site, s.layer_type) : s.site, std::to_string(s.layers),
                    fmt::format("{:.2f}", s.ratio), fmt_mib(s.weight_bytes), fmt_mib(s.requested_bytes),
                    fmt_mib(s.issued_bytes), issue_limit_name(s.limit), window, join_kind_name(s.join),
                    fmt_us(s.window_us), fmt_us(s.prefetch_us), fmt::format("{:.0f}", s.overlap_pct), fmt_us(s.stall_us),
                    fmt_us(s.matmul_saved_us), fmt_us(s.vector_slowdown_us), fmt_us(s.net_gain_us)});
  }
  out += active.render("  ");
  if (!off.empty()) {
    out += "\nsites that do not fire\n";
    for (const auto* s : off) {
      out += fmt::format("  {:<24} {}\n", plan.layer_types.size() > 1 ? fmt::format("{} [{}]", s->site, s->layer_type) : s->site,
                         s->reason);
    }
  }
  return out;
}

std::string simulate_text(const SimulateReport& r) {
  const Scenario& sc = *r.scenario;
  const StepPlan& plan = sc.plan;
  std::string out;
  out += fmt::format("model     {} ({}, {} layers)\n", sc.model.name, sc.model.hf_architecture, plan.layer_sequence.size());
  out += fmt::format("hardware  {} ({}): HBM {:.0f} GB/s (a matmul streams {:.0f}), CMO {:.0f} GB/s, L2 {} MiB\n",
                     sc.hardware.name, sc.hardware.family, sc.hardware.hbm_GBps,
                     sc.hardware.hbm_GBps * sc.hardware.matmul_stream_efficiency, sc.hardware.cmo_GBps,
                     fmt_mib(sc.hardware.l2_size_bytes));
  out += fmt::format("serving   {}\n", describe_deployment(plan));
  const Semantics& sem = sc.release->semantics;
  out += fmt::format("release   vllm-ascend {} (prefetch code {})\n", sc.release->tag, sem.name);
  out += fmt::format("config    {}  (from {}; caps: {} reading)\n", sc.config.to_additional_config(sem), sc.config_origin,
                     cap_reading_name(sc.cap_reading));
  if (auto env = sc.config.legacy_env(sem); !env.empty()) out += fmt::format("env       {}\n", fmt::join(env, " "));
  if (sc.legacy_equivalent) out += fmt::format("legacy    equivalent new config: --additional-config '{}'\n", *sc.legacy_equivalent);
  out += "\n";

  out += "prefetch sites (per layer; us = microseconds, MiB = 2^20 bytes)\n";
  out += site_table_text(plan, r.with_config.sites);
  out += "\n";
  const double diff = r.difference_pct();
  out += fmt::format("step time  {:.1f} us with this config\n", r.with_config.step_time_us);
  out += fmt::format("           {:.1f} us with prefetch disabled\n", r.baseline.step_time_us);
  out += fmt::format("           {:+.2f} % ({})\n", diff,
                     diff < -0.005 ? "prefetch makes the step faster" : diff > 0.005 ? "prefetch makes the step slower" : "no change");
  for (const auto& w : sc.warnings) out += fmt::format("warning: {}\n", w);
  for (const auto& n : sc.notes) out += fmt::format("note: {}\n", n);
  return out;
}

nlohmann::json simulate_json(const SimulateReport& r) {
  const Scenario& sc = *r.scenario;
  nlohmann::json sites = nlohmann::json::array();
  for (const auto& s : r.with_config.sites) sites.push_back(site_json(s));
  nlohmann::json layer_types = nlohmann::json::array();
  for (size_t t = 0; t < sc.plan.layer_types.size(); ++t) {
    int count = 0;
    for (int ti : sc.plan.layer_sequence) count += ti == static_cast<int>(t);
    layer_types.push_back({{"name", sc.plan.layer_types[t].name}, {"layers", count}});
  }
  nlohmann::json j = {
      {"model", sc.model.name},
      {"architecture", sc.model.hf_architecture},
      {"hardware", sc.hardware.name},
      {"layer_template", sc.plan.template_name},
      {"deployment", deployment_json(sc.plan)},
      {"vllm_ascend_version", sc.release->tag},
      {"prefetch_code_version", sc.release->semantics.name},
      {"weight_prefetch_config", sc.config.to_inner_json(sc.release->semantics)},
      {"additional_config", nlohmann::json{{"weight_prefetch_config", sc.config.to_inner_json(sc.release->semantics)}}},
      {"additional_config_arg", sc.config.to_additional_config(sc.release->semantics)},
      {"legacy_env", sc.config.legacy_env(sc.release->semantics)},
      {"cap_reading", cap_reading_name(sc.cap_reading)},
      {"step_time_us", r.with_config.step_time_us},
      {"baseline_step_time_us", r.baseline.step_time_us},
      {"difference_pct", r.difference_pct()},
      {"num_layers", sc.plan.layer_sequence.size()},
      {"layer_types", layer_types},
      {"peak_l2_prefetched_bytes", static_cast<long long>(std::llround(r.with_config.peak_l2_bytes))},
      {"end_of_step_wait_us", r.with_config.end_of_step_wait_us},
      {"sites", sites},
      {"warnings", sc.warnings},
      {"notes", sc.notes},
  };
  if (sc.legacy_equivalent) {
    j["legacy_equivalent_additional_config"] = nlohmann::json::parse(*sc.legacy_equivalent);
    j["legacy_equivalent_additional_config_arg"] = *sc.legacy_equivalent;
  }
  return j;
}

}  // namespace pt
