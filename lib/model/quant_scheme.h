#pragma once
// How one linear's weight is stored and fed: the scheme vllm-ascend runs it with, and the groups of
// linears a checkpoint (ModelSlim's quant_model_description.json) quantizes alike.
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "config/deployment.h"

namespace pt {

enum class QuantScheme { kBf16, kW8A8Static, kW8A8Dynamic, kW4A8Dynamic };
const char* quant_scheme_name(QuantScheme s);

// Linears that share a scheme in every checkpoint this tool reads.
enum class LinearGroup {
  kAttention,      // self_attn.* (q/k/v/o, MLA's q_a/q_b/kv_a/kv_b)
  kDenseMlp,       // mlp.gate_proj / up_proj / down_proj of a dense layer
  kExperts,        // mlp.experts.N.*
  kSharedExperts,  // mlp.shared_expert(s).*
  kGdnIn,          // Qwen3-Next linear_attn.in_proj_*
  kGdnOut,         // Qwen3-Next linear_attn.out_proj
  kUnquantized,    // router gate, lm_head: left in bf16 by every scheme
};
const char* linear_group_name(LinearGroup g);

// What the model directory says about its weights, before any --quantization.
struct CheckpointQuantization {
  std::string file;      // "quant_model_description.json" or "config.json quantization_config"
  std::string declared;  // as written: "W8A8", "fp8", "compressed-tensors" ...
  // The deployment-level scheme; absent when vllm-ascend cannot serve the checkpoint on A2/A3 or the
  // tool does not model it: `refusal` says why.
  std::optional<Quantization> scheme;
  std::string refusal;
  // Per group, from ModelSlim's per-layer entries (the majority where layers differ); groups absent
  // here follow `scheme` (linear_shapes.cc scheme_for).
  std::map<LinearGroup, QuantScheme> groups;
  std::vector<std::string> notes;
};

}  // namespace pt
