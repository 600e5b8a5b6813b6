#include "scenario_options.h"

#include <cstdlib>
#include <iostream>

#include <fmt/format.h>

#include "util/error.h"

#include "util/file_io.h"

namespace pt::app {

void ScenarioOptions::add_to(CLI::App& app, bool token_list, ModelOption model, const std::string& group) {
  Deployment& d = inputs.deployment;
  const size_t options_before = app.get_options().size();
  app.add_option("--vllm-ascend", inputs.vllm_ascend_version,
                 "the vllm-ascend release whose prefetch code is modelled: v0.13.0rc1 .. v0.23.0 (the feature is gone "
                 "from v0.24.0rc1)")
      ->capture_default_str();
  model_option_ = app.add_option("--model", inputs.model,
                 "config.json, a directory holding one (with a quant_model_description.json, if ModelSlim wrote one), or "
                 "a bundled model (Qwen3-8B, Qwen3-32B, Qwen3-30B-A3B, Qwen3-235B-A22B, DeepSeek-V3, Qwen3-Next-80B-A3B, "
                 "Llama-3.1-70B, GLM-4.5-Air, Mistral-Small-24B), also by its Hugging Face id (Qwen/Qwen3-32B) or a "
                 "quantized checkpoint's name (Qwen3-32B-W8A8: that model, w8a8 unless -q says otherwise)");
  if (model == ModelOption::kDefaulted) model_option_->capture_default_str();
  if (model == ModelOption::kRequired) model_option_->required();
  app.add_option("--hardware", inputs.hardware,
                 "hardware profile JSON, or bundled (any case): 910B1, 910B2, 910B3, 910B4, a3-die; A3 and 910C name "
                 "a3-die, A2 and 910B name 910B1")
      ->capture_default_str();
  app.add_option("--hw-set", inputs.hardware_overrides, "override one hardware parameter, NAME=VALUE (repeatable), e.g. hbm_GBps=1200");
  app.add_option("--tensor-parallel-size,--tp,-t", d.tensor_parallel, "tensor parallel size")->capture_default_str();
  app.add_option("--data-parallel-size,--dp", d.data_parallel, "data parallel size")->capture_default_str();
  app.add_flag("--enable-expert-parallel", d.expert_parallel, "experts split over TP x DP ranks (EP)");
  quantization_option_ =
      app.add_option("--quantization,-q", quantization,
                     "bf16, w8a8 (static; experts dynamic), w8a8_dynamic, w4a8; overrides what the model directory says "
                     "(quant_model_description.json, quantization_config)")
          ->capture_default_str();
  if (token_list) {
    // Taken whole and split here, so that an empty entry ("8,,16") is an error, not dropped.
    num_tokens_option_ =
        app.add_option("--num-tokens", num_tokens_text, "token counts of the workload, comma-separated (e.g. 8,16,32,72)");
  } else {
    app.add_option("--num-tokens", num_tokens, "tokens scheduled in one step on this DP rank (default: --max-num-seqs x (1 + spec), else 72)");
  }
  app.add_option("--max-num-seqs", max_num_seqs, "vLLM --max-num-seqs: sets the capture sizes a decode step is padded to (without it, capture sizes run "
                 "up to 512, vLLM's largest: a larger step runs eager, unpadded)");
  app.add_option("--num-speculative-tokens", d.num_speculative_tokens, "draft tokens per request (MTP / EAGLE)")
      ->capture_default_str();
  app.add_option("--context-len", d.context_len, "KV length each request attends over (decode) or prompt length (prefill)")
      ->capture_default_str();
  app.add_option("--phase", phase, "decode or prefill (any case)")->capture_default_str();
  // Two flags rather than one with a negation, whose help would show a default of {false}.
  app.add_flag_callback("--flashcomm1", [&d] { d.flashcomm1 = true; },
                        "VLLM_ASCEND_ENABLE_FLASHCOMM1 / sequence parallel: on by default (the MLP gate_up prefetch needs it)");
  app.add_flag_callback("--no-flashcomm1", [&d] { d.flashcomm1 = false; }, "flashcomm1 / sequence parallel off");
  app.add_flag("--eager", eager, "enforce_eager: no graph capture (decode batches are not padded) and no fusion passes");
  app.add_option("--norm-quant-fusion", norm_quant_fusion,
                 "graph-mode AddRMSNormQuant fusion: auto (the release: fused unless a prefetch reads the norm output), "
                 "off (ascend_compilation_config.fuse_norm_quant false) or always")
      ->capture_default_str();
  additional_config_option_ = app.add_option("--additional-config", additional_config,
                 "vllm-ascend --additional-config JSON (whole object or just weight_prefetch_config), inline or @FILE; "
                 "default {\"weight_prefetch_config\": {\"enabled\": true}}");
  app.add_flag("--lenient", inputs.lenient,
               "accept the config as vllm-ascend does (ignore unknown keys, drop ratios outside [0, 1]) and warn");
  app.add_option("--env", inputs.env_assignments,
                 "legacy variable NAME=VALUE: VLLM_ASCEND_ENABLE_PREFETCH_MLP, VLLM_ASCEND_MLP_GATE_UP_PREFETCH_SIZE, "
                 "VLLM_ASCEND_MLP_DOWN_PREFETCH_SIZE (the process environment is read too)");
  app.add_option("--cap", inputs.cap_reading,
                 "code: caps where vllm-ascend's code applies them (MLP 18 MiB, MLA o_proj 16 MiB); guide: 18 MiB on every prefetch")
      ->capture_default_str();
  app.add_option("--layer", inputs.layer_template,
                 "layer template JSON, or a bundled one by name (dense, qwen3_moe, qwen3_moe-this-layer-w13, deepseek_v3, "
                 "qwen3_next); default: the bundled one for the model's family");
  app.add_option("--op-times", inputs.op_times, "CSV of measured op durations: name,num_tokens,duration_us");
  app.add_option("--calibration", inputs.calibration, "calibration file written by calibrate (hardware fits and op durations)");
  app.add_flag("--allow-calibration-mismatch", inputs.allow_calibration_mismatch,
               "use a --calibration fitted on another model or deployment (a warning instead of an error)");
  if (!group.empty()) {
    const auto options = app.get_options();
    for (size_t i = options_before; i < options.size(); ++i) options[i]->group(group);
  }
}

void ScenarioOptions::parse_token_list() {
  num_tokens_list.clear();
  if (num_tokens_text.empty()) {
    if (num_tokens_option_ && num_tokens_option_->count() > 0) {
      throw InputError("--num-tokens: empty list; give token counts such as 8,16,32,72");
    }
    return;
  }
  size_t start = 0;
  while (true) {
    const size_t comma = num_tokens_text.find(',', start);
    const std::string entry = num_tokens_text.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    char* end = nullptr;
    const long long v = std::strtoll(entry.c_str(), &end, 10);
    if (entry.empty() || *end != '\0' || v < 1 || v > (1 << 24)) {
      throw InputError(fmt::format("--num-tokens {}: entry {} is \"{}\"; expected whole numbers in 1..{} separated by commas",
                                   num_tokens_text, num_tokens_list.size() + 1, entry, 1 << 24));
    }
    num_tokens_list.push_back(static_cast<int>(v));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
}

Scenario ScenarioOptions::load() {
  inputs.deployment.quantization = parse_quantization(quantization);
  // Only an explicit -q overrides the checkpoint; the default yields to it.
  inputs.deployment.quantization_source = quantization_option_ && quantization_option_->count() > 0
                                              ? QuantizationSource::kOption
                                              : QuantizationSource::kDefault;
  inputs.deployment.phase = parse_phase(phase);
  inputs.deployment.num_tokens = num_tokens;
  inputs.deployment.max_num_seqs = max_num_seqs;
  inputs.deployment.graph_mode = !eager;
  inputs.deployment.norm_quant_fusion = parse_norm_quant_fusion(norm_quant_fusion);
  if (additional_config_given()) inputs.additional_config = additional_config;
  return load_scenario(inputs);
}

void OutputOptions::add_format(CLI::App& app) {
  app.add_option("--format", format, "text (tables) or json")->check(CLI::IsMember({"text", "json"}))->capture_default_str();
}

}  // namespace pt::app
