#pragma once
// analyze on a cluster: every rank's profile (one run directory per rank, text or DB), read two at
// a time and audited as a single profile is, then compared as msprof-analyze's slow_rank recipe
// compares them: for each collective (the same op name on every rank), the rank that spent the
// least time in it is the one the others waited for; an outlier of that list (Dixon's test up to
// 100 ranks, three standard deviations beyond) gets a vote. The rank with the most votes is the
// slowest; the skew of the ranks' step times says how much it costs.
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "analyze/prefetch_audit.h"
#include "profile/profile_readers.h"

namespace pt {

struct RankAudit {
  int rank = -1;
  std::string run_dir;
  size_t tasks = 0;
  size_t steps = 0;
  size_t cmo_count = 0;
  double step_us = 0;                    // median over the steps of the compute stream's span
  double compute_us_per_step = 0;        // the compute tasks of the compute stream (cube, vector, AI CPU)
  double communication_us_per_step = 0;  // time in collectives
  double stall_us_per_step = 0;          // what the CMOs' joins cost the compute stream
  size_t slow_votes = 0;                 // collectives in which this rank was the outlier the others waited for
  Audit audit;                           // its per-site audit (CMO rows dropped)
};

struct ClusterAudit {
  std::string source;
  std::vector<RankAudit> ranks;          // in rank order
  size_t collectives = 0;                // collectives (per group and op name) compared across three or more ranks
  size_t groups_left_out = 0;            // communication groups whose op names occur unequally often
  int slowest = -1;                      // index into ranks
  std::string slowest_basis;             // "votes" or "step time"
  double step_skew_pct = 0;              // (longest - shortest) / mean of the ranks' step times
  std::vector<std::string> notes;
};

// Reads and audits every rank (`threads` at a time, each profile freed once audited). `plan_of`
// gives the plan to match a rank's CMOs against (nullptr: none), from that rank's profile (it may
// infer the token count from the first one and check the model's shapes; it is called from the
// reading threads).
struct AuditModel {
  const StepPlan* plan = nullptr;
  const WeightPrefetchConfig* config = nullptr;
};
using PlanOf = std::function<AuditModel(const Profile&)>;
ClusterAudit audit_cluster(const std::vector<ProfileLocation>& ranks, const std::string& source, const PlanOf& plan_of,
                           CapReading cap_reading, const AuditOptions& options, int threads);

// msprof-analyze's slow_rank test on one collective's times over the ranks: the indices of the
// outliers (Dixon's Q at 99.5 % for up to 100 values, mean - 3 sigma beyond).
std::vector<size_t> slow_rank_outliers(const std::vector<double>& times);

// One collective op of one rank, as the vote groups them: hashes of its communication group and
// op name, and its duration. Sends and receives are none (slow_rank leaves them out).
struct CollectiveTime {
  uint64_t group = 0, name = 0;
  float us = 0;
};
std::optional<CollectiveTime> collective_time(const ProfileTask& t);

// slow_rank's vote over the ranks' collectives (slow_rank.py grouping_ops, analysis): per group,
// per op name, the outliers of the times; a group whose op names occur unequally often (a rank
// lacks some) is left out. `votes[i]` counts rank i's outlier ops.
struct SlowRankVote {
  std::vector<size_t> votes;
  size_t compared = 0;         // (group, op name) lists of three ranks or more
  size_t groups_left_out = 0;
};
SlowRankVote slow_rank_vote(const std::vector<std::vector<CollectiveTime>>& per_rank);

}  // namespace pt
