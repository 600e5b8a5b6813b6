// `calibrate`: fit the simulator to real runs and write a calibration file that simulate and
// tune-ratio accept (--calibration), then show how well the calibrated simulator reproduces them.
// Each PROFILE may be a cluster directory: all its ranks are read (two at a time) and fitted.
#include <map>
#include <memory>
#include <mutex>

#include <fmt/format.h>

#include "analyze/calibration.h"
#include "analyze/model_check.h"
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
  int threads = 2;
};

int run(CalibrateOptions& o) {
  if (!o.scenario.model_given()) throw InputError("calibrate needs --model: the model and deployment that produced the profile");
  if (o.threads < 1 || o.threads > 64) throw InputError(fmt::format("--threads {}: expected 1..64", o.threads));
  o.scenario.parse_token_list();
  if (!o.scenario.num_tokens_list.empty() && o.scenario.num_tokens_list.size() != o.profile_paths.size()) {
    throw InputError(fmt::format("--num-tokens: {} token counts for {} profiles; give one per profile, in order",
                                 o.scenario.num_tokens_list.size(), o.profile_paths.size()));
  }
  // Every rank of every profile named; a cluster's ranks share its token count.
  std::vector<ProfileLocation> locations;
  std::vector<size_t> path_of;  // location -> index of the profile named
  for (size_t i = 0; i < o.profile_paths.size(); ++i) {
    const auto found = find_profiles(o.profile_paths[i]);
    for (const auto& l : found) {
      locations.push_back(l);
      path_of.push_back(i);
    }
  }
  Scenario base = o.scenario.load();
  std::vector<RunSample> samples(locations.size());
  std::vector<std::string> notes;
  std::mutex notes_mutex;
  for_each_profile(locations, "", o.threads, [&](size_t i, Profile& p) {
    const std::string& named = o.profile_paths[path_of[i]];
    if (locations.size() == o.profile_paths.size()) p.source = named;  // one run per profile: the name given
    Deployment d = base.plan.deployment;
    if (!o.scenario.num_tokens_list.empty()) {
      d.num_tokens = o.scenario.num_tokens_list[path_of[i]];
    } else if (auto inferred = infer_num_tokens(p)) {
      d.num_tokens = *inferred;
    } else {
      throw InputError(fmt::format("{}: cannot tell the token count (no matmul input shapes); give --num-tokens", p.source));
    }
    const StepPlan plan = base.plan_for(d);
    // A profile of another model would fit the wrong ops (and CMO rates above the HBM's).
    if (auto note = check_model_fits(p, plan)) {
      std::lock_guard<std::mutex> lock(notes_mutex);
      notes.push_back(fmt::format("{}: {}", p.source, *note));
    }
    samples[i] = sample_run(p, plan, &base.config, base.cap_reading);
  });
  Calibration calibration = fit_samples(samples);
  calibration.fitted_on = calibration_target(base.model, base.plan.deployment, base.hardware, base.vllm_ascend_version);
  calibration.notes.insert(calibration.notes.end(), notes.begin(), notes.end());

  // The calibrated simulator against the runs it came from: one reproduction per token count (the
  // ranks of a cluster averaged).
  HardwareProfile hw = base.hardware;
  OpTimeTable table = base.op_times;
  apply_calibration(calibration, hw, table);
  std::map<int, std::vector<const RunSample*>> by_tokens;
  for (const auto& s : samples) by_tokens[*s.deployment.num_tokens].push_back(&s);
  std::vector<Reproduction> checks;
  for (const auto& [tokens, list] : by_tokens) {
    RunSample mean = *list.front();
    if (list.size() > 1) {
      mean.profile_step_us = 0;
      mean.profile_us_per_step.clear();
      for (const RunSample* s : list) {
        mean.profile_step_us += s->profile_step_us / static_cast<double>(list.size());
        for (const auto& [key, us] : s->profile_us_per_step) mean.profile_us_per_step[key] += us / static_cast<double>(list.size());
      }
    }
    const StepPlan calibrated = build_step_plan(base.model, mean.deployment, hw, base.layer_template, *base.release, &table);
    checks.push_back(reproduce(mean, calibrated, base.config, base.cap_reading));
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
    json["profiles_read"] = locations.size();
    // The config the runs were matched with: an object, and the string to paste.
    const Semantics& sem = base.release->semantics;
    json["additional_config"] = nlohmann::json{{"weight_prefetch_config", base.config.to_inner_json(sem)}};
    json["additional_config_arg"] = base.config.to_additional_config(sem);
    out = json_output(json);
  } else {
    const size_t runs = locations.size();
    out += fmt::format("calibrated {} from {} profile{}", base.model.name, o.profile_paths.size(), o.profile_paths.size() == 1 ? "" : "s");
    if (runs != o.profile_paths.size()) out += fmt::format(" ({} ranks)", runs);
    out += fmt::format(" on {} TP{} DP{} {}, vllm-ascend {}\n\n", base.hardware.name, base.plan.deployment.tensor_parallel,
                       base.plan.deployment.data_parallel, quantization_name(base.plan.deployment.quantization),
                       base.vllm_ascend_version);
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
      out += fmt::format("wrote {}: pass it to simulate or tune-ratio with --calibration {} (it records {} at TP{}, and is refused "
                         "for another model or deployment)\n",
                         o.calibration_out, o.calibration_out, base.model.name, base.plan.deployment.tensor_parallel);
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
