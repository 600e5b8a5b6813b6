#pragma once
// What a model directory says about its quantization (ModelSlim's quant_model_description.json, or
// quantization_config in config.json), and the scheme a run models: --quantization first, then the
// checkpoint, then the tool's default (w8a8, the guide's Qwen3-32B-W8A8).
#include <optional>
#include <string>
#include <vector>

#include "config/deployment.h"
#include "model/model_config.h"
#include "model/quant_scheme.h"
#include "util/json_reader.h"

namespace pt {

inline constexpr const char* kModelSlimDescriptionFile = "quant_model_description.json";

// ModelSlim's description: "model_quant_type" and one entry per tensor
// ("model.layers.0.self_attn.q_proj.weight": "W8A8"). InputError naming the file for bad JSON.
CheckpointQuantization parse_modelslim_description(const std::string& text, const std::string& source);

// config.json's "quantization_config" (at the top or inside text_config), read as vllm-ascend would
// take it; `qc` is that object.
CheckpointQuantization parse_quantization_config(const JsonReader& qc);

// The quantization the run models: `d` with quantization and quantization_source set. --quantization
// (quantization_source kOption) wins over the checkpoint, with a note when they differ; a checkpoint
// vllm-ascend cannot serve (or the tool does not model) is refused with its reason unless
// --quantization overrides it. Adds notes worth printing to `notes`.
Deployment resolve_quantization(const ModelConfig& model, Deployment d, std::vector<std::string>& notes);

}  // namespace pt
