#include "model/parallel_rules.h"

#include <optional>
#include <string>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "util/error.h"

namespace pt {

long long padded_vocab_size(long long vocab_size) {
  // vLLM vllm/model_executor/layers/vocab_parallel_embedding.py: DEFAULT_VOCAB_PADDING_SIZE = 64,
  // then vocab_range_from_global_vocab_size divide()s the padded size over TP.
  constexpr long long kPadding = 64;
  return (vocab_size + kPadding - 1) / kPadding * kPadding;
}

namespace {

bool has_dense_layer(const ModelConfig& m) {
  for (int i = 0; i < m.num_hidden_layers; ++i) {
    if (!m.layer_is_moe(i)) return true;
  }
  return false;
}

enum class Rule { kNone, kExpertParallel, kTensorParallel };

struct Broken {
  Rule rule = Rule::kNone;
  std::string why;
};

// The first vLLM start-up rule the deployment breaks. Each linear class divide()s its split
// dimension by its group size and vLLM's divide() asserts the remainder is 0
// (vllm/distributed/utils.py ensure_divisibility), so a rank never holds a fraction of a head or a
// column: the check that fires first at start-up is quoted, the later ones name the class.
Broken first_broken_rule(const ModelConfig& m, const Deployment& d) {
  const int tp = d.tensor_parallel;
  if (d.expert_parallel && !m.is_moe()) {
    return {Rule::kExpertParallel,
            fmt::format("--enable-expert-parallel on {}, a dense model: vLLM refuses it at start-up (\"Number of "
                        "experts in the model must be greater than 0 when expert parallelism is enabled\": vLLM "
                        "v0.13.0 vllm/config/model.py, ModelConfig._verify_with_expert_parallelism)",
                        m.name)};
  }
  if (m.num_attention_heads % tp != 0) {
    return {Rule::kTensorParallel,
            fmt::format("--tensor-parallel-size {}: {} has {} attention heads and vLLM needs TP to divide them "
                        "(\"Total number of attention heads ({}) must be divisible by tensor parallel size ({})\": "
                        "vLLM v0.13.0 vllm/config/model.py, ModelConfig.verify_with_parallel_config)",
                        tp, m.name, m.num_attention_heads, m.num_attention_heads, tp)};
  }
  // MLA caches one latent per token and has no KV heads to split.
  if (m.family != ModelFamily::kDeepseekV3) {
    const int kv = m.num_key_value_heads;
    if (tp >= kv ? tp % kv != 0 : kv % tp != 0) {
      return {Rule::kTensorParallel,
              fmt::format("--tensor-parallel-size {}: {} has {} KV heads; QKVParallelLinear splits them when TP < {} "
                          "({} % TP must be 0) and replicates them when TP >= {} (TP % {} must be 0), "
                          "v0.23.0:vllm_ascend/ops/linear.py:181",
                          tp, m.name, kv, kv, kv, kv, kv)};
    }
  }
  if (m.family == ModelFamily::kQwen3Next) {
    for (auto [heads, what] : {std::pair{m.linear_num_key_heads, "linear_num_key_heads"},
                               std::pair{m.linear_num_value_heads, "linear_num_value_heads"}}) {
      if (heads % tp != 0) {
        return {Rule::kTensorParallel,
                fmt::format("--tensor-parallel-size {}: {} has {} = {}; the Gated-DeltaNet in_proj "
                            "(MergedColumnParallelLinear) splits those heads over TP and needs TP to divide them",
                            tp, m.name, what, heads)};
      }
    }
  }
  if (has_dense_layer(m) && m.intermediate_size % tp != 0) {
    return {Rule::kTensorParallel,
            fmt::format("--tensor-parallel-size {}: {} has intermediate_size {}; gate_up_proj "
                        "(MergedColumnParallelLinear) and down_proj (RowParallelLinear) split it over TP and need TP to "
                        "divide it (v0.23.0:vllm_ascend/ops/linear.py:405 and :311)",
                        tp, m.name, m.intermediate_size)};
  }
  if (m.is_moe()) {
    // Without expert parallel, FusedMoE shards every expert over TP x DP ("Adjust TP size for DP
    // attention"); with it, every expert stays whole on one rank.
    const int group = d.expert_parallel ? 1 : tp * d.data_parallel;
    if (m.moe_intermediate_size % group != 0) {
      return {Rule::kTensorParallel,
              fmt::format("--tensor-parallel-size {} --data-parallel-size {}: without expert parallel, FusedMoE splits "
                          "moe_intermediate_size {} over the {} ranks of TP x DP and asserts it divides (vLLM v0.13.0 "
                          "vllm/model_executor/layers/fused_moe/layer.py, FusedMoE.__init__: \"assert "
                          "intermediate_size % self.tp_size == 0\"); --enable-expert-parallel keeps experts whole",
                          tp, d.data_parallel, m.moe_intermediate_size, group)};
    }
    // flashcomm1 replicates the shared expert (tp_size 1); without it the shared MLP splits over TP.
    if (m.shared_expert_intermediate_size > 0 && !d.flashcomm1 && m.shared_expert_intermediate_size % tp != 0) {
      return {Rule::kTensorParallel,
              fmt::format("--tensor-parallel-size {}: the shared expert's intermediate size {} splits over TP "
                          "(MergedColumnParallelLinear, RowParallelLinear) and TP must divide it",
                          tp, m.shared_expert_intermediate_size)};
    }
  }
  const long long vocab = padded_vocab_size(m.vocab_size);
  if (vocab % tp != 0) {
    return {Rule::kTensorParallel,
            fmt::format("--tensor-parallel-size {}: the vocabulary of {} ({} padded to a multiple of 64 = {}) splits "
                        "over TP in VocabParallelEmbedding and ParallelLMHead, and TP must divide it",
                        tp, m.name, m.vocab_size, vocab)};
  }
  return {};
}

}  // namespace

std::vector<int> valid_tensor_parallel_sizes(const ModelConfig& model, const Deployment& deployment, int max_tp) {
  std::vector<int> out;
  Deployment d = deployment;
  for (int tp = 1; tp <= max_tp; ++tp) {
    d.tensor_parallel = tp;
    if (first_broken_rule(model, d).rule == Rule::kNone) out.push_back(tp);
  }
  return out;
}

void check_parallel_layout(const ModelConfig& model, const Deployment& deployment) {
  const Broken b = first_broken_rule(model, deployment);
  if (b.rule == Rule::kNone) return;
  if (b.rule == Rule::kTensorParallel) {
    const std::vector<int> sizes = valid_tensor_parallel_sizes(model, deployment, 1024);
    throw InputError(fmt::format("{}; TP sizes that work for {}{}: {}", b.why, model.name,
                                 deployment.data_parallel > 1 ? fmt::format(" at DP{}", deployment.data_parallel) : "",
                                 sizes.empty() ? std::string("none") : fmt::format("{}", fmt::join(sizes, ", "))));
  }
  throw InputError(b.why);
}

}  // namespace pt
