// vLLM's start-up rules for splitting a model over ranks: each rule refuses the deployment it
// should, names the rule, and lets the ones vLLM starts through.
#include "model/parallel_rules.h"

#include <cmath>
#include <functional>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "model/linear_shapes.h"
#include "test_support.h"
#include "util/embedded_files.h"

namespace pt {
namespace {

using test::contains;
using test::error_of;

Deployment dep(int tp, int dp = 1, bool ep = false) {
  Deployment d;
  d.tensor_parallel = tp;
  d.data_parallel = dp;
  d.expert_parallel = ep;
  return d;
}

// A bundled config.json with `edit` applied, parsed.
ModelConfig bundled_with(const std::string& name, const std::function<void(nlohmann::json&)>& edit) {
  auto j = nlohmann::json::parse(std::string(*find_embedded("models/" + name + ".json")));
  edit(j);
  ModelConfig m = parse_model_config(j.dump(), "config.json");
  m.name = name + "-edited";
  return m;
}

TEST(ParallelRules, TpMustDivideTheAttentionHeads) {
  const ModelConfig m = load_model("Qwen3-32B");  // 64 q heads, 8 KV heads
  for (int tp : {3, 5, 128}) {
    SCOPED_TRACE(tp);
    const std::string msg = error_of([&] { check_parallel_layout(m, dep(tp)); });
    EXPECT_PRED2(contains, msg, "--tensor-parallel-size " + std::to_string(tp) + ": Qwen3-32B has 64 attention heads");
    EXPECT_PRED2(contains, msg, "must be divisible by tensor parallel size (" + std::to_string(tp) + ")");
    EXPECT_PRED2(contains, msg, "TP sizes that work for Qwen3-32B: 1, 2, 4, 8, 16, 32, 64");
  }
  for (int tp : {1, 2, 4, 8, 16, 32, 64}) EXPECT_NO_THROW(check_parallel_layout(m, dep(tp))) << tp;
}

TEST(ParallelRules, KvHeadsSplitBelowTheirCountAndReplicateAtOrAbove) {
  // 48 q heads over 12 KV heads: TP 8 divides the q heads but neither splits nor replicates 12 KV
  // heads. (An MLP and a vocabulary that split by 3 keep the other rules out of the way.)
  const ModelConfig m = bundled_with("Qwen3-32B", [](nlohmann::json& j) {
    j["num_attention_heads"] = 48;
    j["num_key_value_heads"] = 12;
    j["intermediate_size"] = 24576;
    j["vocab_size"] = 152064;
  });
  const std::string msg = error_of([&] { check_parallel_layout(m, dep(8)); });
  EXPECT_PRED2(contains, msg, "--tensor-parallel-size 8: Qwen3-32B-edited has 12 KV heads");
  EXPECT_PRED2(contains, msg, "splits them when TP < 12 (12 % TP must be 0) and replicates them when TP >= 12");
  EXPECT_NO_THROW(check_parallel_layout(m, dep(6)));   // 12 % 6 == 0: two KV heads per rank
  EXPECT_NO_THROW(check_parallel_layout(m, dep(24)));  // 24 % 12 == 0: each KV head on two ranks
  EXPECT_EQ(valid_tensor_parallel_sizes(m, dep(1), 48), (std::vector<int>{1, 2, 3, 4, 6, 12, 24, 48}));
}

TEST(ParallelRules, TpMustDivideTheDenseIntermediateSize) {
  const ModelConfig m = bundled_with("Qwen3-8B", [](nlohmann::json& j) { j["intermediate_size"] = 12290; });
  const std::string msg = error_of([&] { check_parallel_layout(m, dep(4)); });
  EXPECT_PRED2(contains, msg, "has intermediate_size 12290; gate_up_proj (MergedColumnParallelLinear) and down_proj "
                              "(RowParallelLinear) split it over TP");
  EXPECT_NO_THROW(check_parallel_layout(m, dep(2)));
}

TEST(ParallelRules, WithoutExpertParallelTpTimesDpMustDivideTheExpertIntermediateSize) {
  // GLM-4.5-Air: moe_intermediate_size 1408 = 2^7 x 11. TP4 x DP64 = 256 ranks of expert TP leaves
  // 5.5 columns per rank; with expert parallel each expert stays whole.
  const ModelConfig m = load_model("GLM-4.5-Air");
  const std::string msg = error_of([&] { check_parallel_layout(m, dep(4, 64)); });
  EXPECT_PRED2(contains, msg, "FusedMoE splits moe_intermediate_size 1408 over the 256 ranks of TP x DP");
  EXPECT_PRED2(contains, msg, "--enable-expert-parallel keeps experts whole");
  EXPECT_PRED2(contains, msg, "TP sizes that work for GLM-4.5-Air at DP64: 1, 2");
  EXPECT_NO_THROW(check_parallel_layout(m, dep(4, 64, true)));
  EXPECT_NO_THROW(check_parallel_layout(m, dep(8, 2)));
}

TEST(ParallelRules, WithoutFlashcomm1TpMustDivideTheSharedExpert) {
  // A shared expert of 1000 columns splits over TP when flashcomm1 does not replicate it.
  const ModelConfig m = bundled_with("Qwen3-30B-A3B", [](nlohmann::json& j) { j["shared_expert_intermediate_size"] = 1000; });
  Deployment d = dep(16, 1, true);
  d.flashcomm1 = false;
  EXPECT_PRED2(contains, error_of([&] { check_parallel_layout(m, d); }), "the shared expert's intermediate size 1000");
  d.flashcomm1 = true;
  EXPECT_NO_THROW(check_parallel_layout(m, d));
}

TEST(ParallelRules, TpMustDivideTheGatedDeltaNetHeads) {
  const ModelConfig m = bundled_with("Qwen3-Next-80B-A3B", [](nlohmann::json& j) { j["linear_num_key_heads"] = 12; });
  EXPECT_PRED2(contains, error_of([&] { check_parallel_layout(m, dep(8)); }), "linear_num_key_heads = 12");
  EXPECT_NO_THROW(check_parallel_layout(load_model("Qwen3-Next-80B-A3B"), dep(8)));
}

TEST(ParallelRules, TpMustDivideThePaddedVocabulary) {
  // 256 heads of 16: TP 256 divides the heads and the MLP, not 151936 (= 2^7 x 1187) padded to 64s.
  const ModelConfig m = bundled_with("Qwen3-8B", [](nlohmann::json& j) {
    j["num_attention_heads"] = 256;
    j["num_key_value_heads"] = 256;
    j["head_dim"] = 16;
  });
  EXPECT_EQ(padded_vocab_size(151936), 151936);
  EXPECT_EQ(padded_vocab_size(151937), 152000);
  EXPECT_PRED2(contains, error_of([&] { check_parallel_layout(m, dep(256)); }), "151936 padded to a multiple of 64 = 151936");
  EXPECT_NO_THROW(check_parallel_layout(m, dep(128)));
}

TEST(ParallelRules, ExpertParallelOnADenseModelIsRefused) {
  const std::string msg = error_of([&] { check_parallel_layout(load_model("Qwen3-32B"), dep(4, 1, true)); });
  EXPECT_PRED2(contains, msg, "--enable-expert-parallel on Qwen3-32B, a dense model: vLLM refuses it at start-up");
  EXPECT_PRED2(contains, msg, "Number of experts in the model must be greater than 0 when expert parallelism is enabled");
  EXPECT_NO_THROW(check_parallel_layout(load_model("Qwen3-30B-A3B"), dep(4, 1, true)));
}

TEST(ParallelRules, MlaHasNoKvHeadsToSplit) {
  // DeepSeek-V3 writes num_key_value_heads 128; MLA caches one latent, so TP 16 needs no KV rule.
  EXPECT_NO_THROW(check_parallel_layout(load_model("DeepSeek-V3"), dep(16)));
  EXPECT_PRED2(contains, error_of([&] { check_parallel_layout(load_model("DeepSeek-V3"), dep(6)); }), "128 attention heads");
}

TEST(ParallelRules, EveryAcceptedLayoutGivesWholePerRankShapes) {
  // The rules exist so that no rank holds a fraction of a head or a column: over every bundled
  // model and every TP vLLM accepts, each per-rank dimension is a whole number.
  for (const auto& name : bundled_model_names()) {
    const ModelConfig m = load_model(name);
    for (bool ep : {false, true}) {
      if (ep && !m.is_moe()) continue;
      for (int tp : valid_tensor_parallel_sizes(m, dep(1, 2, ep), 64)) {
        SCOPED_TRACE(name + " TP" + std::to_string(tp) + (ep ? " EP" : ""));
        for (const auto& [linear, l] : per_rank_linears(m, dep(tp, 2, ep))) {
          EXPECT_EQ(l.out_features, std::floor(l.out_features)) << linear;
          EXPECT_EQ(l.in_features, std::floor(l.in_features)) << linear;
        }
      }
    }
  }
}

}  // namespace
}  // namespace pt
