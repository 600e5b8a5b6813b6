#pragma once
// analyze: the check the vllm-ascend guide asks users to do by eye, done on the profile. For each
// CMO (prefetch) task: what compute it overlapped, the vector work it hid behind, whether it ended
// after that work and by how much (the stall the next matmul sees), and which site it belongs to.
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "profile/profile.h"
#include "sim/simulator.h"
#include "sim/step_plan.h"

namespace pt {

struct StreamSummary {
  int64_t stream_id = -1;
  std::string role;  // compute, prefetch, communication, other
  size_t tasks = 0;
  std::map<std::string, size_t> tasks_by_core;
  double busy_us = 0;  // union of task intervals
  double span_us = 0;  // first start to last end
  size_t idle_gaps = 0;  // gaps longer than the threshold
  double idle_us = 0;
  double max_gap_us = 0;
};

struct CmoAudit {
  size_t index = 0;
  int64_t step = -1;
  int layer = -1;          // when the profile says (prefetch-tuner exports) or the order reveals it
  int64_t stream_id = -1;
  double start_us = 0, duration_us = 0;
  bool on_compute_stream = false;
  std::vector<std::string> overlapped_ops;  // compute-stream ops running during the CMO
  double overlap_us = 0, overlap_pct = 0;
  std::string fork_op;     // compute op that ended last before the CMO started
  std::string window_op;   // the vector work it hides behind: the last op before the next matmul
  double window_end_us = 0;
  double window_us = 0;    // fork to window end: the time the compute stream gives the prefetch
  bool window_inferred = false;  // no fork/join event in the profile: the window is the audit's guess
  double hide_us = 0;      // CMO start to window end: the time the transfer itself has
  std::string next_matmul;
  double next_matmul_start_us = -1;
  double late_us = 0;      // CMO end - window end; > 0: ended after its vector op
  double stall_us = 0;     // max(0, late_us): what the next matmul waits
  std::string site;        // "mlp.down", or "?" when it cannot be told
  std::string site_source; // profile, signature, window, none
  double bytes = 0;        // prefetched bytes when known (profile, or the model's config)
  double GBps = 0;
};

struct SiteAudit {
  std::string site;
  size_t count = 0;
  double duration_median_us = 0, duration_p10_us = 0, duration_p90_us = 0;
  double window_median_us = 0;
  bool window_inferred = false;  // every CMO's window inferred (no fork/join events)
  double hide_median_us = 0;
  double late_median_us = 0, late_max_us = 0;
  double stall_per_step_us = 0;
  double overlap_median_pct = 0;
  double late_fraction = 0;  // share of its CMOs that ended after their window
  double bytes = 0;          // typical bytes per CMO when known
  double GBps_median = 0;
  double weight_bytes = 0;   // when the model is known
  std::optional<double> current_ratio;
  std::optional<double> suggested_ratio;  // makes the median CMO end with its median window
  std::string suggestion;
};

struct AuditOptions {
  double idle_gap_threshold_us = 1.0;
};

struct Audit {
  std::string source;
  size_t steps = 1;
  std::vector<StreamSummary> streams;
  int64_t compute_stream = -1;
  std::vector<CmoAudit> cmos;   // may be dropped once summarized (a cluster's ranks): cmo_count stays
  size_t cmo_count = 0;
  std::vector<SiteAudit> sites;
  std::vector<std::string> notes;
  bool has_cmo() const { return cmo_count > 0; }
};

// `plan`/`config` (optional) let CMOs be matched to the model's sites and give the bytes and
// weights behind the suggested ratios.
Audit audit_profile(const Profile& profile, const StepPlan* plan, const WeightPrefetchConfig* config,
                    CapReading cap_reading, const AuditOptions& options = {});

// The linear a matmul task runs, by its weight's shape ("M,K;N,K" or grouped "M,K;E,K,N"); "" for
// none of the plan's linears (or a task without shapes).
std::string matmul_linear(const ProfileTask& task, const StepPlan& plan);

// The token count of the run, read from the matmuls' first input dimension (the most common M).
std::optional<int> infer_num_tokens(const Profile& profile);

double percentile(std::vector<double> v, double q);

}  // namespace pt
