#include "config/deployment.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "test_support.h"

namespace pt {
namespace {

using test::contains;
using test::error_of;

TEST(ParseQuantization, AcceptsVllmAndModelSlimSpellings) {
  EXPECT_EQ(parse_quantization("bf16"), Quantization::kBf16);
  EXPECT_EQ(parse_quantization("BFloat16"), Quantization::kBf16);
  EXPECT_EQ(parse_quantization("none"), Quantization::kBf16);
  EXPECT_EQ(parse_quantization("W8A8"), Quantization::kW8A8Static);
  EXPECT_EQ(parse_quantization("w8a8-static"), Quantization::kW8A8Static);
  EXPECT_EQ(parse_quantization("w8a8_dynamic"), Quantization::kW8A8Dynamic);
  EXPECT_EQ(parse_quantization("W4A8_DYNAMIC"), Quantization::kW4A8);
  const std::string msg = error_of([] { parse_quantization("int4"); });
  EXPECT_PRED2(contains, msg, "--quantization int4");
  EXPECT_PRED2(contains, msg, "w8a8_dynamic");
}

TEST(ParseQuantization, NamesRoundTrip) {
  for (Quantization q : {Quantization::kBf16, Quantization::kW8A8Static, Quantization::kW8A8Dynamic, Quantization::kW4A8}) {
    EXPECT_EQ(parse_quantization(quantization_name(q)), q) << quantization_name(q);
  }
}

TEST(ParsePhase, DecodeAndPrefillOnly) {
  EXPECT_EQ(parse_phase("decode"), Phase::kDecode);
  EXPECT_EQ(parse_phase("prefill"), Phase::kPrefill);
  EXPECT_STREQ(phase_name(Phase::kPrefill), "prefill");
  EXPECT_EQ(error_of([] { parse_phase("Decode"); }), "--phase Decode: expected decode or prefill");
}

// The capture-size grid of one release; num_hidden_layers 0 leaves out the PIECEWISE thinning.
std::vector<int> caps(int seqs, int spec, int tp, bool fc1, const char* release = "v0.23.0", int layers = 0) {
  Deployment d;
  d.max_num_seqs = seqs;
  d.num_speculative_tokens = spec;
  d.tensor_parallel = tp;
  d.flashcomm1 = fc1;
  return capture_sizes(d, find_release(release), layers);
}

TokenPlan plan(const Deployment& d, const char* release = "v0.23.0", int layers = 0) {
  return plan_tokens(d, find_release(release), layers);
}

TEST(CaptureSizes, MaxNumSeqs72) {
  // [1,2,4] + range(8, 256, 8) clipped to 72.
  EXPECT_EQ(caps(72, 0, 1, false), (std::vector<int>{1, 2, 4, 8, 16, 24, 32, 40, 48, 56, 64, 72}));
  // flashcomm1 with TP1 filters nothing; TP4 without flashcomm1 neither.
  EXPECT_EQ(caps(72, 0, 1, true), caps(72, 0, 1, false));
  EXPECT_EQ(caps(72, 0, 4, false), caps(72, 0, 1, false));
}

TEST(CaptureSizes, Tp4WithFlashcomm1KeepsMultiplesOf4) {
  // v0.23.0:vllm_ascend/platform.py:556 update_sizes_for_sequence_parallelism.
  EXPECT_EQ(caps(72, 0, 4, true), (std::vector<int>{4, 8, 16, 24, 32, 40, 48, 56, 64, 72}));
  // TP8: 8, 16, ... 72 (4 is not a multiple of 8).
  EXPECT_EQ(caps(72, 0, 8, true), (std::vector<int>{8, 16, 24, 32, 40, 48, 56, 64, 72}));
}

TEST(CaptureSizes, FromV018TheMaximumIsSeqsTimesOnePlusSpeculativeTokens) {
  // v0.18.0rc1:vllm_ascend/platform.py:191 return min(max_num_seqs * decode_query_len, 512).
  std::vector<int> s = caps(72, 1, 1, false, "v0.18.0rc1");
  EXPECT_EQ(s.back(), 144);
  EXPECT_EQ(s.size(), 3u + 18u);  // 1,2,4 and 8..144 step 8
  EXPECT_EQ(caps(72, 0, 1, false, "v0.18.0rc1").back(), 72);
}

TEST(CaptureSizes, VllmsOwnRuleDoublesTheSeqs) {
  // v0.17.0rc1:vllm_ascend/platform.py:252 calls vLLM's _set_cudagraph_sizes:
  // min(max_num_seqs x (1 + spec) x 2, 512) (vLLM PR #30330; docs/vllm-ascend-semantics.md).
  EXPECT_EQ(caps(72, 0, 1, false, "v0.17.0rc1").back(), 144);
  EXPECT_EQ(caps(72, 0, 1, false, "v0.13.0rc1").back(), 144);
  EXPECT_EQ(caps(40, 1, 1, false, "v0.14.0rc1").back(), 160);
  EXPECT_EQ(caps(300, 0, 1, false, "v0.15.0rc1").back(), 512);
}

TEST(CaptureSizes, V013Rc2ToV013PatchTheMaximumToSeqsTimesOnePlusSpec) {
  // v0.13.0rc2:vllm_ascend/patch/platform/patch_set_cudagraph_sizes.py:57
  // min(max_num_seqs * decode_query_len, 512) (#5860); no maximum appended in rc2.
  EXPECT_EQ(caps(72, 0, 1, false, "v0.13.0rc2").back(), 72);
  EXPECT_EQ(caps(75, 0, 1, false, "v0.13.0rc2").back(), 72);
  EXPECT_EQ(caps(72, 1, 1, false, "v0.13.0rc2").back(), 144);
  // v0.13.0rc3:vllm_ascend/patch/platform/patch_set_cudagraph_sizes.py:91-92 appends the maximum.
  EXPECT_EQ(caps(75, 0, 1, false, "v0.13.0rc3").back(), 75);
  EXPECT_EQ(caps(75, 0, 1, false, "v0.13.0").back(), 75);
  EXPECT_EQ(caps(72, 0, 1, false, "v0.13.0"), caps(72, 0, 1, false, "v0.13.0rc2"));  // 72 is a grid point already
}

TEST(CaptureSizes, Qwen3MoeAtTp1WithDpTakesItsOwnSizes) {
  // v0.13.0rc1:vllm_ascend/utils.py:463-472 update_default_aclgraph_sizes: [1,2,5,10,15,20] +
  // range(24, max + 1, 8) for qwen3_moe at TP 1 and DP > 1 (also in v0.13.0rc2 and v0.14.0rc1).
  Deployment d;
  d.max_num_seqs = 24;
  d.tensor_parallel = 1;
  d.data_parallel = 4;
  CaptureModel qwen3_moe(0);
  qwen3_moe.qwen3_moe = true;
  EXPECT_EQ(capture_sizes(d, find_release("v0.14.0rc1"), qwen3_moe), (std::vector<int>{1, 2, 5, 10, 15, 20, 24, 32, 40, 48}));
  EXPECT_EQ(capture_sizes(d, find_release("v0.13.0rc3"), qwen3_moe), capture_sizes(d, find_release("v0.13.0rc3"), 0));
  d.data_parallel = 1;
  EXPECT_EQ(capture_sizes(d, find_release("v0.14.0rc1"), qwen3_moe), capture_sizes(d, find_release("v0.14.0rc1"), 0));
}

TEST(CaptureSizes, NoMaximumIsAppendedBetweenGridPoints) {
  // vLLM's grid stops at the last grid point at or below the maximum: 75 sequences capture up to 72,
  // so a full batch of 75 runs eager.
  EXPECT_EQ(caps(75, 0, 1, false).back(), 72);
  Deployment d;
  d.max_num_seqs = 75;
  d.num_tokens = 75;
  EXPECT_TRUE(plan(d).eager);
  EXPECT_EQ(plan(d).padded_tokens, 75);
}

TEST(CaptureSizes, AboveTwoHundredFiftySixStepSixteenAndCappedAt512) {
  std::vector<int> s = caps(288, 0, 1, false);
  // 1,2,4, 8..248 step 8 (31 values), 256, 272, 288.
  ASSERT_EQ(s.size(), 3u + 31u + 3u);
  EXPECT_EQ(s[33], 248);
  EXPECT_EQ(s[34], 256);
  EXPECT_EQ(s[35], 272);
  EXPECT_EQ(s[36], 288);
  EXPECT_EQ(caps(1000, 0, 1, false).back(), 512);
  EXPECT_EQ(caps(144, 3, 1, false).back(), 512);  // 576 capped
}

TEST(CaptureSizes, PiecewiseGraphsThinTheSizesUntilV020) {
  // v0.18.0rc1:vllm_ascend/utils.py:456 update_aclgraph_sizes (FFTS+ branch): 64 layers, one
  // communication group (TP4): floor((1800 - 40) / 65 / 3) = 9 sizes, sampled uniformly with
  // Python's round (half to even), first and last kept.
  EXPECT_EQ(caps(72, 0, 4, true, "v0.18.0", 64), (std::vector<int>{4, 8, 16, 24, 32, 48, 56, 64, 72}));
  // v0.17: the same thinning of the x2 grid 4..144.
  EXPECT_EQ(caps(72, 0, 4, true, "v0.17.0rc1", 64), (std::vector<int>{4, 16, 32, 56, 72, 88, 112, 128, 144}));
  // v0.21 no longer calls it (v0.21.0rc1:vllm_ascend/platform.py has no update_aclgraph_sizes).
  EXPECT_EQ(caps(72, 0, 4, true, "v0.21.0rc1", 64), caps(72, 0, 4, true));
  // 36 layers: floor(1760 / 37 / 3) = 15 >= 10 sizes: nothing to thin.
  EXPECT_EQ(caps(72, 0, 4, true, "v0.18.0", 36), caps(72, 0, 4, true));
  // Eager mode captures nothing and thins nothing.
  Deployment d;
  d.max_num_seqs = 72;
  d.tensor_parallel = 4;
  d.graph_mode = false;
  EXPECT_EQ(capture_sizes(d, find_release("v0.18.0"), 64), caps(72, 0, 4, true));
}

TEST(CaptureSizes, ADraftModelAddsItsLayersToTheGraphBudget) {
  // v0.18.0rc1:vllm_ascend/utils.py:491-495: resources_per_graph += draft layers + 1. 64 + 1 + 2
  // = 67: floor(1760 / 67 / 3) = 8 sizes instead of 9.
  Deployment d;
  d.max_num_seqs = 72;
  d.tensor_parallel = 4;
  CaptureModel m(64);
  EXPECT_EQ(capture_sizes(d, find_release("v0.18.0"), m).size(), 9u);
  m.draft_layers = 1;
  EXPECT_EQ(capture_sizes(d, find_release("v0.18.0"), m).size(), 8u);
}

TEST(CaptureSizes, ABudgetOfFewerThanTwoSizesFailsAtStartUp) {
  // v0.18.0rc1:vllm_ascend/utils.py:560-563 divides by max_num_batch_sizes - 1.
  Deployment d;
  d.max_num_seqs = 72;
  d.tensor_parallel = 4;
  d.data_parallel = 2;
  // 2 groups: floor((1800 - 80) / 301 / 5) = 1 size.
  EXPECT_PRED2(test::contains, test::error_of([&] { capture_sizes(d, find_release("v0.18.0"), 300); }),
               "fails at start-up");
  EXPECT_NO_THROW(capture_sizes(d, find_release("v0.21.0rc1"), 300));
}

TEST(CaptureSizes, StrictlyIncreasing) {
  for (const char* release : {"v0.13.0rc1", "v0.18.0", "v0.23.0"}) {
    for (int seqs : {1, 3, 7, 72, 100, 257, 511, 600}) {
      for (int tp : {1, 2, 4, 8}) {
        std::vector<int> s = caps(seqs, 0, tp, true, release, 94);
        ASSERT_FALSE(s.empty());
        for (size_t i = 1; i < s.size(); ++i) EXPECT_LT(s[i - 1], s[i]) << seqs << " tp" << tp;
        EXPECT_LE(s.back(), 512);
      }
    }
  }
}

TEST(PlanTokens, DefaultIs72Tokens) {
  Deployment d;
  TokenPlan p = plan(d);
  EXPECT_EQ(p.scheduled_tokens, 72);
  EXPECT_EQ(p.padded_tokens, 72);
  EXPECT_EQ(p.num_seqs, 72);
}

TEST(PlanTokens, SeventyTokensPadTo72) {
  Deployment d;
  d.tensor_parallel = 4;
  d.flashcomm1 = true;
  d.max_num_seqs = 72;
  d.num_tokens = 70;
  TokenPlan p = plan(d);
  EXPECT_EQ(p.scheduled_tokens, 70);
  EXPECT_EQ(p.padded_tokens, 72);
  EXPECT_EQ(p.num_seqs, 70);
  EXPECT_EQ(p.padding, "padded to capture size 72");
  EXPECT_EQ(p.capture_sizes, caps(72, 0, 4, true));
}

TEST(PlanTokens, TwoTokensUnderTp4Flashcomm1PadTo4) {
  // The TP4 + flashcomm1 capture list starts at 4.
  Deployment d;
  d.max_num_seqs = 72;
  d.num_tokens = 2;
  EXPECT_EQ(plan(d).padded_tokens, 4);
  d.flashcomm1 = false;
  EXPECT_EQ(plan(d).padded_tokens, 2);
}

TEST(PlanTokens, EagerModeDoesNotPad) {
  Deployment d;
  d.max_num_seqs = 72;
  d.num_tokens = 70;
  d.graph_mode = false;
  TokenPlan p = plan(d);
  EXPECT_EQ(p.padded_tokens, 70);
  EXPECT_EQ(p.padding, "none (eager mode)");
}

TEST(PlanTokens, MoreThan512TokensRunEagerUnpadded) {
  Deployment d;
  d.num_tokens = 600;
  TokenPlan p = plan(d);
  EXPECT_EQ(p.padded_tokens, 600);
  EXPECT_EQ(p.capture_sizes.back(), 512);
  EXPECT_PRED2(contains, p.padding, "exceed the largest capture size 512");

  d.num_tokens = 513;
  d.max_num_seqs = 1024;
  EXPECT_EQ(plan(d).padded_tokens, 513);
}

TEST(PlanTokens, ExactCaptureSizeIsNotPadded) {
  Deployment d;
  d.num_tokens = 512;
  TokenPlan p = plan(d);
  EXPECT_EQ(p.padded_tokens, 512);
  EXPECT_EQ(p.padding, "none (a capture size)");
}

TEST(PlanTokens, SpeculativeDecode) {
  Deployment d;
  d.max_num_seqs = 36;
  d.num_speculative_tokens = 1;
  TokenPlan p = plan(d);
  EXPECT_EQ(p.scheduled_tokens, 72);  // 36 requests x 2 tokens
  EXPECT_EQ(p.num_seqs, 36);
  EXPECT_EQ(p.padded_tokens, 72);
  d.num_tokens = 71;                  // 36 requests, the last one short
  EXPECT_EQ(plan(d).num_seqs, 36);
}

TEST(PlanTokens, PrefillRoundsToTpMultiple) {
  Deployment d;
  d.phase = Phase::kPrefill;
  d.tensor_parallel = 4;
  d.num_tokens = 4097;
  d.context_len = 4096;
  TokenPlan p = plan(d);
  EXPECT_EQ(p.scheduled_tokens, 4097);
  EXPECT_EQ(p.padded_tokens, 4100);  // round_up(4097, 4)
  EXPECT_EQ(p.num_seqs, 2);          // ceil(4097 / 4096) prompts
  // The runner's graph sizes are still known (they fix the MC2 capacity); the prefill is not padded to them.
  EXPECT_EQ(p.capture_sizes, capture_sizes(d, find_release("v0.23.0"), 0));
  EXPECT_PRED2(contains, p.padding, "multiple of TP");

  d.num_tokens = 4096;  // already a multiple
  EXPECT_EQ(plan(d).padded_tokens, 4096);
  EXPECT_EQ(plan(d).num_seqs, 1);
  d.num_tokens = 4097;
  d.flashcomm1 = false;  // no sequence parallel: no rounding
  EXPECT_EQ(plan(d).padded_tokens, 4097);
  d.flashcomm1 = true;
  d.tensor_parallel = 1;
  EXPECT_EQ(plan(d).padded_tokens, 4097);
}

TEST(DeploymentValidate, AcceptsDefaults) { EXPECT_NO_THROW(Deployment{}.validate()); }

TEST(DeploymentValidate, DecodeTokensFitTheRequestsAndTheirDraftTokens) {
  Deployment d;
  d.num_tokens = 65;
  d.max_num_seqs = 64;
  EXPECT_EQ(error_of([&] { d.validate(); }),
            "--num-tokens 65 in decode is above --max-num-seqs 64 x (1 + --num-speculative-tokens 0) = 64: a decode step "
            "schedules at most one token per running request plus its draft tokens");
  d.num_tokens = 64;
  EXPECT_NO_THROW(d.validate());
  d.num_tokens = 128;
  d.num_speculative_tokens = 1;  // MTP: two tokens per request
  EXPECT_NO_THROW(d.validate());
  d.num_tokens = 129;
  EXPECT_PRED2(contains, error_of([&] { d.validate(); }), "= 128");
  d.phase = Phase::kPrefill;  // a prefill step carries whole prompts, not one token per request
  EXPECT_NO_THROW(d.validate());
}

TEST(QuantizationLabel, SaysWhereTheSchemeCameFrom) {
  EXPECT_EQ(quantization_label(Quantization::kW8A8Static, QuantizationSource::kDefault, ""), "w8a8 (default)");
  EXPECT_EQ(quantization_label(Quantization::kBf16, QuantizationSource::kOption, ""), "bf16 (--quantization)");
  EXPECT_EQ(quantization_label(Quantization::kW8A8Dynamic, QuantizationSource::kCheckpoint, "quant_model_description.json"),
            "w8a8_dynamic (from quant_model_description.json)");
}

TEST(DeploymentValidate, NamesTheBadOption) {
  {
    Deployment d;
    d.tensor_parallel = 0;
    EXPECT_EQ(error_of([&] { d.validate(); }), "--tensor-parallel-size 0: expected 1..1024");
  }
  {
    Deployment d;
    d.data_parallel = 2000;
    EXPECT_EQ(error_of([&] { d.validate(); }), "--data-parallel-size 2000: expected 1..1024");
  }
  {
    Deployment d;
    d.num_tokens = 0;
    EXPECT_PRED2(contains, error_of([&] { d.validate(); }), "--num-tokens 0");
  }
  {
    Deployment d;
    d.max_num_seqs = -1;
    EXPECT_PRED2(contains, error_of([&] { d.validate(); }), "--max-num-seqs -1");
  }
  {
    Deployment d;
    d.num_speculative_tokens = 65;
    EXPECT_EQ(error_of([&] { d.validate(); }), "--num-speculative-tokens 65: expected 0..64");
  }
  {
    Deployment d;
    d.context_len = 0;
    EXPECT_PRED2(contains, error_of([&] { d.validate(); }), "--context-len 0");
  }
}

}  // namespace
}  // namespace pt
