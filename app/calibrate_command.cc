// `calibrate`: fit the simulator to real runs and write a calibration file that simulate and
// tune-ratio accept (--calibration), then show how well the calibrated simulator reproduces them.
#include <memory>

#include <fmt/format.h>

#include "calibrate/calibrate_run.h"
#include "export/calibrate_report.h"
#include "profile/profile_readers.h"
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
};

int run(CalibrateOptions& o) {
  if (!o.scenario.model_given()) throw InputError("calibrate needs --model: the model and deployment that produced the profile");
  o.scenario.parse_token_list();
  if (!o.scenario.num_tokens_list.empty() && o.scenario.num_tokens_list.size() != o.profile_paths.size()) {
    throw InputError(fmt::format("--num-tokens: {} token counts for {} profiles; give one per profile, in order",
                                 o.scenario.num_tokens_list.size(), o.profile_paths.size()));
  }
  std::vector<Profile> profiles;
  for (const auto& p : o.profile_paths) profiles.push_back(load_profile(p));
  const Scenario base = o.scenario.load();
  const CalibrateRun result = run_calibrate(base, std::move(profiles), o.scenario.num_tokens_list);
  const std::string out = o.output.format == "json" ? json_output(calibrate_json(base, result))
                                                    : calibrate_text(base, result, o.calibration_out);
  write_outputs_atomically(
      {{o.calibration_out, json_output(calibration_to_json(result.calibration))}, {output_path(o.out_path), out}});
  return 0;
}

}  // namespace

Subcommand calibrate_subcommand() {
  return {"calibrate", "fit op durations, HBM and CMO bandwidth to real profiles; write a --calibration file",
          [](CLI::App& sub) -> std::function<int()> {
            auto o = std::make_shared<CalibrateOptions>();
            sub.add_option("profiles", o->profile_paths, "one or more profiles of the same model and deployment (token counts may differ)")
                ->required();
            sub.add_option("--calibration-out", o->calibration_out, "write the calibration file here");
            sub.add_option("-o,--output", o->out_path, "write the report to a file instead of stdout");
            o->scenario.add_to(sub, /*token_list=*/true, ModelOption::kRequired);
            o->output.add_format(sub);
            sub.footer(
                "Examples:\n"
                "  prefetch-tuner calibrate off-t8 off-t32 off-t72 --model Qwen3-8B --calibration-out calib.json \\\n"
                "      --additional-config '{\"weight_prefetch_config\":{\"enabled\":false}}'\n"
                "  prefetch-tuner calibrate PROFILE --model ./Qwen3-32B-W8A8 --tp 4 --num-tokens 72 --format json\n"
                "  prefetch-tuner simulate --calibration calib.json      use the fit\n");
            return [o] { return run(*o); };
          }};
}

}  // namespace pt::app
