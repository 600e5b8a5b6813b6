#include "util/did_you_mean.h"

#include <gtest/gtest.h>

namespace pt {
namespace {

TEST(DidYouMean, EditDistanceCountsSwapsAsOneAndIgnoresCase) {
  EXPECT_EQ(edit_distance("simulate", "simulate"), 0u);
  EXPECT_EQ(edit_distance("simulat", "simulate"), 1u);
  EXPECT_EQ(edit_distance("smiulate", "simulate"), 1u);  // adjacent swap
  EXPECT_EQ(edit_distance("SIMULATE", "simulate"), 0u);
  EXPECT_EQ(edit_distance("", "abc"), 3u);
  EXPECT_EQ(edit_distance("kitten", "sitting"), 3u);
}

TEST(DidYouMean, SuggestsTheClosestOptionAliasesIncluded) {
  const std::vector<std::string> options{"--tensor-parallel-size", "--tp", "-t", "--data-parallel-size", "--dp",
                                         "--num-tokens", "--max-num-seqs", "--model"};
  EXPECT_EQ(closest_names("--tensor-paralel-size", options), std::vector<std::string>{"--tensor-parallel-size"});
  EXPECT_EQ(closest_names("--tensor-parallel", options), std::vector<std::string>{"--tensor-parallel-size"});  // a prefix
  EXPECT_EQ(closest_names("--num-token", options), std::vector<std::string>{"--num-tokens"});
  EXPECT_EQ(closest_names("--modle", options), std::vector<std::string>{"--model"});
  EXPECT_EQ(closest_names("--zzzzzzzz", options), std::vector<std::string>{});
  EXPECT_EQ(did_you_mean("--num-token", options), " did you mean --num-tokens?");
  EXPECT_EQ(did_you_mean("--zzzzzzzz", options), "");
}

TEST(DidYouMean, ListsEqualCandidatesTogether) {
  EXPECT_EQ(did_you_mean("910B", {"910B1", "910B2", "910B3", "910B4", "a3-die"}),
            " did you mean 910B1, 910B2 or 910B3?");
}

}  // namespace
}  // namespace pt
