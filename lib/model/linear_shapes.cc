#include "model/linear_shapes.h"

#include <algorithm>
#include <cmath>

#include "model/parallel_rules.h"

namespace pt {

const char* linear_class_name(LinearClass c) {
  switch (c) {
    case LinearClass::kQkvParallel: return "QKVParallelLinear";
    case LinearClass::kRowParallel: return "RowParallelLinear";
    case LinearClass::kColumnParallel: return "ColumnParallelLinear";
    case LinearClass::kReplicated: return "ReplicatedLinear";
    case LinearClass::kFusedMoe: return "FusedMoE";
  }
  return "?";
}

int moe_group_size(const Deployment& d) { return d.tensor_parallel * d.data_parallel; }

namespace {

double bytes_for(QuantScheme s) {
  switch (s) {
    case QuantScheme::kBf16: return 2.0;
    case QuantScheme::kW8A8Static:
    case QuantScheme::kW8A8Dynamic: return 1.0;
    case QuantScheme::kW4A8Dynamic: return 0.5;
  }
  return 2.0;
}

using Group = LinearGroup;

// Which scheme a linear gets. A checkpoint's own per-layer entries win when the quantization was
// read from it; otherwise ModelSlim W8A8 checkpoints quantize attention and dense linears
// statically and experts dynamically, and Qwen3-Next keeps the GDN out_proj in float
// (model-shapes.md section 7).
QuantScheme scheme_for(Group group, const ModelConfig& model, const Deployment& d) {
  if (group == Group::kUnquantized) return QuantScheme::kBf16;
  if (d.quantization_source == QuantizationSource::kCheckpoint && model.checkpoint_quantization) {
    const auto& groups = model.checkpoint_quantization->groups;
    if (auto it = groups.find(group); it != groups.end()) return it->second;
  }
  const Quantization q = d.quantization;
  if (group == Group::kUnquantized || q == Quantization::kBf16) return QuantScheme::kBf16;
  if (q == Quantization::kW4A8) return QuantScheme::kW4A8Dynamic;
  if (q == Quantization::kW8A8Dynamic) return QuantScheme::kW8A8Dynamic;
  switch (group) {
    case Group::kAttention:
    case Group::kDenseMlp: return QuantScheme::kW8A8Static;
    case Group::kExperts:
    case Group::kSharedExperts:
    case Group::kGdnIn: return QuantScheme::kW8A8Dynamic;
    case Group::kGdnOut: return model.family == ModelFamily::kQwen3Next ? QuantScheme::kBf16 : QuantScheme::kW8A8Static;
    case Group::kUnquantized: break;
  }
  return QuantScheme::kBf16;
}

}  // namespace

std::map<std::string, Linear> per_rank_linears(const ModelConfig& m, const Deployment& d) {
  std::map<std::string, Linear> out;
  const double tp = d.tensor_parallel;
  auto add = [&](const std::string& name, double out_f, double in_f, double count, Group group, LinearClass cls) {
    Linear l;
    l.name = name;
    l.out_features = out_f;
    l.in_features = in_f;
    l.count = count;
    l.scheme = scheme_for(group, m, d);
    l.linear_class = cls;
    l.bytes_per_weight = bytes_for(l.scheme);
    out[name] = l;
  };
  const double H = m.hidden_size;

  if (m.family == ModelFamily::kDeepseekV3) {
    const double heads = m.num_attention_heads;
    add("fused_qkv_a_proj", m.q_lora_rank + m.kv_lora_rank + m.qk_rope_head_dim, H, 1, Group::kAttention,
        LinearClass::kReplicated);
    add("q_b_proj", heads * (m.qk_nope_head_dim + m.qk_rope_head_dim) / tp, m.q_lora_rank, 1, Group::kAttention,
        LinearClass::kColumnParallel);
    add("kv_b_proj", heads * (m.qk_nope_head_dim + m.v_head_dim) / tp, m.kv_lora_rank, 1, Group::kAttention,
        LinearClass::kColumnParallel);
    add("o_proj", H, heads * m.v_head_dim / tp, 1, Group::kAttention, LinearClass::kRowParallel);
  } else {
    // Replicated KV heads when TP exceeds their count; Qwen3-Next's q carries an output gate.
    const double q_heads = m.num_attention_heads * (m.family == ModelFamily::kQwen3Next && m.attn_output_gate ? 2 : 1);
    const double kv_per_rank = std::max(1.0, m.num_key_value_heads / tp);
    add("qkv_proj", (q_heads / tp + 2 * kv_per_rank) * m.head_dim, H, 1, Group::kAttention, LinearClass::kQkvParallel);
    add("o_proj", H, m.num_attention_heads * m.head_dim / tp, 1, Group::kAttention, LinearClass::kRowParallel);
  }
  if (m.family == ModelFamily::kQwen3Next) {
    const double qkvz = 2.0 * m.linear_num_key_heads * m.linear_key_head_dim +
                        2.0 * m.linear_num_value_heads * m.linear_value_head_dim;
    const double ba = 2.0 * m.linear_num_value_heads;
    add("in_proj", (qkvz + ba) / tp, H, 1, Group::kGdnIn, LinearClass::kColumnParallel);
    add("out_proj", H, m.linear_num_value_heads * m.linear_value_head_dim / tp, 1, Group::kGdnOut,
        LinearClass::kRowParallel);
  }
  const bool has_dense_mlp = !m.is_moe() || m.first_k_dense_replace > 0 || !m.mlp_only_layers.empty() ||
                             m.decoder_sparse_step > 1;
  if (has_dense_mlp && m.intermediate_size > 0) {
    add("gate_up_proj", 2.0 * m.intermediate_size / tp, H, 1, Group::kDenseMlp, LinearClass::kColumnParallel);
    add("down_proj", H, m.intermediate_size / tp, 1, Group::kDenseMlp, LinearClass::kRowParallel);
  }
  if (m.is_moe()) {
    const double group = moe_group_size(d);
    add("router", m.num_experts, H, 1, Group::kUnquantized, LinearClass::kReplicated);
    if (d.expert_parallel) {
      const double local = std::ceil(m.num_experts / group);
      add("experts.w13", 2.0 * m.moe_intermediate_size, H, local, Group::kExperts, LinearClass::kFusedMoe);
      add("experts.w2", H, m.moe_intermediate_size, local, Group::kExperts, LinearClass::kFusedMoe);
    } else {
      add("experts.w13", 2.0 * m.moe_intermediate_size / group, H, m.num_experts, Group::kExperts, LinearClass::kFusedMoe);
      add("experts.w2", H, m.moe_intermediate_size / group, m.num_experts, Group::kExperts, LinearClass::kFusedMoe);
    }
    if (m.shared_expert_intermediate_size > 0) {
      // flashcomm1 / sequence parallel makes the shared expert replicated (tp_size = 1).
      const double shared_tp = d.flashcomm1 ? 1.0 : tp;
      add("shared_experts.gate_up_proj", 2.0 * m.shared_expert_intermediate_size / shared_tp, H, 1,
          Group::kSharedExperts, LinearClass::kColumnParallel);
      add("shared_experts.down_proj", H, m.shared_expert_intermediate_size / shared_tp, 1, Group::kSharedExperts,
          LinearClass::kRowParallel);
    }
  }
  // ParallelLMHead splits the vocabulary padded to a multiple of 64 (parallel_rules.h).
  add("lm_head", static_cast<double>(padded_vocab_size(m.vocab_size)) / tp, H, 1, Group::kUnquantized,
      LinearClass::kColumnParallel);
  return out;
}

}  // namespace pt
