#include "sim/scenario.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "util/error.h"

namespace pt {

namespace {

// Ratio that makes vllm-ascend's int(ratio * bytes) reach `size`, as the legacy variables asked
// for a byte count directly.
double ratio_for_bytes(double size_bytes, double weight_bytes) {
  if (weight_bytes <= 0) return 0;
  return std::min(1.0, std::ceil(size_bytes / weight_bytes * 1e6) / 1e6);
}

}  // namespace

void apply_calibration(const Calibration& c, HardwareProfile& hw, OpTimeTable& table) {
  for (const auto& h : c.hardware) {
    hw.set(h.parameter, h.value, "calibration");
    hw.provenance[h.parameter] = {"calibrated: " + h.basis, false};
  }
  for (const auto& f : c.ops) table.add_model(f.key, f.intercept_us, f.per_token_us);
}

CalibrationTarget calibration_target(const ModelConfig& model, const Deployment& d, const HardwareProfile& hardware,
                                     const std::string& vllm_ascend_version) {
  CalibrationTarget t;
  t.model = model.name;
  t.model_shape_hash = model_shape_hash(model);
  t.tensor_parallel = d.tensor_parallel;
  t.data_parallel = d.data_parallel;
  t.expert_parallel = d.expert_parallel;
  t.quantization = quantization_name(d.quantization);
  t.phase = phase_name(d.phase);
  t.vllm_ascend_version = vllm_ascend_version;
  t.hardware = hardware.name;
  return t;
}

void check_calibration(const Calibration& c, const CalibrationTarget& now, const std::string& file, bool allow,
                       std::vector<std::string>& warnings) {
  const CalibrationTarget& was = c.fitted_on;
  if (!was.known()) {
    warnings.push_back(fmt::format("--calibration {}: the file does not say which model and deployment it was fitted on "
                                   "(written before calibrate recorded it): not checked",
                                   file));
    return;
  }
  auto describe = [](const CalibrationTarget& t) {
    return fmt::format("{} (shape hash {}) at TP{} DP{}{}, {}, {}", t.model, t.model_shape_hash, t.tensor_parallel, t.data_parallel,
                       t.expert_parallel ? " EP" : "", t.quantization, t.phase);
  };
  std::vector<std::string> differ;
  if (was.model_shape_hash != now.model_shape_hash) differ.push_back("model");
  if (was.tensor_parallel != now.tensor_parallel || was.data_parallel != now.data_parallel ||
      was.expert_parallel != now.expert_parallel) {
    differ.push_back("parallelism");
  }
  if (was.quantization != now.quantization) differ.push_back("quantization");
  if (was.phase != now.phase) differ.push_back("phase");
  if (!differ.empty()) {
    std::string what;
    for (const auto& d : differ) what += (what.empty() ? "" : ", ") + d;
    const std::string message = fmt::format("--calibration {}: fitted on {}, not {} (different {}): its op durations are another "
                                            "model's or deployment's",
                                            file, describe(was), describe(now), what);
    if (!allow) throw InputError(message + "; calibrate on this one, or pass --allow-calibration-mismatch to use it anyway");
    warnings.push_back(message + " (used anyway: --allow-calibration-mismatch)");
  }
  if (!was.vllm_ascend_version.empty() && was.vllm_ascend_version != now.vllm_ascend_version) {
    warnings.push_back(fmt::format("--calibration {}: fitted with vllm-ascend {}, this run models {}", file, was.vllm_ascend_version,
                                   now.vllm_ascend_version));
  }
  if (!was.hardware.empty() && was.hardware != now.hardware) {
    warnings.push_back(fmt::format("--calibration {}: fitted on hardware {}, this run uses {}", file, was.hardware, now.hardware));
  }
}

Scenario load_scenario(const ScenarioInputs& in) {
  Scenario s;
  s.vllm_ascend_version = in.vllm_ascend_version;
  in.deployment.validate();
  s.model = load_model(in.model);
  s.hardware = load_hardware(in.hardware);
  if (!in.op_times.empty()) s.op_times = load_op_time_table(in.op_times);
  // Calibration first, so an explicit --hw-set still wins over it.
  if (!in.calibration.empty()) {
    const Calibration c = load_calibration(in.calibration);
    check_calibration(c, calibration_target(s.model, in.deployment, s.hardware, in.vllm_ascend_version), in.calibration,
                      in.allow_calibration_mismatch, s.warnings);
    apply_calibration(c, s.hardware, s.op_times);
  }
  apply_hardware_overrides(s.hardware, in.hardware_overrides);
  s.layer_template = load_layer_template(in.layer_template, s.model);
  s.cap_reading = parse_cap_reading(in.cap_reading);
  s.plan = build_step_plan(s.model, in.deployment, s.hardware, s.layer_template,
                           s.op_times.empty() ? nullptr : &s.op_times);
  s.notes = s.plan.notes;

  const LegacyMlpEnv legacy = read_legacy_env(in.env_assignments, in.use_process_env);
  if (legacy.any() && in.additional_config) {
    throw InputError("both --additional-config and the legacy VLLM_ASCEND_*PREFETCH* variables are set; "
                     "vllm-ascend v0.13+ reads only weight_prefetch_config: give one of them");
  }
  if (legacy.any()) {
    // Legacy MLP prefetch (PR #2816): byte sizes, 18 MiB by default, MLP only.
    WeightPrefetchConfig c;
    c.enabled = legacy.enable_prefetch_mlp;
    c[RatioKey::kAttnQkv] = 0;
    c[RatioKey::kAttnO] = 0;
    c[RatioKey::kMoeGateUp] = 0;
    auto weight = [&](const char* name) {
      for (const auto& l : s.plan.linears) {
        if (l.name == name) return l.weight_bytes();
      }
      return 0.0;
    };
    const double gate_up = legacy.gate_up_prefetch_bytes.value_or(s.hardware.prefetch_cap_bytes);
    const double down = legacy.down_prefetch_bytes.value_or(s.hardware.prefetch_cap_bytes);
    c[RatioKey::kMlpGateUp] = ratio_for_bytes(gate_up, weight("gate_up_proj"));
    c[RatioKey::kMlpDown] = ratio_for_bytes(down, weight("down_proj"));
    s.config = c;
    s.config_origin = "legacy environment variables";
    s.legacy_equivalent = c.to_additional_config();
    if (!legacy.enable_prefetch_mlp) {
      s.notes.push_back("VLLM_ASCEND_ENABLE_PREFETCH_MLP is not 1: the size variables alone enable nothing");
    }
    for (double size : {gate_up, down}) {
      if (size > s.hardware.prefetch_cap_bytes) {
        s.warnings.push_back(fmt::format("a legacy size of {:.0f} bytes exceeds the 18 MiB cap that weight_prefetch_config "
                                         "applies on the MLP path: the new config cannot express it", size));
      }
    }
    if (s.model.is_moe()) s.notes.push_back("the legacy variables drove the dense MLP path only; this is a MoE model");
  } else if (in.additional_config) {
    PrefetchConfigParse parsed = load_prefetch_config(*in.additional_config, in.lenient);
    s.config = parsed.config;
    s.warnings.insert(s.warnings.end(), parsed.warnings.begin(), parsed.warnings.end());
    s.notes.insert(s.notes.end(), parsed.notes.begin(), parsed.notes.end());
    s.config_origin = (*in.additional_config)[0] == '@' ? in.additional_config->substr(1) : "--additional-config";
  } else {
    s.config = WeightPrefetchConfig::defaults_enabled();
    s.config_origin = "vllm-ascend defaults with {\"enabled\": true}";
  }
  return s;
}

}  // namespace pt
