#include "analyze/cluster_audit.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <map>
#include <set>
#include <unordered_map>

#include <fmt/format.h>

namespace pt {

namespace {

// One-sided Dixon critical values at 99.5 % for n = 3 .. 100, as msprof-analyze's slow_rank uses
// them (msprof-analyze 8399c1cd:msprof_analyze/cluster_analyse/recipes/slow_rank/dixon_table.py).
constexpr double kDixon995[] = {
    0.994, 0.920, 0.823, 0.744, 0.680, 0.723, 0.676, 0.638, 0.707, 0.675, 0.649, 0.672, 0.649, 0.629, 0.611, 0.595, 0.580,
    0.568, 0.556, 0.545, 0.536, 0.526, 0.519, 0.510, 0.503, 0.496, 0.489, 0.484, 0.478, 0.473, 0.468, 0.463, 0.458, 0.454,
    0.450, 0.446, 0.442, 0.439, 0.435, 0.432, 0.429, 0.425, 0.423, 0.420, 0.417, 0.414, 0.412, 0.409, 0.407, 0.405, 0.402,
    0.400, 0.398, 0.396, 0.394, 0.392, 0.391, 0.388, 0.387, 0.385, 0.383, 0.382, 0.380, 0.379, 0.377, 0.376, 0.374, 0.372,
    0.371, 0.370, 0.368, 0.368, 0.366, 0.365, 0.364, 0.363, 0.361, 0.360, 0.359, 0.358, 0.356, 0.356, 0.355, 0.353, 0.352,
    0.352, 0.351, 0.350, 0.349, 0.348, 0.347, 0.346, 0.345, 0.344, 0.344, 0.343, 0.341, 0.341};
constexpr size_t kMaxDixon = 100;

size_t index_of(const std::vector<double>& v, double x) { return static_cast<size_t>(std::find(v.begin(), v.end(), x) - v.begin()); }

// slow_rank.py judge_dixon.
std::vector<size_t> judge_dixon(const std::vector<double>& times) {
  const size_t n = times.size();
  if (n < 3) return {};
  std::vector<double> s = times;
  std::sort(s.begin(), s.end());
  if (std::set<double>(s.begin(), s.end()).size() <= 3) return {};
  auto ratio = [&](size_t lo, size_t hi) {  // (s[lo] - s[0]) / (s[hi] - s[0])
    const double d = s[hi] - s[0];
    return d != 0 ? (s[lo] - s[0]) / d : 0.0;
  };
  const double flag = n <= 7 ? ratio(1, n - 1) : n <= 10 ? ratio(1, n - 2) : n <= 13 ? ratio(2, n - 2) : ratio(2, n - 3);
  if (flag > kDixon995[n - 3]) return {index_of(times, s[0])};
  return {};
}

// slow_rank.py judge_norm: below mean - 3 sigma, and the fastest when one is above mean + 3 sigma.
std::vector<size_t> judge_norm(const std::vector<double>& times) {
  const double n = static_cast<double>(times.size());
  double mean = 0, var = 0;
  for (double t : times) mean += t / n;
  for (double t : times) var += (t - mean) * (t - mean) / n;
  const double sd = std::sqrt(var), low = mean - 3 * sd, high = mean + 3 * sd;
  std::vector<size_t> out;
  for (size_t i = 0; i < times.size(); ++i) {
    if (times[i] < low) out.push_back(i);
  }
  const double t_max = *std::max_element(times.begin(), times.end()), t_min = *std::min_element(times.begin(), times.end());
  if (t_max > high) {
    const size_t i = index_of(times, t_min);
    if (std::find(out.begin(), out.end(), i) == out.end()) out.push_back(i);
  }
  return out;
}

// The compute stream's span per step, and their median.
double median_step_us(const Profile& p, int64_t compute_stream, size_t& steps) {
  std::map<int32_t, std::pair<double, double>> spans;
  for (const auto& t : p.tasks) {
    if (t.stream_id != compute_stream || t.is_cmo() || t.is_event()) continue;
    auto [it, fresh] = spans.emplace(t.step_id, std::make_pair(t.start_us, t.end_us()));
    if (!fresh) {
      it->second.first = std::min(it->second.first, t.start_us);
      it->second.second = std::max(it->second.second, t.end_us());
    }
  }
  steps = spans.size();
  std::vector<double> v;
  for (const auto& [step, span] : spans) v.push_back(span.second - span.first);
  return percentile(v, 0.5);
}

}  // namespace

std::vector<size_t> slow_rank_outliers(const std::vector<double>& times) {
  return times.size() <= kMaxDixon ? judge_dixon(times) : judge_norm(times);
}

std::optional<CollectiveTime> collective_time(const ProfileTask& t) {
  if (t.name.find("send") != std::string_view::npos || t.name.find("receive") != std::string_view::npos) return std::nullopt;
  const std::hash<std::string_view> h;
  return CollectiveTime{h(t.site), h(t.name), static_cast<float>(t.duration_us)};
}

SlowRankVote slow_rank_vote(const std::vector<std::vector<CollectiveTime>>& per_rank) {
  SlowRankVote vote;
  vote.votes.assign(per_rank.size(), 0);
  std::unordered_map<uint64_t, std::unordered_map<uint64_t, std::vector<std::pair<size_t, double>>>> by_group;
  for (size_t i = 0; i < per_rank.size(); ++i) {
    for (const auto& c : per_rank[i]) by_group[c.group][c.name].emplace_back(i, c.us);
  }
  for (auto& [group, ops] : by_group) {
    std::set<size_t> counts;
    for (const auto& [name, list] : ops) counts.insert(list.size());
    if (counts.size() > 1) {
      ++vote.groups_left_out;
      continue;
    }
    for (auto& [name, list] : ops) {
      if (list.size() < 3) continue;  // no outlier among two
      ++vote.compared;
      std::vector<double> times;
      for (const auto& [rank, us] : list) times.push_back(us);
      for (size_t k : slow_rank_outliers(times)) ++vote.votes[list[k].first];
    }
  }
  return vote;
}

ClusterAudit audit_cluster(const std::vector<ProfileLocation>& locations, const std::string& source, const PlanOf& plan_of,
                           CapReading cap_reading, const AuditOptions& options, int threads) {
  ClusterAudit cluster;
  cluster.source = source;
  cluster.ranks.resize(locations.size());
  std::vector<std::vector<CollectiveTime>> collectives(locations.size());
  for_each_profile(locations, source, threads, [&](size_t i, Profile& p) {
    RankAudit& r = cluster.ranks[i];
    r.rank = p.rank;
    r.run_dir = locations[i].run_dir;
    r.tasks = p.tasks.size();
    const AuditModel model = plan_of ? plan_of(p) : AuditModel{};
    r.audit = audit_profile(p, model.plan, model.config, cap_reading, options);
    r.audit.notes.insert(r.audit.notes.begin(), p.notes.begin(), p.notes.end());
    r.cmo_count = r.audit.cmos.size();
    r.step_us = median_step_us(p, r.audit.compute_stream, r.steps);
    const double steps = static_cast<double>(std::max<size_t>(1, r.steps));
    for (const auto& t : p.tasks) {
      if (t.stream_id == r.audit.compute_stream && t.is_compute()) r.compute_us_per_step += t.duration_us / steps;
    }
    double stall = 0;
    for (const auto& c : r.audit.cmos) stall += c.stall_us;
    r.stall_us_per_step = stall / steps;
    r.audit.cmos.clear();
    r.audit.cmos.shrink_to_fit();
    // Its collectives (the trace's HCCL lanes, kernel_details or the database list, else the
    // device tasks).
    auto add = [&](const ProfileTask& t) {
      if (!t.is_communication()) return;
      r.communication_us_per_step += t.duration_us / steps;
      if (auto c = collective_time(t)) collectives[i].push_back(*c);
    };
    if (!p.collectives.empty()) {
      for (const auto& t : p.collectives) add(t);
    } else {
      for (const auto& t : p.tasks) add(t);
    }
  });
  if (cluster.ranks.empty()) return cluster;

  SlowRankVote vote = slow_rank_vote(collectives);
  collectives = {};
  for (size_t i = 0; i < cluster.ranks.size(); ++i) cluster.ranks[i].slow_votes = vote.votes[i];
  cluster.collectives = vote.compared;
  cluster.groups_left_out = vote.groups_left_out;

  // The slowest: most votes; without any, the longest step.
  size_t best = 0;
  for (size_t i = 1; i < cluster.ranks.size(); ++i) {
    const auto& a = cluster.ranks[i];
    const auto& b = cluster.ranks[best];
    if (a.slow_votes > b.slow_votes || (a.slow_votes == b.slow_votes && a.step_us > b.step_us)) best = i;
  }
  cluster.slowest = static_cast<int>(best);
  cluster.slowest_basis = cluster.ranks[best].slow_votes > 0 ? "votes" : "step time";
  double lo = 1e300, hi = -1e300, mean = 0;
  for (const auto& r : cluster.ranks) {
    lo = std::min(lo, r.step_us);
    hi = std::max(hi, r.step_us);
    mean += r.step_us / static_cast<double>(cluster.ranks.size());
  }
  cluster.step_skew_pct = mean > 0 ? 100.0 * (hi - lo) / mean : 0;
  if (cluster.groups_left_out > 0) {
    cluster.notes.push_back(fmt::format("{} communication group(s) left out of the vote: their op names do not occur equally often "
                                        "(a rank lacks some), as msprof-analyze's slow_rank leaves them out",
                                        cluster.groups_left_out));
  }
  if (cluster.collectives == 0) {
    // A std::string object, not a literal: gcc 12 -O2 warns (-Warray-bounds, a false positive)
    // on a long literal built in place inside push_back.
    static const std::string kNoCollective = "no collective op to compare across ranks: ranks compared by step time only";
    cluster.notes.push_back(kNoCollective);
  } else if (cluster.ranks[best].slow_votes == 0) {
    cluster.notes.push_back(fmt::format("no rank is an outlier in any of the {} collectives (msprof-analyze's slow_rank test): "
                                        "the slowest is the one with the longest step",
                                        cluster.collectives));
  }
  return cluster;
}

}  // namespace pt
