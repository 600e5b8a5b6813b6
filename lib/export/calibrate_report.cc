#include "export/calibrate_report.h"

#include <fmt/format.h>

#include "export/text_table.h"

namespace pt {

std::string calibrate_text(const Scenario& base, const CalibrateRun& run, const std::string& calibration_out) {
  const Calibration& calibration = run.calibration;
  std::string out = fmt::format("calibrated {} from {} profile{}", base.model.name, run.profiles_named, run.profiles_named == 1 ? "" : "s");
  if (run.runs_read != run.profiles_named) out += fmt::format(" ({} ranks)", run.runs_read);
  out += fmt::format(" on {} TP{} DP{} {}, vllm-ascend {}\n\n", base.hardware.name, base.plan.deployment.tensor_parallel,
                     base.plan.deployment.data_parallel, quantization_name(base.plan.deployment.quantization), base.vllm_ascend_version);
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
  for (const auto& r : run.checks) {
    out += fmt::format("reproduction at {} tokens: step {:.1f} us in the profile, {:.1f} us simulated ({:+.2f} %)\n", r.num_tokens,
                       r.profile_step_us, r.simulated_step_us, r.step_error_pct);
    TextTable rows({"op", "profile us/step", "simulated us/step", "error %"});
    for (const auto& row : r.ops) {
      rows.add_row({row.key, fmt_us(row.profile_us), fmt_us(row.simulated_us), fmt::format("{:+.2f}", row.error_pct)});
    }
    out += rows.render("  ") + "\n";
  }
  for (const auto& n : calibration.notes) out += fmt::format("note: {}\n", n);
  if (!calibration_out.empty()) {
    out += fmt::format("wrote {}: pass it to simulate or tune-ratio with --calibration {} (it records {} at TP{}, and is refused "
                       "for another model or deployment)\n",
                       calibration_out, calibration_out, base.model.name, base.plan.deployment.tensor_parallel);
  }
  return out;
}

nlohmann::json calibrate_json(const Scenario& base, const CalibrateRun& run) {
  nlohmann::json json = calibration_to_json(run.calibration);
  nlohmann::json repro = nlohmann::json::array();
  for (const auto& r : run.checks) {
    nlohmann::json ops = nlohmann::json::array();
    for (const auto& row : r.ops) {
      ops.push_back({{"key", row.key}, {"profile_us", row.profile_us}, {"simulated_us", row.simulated_us}, {"error_pct", row.error_pct}});
    }
    repro.push_back({{"num_tokens", r.num_tokens}, {"profile_step_us", r.profile_step_us}, {"simulated_step_us", r.simulated_step_us},
                     {"step_error_pct", r.step_error_pct}, {"ops", ops}});
  }
  json["reproduction"] = repro;
  json["profiles_read"] = run.runs_read;
  // The config the runs were matched with: an object, and the string to paste.
  const Semantics& sem = base.release->semantics;
  json["additional_config"] = nlohmann::json{{"weight_prefetch_config", base.config.to_inner_json(sem)}};
  json["additional_config_arg"] = base.config.to_additional_config(sem);
  return json;
}

}  // namespace pt
