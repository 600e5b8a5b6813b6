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

TEST(CaptureSizes, MaxNumSeqs72) {
  // [1,2,4] + range(8, 256, 8) clipped to 72.
  EXPECT_EQ(capture_sizes(72, 0, 1, false), (std::vector<int>{1, 2, 4, 8, 16, 24, 32, 40, 48, 56, 64, 72}));
  // flashcomm1 with TP1 filters nothing; TP4 without flashcomm1 neither.
  EXPECT_EQ(capture_sizes(72, 0, 1, true), capture_sizes(72, 0, 1, false));
  EXPECT_EQ(capture_sizes(72, 0, 4, false), capture_sizes(72, 0, 1, false));
}

TEST(CaptureSizes, Tp4WithFlashcomm1KeepsMultiplesOf4) {
  EXPECT_EQ(capture_sizes(72, 0, 4, true), (std::vector<int>{4, 8, 16, 24, 32, 40, 48, 56, 64, 72}));
  // TP8: 8, 16, ... 72 (4 is not a multiple of 8).
  EXPECT_EQ(capture_sizes(72, 0, 8, true), (std::vector<int>{8, 16, 24, 32, 40, 48, 56, 64, 72}));
}

TEST(CaptureSizes, SpeculativeTokensScaleTheMaximum) {
  // max = 72 * (1 + 1) = 144.
  std::vector<int> s = capture_sizes(72, 1, 1, false);
  EXPECT_EQ(s.back(), 144);
  EXPECT_EQ(s.size(), 3u + 18u);  // 1,2,4 and 8..144 step 8
}

TEST(CaptureSizes, AboveTwoHundredFiftySixStepSixteenAndCappedAt512) {
  std::vector<int> s = capture_sizes(288, 0, 1, false);
  // 1,2,4, 8..248 step 8 (31 values), 256, 272, 288.
  ASSERT_EQ(s.size(), 3u + 31u + 3u);
  EXPECT_EQ(s[33], 248);
  EXPECT_EQ(s[34], 256);
  EXPECT_EQ(s[35], 272);
  EXPECT_EQ(s[36], 288);
  EXPECT_EQ(capture_sizes(1000, 0, 1, false).back(), 512);
  EXPECT_EQ(capture_sizes(144, 3, 1, false).back(), 512);  // 576 capped
}

TEST(CaptureSizes, StrictlyIncreasing) {
  for (int seqs : {1, 3, 7, 72, 100, 257, 511, 600}) {
    for (int tp : {1, 2, 4, 8}) {
      std::vector<int> s = capture_sizes(seqs, 0, tp, true);
      ASSERT_FALSE(s.empty());
      for (size_t i = 1; i < s.size(); ++i) EXPECT_LT(s[i - 1], s[i]) << seqs << " tp" << tp;
      EXPECT_LE(s.back(), 512);
    }
  }
}

TEST(PlanTokens, DefaultIs72Tokens) {
  Deployment d;
  TokenPlan p = plan_tokens(d);
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
  TokenPlan p = plan_tokens(d);
  EXPECT_EQ(p.scheduled_tokens, 70);
  EXPECT_EQ(p.padded_tokens, 72);
  EXPECT_EQ(p.num_seqs, 70);
  EXPECT_EQ(p.padding, "padded to capture size 72");
  EXPECT_EQ(p.capture_sizes, capture_sizes(72, 0, 4, true));
}

TEST(PlanTokens, TwoTokensUnderTp4Flashcomm1PadTo4) {
  // The TP4 + flashcomm1 capture list starts at 4.
  Deployment d;
  d.max_num_seqs = 72;
  d.num_tokens = 2;
  EXPECT_EQ(plan_tokens(d).padded_tokens, 4);
  d.flashcomm1 = false;
  EXPECT_EQ(plan_tokens(d).padded_tokens, 2);
}

TEST(PlanTokens, EagerModeDoesNotPad) {
  Deployment d;
  d.max_num_seqs = 72;
  d.num_tokens = 70;
  d.graph_mode = false;
  TokenPlan p = plan_tokens(d);
  EXPECT_EQ(p.padded_tokens, 70);
  EXPECT_EQ(p.padding, "none (eager mode)");
}

TEST(PlanTokens, MoreThan512TokensRunEagerUnpadded) {
  Deployment d;
  d.num_tokens = 600;
  TokenPlan p = plan_tokens(d);
  EXPECT_EQ(p.padded_tokens, 600);
  EXPECT_EQ(p.capture_sizes.back(), 512);
  EXPECT_PRED2(contains, p.padding, "exceed the largest capture size 512");

  d.num_tokens = 513;
  d.max_num_seqs = 1024;
  EXPECT_EQ(plan_tokens(d).padded_tokens, 513);
}

TEST(PlanTokens, ExactCaptureSizeIsNotPadded) {
  Deployment d;
  d.num_tokens = 512;
  TokenPlan p = plan_tokens(d);
  EXPECT_EQ(p.padded_tokens, 512);
  EXPECT_EQ(p.padding, "none (a capture size)");
}

TEST(PlanTokens, SpeculativeDecode) {
  Deployment d;
  d.max_num_seqs = 36;
  d.num_speculative_tokens = 1;
  TokenPlan p = plan_tokens(d);
  EXPECT_EQ(p.scheduled_tokens, 72);  // 36 requests x 2 tokens
  EXPECT_EQ(p.num_seqs, 36);
  EXPECT_EQ(p.padded_tokens, 72);
  d.num_tokens = 71;                  // 36 requests, the last one short
  EXPECT_EQ(plan_tokens(d).num_seqs, 36);
}

TEST(PlanTokens, PrefillRoundsToTpMultiple) {
  Deployment d;
  d.phase = Phase::kPrefill;
  d.tensor_parallel = 4;
  d.num_tokens = 4097;
  d.context_len = 4096;
  TokenPlan p = plan_tokens(d);
  EXPECT_EQ(p.scheduled_tokens, 4097);
  EXPECT_EQ(p.padded_tokens, 4100);  // round_up(4097, 4)
  EXPECT_EQ(p.num_seqs, 2);          // ceil(4097 / 4096) prompts
  EXPECT_TRUE(p.capture_sizes.empty());
  EXPECT_PRED2(contains, p.padding, "multiple of TP");

  d.num_tokens = 4096;  // already a multiple
  EXPECT_EQ(plan_tokens(d).padded_tokens, 4096);
  EXPECT_EQ(plan_tokens(d).num_seqs, 1);
  d.num_tokens = 4097;
  d.flashcomm1 = false;  // no sequence parallel: no rounding
  EXPECT_EQ(plan_tokens(d).padded_tokens, 4097);
  d.flashcomm1 = true;
  d.tensor_parallel = 1;
  EXPECT_EQ(plan_tokens(d).padded_tokens, 4097);
}

TEST(DeploymentValidate, AcceptsDefaults) { EXPECT_NO_THROW(Deployment{}.validate()); }

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
