// `tune-ratio`: the prefetch_ratio values that give the shortest step (or the most overlap with no
// stall) over a workload, ready to paste into vllm-ascend.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <memory>
#include <optional>

#include <fmt/format.h>

#include "cli/progress.h"
#include "export/svg_plot.h"
#include "export/tune_report.h"
#include "export/uncertainty_report.h"
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
  // --robust: one config for the workload over the hardware parameters' ranges.
  bool robust = false;
  size_t samples = 1000;
  uint64_t seed = 1;
  int threads = 2;
  double robust_step = 0.1;
  std::string break_even_svg_path;
  std::string break_even_csv_path;
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
  // On a terminal, for a search that takes a second or more: its size up front, then its progress
  // (one line, rewritten, cleared at the end).
  TerminalProgress progress;
  std::string progress_label = "tune-ratio: searching";
  if (progress.enabled()) {
    options.on_start = [&](const SearchEstimate& e) {
      progress_label = fmt::format("tune-ratio: searching {:.0f} configurations", e.configurations);
      if (e.seconds < 1) return;
      progress.announce(fmt::format("tune-ratio: {:.0f} configurations, {:.0f} segment simulations, about {:.0f} s",
                                    e.configurations, e.segment_simulations, std::max(1.0, e.seconds)));
    };
    options.progress = [&](double f) { progress.update(progress_label, f); };
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
  progress.finish();
  report.elapsed_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();

  std::optional<RobustTuneResult> robust;
  if (o.robust) {
    if (options.objective != TuneObjective::kLatency) throw InputError("--robust: needs --objective latency (the default)");
    RobustOptions ro;
    ro.sampling.samples = o.samples;
    ro.sampling.seed = o.seed;
    ro.sampling.threads = o.threads;
    ro.step = o.robust_step;
    ro.disable_threshold_pct = o.disable_threshold_pct;
    ro.near_optimal_pct = o.near_optimal_pct;
    robust = robust_tune(scenario, bundled_hardware(o.scenario.inputs), workload, report.result, ro);
    report.elapsed_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  } else if (!o.break_even_svg_path.empty() || !o.break_even_csv_path.empty()) {
    throw InputError("--break-even-svg / --break-even-csv need --robust");
  }

  // Render everything, then write: a failure leaves no partial set of outputs.
  std::string main_output;
  if (robust) {
    main_output = o.output.format == "json" ? json_output(robust_json(*robust, report)) : robust_text(*robust, report);
  } else {
    main_output = o.output.format == "json" ? json_output(tune_json(report)) : tune_text(report);
  }
  std::string map_svg, map_csv;
  if (robust && (!o.break_even_svg_path.empty() || !o.break_even_csv_path.empty())) {
    if (!robust->break_even) throw InputError("--break-even-svg / --break-even-csv: no enabled config, or fewer than two parameters with a range");
    if (!o.break_even_svg_path.empty()) {
      map_svg = break_even_svg(*robust->break_even, fmt::format("break-even map: {} on {}, robust tune", scenario.model.name,
                                                                 scenario.hardware.name));
    }
    if (!o.break_even_csv_path.empty()) map_csv = break_even_csv(*robust->break_even);
  }
  std::string svg, config;
  if (!o.plot_path.empty()) {
    svg = tune_plot_svg(report.result, fmt::format("tune-ratio: {} on {}, {} (step {:g})", scenario.model.name,
                                                   scenario.hardware.name,
                                                   report.result.objective == TuneObjective::kLatency ? "latency" : "overlap",
                                                   report.result.step));
  }
  if (!o.config_out_path.empty()) {
    // What the report recommends, disabling included, for --additional-config @FILE.
    const WeightPrefetchConfig recommended = robust ? robust->recommended_config : report.recommended_config();
    config = json_output(nlohmann::json{{"weight_prefetch_config", recommended.to_inner_json(scenario.release->semantics)}});
  }
  const std::string sweep = o.sweep_csv_path.empty() ? std::string() : tune_sweep_csv(report);
  write_outputs_atomically({{o.plot_path, svg},
                            {o.sweep_csv_path, sweep},
                            {o.config_out_path, config},
                            {o.break_even_svg_path, map_svg},
                            {o.break_even_csv_path, map_csv},
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
            sub.add_flag("--robust", o->robust,
                         "tune over the hardware parameters' ranges: best expected and least worst-case regret configs");
            sub.add_option("--samples", o->samples, "--robust: Latin hypercube samples")->capture_default_str()->check(CLI::Range(8, 1000000));
            sub.add_option("--seed", o->seed, "--robust: seed of the sample (same seed, same output)")->capture_default_str();
            sub.add_option("--threads", o->threads, "--robust: threads the samples run on")->capture_default_str()->check(CLI::Range(1, 64));
            sub.add_option("--robust-step", o->robust_step, "--robust: ratio resolution of the robust grid (the nominal tuned ratios are added)")
                ->capture_default_str();
            sub.add_option("--break-even-svg", o->break_even_svg_path,
                           "--robust: write the break-even map of the two most influential parameters as SVG");
            sub.add_option("--break-even-csv", o->break_even_csv_path, "--robust: write the break-even map's grid as CSV");
            sub.footer(
                "Examples:\n"
                "  prefetch-tuner tune-ratio --num-tokens 8,16,32,72 --weights 1,1,2,4 --plot tune.svg --out tuned.json\n"
                "  prefetch-tuner tune-ratio --model Qwen3-235B-A22B --tp 4 --dp 4 --enable-expert-parallel --max-num-seqs 64\n"
                "  prefetch-tuner tune-ratio --objective overlap --calibration calib.json\n");
            return [o] { return run(*o); };
          }};
}

}  // namespace pt::app
