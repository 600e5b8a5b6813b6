// `simulate`: one step of the model under a weight_prefetch_config, per-site report, timeline export.
#include <memory>

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
};

int run(SimulateOptions& o) {
  Scenario scenario = o.scenario.load();
  const bool need_timeline = !o.timeline_csv_path.empty() || !o.trace_json_path.empty();
  SimulateReport report = run_simulate(scenario, need_timeline);
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
            sub.footer(
                "Examples:\n"
                "  prefetch-tuner simulate                          the default: Qwen3-32B W8A8, TP4, 72 tokens, one A3 die\n"
                "  prefetch-tuner simulate --model Qwen/Qwen3-8B --tp 2 --num-tokens 16 --hardware 910B\n"
                "  prefetch-tuner simulate --additional-config @tuned.json --trace-json step.json\n");
            return [o] { return run(*o); };
          }};
}

}  // namespace pt::app
