// `simulate`: one step of the model under a weight_prefetch_config, per-site report, timeline export.
#include <memory>
#include <optional>

#include "export/simulate_report.h"
#include "export/timeline_export.h"
#include "scenario_options.h"
#include "subcommand.h"
#include "util/file_io.h"

namespace pt::app {

namespace {

struct SimulateOptions {
  ScenarioOptions scenario;
  OutputOptions output;
  std::string timeline_csv_path;
  std::string trace_json_path;
  std::string out_path;
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
  const std::string main_output =
      o.output.format == "json" ? json_output(simulate_json(report)) : simulate_text(report);
  std::string csv, trace;
  if (!o.timeline_csv_path.empty()) csv = timeline_csv(scenario.plan, report.with_config);
  if (!o.trace_json_path.empty()) trace = chrome_trace_json(scenario.plan, report.with_config);
  write_outputs_atomically({{o.timeline_csv_path, csv}, {o.trace_json_path, trace}, {output_path(o.out_path), main_output}});
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
            o->compare_option = sub.add_option("--compare-config", o->compare_config,
                                               "a second --additional-config (inline JSON or @FILE) run on the same scenario: "
                                               "both side by side, per site and per step");
            return [o] { return run(*o); };
          }};
}

}  // namespace pt::app
