#pragma once
// Model shapes read from a Hugging Face config.json (transformers 4 and 5 spellings), and what the
// model directory says about its quantization.
#include <optional>
#include <string>
#include <vector>

#include "model/quant_scheme.h"

namespace pt {

// Architecture families whose decoder layers vllm-ascend runs differently; each has a bundled layer
// template sample_profiles/layers/<family_name>.json.
enum class ModelFamily { kDense, kQwen3Moe, kDeepseekV3, kQwen3Next, kGlm4Moe };

const char* family_name(ModelFamily family);

struct ModelConfig {
  std::string name;             // bundled short name or file stem
  std::string source;           // where it was read from
  std::string hf_architecture;  // e.g. "Qwen3ForCausalLM"
  std::string model_type;
  ModelFamily family = ModelFamily::kDense;
  std::string dtype = "bfloat16";

  int hidden_size = 0;
  int intermediate_size = 0;
  int num_hidden_layers = 0;
  int num_attention_heads = 0;
  int num_key_value_heads = 0;
  int head_dim = 0;
  int vocab_size = 0;
  bool qk_norm = false;  // per-head q/k RMSNorm (Qwen3; GLM-4.5 with use_qk_norm)
  double partial_rotary_factor = 1.0;  // share of each head the rotary embedding turns (GLM-4.5: 0.5)
  bool attention_bias = false;         // qkv bias (GLM-4.5): added inside the quantized matmul, no op of its own
  bool tie_word_embeddings = false;    // lm_head shares the embedding tensor
  // The decoder sits under .language_model (a multimodal wrapper whose config.json nests it in
  // text_config): vllm-ascend finds no model_instance.model.start_layer, so it never sets
  // _EXTRA_CTX.layer_idx (v0.23.0:vllm_ascend/utils.py:1284), which the MLP and MoE paths need.
  bool language_model_wrapped = false;

  // MoE
  int num_experts = 0;
  int num_experts_per_tok = 0;
  int moe_intermediate_size = 0;
  int shared_expert_intermediate_size = 0;  // 0 = no shared expert
  int first_k_dense_replace = 0;
  int decoder_sparse_step = 1;
  std::vector<int> mlp_only_layers;

  // MLA (DeepSeek)
  int q_lora_rank = 0;
  int kv_lora_rank = 0;
  int qk_nope_head_dim = 0;
  int qk_rope_head_dim = 0;
  int v_head_dim = 0;

  // Gated DeltaNet (Qwen3-Next)
  int linear_num_key_heads = 0;
  int linear_num_value_heads = 0;
  int linear_key_head_dim = 0;
  int linear_value_head_dim = 0;
  int linear_conv_kernel_dim = 0;
  bool attn_output_gate = false;

  // One entry per decoder layer: "full_attention" or "linear_attention".
  std::vector<std::string> layer_types;

  // What the model directory says about its quantization: quantization_config in config.json, or
  // ModelSlim's quant_model_description.json beside it (which vllm-ascend prefers). Bundled models
  // give shapes only and carry none.
  std::optional<CheckpointQuantization> checkpoint_quantization;
  std::string checkpoint_dir;       // the directory read as a checkpoint ("" for bundled models and other files)
  std::vector<std::string> notes;   // worth printing with the report

  bool is_moe() const { return num_experts > 0; }
  // True when layer `index` runs a routed-expert MoE block rather than a dense MLP.
  bool layer_is_moe(int index) const;
};

// Hugging Face architectures this tool models, for error messages and docs.
const std::vector<std::string>& supported_architectures();

// Parses config.json text. `source` names the file in errors. A multimodal wrapper's shapes are
// read from its text_config.
ModelConfig parse_model_config(const std::string& text, const std::string& source);

// `spec` is a config.json path, a directory holding one, or a bundled short name
// (case-insensitive, e.g. "qwen3-32b"). For a directory (or a file named config.json) a
// quant_model_description.json beside config.json is read too.
ModelConfig load_model(const std::string& spec);

std::vector<std::string> bundled_model_names();
// A bundled model by the names people type, case-insensitive: its own (Qwen3-32B), a Hugging Face
// id (Qwen/Qwen3-32B: the last path component), or a quantized checkpoint's name (Qwen3-32B-W8A8,
// -W8A8-Dynamic, -W4A8, -BF16: the base model, with that scheme as its checkpoint quantization, so
// --quantization still overrides it). InputError listing the bundled names, with the closest ones.
ModelConfig load_bundled_model(const std::string& spec);

// A hash of every field that shapes the model's linears and layers (not its name or source), as
// 16 hex digits: two config.json files of the same architecture and sizes hash alike.
std::string model_shape_hash(const ModelConfig& model);

}  // namespace pt
