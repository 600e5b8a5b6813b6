#include "search/workload.h"

#include <gtest/gtest.h>

#include "util/error.h"

namespace pt {
namespace {

TEST(WorkloadTest, ListsWithAndWithoutWeights) {
  auto w = workload_from_lists({8, 16, 32, 72}, {1, 1, 2, 4});
  ASSERT_EQ(w.size(), 4u);
  EXPECT_EQ(w[3].num_tokens, 72);
  EXPECT_EQ(w[3].weight, 4);
  auto equal = workload_from_lists({8, 16}, {});
  EXPECT_EQ(equal[0].weight, 1);
  EXPECT_EQ(equal[1].weight, 1);
}

TEST(WorkloadTest, BadListsAreRefusedWithTheReason) {
  auto message = [](auto f) {
    try {
      f();
    } catch (const InputError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(message([] { workload_from_lists({8, 16}, {1}); }).find("one weight per token count"), std::string::npos);
  EXPECT_NE(message([] { workload_from_lists({}, {}); }).find("empty workload"), std::string::npos);
  EXPECT_NE(message([] { workload_from_lists({8, 8}, {}); }).find("twice"), std::string::npos);
  EXPECT_NE(message([] { workload_from_lists({0}, {}); }).find("outside"), std::string::npos);
  EXPECT_NE(message([] { workload_from_lists({8}, {-1}); }).find("weight"), std::string::npos);
  EXPECT_NE(message([] { workload_from_lists({8, 16}, {0, 0}); }).find("all weights are zero"), std::string::npos);
}

TEST(WorkloadTest, CsvFileNamesTheLineOfABadRow) {
  auto w = parse_workload_csv("num_tokens,weight\n8,1\n72,3\n", "w.csv");
  ASSERT_EQ(w.size(), 2u);
  EXPECT_EQ(w[1].weight, 3);
  try {
    parse_workload_csv("num_tokens,weight\n8,1\n7.5,1\n", "w.csv");
    FAIL();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("w.csv: line 3"), std::string::npos) << e.what();
  }
  EXPECT_THROW(parse_workload_csv("tokens_wrong\n8\n", "w.csv"), InputError);
  EXPECT_THROW(parse_workload_csv("num_tokens\n", "w.csv"), InputError);  // header only: empty workload
}

TEST(WorkloadTest, CaptureSizesOfMaxNumSeqs) {
  Deployment d;
  d.max_num_seqs = 72;
  d.tensor_parallel = 4;
  auto w = workload_from_capture_sizes(d, default_release(), 0);
  // With flashcomm1 and TP4 only multiples of 4 are kept: 4, 8, 16, 24, ..., 72.
  EXPECT_EQ(w.front().num_tokens, 4);
  EXPECT_EQ(w.back().num_tokens, 72);
  for (const auto& p : w) EXPECT_EQ(p.num_tokens % 4, 0);
  Deployment none;
  EXPECT_THROW(workload_from_capture_sizes(none, default_release(), 0), InputError);
}

TEST(WorkloadTest, CaptureSizesAboveWhatTheRequestsCanCarryAreLeftOut) {
  // v0.15 captures up to 2 x 64 = 128 tokens; without draft tokens 64 requests carry at most 64.
  Deployment d;
  d.max_num_seqs = 64;
  const Release& v015 = find_release("v0.15.0rc1");
  EXPECT_EQ(capture_sizes(d, v015, 0).back(), 128);
  auto w = workload_from_capture_sizes(d, v015, 0);
  EXPECT_EQ(w.back().num_tokens, 64);
  d.num_speculative_tokens = 1;  // MTP: two tokens per request fill them all
  EXPECT_EQ(workload_from_capture_sizes(d, v015, 0).back().num_tokens, 128);
}

}  // namespace
}  // namespace pt
