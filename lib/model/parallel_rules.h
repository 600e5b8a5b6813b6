#pragma once
// vLLM's start-up rules for splitting a model over TP / DP / EP ranks. A deployment vLLM refuses is
// refused here with the rule it breaks, so every per-rank shape downstream is a whole number.
#include <vector>

#include "config/deployment.h"
#include "model/model_config.h"

namespace pt {

// InputError naming the option, the model's number and the vLLM rule, with the sizes that work.
void check_parallel_layout(const ModelConfig& model, const Deployment& deployment);

// Tensor-parallel sizes in 1..max_tp that pass every rule for this model (DP and EP as in
// `deployment`).
std::vector<int> valid_tensor_parallel_sizes(const ModelConfig& model, const Deployment& deployment, int max_tp);

// The vocabulary VocabParallelEmbedding and ParallelLMHead split over TP: rounded up to a multiple
// of 64 (vLLM's DEFAULT_VOCAB_PADDING_SIZE).
long long padded_vocab_size(long long vocab_size);

}  // namespace pt
