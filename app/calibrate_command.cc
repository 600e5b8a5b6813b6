// `calibrate`: fit the simulator to real runs and write a calibration file that simulate and
// tune-ratio accept (--calibration), then show how well the calibrated simulator reproduces them.
#include <memory>

#include <fmt/format.h>

#include "analyze/calibration.h"
#include "export/text_table.h"
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
  Scenario base = o.scenario.load();
  std::vector<StepPlan> plans;
  for (size_t i = 0; i < profiles.size(); ++i) {
    Deployment d = base.plan.deployment;
    if (!o.scenario.num_tokens_list.empty()) {
      d.num_tokens = o.scenario.num_tokens_list[i];
    } else if (auto inferred = infer_num_tokens(profiles[i])) {
      d.num_tokens = *inferred;
    } else {
      throw InputError(fmt::format("{}: cannot tell the token count (no matmul input shapes); give --num-tokens", profiles[i].source));
    }
    plans.push_back(base.plan_for(d));
  }
  std::vector<CalibrationRun> runs;
  for (size_t i = 0; i < profiles.size(); ++i) runs.push_back({&profiles[i], &plans[i], &base.config});
  const Calibration calibration = fit_calibration(runs, base.cap_reading);

  // The calibrated simulator against the runs it came from.
  HardwareProfile hw = base.hardware;
  OpTimeTable table = base.op_times;
  apply_calibration(calibration, hw, table);
  std::vector<Reproduction> checks;
  for (size_t i = 0; i < profiles.size(); ++i) {
    const StepPlan calibrated =
        build_step_plan(base.model, plans[i].deployment, hw, base.layer_template, *base.release, &table);
    checks.push_back(reproduce(profiles[i], calibrated, base.config, base.cap_reading));
  }

  std::string out;
  nlohmann::json json = calibration_to_json(calibration);
  if (o.output.format == "json") {
    nlohmann::json repro = nlohmann::json::array();
    for (const auto& r : checks) {
      nlohmann::json ops = nlohmann::json::array();
      for (const auto& row : r.ops) {
        ops.push_back({{"key", row.key}, {"profile_us", row.profile_us}, {"simulated_us", row.simulated_us}, {"error_pct", row.error_pct}});
      }
      repro.push_back({{"num_tokens", r.num_tokens}, {"profile_step_us", r.profile_step_us}, {"simulated_step_us", r.simulated_step_us},
                       {"step_error_pct", r.step_error_pct}, {"ops", ops}});
    }
    json["reproduction"] = repro;
    out = json_output(json);
  } else {
    out += fmt::format("calibrated {} from {} profile{}\n\n", base.model.name, profiles.size(), profiles.size() == 1 ? "" : "s");
    TextTable hw_table({"parameter", "before", "calibrated", "basis"});
    for (const auto& h : calibration.hardware) {
      hw_table.add_row({h.parameter, fmt::format("{:.4g}", base.hardware.get(h.parameter)), fmt::format("{:.4g}", h.value), h.basis});
    }
    out += "hardware\n" + hw_table.render("  ") + "\n";
    TextTable ops({"op", "intercept us", "per token us", "points", "token counts", "rmse us", "mean |err| %"});
    for (const auto& f : calibration.ops) {
      ops.add_row({f.key, fmt::format("{:.3f}", f.intercept_us), fmt::format("{:.5f}", f.per_token_us), std::to_string(f.points),
                   std::to_string(f.token_counts), fmt::format("{:.3f}", f.rmse_us), fmt::format("{:.2f}", f.mean_abs_error_pct)});
    }
    out += "op durations: least squares fit duration = intercept + per_token x tokens\n" + ops.render("  ") + "\n";
    for (const auto& r : checks) {
      out += fmt::format("reproduction at {} tokens: step {:.1f} us in the profile, {:.1f} us simulated ({:+.2f} %)\n", r.num_tokens,
                         r.profile_step_us, r.simulated_step_us, r.step_error_pct);
      TextTable rows({"op", "profile us/step", "simulated us/step", "error %"});
      for (const auto& row : r.ops) {
        rows.add_row({row.key, fmt_us(row.profile_us), fmt_us(row.simulated_us), fmt::format("{:+.2f}", row.error_pct)});
      }
      out += rows.render("  ") + "\n";
    }
    for (const auto& n : calibration.notes) out += fmt::format("note: {}\n", n);
    if (!o.calibration_out.empty()) {
      out += fmt::format("wrote {}: pass it to simulate or tune-ratio with --calibration {}\n", o.calibration_out, o.calibration_out);
    }
  }
  write_outputs_atomically({{o.calibration_out, json_output(calibration_to_json(calibration))}, {output_path(o.out_path), out}});
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
