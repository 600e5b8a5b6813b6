#pragma once
// Per-rank weight of every linear of a model under a deployment (model-shapes.md section 3),
// with the quantization scheme vllm-ascend applies to it.
#include <map>
#include <string>

#include "config/deployment.h"
#include "model/model_config.h"
#include "model/quant_scheme.h"

namespace pt {

// vllm-ascend's linear classes, which decide which prefetch path a linear can take.
enum class LinearClass {
  kQkvParallel,      // AscendQKVParallelLinear: the attn "qkv" path
  kRowParallel,      // AscendRowParallelLinear: the attn "o" path (o_proj, down_proj ...)
  kColumnParallel,   // MergedColumnParallelLinear / ColumnParallelLinear
  kReplicated,       // ReplicatedLinear / MergedReplicatedLinear
  kFusedMoe,         // FusedMoE expert tensors
};
const char* linear_class_name(LinearClass c);

struct Linear {
  std::string name;
  double out_features = 0;  // per rank, per expert
  double in_features = 0;
  double count = 1;         // local experts for FusedMoE tensors
  QuantScheme scheme = QuantScheme::kBf16;
  LinearClass linear_class = LinearClass::kColumnParallel;
  double bytes_per_weight = 2;
  double weight_bytes() const { return out_features * in_features * count * bytes_per_weight; }
  bool int8_activation() const { return scheme != QuantScheme::kBf16; }
};

// Keyed by the names layer templates use: qkv_proj, o_proj, gate_up_proj, down_proj, router,
// experts.w13, experts.w2, shared_experts.gate_up_proj, shared_experts.down_proj,
// fused_qkv_a_proj, q_b_proj, kv_b_proj, in_proj, out_proj, lm_head (those the model has).
std::map<std::string, Linear> per_rank_linears(const ModelConfig& model, const Deployment& deployment);

// Ranks sharing the routed experts: tp*dp (expert-TP without EP, or the EP group with it).
int moe_group_size(const Deployment& deployment);

}  // namespace pt
