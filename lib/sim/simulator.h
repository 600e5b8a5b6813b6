#pragma once
// The two-stream simulation: compute stream running the planned ops, one prefetch stream running
// CMO tasks in FIFO order, HBM shared between the op and the CMO whenever both are active.
#include <string>
#include <vector>

#include "config/prefetch_config.h"
#include "sim/step_plan.h"

namespace pt {

// "code": caps only where vllm-ascend's code applies them (MLP 18 MiB, MLA o_proj 16 MiB).
// "guide": 18 MiB on every prefetch, as the weight prefetch guide states.
enum class CapReading { kCode, kGuide };
CapReading parse_cap_reading(const std::string& text);
const char* cap_reading_name(CapReading c);

constexpr int kComputeStreamId = 2;
constexpr int kPrefetchStreamId = 3;

enum class EventKind { kOp, kCmo, kEventRecord, kEventWait };

struct TimelineEvent {
  EventKind kind = EventKind::kOp;
  int layer = -1;        // -1 for step ops
  int layer_type = -1;
  int op = -1;           // index into the layer type's ops (kOp)
  int site = -1;         // index into the layer type's sites (CMO and events)
  int stream = kComputeStreamId;
  double start_us = 0;
  double duration_us = 0;
  double wait_us = 0;    // gap since the previous task on the same stream ended
  double stall_us = 0;   // EVENT_WAIT: time the compute stream waited for the prefetch
  double bytes = 0;      // CMO: bytes prefetched
  double l2_read_bytes = 0;  // op: weight bytes read from L2
  double hbm_bytes = 0;
  double standalone_us = 0;  // op alone on the chip, nothing in L2
};

struct L2Sample {
  double time_us = 0;
  double bytes = 0;  // prefetched bytes held in L2
};

// One prefetch site over the layers where it occurs (means per layer).
struct SiteSummary {
  std::string site;
  std::string layer_type;
  std::string linear;
  std::string config_key;   // ratio key, or "enabled" for fixed-ratio sites
  bool active = false;
  std::string reason;       // why it does not fire
  double ratio = 0;
  int layers = 0;
  double weight_bytes = 0;
  double requested_bytes = 0;
  double issued_bytes = 0;
  std::string limit;        // what set issued_bytes: ratio, cap (code), cap (guide), weight, L2
  std::vector<std::string> window_ops;
  bool on_compute_stream = false;
  double window_us = 0;
  double prefetch_us = 0;
  double overlap_us = 0;
  double overlap_pct = 0;
  double stall_us = 0;
  double matmul_saved_us = 0;
  double vector_slowdown_us = 0;
  double vector_slowdown_pct = 0;
  double net_gain_us = 0;   // per layer: saved - stall - slowdown - fork/join and in-line CMO cost
};

struct StepResult {
  double step_time_us = 0;
  double step_ops_us = 0;
  std::vector<double> layer_time_us;
  std::vector<SiteSummary> sites;
  std::vector<TimelineEvent> timeline;
  std::vector<L2Sample> l2_samples;
  double peak_l2_bytes = 0;
};

struct SimOptions {
  CapReading cap_reading = CapReading::kCode;
  bool record_timeline = false;
};

StepResult simulate_step(const StepPlan& plan, const WeightPrefetchConfig& config, const SimOptions& options);

// Step time only: same engine, no summaries or timeline. Each layer type is simulated once and
// counted once per layer of that type; layers start from idle streams and empty L2, so this
// equals simulate_step(...).step_time_us.
double simulate_step_time(const StepPlan& plan, const WeightPrefetchConfig& config, CapReading cap_reading);

// Time of ops [begin_op, end_op) of one layer type (-1: the step ops) run from idle streams. A
// range no site crosses is independent of the rest of the layer (the search's building block).
double simulate_segment_time(const StepPlan& plan, const WeightPrefetchConfig& config, CapReading cap_reading,
                             int layer_type, size_t begin_op, size_t end_op);

// Bytes a site asks for and gets before L2 space is considered, and what set the amount.
struct IssuePlan {
  double ratio = 0;
  double requested_bytes = 0;
  double issued_bytes = 0;
  const char* limit = "ratio";
};
IssuePlan plan_issue(const PlannedSite& site, const WeightPrefetchConfig& config, CapReading cap_reading,
                     double prefetch_cap_bytes);

}  // namespace pt
