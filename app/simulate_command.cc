// `simulate`: one step of the model under a weight_prefetch_config, per-site report, timeline export.
#include <memory>
#include <optional>

#include <fmt/format.h>

#include "export/simulate_report.h"
#include "export/timeline_export.h"
#include "export/uncertainty_report.h"
#include "scenario_options.h"
#include "subcommand.h"
#include "util/error.h"
#include "util/file_io.h"

namespace pt::app {

namespace {

struct SimulateOptions {
  ScenarioOptions scenario;
  OutputOptions output;
  std::string timeline_csv_path;
  std::string trace_json_path;
  std::string out_path;
  // --uncertainty: the verdict over the hardware parameters' ranges.
  bool uncertainty = false;
  size_t samples = 1000;
  uint64_t seed = 1;
  int threads = 2;
  std::string break_even_svg_path;
  std::string break_even_csv_path;
  std::string compare_config;
  CLI::Option* compare_option = nullptr;
};

int run(SimulateOptions& o) {
  Scenario scenario = o.scenario.load();
  const bool need_timeline = !o.timeline_csv_path.empty() || !o.trace_json_path.empty();
  std::optional<ComparedConfig> compare;
  if (o.compare_option && o.compare_option->count() > 0) {
    // The same scenario with the second config: its own parse, warnings and legacy variables.
    ScenarioInputs inputs = o.scenario.inputs;
    inputs.additional_config = o.compare_config;
    const Scenario other = load_scenario(inputs);
    compare = ComparedConfig{other.config, other.config_origin == "--additional-config" ? "--compare-config" : other.config_origin,
                             other.warnings};
  }
  SimulateReport report = simulate_with_baseline(scenario, need_timeline, std::move(compare));
  // Render everything before writing anything, so a failure leaves no partial set of outputs.
  std::optional<UncertainVerdict> verdict;
  if (o.uncertainty) {
    UncertaintyOptions u;
    u.samples = o.samples;
    u.seed = o.seed;
    u.threads = o.threads;
    verdict = config_verdict(scenario, bundled_hardware(o.scenario.inputs), scenario.config, u);
  } else if (!o.break_even_svg_path.empty() || !o.break_even_csv_path.empty()) {
    throw InputError("--break-even-svg / --break-even-csv need --uncertainty");
  }
  std::string main_output;
  if (o.output.format == "json") {
    nlohmann::json j = simulate_json(report);
    if (verdict) j.update(verdict_json(*verdict));
    main_output = json_output(j);
  } else {
    main_output = simulate_text(report) + (verdict ? verdict_text(*verdict) : std::string());
  }
  std::string map_svg, map_csv;
  if (verdict && verdict->break_even) {
    if (!o.break_even_svg_path.empty()) {
      map_svg = break_even_svg(*verdict->break_even, fmt::format("break-even map: {} on {}, {} tokens", scenario.model.name,
                                                                  scenario.hardware.name, scenario.plan.tokens.scheduled_tokens));
    }
    if (!o.break_even_csv_path.empty()) map_csv = break_even_csv(*verdict->break_even);
  } else if (verdict && (!o.break_even_svg_path.empty() || !o.break_even_csv_path.empty())) {
    throw InputError("--break-even-svg / --break-even-csv: fewer than two hardware parameters have a range");
  }
  std::string csv, trace;
  if (!o.timeline_csv_path.empty()) csv = timeline_csv(scenario.plan, report.with_config);
  if (!o.trace_json_path.empty()) trace = chrome_trace_json(scenario.plan, report.with_config);
  write_outputs_atomically({{o.timeline_csv_path, csv},
                            {o.trace_json_path, trace},
                            {o.break_even_svg_path, map_svg},
                            {o.break_even_csv_path, map_csv},
                            {output_path(o.out_path), main_output}});
  return 0;
}

}  // namespace

Subcommand simulate_subcommand() {
  return {"simulate", "simulate one step with a weight_prefetch_config: per-site overlap, stall, step time",
          [](CLI::App& sub) -> std::function<int()> {
            auto o = std::make_shared<SimulateOptions>();
            o->scenario.add_to(sub);
            o->output.add_format(sub);
            sub.add_option("--timeline-csv", o->timeline_csv_path, "write one row per op and CMO task (kernel_details.csv column names)");
            sub.add_option("--trace-json", o->trace_json_path, "write a Chrome trace (opens in Perfetto)");
            sub.add_option("-o,--output", o->out_path, "write the report to a file instead of stdout");
            sub.add_flag("--uncertainty", o->uncertainty,
                         "sample the hardware parameters' ranges: p_gain, gain percentiles, sensitivity, break-even map");
            sub.add_option("--samples", o->samples, "--uncertainty: Latin hypercube samples")->capture_default_str()->check(CLI::Range(8, 1000000));
            sub.add_option("--seed", o->seed, "--uncertainty: seed of the sample (same seed, same output)")->capture_default_str();
            sub.add_option("--threads", o->threads, "--uncertainty: threads the samples run on")->capture_default_str()->check(CLI::Range(1, 64));
            sub.add_option("--break-even-svg", o->break_even_svg_path,
                           "--uncertainty: write the break-even map of the two most influential parameters as SVG");
            sub.add_option("--break-even-csv", o->break_even_csv_path, "--uncertainty: write the break-even map's grid as CSV");
            o->compare_option = sub.add_option("--compare-config", o->compare_config,
                                               "a second --additional-config (inline JSON or @FILE) run on the same scenario: "
                                               "both side by side, per site and per step");
            sub.footer(
                "Examples:\n"
                "  prefetch-tuner simulate                          the default: Qwen3-32B W8A8, TP4, 72 tokens, one A3 die\n"
                "  prefetch-tuner simulate --model Qwen/Qwen3-8B --tp 2 --num-tokens 16 --hardware 910B\n"
                "  prefetch-tuner simulate --additional-config @tuned.json --trace-json step.json\n");
            return [o] { return run(*o); };
          }};
}

}  // namespace pt::app
