#include "sim/scenario.h"

#include <algorithm>
#include <cmath>
#include <set>

#include <fmt/format.h>

#include "model/checkpoint_quantization.h"
#include "model/memory_footprint.h"
#include "model/parallel_rules.h"
#include "util/error.h"

namespace pt {

void apply_calibration(const Calibration& c, HardwareProfile& hw, OpTimeTable& table) {
  for (const auto& h : c.hardware) {
    hw.set(h.parameter, h.value, "calibration");
    HardwareProfile::Provenance prov{"calibrated: " + h.basis, false, std::nullopt, ""};
    if (h.error > 0) {
      // The fit's value +/- its error replaces the profile's range (the span the uncertainty analysis samples).
      const auto [lo, hi] = hardware_parameter_limits(h.parameter);
      prov.range = std::make_pair(std::max(lo, h.value - h.error), std::min(hi, h.value + h.error));
      prov.range_reason = fmt::format("calibrated: the fitted value +/- its fit error {:.4g}", h.error);
    }
    hw.provenance[h.parameter] = prov;
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

StepPlan Scenario::plan_for(const Deployment& deployment) const {
  return build_step_plan(model, deployment, hardware, layer_template, *release, op_times.empty() ? nullptr : &op_times);
}

std::vector<std::string> whole_tensor_warnings(const StepPlan& plan, const WeightPrefetchConfig& config,
                                               CapReading cap_reading) {
  std::vector<std::string> out;
  std::set<std::string> seen;
  for (const auto& type : plan.layer_types) {
    for (const auto& site : type.sites) {
      if (!site.gated_on || !site.ratio_key) continue;
      const IssuePlan ip = plan_issue(site, config, cap_reading, plan.semantics());
      if (!ip.on || ip.limit != IssueLimit::kWholeTensor || !seen.insert(site.site).second) continue;
      const KeySetting& k = config[*site.ratio_key];
      const std::string why = k.legacy_bytes ? fmt::format("a legacy size of {} bytes", *k.legacy_bytes)
                              : k.ratio == 0  ? fmt::format("{} = 0 (or missing, or dropped)", ratio_key_name(*site.ratio_key))
                                              : fmt::format("{} = {} gives int(ratio x {} bytes) = 0",
                                                            ratio_key_name(*site.ratio_key), k.ratio, site.weight_bytes);
      out.push_back(fmt::format("{} inside an enabled {} module: vllm-ascend {} prefetches the whole {:.2f} MiB {} "
                                "(max_size 0 means the whole tensor in maybe_npu_prefetch){}",
                                why, ratio_module_name(*site.ratio_key), plan.release->tag, site.weight_bytes / 1048576.0,
                                site.linear_name, std::isfinite(site.cap_bytes) ? ", past the 18 MiB cap" : ", uncapped"));
    }
  }
  return out;
}

Scenario load_scenario(const ScenarioInputs& in) {
  Scenario s;
  s.release = &find_release(in.vllm_ascend_version);
  s.vllm_ascend_version = s.release->tag;
  in.deployment.validate();
  s.model = load_model(in.model);
  std::vector<std::string> model_notes = s.model.notes;
  // The scheme this run models (--quantization, else the checkpoint's own, else w8a8), then vLLM's
  // start-up rules for splitting the model: every subcommand that loads a scenario gets both.
  const Deployment deployment = resolve_quantization(s.model, in.deployment, model_notes);
  check_parallel_layout(s.model, deployment);
  s.hardware = load_hardware(in.hardware);
  if (!in.op_times.empty()) s.op_times = load_op_time_table(in.op_times);
  // Calibration first, so an explicit --hw-set still wins over it.
  if (!in.calibration.empty()) {
    const Calibration c = load_calibration(in.calibration);
    check_calibration(c, calibration_target(s.model, in.deployment, s.hardware, in.vllm_ascend_version), in.calibration,
                      in.allow_calibration_mismatch, s.warnings);
    CalibrationInUse use{in.calibration, {}, {}};
    for (const auto& h : c.hardware) use.hardware.push_back({h.parameter, s.hardware.get(h.parameter), h.value});
    for (const auto& f : c.ops) use.op_models.push_back(f.key);
    apply_calibration(c, s.hardware, s.op_times);
    s.calibration = use;
  }
  apply_hardware_overrides(s.hardware, in.hardware_overrides);
  s.layer_template = load_layer_template(in.layer_template, s.model);
  s.cap_reading = parse_cap_reading(in.cap_reading);
  s.plan = s.plan_for(deployment);
  s.notes = s.plan.notes;
  s.notes.insert(s.notes.end(), model_notes.begin(), model_notes.end());
  if (s.hardware.hbm_capacity_bytes > 0) {
    const MemoryFit fit = check_memory_fit(s.model, deployment, s.plan.tokens.num_seqs, s.hardware.hbm_capacity_bytes,
                                           s.hardware.name);
    s.warnings.insert(s.warnings.end(), fit.warnings.begin(), fit.warnings.end());
  } else {
    s.notes.push_back(fmt::format("hardware profile {} gives no hbm_capacity_bytes: whether the weights and KV cache fit "
                                  "is not checked",
                                  s.hardware.name));
  }
  const Semantics& sem = s.release->semantics;

  if (in.additional_config) {
    PrefetchConfigParse parsed = load_prefetch_config(*in.additional_config, in.lenient, *s.release);
    s.config = parsed.config;
    s.warnings.insert(s.warnings.end(), parsed.warnings.begin(), parsed.warnings.end());
    s.notes.insert(s.notes.end(), parsed.notes.begin(), parsed.notes.end());
    s.config_origin = (*in.additional_config)[0] == '@' ? in.additional_config->substr(1) : "--additional-config";
  } else {
    s.config = WeightPrefetchConfig::defaults_enabled(sem);
    s.config_origin = "vllm-ascend defaults with {\"enabled\": true}";
  }
  const LegacyMlpVariables legacy = read_legacy_env(in.env_assignments, in.use_process_env);
  if (legacy.any()) {
    const std::vector<std::string> legacy_notes = apply_legacy_env(legacy, *s.release, s.config);
    s.notes.insert(s.notes.end(), legacy_notes.begin(), legacy_notes.end());
    const KeySetting& gate_up = s.config[RatioKey::kMlpGateUp];
    if (gate_up.legacy_bytes) {
      s.config_origin += " + legacy environment variables";
      if (s.model.is_moe() && s.plan.tokens.padded_tokens < sem.mlp_tokens_below) {
        // The legacy path has no dense-model check: an o_proj with a custom row op (flashcomm1,
        // always active on a MoE model at TP > 1) prefetches layers[i].mlp.gate_up_proj, and a
        // SiluAndMul (a shared expert) layers[i].mlp.down_proj; a MoE layer has neither
        // (v0.13.0rc1:vllm_ascend/ops/register_custom_ops.py:126-135 and :182-191,
        // v0.15.0rc1:vllm_ascend/ops/weight_prefetch.py:146-149 and :162-164).
        const bool custom_row_op = s.plan.variables.count("FC1") && s.plan.variables.at("FC1") > 0;
        const bool shared_expert = s.model.shared_expert_intermediate_size > 0;
        if (custom_row_op || shared_expert) {
          throw InputError(fmt::format(
              "VLLM_ASCEND_ENABLE_PREFETCH_MLP=1 on a MoE model: vllm-ascend {} runs the MLP prefetch without its "
              "dense-model check and fails in the first forward below {} tokens: {} reads a layer's mlp.{} that a MoE "
              "layer lacks",
              s.release->tag, sem.mlp_tokens_below,
              custom_row_op ? "the o_proj custom row op (flashcomm1)" : "the shared expert's SiluAndMul",
              custom_row_op ? "gate_up_proj" : "down_proj"));
        }
        s.notes.push_back(fmt::format("VLLM_ASCEND_ENABLE_PREFETCH_MLP=1 on a MoE model without a custom row op or a shared "
                                      "expert: vllm-ascend {} starts and issues no MLP CMO (no dense MLP reaches the path)",
                                      s.release->tag));
      }
      if (sem.legacy_mlp_env == LegacyMlpEnv::kOverridesCapped) {
        // The weight_prefetch_config that asks for the same bytes (ratios to 6 decimals, capped).
        WeightPrefetchConfig eq = s.config;
        auto weight = [&](const char* name) {
          for (const auto& l : s.plan.linears) {
            if (l.name == name) return l.weight_bytes();
          }
          return 0.0;
        };
        eq.enabled = true;
        for (auto [key, linear] : {std::pair{RatioKey::kMlpGateUp, "gate_up_proj"}, std::pair{RatioKey::kMlpDown, "down_proj"}}) {
          KeySetting& k = eq[key];
          const double w = weight(linear);
          k.ratio = w > 0 ? std::min(1.0, std::ceil(*k.legacy_bytes / w * 1e6) / 1e6) : 0;
          k.legacy_bytes.reset();
        }
        s.legacy_equivalent = eq.to_additional_config(sem);
      }
    }
  }
  if (s.model.language_model_wrapped && s.model.is_moe() && sem.code < CodeVersion::kV023 && s.config.enabled &&
      s.config[RatioKey::kMoeGateUp].on) {
    // Before v0.23 the MoE path reads model_instance.model.layers[layer_idx - 1] unguarded; a wrapper
    // has no .model, and the start-up profile run (well above 96 tokens per rank at gating) reaches it.
    throw InputError(fmt::format(
        "{} on vllm-ascend {}: the MoE prefetch (moe module on) reads model_instance.model.layers[layer_idx - 1], "
        "which this wrapper lacks (its decoder is under .language_model), so the first forward of {} or more tokens per "
        "rank at gating, the start-up profile run included, fails with an AttributeError "
        "(v0.22.1rc1:vllm_ascend/ops/weight_prefetch.py:99; v0.13.0: :86). Switch the module off with "
        "{{\"moe\": {{\"gate_up\": 0}}}}, or model v0.23.0rc1 or later, whose lookup returns None instead",
        s.model.hf_architecture, s.release->tag, 96));  // MOE_PREFETCH_TOKEN_THRESHOLD (docs/vllm-ascend-semantics.md)
  }
  for (auto& w : whole_tensor_warnings(s.plan, s.config, s.cap_reading)) s.warnings.push_back(std::move(w));
  return s;
}

}  // namespace pt
