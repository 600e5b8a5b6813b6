// `calibrate`: fit the simulator to real runs and write a calibration file that simulate and
// tune-ratio accept (--calibration), then show how well the calibrated simulator reproduces them.
// Each PROFILE may be a cluster directory: all its ranks are read and fitted (lib/calibrate).
#include <memory>

#include <fmt/format.h>

#include "calibrate/calibrate_run.h"
#include "export/calibrate_report.h"
#include "scenario_options.h"
#include "subcommand.h"
#include "util/error.h"
#include "util/file_io.h"

namespace pt::app {

namespace {

struct CalibrateOptions {
  ScenarioOptions scenario;
  OutputOptions output;
  std::vector<std::string> profile_paths;
  std::string calibration_out;
  std::string out_path;
  int threads = 2;
};

int run(CalibrateOptions& o) {
  if (!o.scenario.model_given()) throw InputError("calibrate needs --model: the model and deployment that produced the profile");
  if (o.threads < 1 || o.threads > 64) throw InputError(fmt::format("--threads {}: expected 1..64", o.threads));
  o.scenario.parse_token_list();
  const Scenario base = o.scenario.load();
  const CalibrateRun run = run_calibrate(base, o.profile_paths, o.scenario.num_tokens_list, o.threads);
  const std::string out = o.output.format == "json" ? json_output(calibrate_json(base, run)) : calibrate_text(base, run, o.calibration_out);
  write_outputs_atomically({{o.calibration_out, json_output(calibration_to_json(run.calibration))}, {output_path(o.out_path), out}});
  return 0;
}

}  // namespace

Subcommand calibrate_subcommand() {
  return {"calibrate", "fit op durations, HBM and CMO bandwidth to real profiles; write a --calibration file",
          [](CLI::App& sub) -> std::function<int()> {
            auto o = std::make_shared<CalibrateOptions>();
            sub.add_option("profiles", o->profile_paths,
                           "one or more profiles of the same model and deployment (token counts may differ); a directory of "
                           "several runs is a cluster, every rank fitted")
                ->required();
            sub.add_option("--calibration-out", o->calibration_out, "write the calibration file here");
            sub.add_option("--threads", o->threads, "profiles read at once (memory holds this many)")->capture_default_str();
            sub.add_option("-o,--output", o->out_path, "write the report to a file instead of stdout");
            o->scenario.add_to(sub, /*token_list=*/true, ModelOption::kRequired);
            o->output.add_format(sub);
            sub.footer(
                "Examples:\n"
                "  prefetch-tuner calibrate off-t8 off-t32 off-t72 --model Qwen3-8B --calibration-out calib.json \\\n"
                "      --additional-config '{\"weight_prefetch_config\":{\"enabled\":false}}'\n"
                "  prefetch-tuner calibrate CLUSTER_DIR --model Qwen3-32B --tp 4 --dp 2 --num-tokens 72 --format json\n"
                "  prefetch-tuner simulate --calibration calib.json      use the fit\n");
            return [o] { return run(*o); };
          }};
}

}  // namespace pt::app
