// build_step_plan on the bundled templates and the round-number hardware profile, checked by hand.
#include "sim/step_plan.h"

#include <cmath>
#include <string>

#include <gtest/gtest.h>

#include "test_support.h"

namespace pt {
namespace {

using test::contains;
using test::error_of;

HardwareProfile round_hw() { return parse_hardware_profile(test::round_hardware_json(), "round.json"); }

StepPlan plan_for(const std::string& model_name, const Deployment& d, const HardwareProfile& hw,
                  const OpTimeTable* op_times = nullptr, const char* release = "v0.23.0") {
  ModelConfig m = load_model(model_name);
  return build_step_plan(m, d, hw, load_layer_template("", m), find_release(release), op_times);
}

// v0.13-v0.22 issue the MoE prefetch (of the last layer's w13); v0.23 issues none.
StepPlan moe_plan_for(const std::string& model_name, const Deployment& d, const HardwareProfile& hw) {
  return plan_for(model_name, d, hw, nullptr, "v0.22.1rc1");
}

Deployment dep(int tp, int num_tokens, Quantization q = Quantization::kW8A8Static) {
  Deployment d;
  d.tensor_parallel = tp;
  d.num_tokens = num_tokens;
  d.quantization = q;
  return d;
}

const PlannedLayerType& type_named(const StepPlan& p, const std::string& name) {
  for (const auto& t : p.layer_types) {
    if (t.name == name) return t;
  }
  ADD_FAILURE() << "no layer type " << name;
  return p.layer_types.front();
}

int op_index(const PlannedLayerType& t, const std::string& name) {
  for (size_t i = 0; i < t.ops.size(); ++i) {
    if (t.ops[i].name == name) return static_cast<int>(i);
  }
  return -1;
}

const PlannedOp& op_named(const PlannedLayerType& t, const std::string& name) {
  const int i = op_index(t, name);
  EXPECT_GE(i, 0) << "no op " << name;
  return t.ops[static_cast<size_t>(std::max(i, 0))];
}

const PlannedSite& site_named(const PlannedLayerType& t, const std::string& name) {
  for (const auto& s : t.sites) {
    if (s.site == name) return s;
  }
  ADD_FAILURE() << "no site " << name;
  return t.sites.front();
}

TEST(StepPlan, DenseShapeVariables) {
  // Qwen3-32B TP4, 72 tokens: I = 25600/4, NQ = 64/4, NKV = 8/4, V = 151936/4; dense models use
  // flashcomm1 only above 1000 tokens, so TN = T.
  StepPlan p = plan_for("Qwen3-32B", dep(4, 72), load_hardware("a3-die"));
  const auto& v = p.variables;
  EXPECT_EQ(v.at("T"), 72);
  EXPECT_EQ(v.at("S"), 72);
  EXPECT_EQ(v.at("C"), 4096);
  EXPECT_EQ(v.at("TP"), 4);
  EXPECT_EQ(v.at("H"), 5120);
  EXPECT_EQ(v.at("I"), 6400);
  EXPECT_EQ(v.at("NQ"), 16);
  EXPECT_EQ(v.at("NKV"), 2);
  EXPECT_EQ(v.at("D"), 128);
  EXPECT_EQ(v.at("V"), 37984);
  EXPECT_EQ(v.at("QKNORM"), 1);
  EXPECT_EQ(v.at("FC1"), 0);
  EXPECT_EQ(v.at("TN"), 72);
  EXPECT_EQ(v.at("PREFILL"), 0);
  EXPECT_EQ(v.at("E"), 0);
  EXPECT_EQ(p.moe_comm_method, "");
  EXPECT_EQ(p.layer_sequence.size(), 64u);
  EXPECT_EQ(p.template_name, "dense");
}

TEST(StepPlan, DensePrefillAbove1000TokensUsesFlashcomm1) {
  Deployment d = dep(4, 4096);
  d.phase = Phase::kPrefill;
  StepPlan p = plan_for("Qwen3-32B", d, load_hardware("a3-die"));
  EXPECT_EQ(p.variables.at("FC1"), 1);
  EXPECT_EQ(p.variables.at("TN"), 1024);  // ceil(4096 / 4)
  const auto& t = type_named(p, "dense");
  EXPECT_GE(op_index(t, "o_reduce_scatter"), 0);
  EXPECT_EQ(op_index(t, "o_all_reduce"), -1);
  EXPECT_GE(op_index(t, "qkv_all_gather"), 0);
  // ... and the MLP gates read 4096 tokens: not below 500.
  EXPECT_PRED2(contains, site_named(t, "mlp.down").gate_reason, "4096 tokens per step (padded) is not below 500");
}

TEST(StepPlan, MoeAllGatherWithoutEp) {
  // Qwen3-30B-A3B TP4 without EP: ALLGATHER, tokens per rank at gating = T * dp = 72.
  StepPlan p = plan_for("Qwen3-30B-A3B", dep(4, 72), load_hardware("a3-die"));
  EXPECT_EQ(p.moe_comm_method, "ALLGATHER");
  EXPECT_EQ(p.variables.at("TG"), 72);
  EXPECT_EQ(p.variables.at("FC1"), 1);  // MoE models run flashcomm1 on every forward
  EXPECT_EQ(p.variables.at("TN"), 18);
  EXPECT_EQ(p.variables.at("EL"), 128);
  EXPECT_EQ(p.variables.at("PAIRS"), 72 * 8);
}

TEST(StepPlan, MoeMc2OnA3WithEp) {
  // model-shapes.md 6.3: A3 TP4 x DP4 + EP16 at 144 tokens is MC2 with 144/4 = 36 tokens at gating.
  Deployment d = dep(4, 144);
  d.data_parallel = 4;
  d.expert_parallel = true;
  StepPlan p = moe_plan_for("Qwen3-235B-A22B", d, load_hardware("a3-die"));
  EXPECT_EQ(p.moe_comm_method, "MC2");
  EXPECT_EQ(p.variables.at("TG"), 36);
  EXPECT_EQ(p.variables.at("EL"), 8);
  EXPECT_EQ(p.variables.at("NTOT"), 576);
  EXPECT_EQ(p.variables.at("PAIRS"), 576.0 * 8 / 16);
  EXPECT_PRED2(contains, site_named(type_named(p, "moe"), "moe.gate_up").gate_reason, "36 tokens per rank at MoE gating (MC2) is below 96");
}

TEST(StepPlan, MoeAllToAllAboveMc2Capacity) {
  // 576 tokens: capture sizes end at 512, MC2 capacity min(ceil(512/4), 512) * 4 = 512 < 576.
  Deployment d = dep(4, 576);
  d.data_parallel = 4;
  d.expert_parallel = true;
  StepPlan p = moe_plan_for("Qwen3-235B-A22B", d, load_hardware("a3-die"));
  EXPECT_EQ(p.moe_comm_method, "ALLTOALL");
  EXPECT_EQ(p.variables.at("TG"), 144);
  EXPECT_TRUE(site_named(type_named(p, "moe"), "moe.gate_up").gated_on);
}

TEST(StepPlan, MoeOnA2WithSmallEpGroupAllGathers) {
  // A2, TP8 + EP (ep = 8 < 16): ALLGATHER, 144 tokens at gating.
  Deployment d = dep(8, 144);
  d.expert_parallel = true;
  StepPlan p = plan_for("Qwen3-235B-A22B", d, load_hardware("910B3"));
  EXPECT_EQ(p.moe_comm_method, "ALLGATHER");
  EXPECT_EQ(p.variables.at("TG"), 144);
}

TEST(StepPlan, NoteWhenExpertsDoNotDivide) {
  Deployment d = dep(4, 72);
  d.data_parallel = 3;
  d.expert_parallel = true;
  StepPlan p = plan_for("Qwen3-235B-A22B", d, load_hardware("a3-die"));
  ASSERT_EQ(p.notes.size(), 1u);
  EXPECT_EQ(p.notes[0], "128 experts do not divide over 12 ranks: local experts rounded up");
}

TEST(StepPlan, OpsThatDoNotRunAreLeftOut) {
  // Qwen3-8B TP4 at 8 tokens: no flashcomm1 (dense, <= 1000 tokens), so no all-gathers or
  // reduce-scatters; the all-reduces run instead.
  StepPlan p = plan_for("Qwen3-8B", dep(4, 8), round_hw());
  const auto& t = type_named(p, "dense");
  std::vector<std::string> names;
  for (const auto& op : t.ops) names.push_back(op.name);
  EXPECT_EQ(names, (std::vector<std::string>{"input_layernorm", "qkv_quant", "qkv_proj", "qk_norm", "rope",
                                             "reshape_and_cache", "attention", "o_quant", "o_proj", "o_all_reduce",
                                             "post_attention_layernorm", "gate_up_quant", "gate_up_proj", "act_fn",
                                             "down_quant", "down_proj", "down_all_reduce"}));
  // TP1: a one-rank collective moves nothing and is left out too.
  StepPlan tp1 = plan_for("Qwen3-8B", dep(1, 8), round_hw());
  EXPECT_EQ(op_index(type_named(tp1, "dense"), "o_all_reduce"), -1);
  // bf16 linears take no activation quantize.
  StepPlan bf16 = plan_for("Qwen3-8B", dep(4, 8, Quantization::kBf16), round_hw());
  EXPECT_EQ(op_index(type_named(bf16, "dense"), "qkv_quant"), -1);
  EXPECT_EQ(op_named(type_named(bf16, "dense"), "qkv_proj").type, "MatMulV2");
}

TEST(StepPlan, MatmulRooflineByHand) {
  // down_proj, Qwen3-8B TP4 W8A8, 8 tokens: 4096 x 3072 int8.
  //   compute = 2 * 8 * 4096 * 3072 / (200 TOPS = 2e8 ops/us) = 1.00663296 us
  //   HBM     = weight 12582912 + input 8*3072*1 + output 8*4096*2 = 12673024 B -> 12.673024 us at 1e6 B/us
  //   standalone = overhead 0 + max(compute, memory) = 12.673024 us
  StepPlan p = plan_for("Qwen3-8B", dep(4, 8), round_hw());
  const PlannedOp& op = op_named(type_named(p, "dense"), "down_proj");
  EXPECT_EQ(op.kind, OpKind::kMatmul);
  EXPECT_EQ(op.type, "QuantBatchMatmulV3");
  EXPECT_EQ(op.core, "AI_CORE");
  EXPECT_EQ(op.cost_source, "roofline");
  EXPECT_FALSE(op.measured);
  EXPECT_NEAR(op.compute_us, 1.00663296, 1e-12);
  EXPECT_EQ(op.weight_bytes, 12582912);
  EXPECT_EQ(op.hbm_bytes, 12673024);
  EXPECT_NEAR(op.standalone_us, 12.673024, 1e-9);
  ASSERT_GE(op.linear, 0);
  EXPECT_EQ(p.linears[static_cast<size_t>(op.linear)].name, "down_proj");
}

TEST(StepPlan, MatmulWithL2ClosedForm) {
  // With the whole weight in L2 read at speed-up 2: (12673024 - 12582912 + 12582912/2) / 1e6 = 6.381568 us.
  const HardwareProfile hw = round_hw();
  StepPlan p = plan_for("Qwen3-8B", dep(4, 8), hw);
  PlannedOp op = op_named(type_named(p, "dense"), "down_proj");
  EXPECT_EQ(op.l2_read_speedup, 2);
  EXPECT_NEAR(op.duration_with_l2(12582912, hw), 6.381568, 1e-9);
  // Half of it: (12673024 - 6291456 + 3145728) / 1e6 = 9.527296 us.
  EXPECT_NEAR(op.duration_with_l2(6291456, hw), 9.527296, 1e-9);
  // More than the weight counts as the weight.
  EXPECT_NEAR(op.duration_with_l2(1e9, hw), 6.381568, 1e-9);
  EXPECT_EQ(op.duration_with_l2(0, hw), op.standalone_us);
  // Speed-up 1: L2 is no faster than HBM.
  op.l2_read_speedup = 1;
  EXPECT_NEAR(op.duration_with_l2(12582912, hw), op.standalone_us, 1e-9);
}

TEST(StepPlan, StreamingEfficiencySlowsTheWeightNotTheSaving) {
  // At 80 % of the peak the weight streams in 12582912 / 8e5 = 15.72864 us (+ activations 0.090112 us at the
  // same rate); the whole weight in L2 at speed-up 2 saves half of the weight's streaming time.
  HardwareProfile hw = round_hw();
  hw.set("matmul_stream_efficiency", 0.8, "test");
  StepPlan p = plan_for("Qwen3-8B", dep(4, 8), hw);
  const PlannedOp& op = op_named(type_named(p, "dense"), "down_proj");
  EXPECT_DOUBLE_EQ(op.stream_GBps, 800);
  EXPECT_NEAR(op.standalone_us, 12673024 / 8e5, 1e-9);
  EXPECT_NEAR(op.duration_with_l2(12582912, hw), (12673024 - 12582912 / 2.0) / 8e5, 1e-9);
}

TEST(StepPlan, SavingCurveShapesTheHit) {
  // A front-loaded curve: the first 20 % of the weight gives 60 % of the whole saving.
  HardwareProfile hw = parse_hardware_profile(test::round_hardware_json(), "round.json");
  hw.l2_saving_curve = PiecewiseLinear({{0, 0}, {0.2, 0.6}, {1, 1}}, "test");
  StepPlan p = plan_for("Qwen3-8B", dep(4, 8), hw);
  const PlannedOp& op = op_named(type_named(p, "dense"), "down_proj");
  const double full = 12582912 / 1e6 * 0.5;
  EXPECT_NEAR(op.standalone_us - op.duration_with_l2(0.2 * 12582912, hw), 0.6 * full, 1e-9);
  EXPECT_NEAR(op.standalone_us - op.duration_with_l2(0.6 * 12582912, hw), 0.8 * full, 1e-9);
  EXPECT_NEAR(op.standalone_us - op.duration_with_l2(12582912, hw), full, 1e-9);
}

TEST(StepPlan, DurationWithL2NeverBelowCompute) {
  const HardwareProfile hw = round_hw();
  PlannedOp op;
  op.overhead_us = 2;
  op.compute_us = 5;
  op.hbm_bytes = 2e7;
  op.stream_GBps = 1000;
  op.weight_bytes = 1.6e7;
  op.l2_read_speedup = 2;
  op.standalone_us = 2 + 20;  // overhead + 2e7 B / 1e6 B/us
  // 8e6 B from L2: memory (2e7 - 8e6 + 4e6) / 1e6 = 16 us -> 2 + max(5, 16) = 18.
  EXPECT_NEAR(op.duration_with_l2(8e6, hw), 18, 1e-12);
  // All 1.6e7 from L2 with speed-up 100: memory (4e6 + 1.6e5)/1e6 = 4.16 us < compute 5 -> 2 + 5 = 7.
  op.l2_read_speedup = 100;
  EXPECT_NEAR(op.duration_with_l2(1.6e7, hw), 7, 1e-12);
}

TEST(StepPlan, MeasuredOpSplitsFixedTimeAndWeightStreaming) {
  // A measured matmul of 30 us whose 12582912-byte weight streams at 1000 GB/s: 12.582912 us of memory,
  // the rest fixed. The whole weight in L2 at speed-up 2 saves 12.582912 / 2 = 6.291456 us.
  const HardwareProfile hw = round_hw();
  OpTimeTable times;
  times.add("down_proj", 8, 30);
  StepPlan p = plan_for("Qwen3-8B", dep(4, 8), hw, &times);
  const PlannedOp& op = op_named(type_named(p, "dense"), "down_proj");
  EXPECT_TRUE(op.measured);
  EXPECT_NEAR(op.memory_us(), 12673024 / 1e6, 1e-9);
  EXPECT_NEAR(op.overhead_us, 30 - 12673024 / 1e6, 1e-9);
  EXPECT_NEAR(op.duration_with_l2(12582912, hw), 30 - 6.291456, 1e-9);
}

TEST(StepPlan, MeasuredAloneTimingPaysNoStartAndTailInSequence) {
  // Timed alone, an op pays alone_fixed_us that a sequence hides: 30 - 3.5 us in the step.
  HardwareProfile hw = round_hw();
  hw.set("alone_fixed_us", 3.5, "test");
  OpTimeTable times;
  times.add("down_proj", 8, 30, /*timed_alone=*/true);
  times.add("o_proj", 8, 30);
  StepPlan p = plan_for("Qwen3-8B", dep(4, 8), hw, &times);
  EXPECT_NEAR(op_named(type_named(p, "dense"), "down_proj").standalone_us, 26.5, 1e-12);
  EXPECT_NEAR(op_named(type_named(p, "dense"), "o_proj").standalone_us, 30, 1e-12);
}

TEST(StepPlan, QuantizeVectorAndCollectiveByHand) {
  StepPlan p = plan_for("Qwen3-8B", dep(4, 8), round_hw());
  const auto& t = type_named(p, "dense");
  // down_quant: 8 x 3072 elements, static: 2 ops each at 10 TFLOPS (1e7 /us); HBM 3 B each.
  const PlannedOp& q = op_named(t, "down_quant");
  EXPECT_EQ(q.type, "AscendQuantV2");
  EXPECT_EQ(q.core, "AI_VECTOR_CORE");
  EXPECT_NEAR(q.compute_us, 2.0 * 24576 / 1e7, 1e-15);
  EXPECT_EQ(q.hbm_bytes, 3.0 * 24576);
  EXPECT_NEAR(q.standalone_us, 73728 / 1e6, 1e-15);
  // input_layernorm (fp32): flops 8*TN*H = 262144 at 5e6 /us; bytes 4*TN*H*A = 262144 -> max = 0.262144 us.
  const PlannedOp& n = op_named(t, "input_layernorm");
  EXPECT_EQ(n.type, "AddRmsNorm");
  EXPECT_NEAR(n.compute_us, 262144 / 5e6, 1e-15);
  EXPECT_EQ(n.hbm_bytes, 262144);
  EXPECT_NEAR(n.standalone_us, 0.262144, 1e-12);
  // o_all_reduce: T*H*A = 65536 B over 4 ranks: 2*(4-1)/4 * 65536 / (100 GB/s = 1e5 B/us) = 0.98304 us.
  const PlannedOp& c = op_named(t, "o_all_reduce");
  EXPECT_EQ(c.core, "HCCL");
  EXPECT_NEAR(c.compute_us, 0.98304, 1e-12);
  EXPECT_EQ(c.hbm_bytes, 131072);
  EXPECT_NEAR(c.standalone_us, 0.98304, 1e-12);
  // Dynamic quantization names the op DynamicQuant and costs 4 ops per element.
  StepPlan dyn = plan_for("Qwen3-8B", dep(4, 8, Quantization::kW8A8Dynamic), round_hw());
  const PlannedOp& dq = op_named(type_named(dyn, "dense"), "down_quant");
  EXPECT_EQ(dq.type, "DynamicQuant");
  EXPECT_NEAR(dq.compute_us, 4.0 * 24576 / 1e7, 1e-15);
}

TEST(StepPlan, OpOverheadAddsToRooflineOps) {
  HardwareProfile hw = round_hw();
  hw.op_overhead_us = 2;
  hw.comm_latency_us = 10;
  StepPlan p = plan_for("Qwen3-8B", dep(4, 8), hw);
  const auto& t = type_named(p, "dense");
  EXPECT_NEAR(op_named(t, "down_proj").standalone_us, 2 + 12.673024, 1e-9);
  EXPECT_NEAR(op_named(t, "o_all_reduce").standalone_us, 10 + 0.98304, 1e-9);  // latency, not op overhead
}

TEST(StepPlan, GroupedMatmulTouchedFraction) {
  // Qwen3-30B-A3B TP4, 72 tokens: 72 * 8 uniform picks over 128 experts touch 1 - (127/128)^576 of them.
  StepPlan p = plan_for("Qwen3-30B-A3B", dep(4, 72), round_hw());
  const PlannedOp& g = op_named(type_named(p, "moe"), "gmm1");
  const double touched = 1.0 - std::pow(127.0 / 128.0, 576.0);
  EXPECT_EQ(g.kind, OpKind::kGroupedMatmul);
  EXPECT_NEAR(g.touched_fraction, touched, 1e-12);
  EXPECT_NEAR(g.weight_bytes, 100663296.0 * touched, 1e-3);  // w13 = 96 MiB per rank
}

TEST(StepPlan, SitePositionsAndCaps) {
  StepPlan p = plan_for("Qwen3-8B", dep(4, 8), round_hw());
  const auto& t = type_named(p, "dense");
  // v0.23.0:vllm_ascend/ops/linear_op.py:156: mlp.gate_up forks when o_proj's custom row op returns,
  // after its all-reduce; the add-RMSNorm with a residual returns before its wait
  // (v0.23.0:vllm_ascend/ops/layernorm.py:80), so the first wait is after SwiGLU
  // (v0.23.0:vllm_ascend/ops/activation.py:42): the wait comes after the target.
  const PlannedSite& gu = site_named(t, "mlp.gate_up");
  EXPECT_TRUE(gu.gated_on) << gu.gate_reason;
  EXPECT_EQ(gu.fork_op, op_index(t, "o_all_reduce") + 1);
  EXPECT_EQ(gu.fork_op, op_index(t, "post_attention_layernorm"));
  EXPECT_EQ(gu.join_op, op_index(t, "act_fn"));
  EXPECT_EQ(gu.target_op, op_index(t, "gate_up_proj"));
  EXPECT_LT(gu.target_op, gu.join_op);
  EXPECT_EQ(gu.weight_bytes, 25165824);  // 6144 x 4096 int8
  EXPECT_EQ(gu.cap_bytes, 18874368);
  EXPECT_EQ(gu.ratio_key, RatioKey::kMlpGateUp);
  // One wait after SwiGLU joins both MLP prefetches.
  EXPECT_EQ(site_named(t, "mlp.down").join_op, gu.join_op);
  // attn.o/down_proj: no cap in code.
  const PlannedSite& od = site_named(t, "attn.o/down_proj");
  EXPECT_TRUE(std::isinf(od.cap_bytes));
  EXPECT_EQ(od.ratio_key, RatioKey::kAttnO);
  EXPECT_EQ(od.fork_op, op_index(t, "down_quant"));
  EXPECT_EQ(od.join_op, op_index(t, "down_quant"));
  // Per-op index lists agree with the sites.
  const int gu_index = static_cast<int>(&gu - t.sites.data());
  auto has = [](const std::vector<int>& v, int x) { return std::find(v.begin(), v.end(), x) != v.end(); };
  EXPECT_TRUE(has(t.forks_before[static_cast<size_t>(gu.fork_op)], gu_index));
  EXPECT_TRUE(has(t.joins_after[static_cast<size_t>(gu.join_op)], gu_index));
  EXPECT_TRUE(has(t.targets[static_cast<size_t>(gu.target_op)], gu_index));
  // Two sites target down_proj (attn.o/down_proj and mlp.down).
  EXPECT_EQ(t.targets[static_cast<size_t>(op_index(t, "down_proj"))].size(), 2u);
}

TEST(StepPlan, GateReasons) {
  // bf16: the attention path runs only for W8A8-static linears.
  StepPlan bf16 = plan_for("Qwen3-8B", dep(4, 8, Quantization::kBf16), round_hw());
  const PlannedSite& qkv = site_named(type_named(bf16, "dense"), "attn.qkv");
  EXPECT_FALSE(qkv.gated_on);
  EXPECT_EQ(qkv.gate_reason, "qkv_proj is bf16: this path runs only for w8a8_static linears");
  // The MLP paths are dtype-agnostic.
  EXPECT_TRUE(site_named(type_named(bf16, "dense"), "mlp.down").gated_on);
  // Without flashcomm1 o_proj runs no custom row op, so mlp.gate_up never fires.
  Deployment no_fc1 = dep(4, 8);
  no_fc1.flashcomm1 = false;
  StepPlan p = plan_for("Qwen3-8B", no_fc1, round_hw());
  EXPECT_PRED2(contains, site_named(type_named(p, "dense"), "mlp.gate_up").gate_reason, "custom row op");
  EXPECT_TRUE(site_named(type_named(p, "dense"), "mlp.down").gated_on);
  // DeepSeek's dense layers belong to a MoE model: no MLP prefetch (is_moe_model).
  StepPlan ds = plan_for("DeepSeek-V3", dep(4, 72), round_hw());
  EXPECT_PRED2(contains, site_named(type_named(ds, "mla_dense"), "mlp.down").gate_reason, "MoE model");
  // v0.15+: a W8A8-static o_proj skips the MLA o_proj prefetch (the attn path covers it), and the
  // MLA prefetch runs on the prefetch stream with no wait of its own
  // (v0.23.0:vllm_ascend/ops/weight_prefetch.py:218, :227).
  EXPECT_PRED2(contains, site_named(type_named(ds, "mla_moe"), "mla.o").gate_reason, "the attn path covers it");
  const PlannedSite& qkv_a = site_named(type_named(ds, "mla_moe"), "mla.fused_qkv_a");
  EXPECT_FALSE(qkv_a.on_compute_stream);
  EXPECT_EQ(qkv_a.join_op, -1);
  // v0.13 / v0.14: in the compute stream, and the o_proj one also under the attn path (twice).
  StepPlan old = plan_for("DeepSeek-V3", dep(4, 72), round_hw(), nullptr, "v0.14.0rc1");
  EXPECT_TRUE(site_named(type_named(old, "mla_moe"), "mla.fused_qkv_a").on_compute_stream);
  EXPECT_TRUE(site_named(type_named(old, "mla_moe"), "mla.o").gated_on);
  EXPECT_TRUE(site_named(type_named(old, "mla_moe"), "attn.o").gated_on);
}

TEST(StepPlan, OpTableOverridesTheRoofline) {
  OpTimeTable table;
  table.add("down_proj", 4, 5.0);
  table.add("down_proj", 16, 11.0);
  StepPlan p = plan_for("Qwen3-8B", dep(4, 8), round_hw(), &table);
  const PlannedOp& op = op_named(type_named(p, "dense"), "down_proj");
  EXPECT_TRUE(op.measured);
  EXPECT_EQ(op.cost_source, "op table");
  EXPECT_NEAR(op.standalone_us, 7.0, 1e-12);  // 5 + (11 - 5) * (8 - 4) / (16 - 4)
  EXPECT_EQ(op_named(type_named(p, "dense"), "o_proj").cost_source, "roofline");
}

TEST(StepPlan, NegativeExpressionIsAnError) {
  LayerTemplate t = parse_layer_template(R"({"layer_types": {"blk": {"ops": [
      {"name": "v", "kind": "vector", "flops": "T - 100", "bytes": 1}]}},
      "layer_sequence": [{"type": "blk", "count": 1}]})",
                                         "neg.json");
  EXPECT_EQ(error_of([&] { build_step_plan(load_model("Qwen3-8B"), dep(4, 8), round_hw(), t); }),
            "neg.json: $.layer_types.blk.ops[0]: flops evaluates to -92 (negative)");
}

TEST(StepPlan, TargetThatDoesNotReadTheLinear) {
  LayerTemplate t = parse_layer_template(R"({"layer_types": {"blk": {"ops": [
      {"name": "a", "kind": "measured", "duration_us": 1},
      {"name": "b", "kind": "measured", "duration_us": 1, "linear": "o_proj"}]}},
      "sites": [{"site": "s", "ratio_key": "attn.o", "layer_type": "blk", "linear": "down_proj",
                 "fork_before": "a", "join_after": "a", "target": "b"}],
      "layer_sequence": [{"type": "blk", "count": 1}]})",
                                         "t.json");
  EXPECT_EQ(error_of([&] { build_step_plan(load_model("Qwen3-8B"), dep(4, 8), round_hw(), t); }),
            "t.json: $.sites[0]: target op \"b\" does not read linear \"down_proj\"");
}

TEST(StepPlan, InvalidDeploymentIsRefused) {
  Deployment d = dep(4, 8);
  d.tensor_parallel = 0;
  EXPECT_PRED2(contains, error_of([&] { plan_for("Qwen3-8B", d, round_hw()); }), "--tensor-parallel-size 0");
}

}  // namespace
}  // namespace pt
