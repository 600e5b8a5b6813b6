#pragma once
// What one rank holds in HBM: the model's weights and, per request, its KV cache. vLLM refuses to
// start when the weights leave no room for one request's KV cache, and starts (but admits fewer
// requests) when the step's requests do not fit at once; check_memory_fit says which.
#include <string>
#include <vector>

#include "config/deployment.h"
#include "model/model_config.h"

namespace pt {

struct MemoryFootprint {
  double weight_bytes = 0;             // per rank: decoder layers, embedding and lm_head
  double kv_bytes_per_token = 0;       // per rank, over every attention layer (bf16 cache)
  double state_bytes_per_request = 0;  // per rank: Gated-DeltaNet conv and recurrent state (Qwen3-Next)
};

MemoryFootprint memory_footprint(const ModelConfig& model, const Deployment& deployment);

// vLLM's default share of device memory (CacheConfig.gpu_memory_utilization = 0.9; vllm-ascend keeps
// it: v0.23.0:vllm_ascend/worker/worker.py:469 reserves total x utilization).
inline constexpr double kGpuMemoryUtilization = 0.9;
// vllm-ascend's default KV block size (v0.23.0:vllm_ascend/utils.py:1381).
inline constexpr int kKvBlockTokens = 128;

struct MemoryFit {
  double budget_bytes = 0;       // gpu_memory_utilization x HBM capacity
  double kv_budget_bytes = 0;    // what is left for the KV cache after the weights
  double request_bytes = 0;      // KV cache (and state) of one request at the context length, in whole blocks
  long long requests_that_fit = 0;
  std::vector<std::string> warnings;
};

// `num_seqs` requests of `deployment.context_len` tokens each on one rank whose device has
// `hbm_capacity_bytes`. InputError when vLLM would not start (the weights leave no KV cache, or not
// enough for one request); a warning when it starts but cannot hold all `num_seqs` requests at once.
// Activations, graph memory and the runtime's own allocations are not counted: the real margin is
// smaller.
MemoryFit check_memory_fit(const ModelConfig& model, const Deployment& deployment, int num_seqs,
                           double hbm_capacity_bytes, const std::string& hardware_name);

}  // namespace pt
