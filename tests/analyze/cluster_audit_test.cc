// analyze on a cluster, against ground truth: export-profile writes every rank of a TP4 run with
// one rank slowed down, and the cluster audit must name that rank, as msprof-analyze's slow_rank
// recipe would; the test's closed forms check the recipe's outlier tests.
#include "analyze/cluster_audit.h"

#include <filesystem>

#include <gtest/gtest.h>

#include "analyze/model_check.h"
#include "export/profile_export.h"
#include "profile/profile_readers.h"
#include "sim/scenario.h"
#include "test_support.h"

namespace pt {
namespace {

namespace fs = std::filesystem;

Scenario qwen3_8b_t16() {
  ScenarioInputs in;
  in.model = "Qwen3-8B";
  in.deployment.num_tokens = 16;
  in.use_process_env = false;
  return load_scenario(in);
}

struct TempDir {
  std::string path = test::make_temp_dir();
  ~TempDir() { fs::remove_all(path); }
};

std::string export_cluster(const Scenario& s, const TempDir& tmp, const std::string& layout, const std::string& format, int slow) {
  ProfileExportOptions o;
  o.layout = layout;
  o.format = format;
  o.ranks = 4;
  o.steps = 2;
  o.jitter_pct = 1;
  o.slow_rank = slow;
  o.slow_pct = 15;
  const std::string dir = tmp.path + "/" + layout + format;
  export_profile_to_directory(s, o, dir);
  return dir;
}

TEST(SlowRankOutliers, DixonsTestAsMsprofAnalyzeRunsIt) {
  // n = 4: (s1 - s0) / (s3 - s0) against 0.920.
  EXPECT_TRUE(slow_rank_outliers({10, 1, 10.5, 11}).empty());                      // 9 / 10 = 0.900
  EXPECT_EQ(slow_rank_outliers({10, 1, 10.2, 10.3}), (std::vector<size_t>{1}));   // 9 / 9.3 = 0.968
  // Three distinct values or fewer: never an outlier.
  EXPECT_TRUE(slow_rank_outliers({1, 10, 10, 10}).empty());
  // n = 12: (s2 - s0) / (s10 - s0) against 0.675.
  std::vector<double> twelve = {1, 1.1, 9, 9.1, 9.2, 9.3, 9.4, 9.5, 9.6, 9.7, 9.8, 30};
  EXPECT_EQ(slow_rank_outliers(twelve), (std::vector<size_t>{0}));  // (9 - 1) / (9.8 - 1) = 0.909
  twelve[2] = 1.2;
  EXPECT_TRUE(slow_rank_outliers(twelve).empty());  // (1.2 - 1) / (9.8 - 1) = 0.023
}

TEST(SlowRankOutliers, BeyondAHundredRanksThreeSigma) {
  std::vector<double> v(150, 100.0);
  for (size_t i = 0; i < v.size(); ++i) v[i] += static_cast<double>(i % 7) * 0.1;
  v[42] = 10;  // far below mean - 3 sigma
  EXPECT_EQ(slow_rank_outliers(v), (std::vector<size_t>{42}));
}

TEST(SlowRankVote, PerGroupAndOpNameAndNotAcrossGroups) {
  // Two groups of four ranks run ops of the same names; rank 1 is short in group 7's op, so the
  // others waited for it. Pooled across groups its time would sit among group 9's (no outlier).
  auto op = [](uint64_t group, uint64_t name, float us) { return CollectiveTime{group, name, us}; };
  std::vector<std::vector<CollectiveTime>> ranks(8);
  const float g7[] = {20, 1, 20.1f, 20.2f}, g9[] = {1, 1.05f, 1.1f, 1.15f};
  for (int r = 0; r < 4; ++r) ranks[static_cast<size_t>(r)].push_back(op(7, 100, g7[r]));
  for (int r = 4; r < 8; ++r) ranks[static_cast<size_t>(r)].push_back(op(9, 100, g9[r - 4]));
  SlowRankVote v = slow_rank_vote(ranks);
  EXPECT_EQ(v.votes, (std::vector<size_t>{0, 1, 0, 0, 0, 0, 0, 0}));
  EXPECT_EQ(v.compared, 2u);
  EXPECT_EQ(v.groups_left_out, 0u);
  // Rank 2 lacks a second op of group 7: its counts per name (4, 3) differ, the group is out.
  for (int r : {0, 1, 3}) ranks[static_cast<size_t>(r)].push_back(op(7, 200, 5));
  v = slow_rank_vote(ranks);
  EXPECT_EQ(v.votes, std::vector<size_t>(8, 0));
  EXPECT_EQ(v.compared, 1u);
  EXPECT_EQ(v.groups_left_out, 1u);
  // Sends and receives are not voted on.
  ProfileTask send;
  send.name = "hcom_send__1_0_1";
  EXPECT_FALSE(collective_time(send).has_value());
  send.name = "hcom_allReduce__1_0_1";
  send.site = "tp_0";
  send.duration_us = 3;
  ASSERT_TRUE(collective_time(send).has_value());
  EXPECT_EQ(collective_time(send)->us, 3.0f);
}

TEST(ClusterAudit, VotesOnlyInTheSlowRanksGroupAsMsprofAnalyzeCounts) {
  // TP4 x DP2, rank 5 slowed: only its TP group (ranks 4-7, "tp_4") waits for it. Its votes
  // are what msprof-analyze's slow_rank counts on the same export: 108, checked by hand with
  //   prefetch-tuner export-profile --model Qwen3-8B --tp 4 --dp 2 --num-tokens 16 --ranks 8
  //     --slow-rank 5:10 --jitter 1 --steps 3 --format db --out-dir D
  //   msprof-analyze cluster -d D -m slow_rank  (SlowRank: rank 5, slowAffectCount 108, all in tp_4)
  ScenarioInputs in;
  in.model = "Qwen3-8B";
  in.deployment.num_tokens = 16;
  in.deployment.data_parallel = 2;
  in.use_process_env = false;
  const Scenario s = load_scenario(in);
  TempDir tmp;
  ProfileExportOptions o;
  o.ranks = 8;
  o.steps = 3;
  o.jitter_pct = 1;
  o.slow_rank = 5;
  o.slow_pct = 10;
  for (const std::string format : {"text", "db"}) {
    SCOPED_TRACE(format);
    o.format = format;
    const std::string dir = tmp.path + "/" + format;
    export_profile_to_directory(s, o, dir);
    const ClusterAudit c = audit_cluster(find_profiles(dir), dir, nullptr, s.cap_reading, {}, 2);
    ASSERT_EQ(c.ranks.size(), 8u);
    EXPECT_EQ(c.ranks[static_cast<size_t>(c.slowest)].rank, 5);
    EXPECT_EQ(c.ranks[5].slow_votes, 108u);
    for (const auto& r : c.ranks) {
      if (r.rank != 5) {
        EXPECT_EQ(r.slow_votes, 0u) << r.rank;
      }
    }
    EXPECT_EQ(c.groups_left_out, 0u);
    // Ranks 0-3 do not wait for rank 5: their steps are shorter.
    EXPECT_LT(c.ranks[0].step_us, c.ranks[4].step_us);
  }
}

TEST(ClusterAudit, NamesTheSlowRankInEveryLayoutAndTheDatabase) {
  const Scenario s = qwen3_8b_t16();
  TempDir tmp;
  for (const auto& [layout, format] : std::vector<std::pair<std::string, std::string>>{
           {"torch_npu", "text"}, {"msprof", "text"}, {"torch_npu", "db"}}) {
    SCOPED_TRACE(layout + " " + format);
    std::string dir = export_cluster(s, tmp, layout, format, 2);
    if (format == "db") {
      // The database alone: drop the text files.
      for (const auto& e : fs::recursive_directory_iterator(dir)) {
        const std::string name = e.path().filename().string();
        if (e.is_regular_file() && (name == "trace_view.json" || name == "kernel_details.csv")) fs::remove(e.path());
      }
    }
    const auto locations = find_profiles(dir);
    ASSERT_EQ(locations.size(), 4u);
    for (int r = 0; r < 4; ++r) EXPECT_EQ(locations[static_cast<size_t>(r)].rank, r);
    const ClusterAudit c = audit_cluster(
        locations, dir, [&](const Profile&) { return AuditModel{&s.plan, &s.config}; }, s.cap_reading, {}, 2);
    ASSERT_EQ(c.ranks.size(), 4u);
    ASSERT_GE(c.slowest, 0);
    EXPECT_EQ(c.ranks[static_cast<size_t>(c.slowest)].rank, 2);
    EXPECT_EQ(c.slowest_basis, "votes");
    EXPECT_GT(c.collectives, 100u);
    // The others wait for it: it spends the least time in collectives and the most in compute,
    // while every rank's step is the same length (the collectives synchronize them).
    for (const auto& r : c.ranks) {
      // msprof's op_summary has no step ids (torch_npu's ProfilerStep ranges make them).
      EXPECT_EQ(r.steps, layout == "msprof" ? 1u : 2u);
      EXPECT_EQ(r.cmo_count, 360u);
      if (r.rank == 2) continue;
      EXPECT_LT(c.ranks[2].communication_us_per_step, r.communication_us_per_step);
      EXPECT_GT(c.ranks[2].compute_us_per_step, r.compute_us_per_step);
      EXPECT_EQ(r.slow_votes, 0u);
    }
    EXPECT_LT(c.step_skew_pct, 0.1);
    EXPECT_GT(c.ranks[2].stall_us_per_step, c.ranks[0].stall_us_per_step) << "its slower CMOs stall longer";
    EXPECT_EQ(c.ranks[2].audit.sites.size(), 5u);
  }
}

TEST(ClusterAudit, ReadsTheRanksTwoAtATimeWithTheSameResult) {
  const Scenario s = qwen3_8b_t16();
  TempDir tmp;
  const std::string dir = export_cluster(s, tmp, "torch_npu", "text", 1);
  const auto locations = find_profiles(dir);
  const ClusterAudit one = audit_cluster(locations, dir, nullptr, s.cap_reading, {}, 1);
  const ClusterAudit two = audit_cluster(locations, dir, nullptr, s.cap_reading, {}, 2);
  ASSERT_EQ(one.ranks.size(), two.ranks.size());
  for (size_t i = 0; i < one.ranks.size(); ++i) {
    EXPECT_EQ(one.ranks[i].slow_votes, two.ranks[i].slow_votes);
    EXPECT_EQ(one.ranks[i].step_us, two.ranks[i].step_us);
  }
  EXPECT_EQ(one.slowest, two.slowest);
  EXPECT_EQ(one.ranks[static_cast<size_t>(one.slowest)].rank, 1);
}

TEST(ModelCheck, AProfileOfAnotherModelIsRefusedNamingTheFirstLinearThatDoesNotFit) {
  const Scenario s8 = qwen3_8b_t16();
  ScenarioInputs in;
  in.model = "Qwen3-32B";
  in.deployment.num_tokens = 16;
  in.use_process_env = false;
  const Scenario s32 = load_scenario(in);
  TempDir tmp;
  ProfileExportOptions o;
  write_profile_directory(tmp.path + "/p", export_profile(s8, o));
  const Profile p = load_profile(tmp.path + "/p");
  EXPECT_EQ(check_model_fits(p, s8.plan), std::nullopt);
  const std::string e = test::error_of([&] { check_model_fits(p, s32.plan); });
  EXPECT_PRED2(test::contains, e, "does not fit Qwen3-32B at TP4");
  EXPECT_PRED2(test::contains, e, "qkv_proj");  // the layer's first matmul
  EXPECT_PRED2(test::contains, e, "1536x4096");  // the 8B's qkv_proj per rank, among the profile's weights
  // The same model at another TP: its per-rank shapes do not fit either.
  in.model = "Qwen3-8B";
  in.deployment.tensor_parallel = 2;
  EXPECT_PRED2(test::contains, test::error_of([&] { check_model_fits(p, load_scenario(in).plan); }), "at TP2");
}

TEST(ModelCheck, WeightsFitInEitherOrientationAndInFractalNz) {
  Linear l;
  l.name = "x";
  l.out_features = 1536;
  l.in_features = 4096;
  EXPECT_TRUE(weight_fits(weight_dims("16,4096;1536,4096"), l));
  EXPECT_TRUE(weight_fits(weight_dims("16,4096;4096,1536"), l));
  EXPECT_FALSE(weight_fits(weight_dims("16,4096;4096,1536"), l, /*transposed=*/false));
  // FRACTAL_NZ int8: (K / 32, N / 16, 16, 32).
  EXPECT_TRUE(weight_fits(weight_dims("16,4096;128,96,16,32"), l));
  EXPECT_FALSE(weight_fits(weight_dims("16,4096;1536,4095"), l));
  EXPECT_TRUE(weight_dims("16,4096").empty());
}

}  // namespace
}  // namespace pt
