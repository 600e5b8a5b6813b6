// `tune-ratio`: the prefetch_ratio values that give the shortest step (or the most overlap with no
// stall) over a workload, ready to paste into vllm-ascend.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <memory>

#include <fmt/format.h>
#include <unistd.h>

#include "export/svg_plot.h"
#include "export/tune_report.h"
#include "scenario_options.h"
#include "search/ratio_search.h"
#include "search/workload.h"
#include "subcommand.h"
#include "util/error.h"
#include "util/file_io.h"

namespace pt::app {

namespace {

struct TuneOptionsCli {
  ScenarioOptions scenario;
  OutputOptions output;
  std::vector<double> weights;
  std::string workload_path;
  std::string objective = "latency";
  std::string search = "decomposed";
  double step = 0.01;
  double tolerance_us = 0.5;
  double near_optimal_pct = 0.5;
  double disable_threshold_pct = 1.0;
  std::string plot_path;
  std::string sweep_csv_path;
  std::string config_out_path;
  std::string out_path;
};

std::vector<WorkloadPoint> resolve_workload(TuneOptionsCli& o) {
  const Deployment& d = o.scenario.inputs.deployment;
  o.scenario.parse_token_list();
  if (!o.workload_path.empty()) {
    if (!o.scenario.num_tokens_list.empty() || !o.weights.empty()) {
      throw InputError("give the workload either as --workload FILE or as --num-tokens/--weights, not both");
    }
    return load_workload_csv(o.workload_path);
  }
  if (!o.scenario.num_tokens_list.empty()) return workload_from_lists(o.scenario.num_tokens_list, o.weights);
  if (!o.weights.empty()) throw InputError("--weights needs --num-tokens: one weight per token count");
  if (o.scenario.max_num_seqs) {
    Deployment with = d;
    with.max_num_seqs = o.scenario.max_num_seqs;
    return workload_from_capture_sizes(with, find_release(o.scenario.inputs.vllm_ascend_version),
                                       capture_model_of(load_model(o.scenario.inputs.model), with));
  }
  return {{72, 1.0}};  // the embedded default scenario
}

int run(TuneOptionsCli& o) {
  const auto start = std::chrono::steady_clock::now();
  std::vector<WorkloadPoint> workload = resolve_workload(o);
  TuneOptions options;
  options.objective = parse_objective(o.objective);
  options.method = parse_search_method(o.search);
  options.step = o.step;
  options.stall_tolerance_us = o.tolerance_us;
  options.near_optimal_pct = o.near_optimal_pct;
  options.disable_threshold_pct = o.disable_threshold_pct;
  if (!(o.disable_threshold_pct >= 0)) throw InputError("--disable-threshold: expected a percentage >= 0");
  // On a terminal: the size of the search up front, then its progress (one line, rewritten).
  if (isatty(STDERR_FILENO)) {
    options.on_start = [](const SearchEstimate& e) {
      if (e.seconds < 1) return;
      std::fprintf(stderr, "tune-ratio: %.0f configurations, %.0f segment simulations, about %.0f s\n", e.configurations,
                   e.segment_simulations, std::max(1.0, e.seconds));
    };
    options.progress = [](double f) { std::fprintf(stderr, "\rsearching %5.1f %%", 100.0 * f); };
  }

  o.scenario.num_tokens = workload.front().num_tokens;
  Scenario scenario = o.scenario.load();
  std::vector<StepPlan> plans;
  plans.reserve(workload.size());
  for (const auto& p : workload) {
    Deployment d = scenario.plan.deployment;
    d.num_tokens = p.num_tokens;
    plans.push_back(scenario.plan_for(d));
  }
  TuneReport report;
  report.scenario = &scenario;
  report.workload = workload;
  std::vector<double> weights;
  for (const auto& p : plans) report.plans.push_back(&p);
  for (const auto& p : workload) weights.push_back(p.weight);
  report.result = tune_ratios(report.plans, weights, scenario.cap_reading, options);
  if (options.progress) std::fprintf(stderr, "\r%30s\r", "");
  report.elapsed_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();

  // Render everything, then write: a failure leaves no partial set of outputs.
  const std::string main_output = o.output.format == "json" ? json_output(tune_json(report)) : tune_text(report);
  std::string svg, config;
  if (!o.plot_path.empty()) {
    svg = tune_plot_svg(report.result, fmt::format("tune-ratio: {} on {}, {} (step {:g})", scenario.model.name,
                                                   scenario.hardware.name,
                                                   report.result.objective == TuneObjective::kLatency ? "latency" : "overlap",
                                                   report.result.step));
  }
  if (!o.config_out_path.empty()) {
    // What the report recommends, disabling included, for --additional-config @FILE.
    config = json_output(nlohmann::json{
        {"weight_prefetch_config", report.recommended_config().to_inner_json(scenario.release->semantics)}});
  }
  const std::string sweep = o.sweep_csv_path.empty() ? std::string() : tune_sweep_csv(report);
  write_outputs_atomically({{o.plot_path, svg},
                            {o.sweep_csv_path, sweep},
                            {o.config_out_path, config},
                            {output_path(o.out_path), main_output}});
  return 0;
}

}  // namespace

Subcommand tune_ratio_subcommand() {
  return {"tune-ratio", "find the prefetch ratios with the shortest step (or the most overlap), ready to paste",
          [](CLI::App& sub) -> std::function<int()> {
            auto o = std::make_shared<TuneOptionsCli>();
            o->scenario.add_to(sub, /*token_list=*/true);
            o->output.add_format(sub);
            sub.add_option("--weights", o->weights, "weight of each --num-tokens entry, comma-separated (default: equal)")
                ->delimiter(',');
            sub.add_option("--workload", o->workload_path, "CSV of the workload: num_tokens,weight");
            sub.add_option("--objective", o->objective, "latency (shortest step) or overlap (largest prefetch with no stall)")
                ->capture_default_str();
            sub.add_option("--search", o->search, "decomposed (default, exact) or grid (every combination; ground truth)")
                ->capture_default_str();
            sub.add_option("--step", o->step, "ratio resolution")->capture_default_str();
            sub.add_option("--tolerance", o->tolerance_us, "overlap objective: stall allowed per prefetch, in us")
                ->capture_default_str();
            sub.add_option("--near-optimal-pct", o->near_optimal_pct, "report ratios within this % of the best step time")
                ->capture_default_str();
            sub.add_option("--disable-threshold", o->disable_threshold_pct,
                           "advise disabling prefetch when the gain over disabled is below this %")
                ->capture_default_str();
            sub.add_option("--plot", o->plot_path, "write an SVG: step time against each ratio, heat map for two keys");
            sub.add_option("--sweep-csv", o->sweep_csv_path,
                           "write the curves behind the plot as CSV: key, ratio, workload entry, step time");
            sub.add_option("--out", o->config_out_path,
                           "write the recommended config (disabled when that is the advice) for --additional-config @FILE");
            sub.add_option("-o,--output", o->out_path, "write the report to a file instead of stdout");
            return [o] { return run(*o); };
          }};
}

}  // namespace pt::app
