#include "model/memory_footprint.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "model/linear_shapes.h"
#include "model/parallel_rules.h"
#include "util/error.h"

namespace pt {

namespace {

constexpr double kGiB = 1024.0 * 1024.0 * 1024.0;
constexpr double kCacheBytes = 2;  // bf16 KV cache: no KV-cache quantization is modelled

// The linears decoder layer `index` holds (names of per_rank_linears).
std::vector<const char*> layer_linear_names(const ModelConfig& m, int index) {
  std::vector<const char*> names;
  if (m.family == ModelFamily::kDeepseekV3) {
    names = {"fused_qkv_a_proj", "q_b_proj", "kv_b_proj", "o_proj"};
  } else if (m.family == ModelFamily::kQwen3Next && m.layer_types[static_cast<size_t>(index)] == "linear_attention") {
    names = {"in_proj", "out_proj"};
  } else {
    names = {"qkv_proj", "o_proj"};
  }
  if (m.layer_is_moe(index)) {
    for (const char* n : {"router", "experts.w13", "experts.w2", "shared_experts.gate_up_proj", "shared_experts.down_proj"}) {
      names.push_back(n);
    }
  } else {
    names.push_back("gate_up_proj");
    names.push_back("down_proj");
  }
  return names;
}

bool is_attention_layer(const ModelConfig& m, int index) {
  return m.family != ModelFamily::kQwen3Next || m.layer_types[static_cast<size_t>(index)] == "full_attention";
}

}  // namespace

MemoryFootprint memory_footprint(const ModelConfig& m, const Deployment& d) {
  MemoryFootprint f;
  const std::map<std::string, Linear> linears = per_rank_linears(m, d);
  auto bytes_of = [&](const char* name) {
    auto it = linears.find(name);
    return it == linears.end() ? 0.0 : it->second.weight_bytes();
  };
  const double tp = d.tensor_parallel;
  int attention_layers = 0, linear_attention_layers = 0;
  for (int i = 0; i < m.num_hidden_layers; ++i) {
    for (const char* name : layer_linear_names(m, i)) f.weight_bytes += bytes_of(name);
    if (is_attention_layer(m, i)) ++attention_layers;
    else ++linear_attention_layers;
  }
  f.weight_bytes += bytes_of("lm_head");
  // VocabParallelEmbedding: the (padded) vocabulary split over TP, bf16; a tied lm_head is the same tensor.
  if (!m.tie_word_embeddings) f.weight_bytes += static_cast<double>(padded_vocab_size(m.vocab_size)) / tp * m.hidden_size * 2;

  if (m.family == ModelFamily::kDeepseekV3) {
    // MLA caches the compressed latent and the rope key, whole on every TP rank.
    f.kv_bytes_per_token = attention_layers * (m.kv_lora_rank + m.qk_rope_head_dim) * kCacheBytes;
  } else {
    // K and V of this rank's KV heads; replicated heads (TP > KV heads) still cost one head per rank.
    const double kv_heads = std::max(1.0, m.num_key_value_heads / tp);
    f.kv_bytes_per_token = attention_layers * 2 * kv_heads * m.head_dim * kCacheBytes;
  }
  if (linear_attention_layers > 0) {
    // Gated-DeltaNet: a causal-conv window over q, k and v and a (key dim x value dim) state per value
    // head, per request, independent of its length (estimate: bf16 state).
    const double conv_dim = (2.0 * m.linear_num_key_heads * m.linear_key_head_dim +
                             1.0 * m.linear_num_value_heads * m.linear_value_head_dim) / tp;
    const double conv = conv_dim * (m.linear_conv_kernel_dim - 1) * kCacheBytes;
    const double recurrent = m.linear_num_value_heads / tp * m.linear_key_head_dim * m.linear_value_head_dim * kCacheBytes;
    f.state_bytes_per_request = linear_attention_layers * (conv + recurrent);
  }
  return f;
}

MemoryFit check_memory_fit(const ModelConfig& m, const Deployment& d, int num_seqs, double hbm_capacity_bytes,
                           const std::string& hardware_name) {
  const MemoryFootprint f = memory_footprint(m, d);
  MemoryFit fit;
  fit.budget_bytes = kGpuMemoryUtilization * hbm_capacity_bytes;
  fit.kv_budget_bytes = fit.budget_bytes - f.weight_bytes;
  const double tokens = std::ceil(static_cast<double>(d.context_len) / kKvBlockTokens) * kKvBlockTokens;
  fit.request_bytes = tokens * f.kv_bytes_per_token + f.state_bytes_per_request;
  const std::string budget = fmt::format("gpu_memory_utilization {} x {:.1f} GiB HBM of {} = {:.1f} GiB", kGpuMemoryUtilization,
                                         hbm_capacity_bytes / kGiB, hardware_name, fit.budget_bytes / kGiB);
  const std::string who = fmt::format("{} at TP{} DP{}{}, {}", m.name, d.tensor_parallel, d.data_parallel,
                                      d.expert_parallel ? " EP" : "", quantization_name(d.quantization));
  if (fit.kv_budget_bytes <= 0) {
    // Past the HBM the load itself fails; past the budget determine_available_memory leaves no KV
    // cache and vLLM stops with "No available memory for the cache blocks".
    throw InputError(fmt::format("{}: the weights take {:.1f} GiB per rank, more than the {}: vLLM fails at start-up "
                                 "(no memory left for the KV cache). Spread the model over more ranks (a larger TP, "
                                 "or DP with --enable-expert-parallel for MoE) or quantize it further",
                                 who, f.weight_bytes / kGiB, budget));
  }
  if (fit.request_bytes > fit.kv_budget_bytes) {
    // vllm/v1/core/kv_cache_utils.py check_enough_kv_cache_memory: one request of max_model_len must
    // fit, and max_model_len is at least the context this run models.
    throw InputError(fmt::format("{}: one request of --context-len {} needs {:.2f} GiB of KV cache per rank, and the "
                                 "weights ({:.1f} GiB) leave {:.2f} GiB of the {}: vLLM refuses to start (a request of "
                                 "max_model_len must fit, and max_model_len >= the context)",
                                 who, d.context_len, fit.request_bytes / kGiB, f.weight_bytes / kGiB,
                                 fit.kv_budget_bytes / kGiB, budget));
  }
  fit.requests_that_fit = static_cast<long long>(std::floor(fit.kv_budget_bytes / fit.request_bytes));
  if (fit.requests_that_fit < num_seqs) {
    fit.warnings.push_back(fmt::format(
        "{} requests x {} context need {:.1f} GiB of KV cache per rank; the weights ({:.1f} GiB) leave {:.1f} GiB of "
        "the {}: vLLM starts, but its scheduler keeps at most {} such requests running and preempts the rest, so "
        "this step (all {} at once) does not occur",
        num_seqs, d.context_len, num_seqs * fit.request_bytes / kGiB, f.weight_bytes / kGiB, fit.kv_budget_bytes / kGiB,
        budget, fit.requests_that_fit, num_seqs));
  }
  return fit;
}

}  // namespace pt
