#pragma once
// A run of several steps on one or several ranks, as export-profile writes it: each step on each
// rank is simulated with the hardware rates spread a little (deterministic jitter), and on a
// cluster each collective ends on every rank of its group when the last rank has arrived (the
// others wait inside it, as HCCL reports the wait as part of the collective).
//
// Steps are handed to a callback one at a time (all ranks of the step together), so a run of a
// thousand steps on sixteen ranks never holds more than one step's timelines.
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "sim/scenario.h"
#include "sim/simulator.h"
#include "sim/step_plan.h"

namespace pt {

struct RunOptions {
  int steps = 1;
  double jitter_pct = 0;  // per-step (and per-rank) spread of the hardware rates, deterministic from `seed`
  uint64_t seed = 1;
  double step_gap_us = 150;  // host time between steps
  int ranks = 1;             // 1 (rank 0 alone) or every TP x DP rank of the deployment
  // One rank slower than the others (its HBM bandwidth and efficiencies lower by slow_pct %), as a
  // rank with a throttled die, to see what a cluster's slowest rank costs the others. -1: none.
  int slow_rank = -1;
  double slow_pct = 0;
};

// A collective op of the plan, with what the profilers report about it.
struct CollectiveOp {
  std::string pattern;    // all_reduce, all_gather, reduce_scatter, all_to_all
  int group_size = 1;     // ranks taking part
  std::string group;      // "tp", "dp", "world", or "block<N>" (consecutive ranks)
  double bytes = 0;       // the template's bytes (the buffer)
  double transit_bytes = 0;  // bytes this rank sends: factor x bytes (2(n-1)/n for all-reduce, (n-1)/n else)
};

// The collective behind an op of a layer type (-1: the step ops), or nullptr when the op is none.
struct CollectiveTable {
  std::vector<std::vector<CollectiveOp>> by_layer_type;  // [layer type][op]; pattern empty when not a collective
  std::vector<CollectiveOp> step_ops;
  const CollectiveOp* find(int layer_type, int op) const;
};
CollectiveTable collective_table(const StepPlan& plan, const LayerTemplate& layer_template, int tp, int dp);

// The ranks of `rank`'s group for a collective (sorted, `rank` among them).
std::vector<int> group_ranks(const CollectiveOp& op, int rank, int tp, int dp);

struct RankStep {
  int rank = 0;
  const StepPlan* plan = nullptr;  // the (jittered) plan this rank ran the step with
  StepResult result;               // timeline relative to the step's start
  // Per timeline event (same index): the part of a collective's duration spent waiting for the
  // other ranks (0 elsewhere).
  std::vector<double> collective_wait_us;
  double step_time_us = 0;         // end of the last compute-stream task
};

struct RunStep {
  int step = 1;            // 1-based
  double start_us = 0;     // device start of the step, relative to the run's start
  std::vector<RankStep> ranks;
};

// InputError for bad options (steps 1..1000, jitter 0..50 %, ranks 1 or TP x DP, a slow rank among
// them slowed by 0..90 %).
void validate_run_options(const RunOptions& options, const Deployment& deployment);

// Simulates the run step by step; `on_step` sees each step once, in order.
void simulate_run(const Scenario& scenario, const RunOptions& options, const std::function<void(const RunStep&)>& on_step);

}  // namespace pt
