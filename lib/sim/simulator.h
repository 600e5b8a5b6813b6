#pragma once
// The two-stream simulation: the compute stream runs the planned ops in order; one prefetch stream
// runs CMO tasks in FIFO order; HBM is shared between the running op and the running CMO.
//
// The rules, as vllm-ascend's prefetch_preprocess / prefetch_postprocess make them:
//   fork   the compute stream records an event (fork_us); the prefetch stream waits for it, then
//          runs the CMO: its own set-up (cmo_setup_us, also when queued behind another), then the
//          bytes at cmo_GBps while HBM allows.
//   join   the compute stream waits for everything queued on the prefetch stream so far
//          (wait_stream), once per wait point (join_us); a site without a wait of its own is
//          covered by the next wait on the stream, or by the end of the step.
//   hit    an op reads the part of its weight that has landed in L2 from L2; when it runs while
//          the CMO of its own weight is still in flight it reads the landed bytes from L2 and the
//          rest from HBM, sharing HBM with the CMO, and gains nothing more once it has caught up
//          with the prefetch front.
//   L2     a CMO moves every byte it was asked for; what stays resident is bounded by the L2 not
//          held by other prefetches waiting for their matmul. Nothing prefetched survives into
//          the next decoder layer (a layer streams more weight than L2 holds).
#include <memory>
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
  int site = -1;         // index into the layer type's sites (CMO and events; the last site joined for a wait)
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

// What set the bytes a site asks for.
enum class IssueLimit {
  kRatio,        // int(ratio x weight bytes)
  kWeight,       // the whole weight at ratio 1
  kWholeTensor,  // max_size <= 0 (ratio 0, missing or dropped key, or a ratio too small for a byte): the whole tensor, uncapped
  kCapCode,      // the cap vllm-ascend's code applies on this path
  kCapGuide,     // the guide's 18 MiB on every prefetch (--cap guide)
  kLegacyBytes,  // a byte size from the legacy MLP variables
  kL2,           // more than L2 could keep: the earliest lines were evicted
};
const char* issue_limit_name(IssueLimit l);

// How a site's CMO is waited for.
enum class JoinKind { kOwn, kNextWait, kStepEnd, kNone, kInline };
const char* join_kind_name(JoinKind k);

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
  IssueLimit limit = IssueLimit::kRatio;
  std::vector<std::string> window_ops;  // ops the compute stream runs between the fork and the wait
  bool on_compute_stream = false;
  JoinKind join = JoinKind::kOwn;
  bool race = false;        // its target ran while the CMO was still in flight
  double window_us = 0;     // fork to the wait that covers it
  double prefetch_us = 0;   // CMO slice (set-up included)
  double overlap_us = 0;    // CMO time under compute-stream ops before the wait
  double overlap_pct = 0;
  double stall_us = 0;      // compute-stream wait attributed to this CMO (in-line CMOs: their whole duration)
  double hit_bytes = 0;     // weight bytes its target read from L2 thanks to this CMO
  double refetched_bytes = 0;  // bytes another site had already put in L2 for the same weight
  double matmul_saved_us = 0;
  double vector_slowdown_us = 0;  // HBM contention this CMO caused (any op, any layer it ran under)
  double vector_slowdown_pct = 0;
  double fork_join_us = 0;  // event record and its share of the wait's cost
  double unfused_quant_us = 0;  // the quantize that the norm-quant fusion would have absorbed
  double net_gain_us = 0;   // per layer: saved - stall - slowdown - fork/join - unfused quant
};

struct StepResult {
  double step_time_us = 0;
  double step_ops_us = 0;
  std::vector<double> layer_time_us;
  std::vector<SiteSummary> sites;
  std::vector<TimelineEvent> timeline;
  std::vector<L2Sample> l2_samples;
  double peak_l2_bytes = 0;
  double end_of_step_wait_us = 0;  // graph mode: the wait for CMOs no wait of theirs covered
  double unjoined_leftover_us = 0; // eager: CMO time still running when the step's compute ends
};

struct SimOptions {
  CapReading cap_reading = CapReading::kCode;
  bool record_timeline = false;
};

StepResult simulate_step(const StepPlan& plan, const WeightPrefetchConfig& config, const SimOptions& options);

// Step time only: same engine, no summaries or timeline. Each layer type is simulated once and
// counted once per layer of that type when every layer leaves the prefetch stream idle (then
// layers are independent); otherwise every layer is simulated. Equals
// simulate_step(...).step_time_us.
double simulate_step_time(const StepPlan& plan, const WeightPrefetchConfig& config, CapReading cap_reading);

// Time of ops [begin_op, end_op) of one layer type (-1: the step ops) run from idle streams, with
// L2 holding the full bytes of `carried_sites` (sites forked and waited for before begin_op whose
// matmul comes later), and whether it ended with nothing in flight: only then is the segment
// independent of the rest of the step (the search's building block).
struct SegmentTime {
  double time_us = 0;
  bool closed = true;
};
SegmentTime simulate_segment(const StepPlan& plan, const WeightPrefetchConfig& config, CapReading cap_reading,
                             int layer_type, size_t begin_op, size_t end_op, const std::vector<int>& carried_sites = {});

// simulate_segment for many configs of one plan, reusing the engine between runs.
class SegmentRunner {
 public:
  SegmentRunner(const StepPlan& plan, CapReading cap_reading);
  ~SegmentRunner();
  SegmentRunner(const SegmentRunner&) = delete;
  SegmentRunner& operator=(const SegmentRunner&) = delete;
  SegmentTime run(const WeightPrefetchConfig& config, int layer_type, size_t begin_op, size_t end_op,
                  const std::vector<int>& carried_sites = {});

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Bytes a site asks for and gets before L2 space is considered, and what set the amount.
struct IssuePlan {
  bool on = false;          // the site issues a CMO with this config
  double ratio = 0;
  double requested_bytes = 0;
  double issued_bytes = 0;
  IssueLimit limit = IssueLimit::kRatio;
};
IssuePlan plan_issue(const PlannedSite& site, const WeightPrefetchConfig& config, CapReading cap_reading,
                     const Semantics& semantics);

}  // namespace pt
