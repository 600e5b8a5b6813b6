// Weights and KV cache per rank, against sums done by hand, and vLLM's start / refuse / preempt
// verdicts for a device's HBM.
#include "model/memory_footprint.h"

#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "test_support.h"
#include "util/embedded_files.h"

namespace pt {
namespace {

using test::contains;
using test::error_of;

constexpr double kGiB = 1024.0 * 1024.0 * 1024.0;

Deployment dep(int tp, Quantization q = Quantization::kW8A8Static, int dp = 1, bool ep = false) {
  Deployment d;
  d.tensor_parallel = tp;
  d.data_parallel = dp;
  d.expert_parallel = ep;
  d.quantization = q;
  return d;
}

TEST(MemoryFootprint, Qwen3_32B_W8A8_Tp4ByHand) {
  const MemoryFootprint f = memory_footprint(load_model("Qwen3-32B"), dep(4));
  // Per layer (1 byte per weight): qkv (16 + 2 x 2) x 128 x 5120 + o 5120 x 2048 + gate_up 12800 x 5120
  // + down 5120 x 6400 = 121,896,960; 64 layers. lm_head and the embedding: 151936 / 4 x 5120, bf16, each.
  EXPECT_EQ(f.weight_bytes, 121896960.0 * 64 + 2 * 37984.0 * 5120 * 2);
  // K and V of 8 / 4 = 2 heads of 128, bf16, over 64 layers.
  EXPECT_EQ(f.kv_bytes_per_token, 64 * 2 * 2 * 128 * 2.0);
  EXPECT_EQ(f.state_bytes_per_request, 0.0);
  // bf16 doubles the linears, not the (already bf16) embedding and lm_head.
  EXPECT_EQ(memory_footprint(load_model("Qwen3-32B"), dep(4, Quantization::kBf16)).weight_bytes,
            2 * 121896960.0 * 64 + 2 * 37984.0 * 5120 * 2);
}

TEST(MemoryFootprint, ReplicatedKvHeadsCostOneHeadPerRank) {
  // Qwen3-32B at TP16: 8 KV heads replicated, one per rank (not half of one).
  EXPECT_EQ(memory_footprint(load_model("Qwen3-32B"), dep(16)).kv_bytes_per_token, 64 * 2 * 1 * 128 * 2.0);
}

TEST(MemoryFootprint, MlaCachesTheLatentOnEveryRank) {
  // (kv_lora_rank 512 + rope 64) x bf16 x 61 layers, whatever the TP.
  for (int tp : {4, 16}) {
    EXPECT_EQ(memory_footprint(load_model("DeepSeek-V3"), dep(tp)).kv_bytes_per_token, 61 * 576 * 2.0) << tp;
  }
}

TEST(MemoryFootprint, DeepSeekV3W8A8AtTp4IsAbout170GBPerRank) {
  // The routed experts alone: 58 MoE layers x 256 experts x 3 x 2048 x 7168 bytes / 4 ranks.
  const double experts = 58 * 256 * 3.0 * 2048 * 7168 / 4;
  const double w = memory_footprint(load_model("DeepSeek-V3"), dep(4)).weight_bytes;
  EXPECT_GT(w, experts);
  EXPECT_LT(w, experts * 1.06);  // attention, dense layers, shared experts, embedding: a few percent
  EXPECT_GT(w, 165e9);
}

TEST(MemoryFootprint, Qwen3NextKeepsKvOnlyInFullAttentionLayersAndAStatePerRequest) {
  const MemoryFootprint f = memory_footprint(load_model("Qwen3-Next-80B-A3B"), dep(4));
  // 12 of 48 layers are full attention: 2 KV heads over TP4 replicate to one head of 256 per rank.
  EXPECT_EQ(f.kv_bytes_per_token, 12 * 2 * 1 * 256 * 2.0);
  // 36 Gated-DeltaNet layers: conv window (2 x 16 x 128 + 32 x 128) / 4 x (4 - 1) x 2 bytes and
  // state 32 / 4 heads x 128 x 128 x 2 bytes.
  EXPECT_EQ(f.state_bytes_per_request, 36 * ((2 * 16 * 128 + 32 * 128) / 4.0 * 3 * 2 + 8.0 * 128 * 128 * 2));
}

TEST(MemoryFootprint, TiedEmbeddingsAreCountedOnce) {
  auto j = nlohmann::json::parse(std::string(*find_embedded("models/Qwen3-8B.json")));
  j["tie_word_embeddings"] = true;
  const ModelConfig tied = parse_model_config(j.dump(), "config.json");
  EXPECT_TRUE(tied.tie_word_embeddings);
  EXPECT_EQ(memory_footprint(load_model("Qwen3-8B"), dep(4)).weight_bytes - memory_footprint(tied, dep(4)).weight_bytes,
            151936.0 / 4 * 4096 * 2);
}

TEST(MemoryFit, RequestsThatFitAfterTheWeights) {
  const ModelConfig m = load_model("Qwen3-32B");
  Deployment d = dep(4);
  // 0.9 x 20 GiB = 18 GiB; the weights (8,579,317,760 B) leave 10,748,035,072 B; a request of 4096
  // tokens (32 blocks of 128) takes 4096 x 65,536 B = 256 MiB: 40 of them fit.
  MemoryFit fit = check_memory_fit(m, d, 40, 20 * kGiB, "test-npu");
  EXPECT_EQ(fit.budget_bytes, 0.9 * 20 * kGiB);
  EXPECT_EQ(fit.request_bytes, 4096 * 65536.0);
  EXPECT_EQ(fit.requests_that_fit, 40);
  EXPECT_TRUE(fit.warnings.empty());
  // A context that is not a whole number of blocks takes whole blocks.
  d.context_len = 4097;
  EXPECT_EQ(check_memory_fit(m, d, 1, 20 * kGiB, "test-npu").request_bytes, 4224 * 65536.0);
}

TEST(MemoryFit, MoreRequestsThanFitIsAWarningBecauseVllmStillStarts) {
  const MemoryFit fit = check_memory_fit(load_model("Qwen3-32B"), dep(4), 72, 20 * kGiB, "test-npu");
  ASSERT_EQ(fit.warnings.size(), 1u);
  EXPECT_PRED2(contains, fit.warnings[0], "72 requests x 4096 context need 18.0 GiB of KV cache per rank");
  EXPECT_PRED2(contains, fit.warnings[0], "vLLM starts, but its scheduler keeps at most 40 such requests running");
  EXPECT_PRED2(contains, fit.warnings[0], "gpu_memory_utilization 0.9 x 20.0 GiB HBM of test-npu = 18.0 GiB");
}

TEST(MemoryFit, OneRequestThatDoesNotFitIsAnError) {
  Deployment d = dep(4);
  d.context_len = 1000000;
  const std::string msg = error_of([&] { check_memory_fit(load_model("Qwen3-32B"), d, 1, 20 * kGiB, "test-npu"); });
  EXPECT_PRED2(contains, msg, "Qwen3-32B at TP4 DP1, w8a8: one request of --context-len 1000000 needs 61.04 GiB");
  EXPECT_PRED2(contains, msg, "vLLM refuses to start");
}

TEST(MemoryFit, WeightsAboveTheBudgetAreAnError) {
  const std::string msg = error_of([&] { check_memory_fit(load_model("DeepSeek-V3"), dep(4), 72, 64 * kGiB, "a3-die"); });
  EXPECT_PRED2(contains, msg, "DeepSeek-V3 at TP4 DP1, w8a8: the weights take 15");
  EXPECT_PRED2(contains, msg, "more than the gpu_memory_utilization 0.9 x 64.0 GiB HBM of a3-die = 57.6 GiB");
  EXPECT_PRED2(contains, msg, "vLLM fails at start-up");
  // 16 ranks with expert parallel hold it.
  EXPECT_NO_THROW(check_memory_fit(load_model("DeepSeek-V3"), dep(8, Quantization::kW8A8Static, 2, true), 1, 64 * kGiB, "a3-die"));
}

}  // namespace
}  // namespace pt
