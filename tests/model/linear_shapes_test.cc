// Per-rank linear sizes against /work/shared/reference/model-shapes.md section 4 (MiB = 2^20 bytes;
// W8A8 = 1 byte per weight, BF16 = 2, W4A8 = 0.5; scales excluded).
#include "model/linear_shapes.h"

#include <map>
#include <string>

#include <gtest/gtest.h>

namespace pt {
namespace {

constexpr double kMiB = 1024.0 * 1024.0;

std::map<std::string, Linear> linears(const std::string& model, int tp, Quantization q, int dp = 1, bool ep = false,
                                      bool flashcomm1 = true) {
  Deployment d;
  d.tensor_parallel = tp;
  d.data_parallel = dp;
  d.expert_parallel = ep;
  d.quantization = q;
  d.flashcomm1 = flashcomm1;
  return per_rank_linears(load_model(model), d);
}

void expect_shape(const std::map<std::string, Linear>& ls, const std::string& name, double out, double in, double count,
                  double mib) {
  SCOPED_TRACE(name);
  auto it = ls.find(name);
  ASSERT_NE(it, ls.end());
  EXPECT_EQ(it->second.out_features, out);
  EXPECT_EQ(it->second.in_features, in);
  EXPECT_EQ(it->second.count, count);
  EXPECT_EQ(it->second.weight_bytes(), mib * kMiB);
}

TEST(LinearShapes, Qwen3_32B_W8A8_Tp4) {
  auto ls = linears("Qwen3-32B", 4, Quantization::kW8A8Static);
  // qkv: (64/4 + 2*max(1, 8/4)) * 128 = 2560 rows x 5120.
  expect_shape(ls, "qkv_proj", 2560, 5120, 1, 12.5);
  expect_shape(ls, "o_proj", 5120, 2048, 1, 10.0);
  expect_shape(ls, "gate_up_proj", 12800, 5120, 1, 62.5);
  expect_shape(ls, "down_proj", 5120, 6400, 1, 31.25);
  for (const char* n : {"qkv_proj", "o_proj", "gate_up_proj", "down_proj"}) {
    EXPECT_EQ(ls.at(n).scheme, QuantScheme::kW8A8Static) << n;
    EXPECT_EQ(ls.at(n).bytes_per_weight, 1.0) << n;
    EXPECT_TRUE(ls.at(n).int8_activation()) << n;
  }
  EXPECT_EQ(ls.at("qkv_proj").linear_class, LinearClass::kQkvParallel);
  EXPECT_EQ(ls.at("o_proj").linear_class, LinearClass::kRowParallel);
  EXPECT_EQ(ls.at("down_proj").linear_class, LinearClass::kRowParallel);
  EXPECT_EQ(ls.at("gate_up_proj").linear_class, LinearClass::kColumnParallel);
  // lm_head stays bf16: 151936/4 = 37984 rows.
  EXPECT_EQ(ls.at("lm_head").scheme, QuantScheme::kBf16);
  EXPECT_EQ(ls.at("lm_head").weight_bytes(), 37984.0 * 5120 * 2);
  // A dense model has no expert tensors.
  EXPECT_EQ(ls.count("experts.w13"), 0u);
  EXPECT_EQ(ls.count("router"), 0u);
}

TEST(LinearShapes, Qwen3_32B_OtherTpAndQuantizations) {
  expect_shape(linears("Qwen3-32B", 8, Quantization::kW8A8Static), "qkv_proj", 1280, 5120, 1, 6.25);
  expect_shape(linears("Qwen3-32B", 8, Quantization::kW8A8Static), "down_proj", 5120, 3200, 1, 15.625);
  auto bf16 = linears("Qwen3-32B", 4, Quantization::kBf16);
  expect_shape(bf16, "qkv_proj", 2560, 5120, 1, 25.0);
  expect_shape(bf16, "o_proj", 5120, 2048, 1, 20.0);
  EXPECT_EQ(bf16.at("qkv_proj").scheme, QuantScheme::kBf16);
  EXPECT_FALSE(bf16.at("qkv_proj").int8_activation());
  auto w4 = linears("Qwen3-32B", 4, Quantization::kW4A8);
  expect_shape(w4, "gate_up_proj", 12800, 5120, 1, 31.25);
  EXPECT_EQ(w4.at("gate_up_proj").scheme, QuantScheme::kW4A8Dynamic);
  auto dyn = linears("Qwen3-32B", 4, Quantization::kW8A8Dynamic);
  EXPECT_EQ(dyn.at("o_proj").scheme, QuantScheme::kW8A8Dynamic);
  expect_shape(dyn, "o_proj", 5120, 2048, 1, 10.0);
}

TEST(LinearShapes, Qwen3_8B_Tp4) {
  auto ls = linears("Qwen3-8B", 4, Quantization::kW8A8Static);
  expect_shape(ls, "qkv_proj", 1536, 4096, 1, 6.0);
  expect_shape(ls, "o_proj", 4096, 1024, 1, 4.0);
  expect_shape(ls, "gate_up_proj", 6144, 4096, 1, 24.0);
  expect_shape(ls, "down_proj", 4096, 3072, 1, 12.0);  // 12582912 bytes
  EXPECT_EQ(ls.at("down_proj").weight_bytes(), 12582912.0);
}

TEST(LinearShapes, Llama70B_Tp4) {
  auto ls = linears("Llama-3.1-70B", 4, Quantization::kW8A8Static);
  expect_shape(ls, "qkv_proj", 2560, 8192, 1, 20.0);
  expect_shape(ls, "o_proj", 8192, 2048, 1, 16.0);
  expect_shape(ls, "gate_up_proj", 14336, 8192, 1, 112.0);
  expect_shape(ls, "down_proj", 8192, 7168, 1, 56.0);
}

TEST(LinearShapes, Qwen3_235B_QkvTp8ReplicatesAKvHead) {
  // 4 KV heads over 8 ranks: each rank holds one (replicated) KV head: (64/8 + 2*1) * 128 = 1280.
  auto ls = linears("Qwen3-235B-A22B", 8, Quantization::kW8A8Static);
  expect_shape(ls, "qkv_proj", 1280, 4096, 1, 5.0);
  expect_shape(linears("Qwen3-235B-A22B", 8, Quantization::kBf16), "qkv_proj", 1280, 4096, 1, 10.0);
  expect_shape(linears("Qwen3-235B-A22B", 4, Quantization::kBf16), "qkv_proj", 2304, 4096, 1, 18.0);
  expect_shape(linears("Qwen3-235B-A22B", 4, Quantization::kW8A8Static), "o_proj", 4096, 2048, 1, 8.0);
}

TEST(LinearShapes, Qwen3_235B_W8A8_Ep16) {
  // TP4 x DP4 with EP: ep = 16, 128/16 = 8 whole experts per rank: [8, 3072, 4096].
  auto ls = linears("Qwen3-235B-A22B", 4, Quantization::kW8A8Static, 4, true);
  expect_shape(ls, "experts.w13", 3072, 4096, 8, 96.0);
  expect_shape(ls, "experts.w2", 4096, 1536, 8, 48.0);
  EXPECT_EQ(ls.at("experts.w13").scheme, QuantScheme::kW8A8Dynamic);  // experts are dynamic in ModelSlim W8A8
  EXPECT_EQ(ls.at("experts.w13").linear_class, LinearClass::kFusedMoe);
  // Without EP the same 16 ranks hold all 128 experts cut 16 ways: [128, 192, 4096], same bytes.
  auto tp = linears("Qwen3-235B-A22B", 4, Quantization::kW8A8Static, 4, false);
  expect_shape(tp, "experts.w13", 192, 4096, 128, 96.0);
  expect_shape(tp, "experts.w2", 4096, 96, 128, 48.0);
  // The router is replicated and stays bf16: 128 x 4096 x 2.
  EXPECT_EQ(ls.at("router").weight_bytes(), 128.0 * 4096 * 2);
  EXPECT_EQ(ls.at("router").scheme, QuantScheme::kBf16);
  // No dense MLP in an all-MoE model.
  EXPECT_EQ(ls.count("gate_up_proj"), 0u);
}

TEST(LinearShapes, ExpertsThatDoNotDivideRoundUp) {
  // 128 experts over 12 ranks: ceil(128/12) = 11 local experts.
  auto ls = linears("Qwen3-235B-A22B", 4, Quantization::kW8A8Static, 3, true);
  EXPECT_EQ(ls.at("experts.w13").count, 11);
  EXPECT_EQ(ls.at("experts.w13").weight_bytes(), 11.0 * 3072 * 4096);
}

TEST(LinearShapes, Qwen3_30B_A3B_Tp4) {
  auto ls = linears("Qwen3-30B-A3B", 4, Quantization::kW8A8Static);
  expect_shape(ls, "qkv_proj", 1280, 2048, 1, 2.5);
  expect_shape(ls, "o_proj", 2048, 1024, 1, 2.0);
  expect_shape(ls, "experts.w13", 384, 2048, 128, 96.0);
  expect_shape(ls, "experts.w2", 2048, 192, 128, 48.0);
  EXPECT_EQ(linears("Qwen3-30B-A3B", 4, Quantization::kW4A8).at("experts.w13").weight_bytes(), 48.0 * kMiB);
}

TEST(LinearShapes, QwenNext_Tp4) {
  auto ls = linears("Qwen3-Next-80B-A3B", 4, Quantization::kW8A8Static);
  // GDN in_proj: (2*16*128 + 2*32*128 + 2*32) / 4 = 12352 / 4 = 3088 rows x 2048, int8: 6.03 MiB.
  expect_shape(ls, "in_proj", 3088, 2048, 1, 6324224.0 / kMiB);
  EXPECT_NEAR(ls.at("in_proj").weight_bytes() / kMiB, 6.03, 0.005);
  EXPECT_EQ(ls.at("in_proj").scheme, QuantScheme::kW8A8Dynamic);
  // Full attention qkv with the output gate: (32/4 + 2*max(1, 2/4)) * 256 = 2560 rows.
  expect_shape(ls, "qkv_proj", 2560, 2048, 1, 5.0);
  // out_proj stays in float in the ModelSlim checkpoint (model-shapes.md section 7): 2048 x 1024 x 2.
  expect_shape(ls, "out_proj", 2048, 1024, 1, 4.0);
  EXPECT_EQ(ls.at("out_proj").scheme, QuantScheme::kBf16);
  // 512 experts over 4 ranks, no EP: [512, 256, 2048].
  expect_shape(ls, "experts.w13", 256, 2048, 512, 256.0);
  // Shared expert, replicated under flashcomm1: 2*512 x 2048 int8 = 2 MiB.
  expect_shape(ls, "shared_experts.gate_up_proj", 1024, 2048, 1, 2.0);
}

TEST(LinearShapes, DeepSeekV3_W8A8) {
  auto ls = linears("DeepSeek-V3", 4, Quantization::kW8A8Static);
  // fused_qkv_a is replicated: (1536 + 512 + 64) x 7168 at every TP = 14.44 MiB in W8A8.
  expect_shape(ls, "fused_qkv_a_proj", 2112, 7168, 1, 15138816.0 / kMiB);
  EXPECT_NEAR(ls.at("fused_qkv_a_proj").weight_bytes() / kMiB, 14.44, 0.005);
  EXPECT_EQ(ls.at("fused_qkv_a_proj").linear_class, LinearClass::kReplicated);
  EXPECT_EQ(linears("DeepSeek-V3", 8, Quantization::kW8A8Static).at("fused_qkv_a_proj").weight_bytes(), 15138816.0);
  expect_shape(ls, "q_b_proj", 6144, 1536, 1, 9.0);
  expect_shape(ls, "kv_b_proj", 8192, 512, 1, 4.0);
  expect_shape(ls, "o_proj", 7168, 4096, 1, 28.0);
  expect_shape(ls, "gate_up_proj", 9216, 7168, 1, 63.0);  // dense layers 0-2
  expect_shape(ls, "down_proj", 7168, 4608, 1, 31.5);
  // 256 experts over 4 ranks without EP: [256, 1024, 7168] = 1792 MiB.
  expect_shape(ls, "experts.w13", 1024, 7168, 256, 1792.0);
  EXPECT_EQ(ls.count("qkv_proj"), 0u);
}

TEST(LinearShapes, DeepSeekSharedExpertReplicatedUnderFlashcomm1) {
  auto on = linears("DeepSeek-V3", 4, Quantization::kW8A8Static, 1, false, true);
  expect_shape(on, "shared_experts.gate_up_proj", 4096, 7168, 1, 28.0);
  expect_shape(on, "shared_experts.down_proj", 7168, 2048, 1, 14.0);
  auto off = linears("DeepSeek-V3", 4, Quantization::kW8A8Static, 1, false, false);
  expect_shape(off, "shared_experts.gate_up_proj", 1024, 7168, 1, 7.0);
  expect_shape(off, "shared_experts.down_proj", 7168, 512, 1, 3.5);
}

TEST(LinearShapes, MoeGroupSize) {
  Deployment d;
  d.tensor_parallel = 4;
  d.data_parallel = 4;
  EXPECT_EQ(moe_group_size(d), 16);
  d.data_parallel = 1;
  EXPECT_EQ(moe_group_size(d), 4);
}

TEST(LinearShapes, Names) {
  EXPECT_STREQ(quant_scheme_name(QuantScheme::kW8A8Static), "w8a8_static");
  EXPECT_STREQ(quant_scheme_name(QuantScheme::kW4A8Dynamic), "w4a8_dynamic");
  EXPECT_STREQ(linear_class_name(LinearClass::kRowParallel), "RowParallelLinear");
  EXPECT_STREQ(linear_class_name(LinearClass::kQkvParallel), "QKVParallelLinear");
}

}  // namespace
}  // namespace pt
