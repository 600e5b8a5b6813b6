#include "sim/simulator.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>

#include <fmt/format.h>

#include "util/error.h"

namespace pt {

CapReading parse_cap_reading(const std::string& text) {
  if (text == "code") return CapReading::kCode;
  if (text == "guide") return CapReading::kGuide;
  throw InputError(fmt::format("--cap {}: expected \"code\" (caps where vllm-ascend's code applies them) or \"guide\" "
                               "(18 MiB on every prefetch, as the guide states)", text));
}

const char* cap_reading_name(CapReading c) { return c == CapReading::kCode ? "code" : "guide"; }

const char* issue_limit_name(IssueLimit l) {
  switch (l) {
    case IssueLimit::kRatio: return "ratio";
    case IssueLimit::kWeight: return "weight";
    case IssueLimit::kWholeTensor: return "whole tensor";
    case IssueLimit::kCapCode: return "cap (code)";
    case IssueLimit::kCapGuide: return "cap (guide)";
    case IssueLimit::kLegacyBytes: return "legacy size";
    case IssueLimit::kL2: return "L2";
  }
  return "?";
}

const char* join_kind_name(JoinKind k) {
  switch (k) {
    case JoinKind::kOwn: return "own wait";
    case JoinKind::kNextWait: return "next wait";
    case JoinKind::kStepEnd: return "step end";
    case JoinKind::kNone: return "never";
    case JoinKind::kInline: return "in line";
  }
  return "?";
}

IssuePlan plan_issue(const PlannedSite& site, const WeightPrefetchConfig& config, CapReading cap_reading,
                     const Semantics& semantics) {
  IssuePlan p;
  const double weight = site.weight_bytes;
  p.limit = IssueLimit::kRatio;
  if (site.ratio_key) {
    const KeySetting& k = config[*site.ratio_key];
    // A module is on only while "enabled" is; the legacy MLP variables act without it (v0.15-v0.17).
    p.on = k.on && (config.enabled || k.legacy_bytes.has_value());
    p.ratio = k.ratio;
    if (k.legacy_bytes) {
      p.requested_bytes = *k.legacy_bytes;
      p.limit = IssueLimit::kLegacyBytes;
    } else {
      // vllm-ascend: int(element_size * numel * ratio), the product in float64 as here.
      p.requested_bytes = std::floor(weight * k.ratio);
    }
  } else {
    p.on = config.enabled;  // MLA/SFA: weight_prefetch_config.enabled alone
    p.ratio = site.fixed_ratio;
    p.requested_bytes = std::floor(weight * site.fixed_ratio);
  }
  p.issued_bytes = p.requested_bytes;
  if (site.cap_bytes < p.issued_bytes) {
    p.issued_bytes = site.cap_bytes;
    p.limit = IssueLimit::kCapCode;
  }
  // maybe_npu_prefetch: `if max_size <= 0 or max_size > input_size: max_size = input_size`.
  if (p.issued_bytes <= 0) {
    p.issued_bytes = weight;
    p.limit = IssueLimit::kWholeTensor;
  } else if (p.issued_bytes >= weight) {
    p.issued_bytes = weight;
    if (p.limit == IssueLimit::kRatio) p.limit = IssueLimit::kWeight;
  }
  if (cap_reading == CapReading::kGuide && semantics.mlp_cap_bytes < p.issued_bytes) {
    p.issued_bytes = semantics.mlp_cap_bytes;
    p.limit = IssueLimit::kCapGuide;
  }
  return p;
}

namespace {

constexpr double kEps = 1e-9;
constexpr double kInf = std::numeric_limits<double>::infinity();

// Per (layer type, site), for the whole run: what the config makes it do.
struct SiteSetup {
  IssuePlan issue;
  bool active = false;
};

// Per (layer type, site), summed over every layer of the run.
struct SiteTotals {
  int layers = 0;
  double issued = 0, prefetch = 0, window = 0, overlap = 0, stall = 0, saved = 0, slowdown = 0, fork_join = 0;
  double unfused = 0, hit = 0, refetched = 0, window_base = 0;
  bool race = false, resident_limited = false;
  JoinKind join = JoinKind::kOwn;
};

// One CMO task: on the prefetch stream in FIFO order, or in line on the compute stream.
struct CmoTask {
  int type = -1, site = -1, layer = -1, linear = -1;
  double fork_us = 0;       // the prefetch stream may start it from here (its event wait)
  double dispatch_us = -1;  // the stream reached it: its set-up starts
  double transfer_us = -1;  // bytes start moving
  double bytes = 0;         // asked for; every byte is moved
  double rate_per_us = 0;   // bytes per us with HBM to itself (the profile's rate for this task size)
  double done = 0;
  double resident_cap = 0;  // of `bytes`, what L2 keeps (bounded by the L2 other prefetches hold)
  double prefix_before = 0; // the linear's resident prefix when it was issued (bytes it re-fetches)
  double end_us = -1;
  double wait_start_us = -1;  // when the compute stream began the wait that covered it
  JoinKind join = JoinKind::kNone;
  bool finished() const { return end_us >= 0; }
};

// Per site of the layer being run; reset whole at each layer start.
struct SiteRun {
  int task = -1;            // index into tasks_
  double fork_us = -1;
};

// Per linear of the layer being run: which prefix of its weight sits in L2, landed by whom.
struct LinearL2 {
  struct Range {
    int task = -1;
    double from = 0, to = 0;  // bytes of the weight, from offset 0
  };
  std::vector<Range> ranges;  // landed or landing, in order of offset
  double held = 0;            // resident bytes landed (the L2 counter)
  double reserved = 0;        // what its prefetches will keep once landed (counted against L2 from the fork)
};

class Engine {
 public:
  Engine(const StepPlan& plan, const WeightPrefetchConfig& config, CapReading cap_reading, bool record, bool summaries)
      : plan_(plan), hw_(plan.hardware), cap_reading_(cap_reading), record_(record), summaries_(summaries) {
    hbm_per_us_ = hw_.hbm_GBps * 1e3;
    l2_tau_floor_ = 1.0 / (hw_.l2_GBps * 1e3);
    graph_end_wait_ = plan.deployment.graph_mode && !plan.tokens.eager;
    setup_.resize(plan.layer_types.size());
    totals_.resize(plan.layer_types.size());
    size_t max_sites = 0;
    for (size_t t = 0; t < plan.layer_types.size(); ++t) {
      setup_[t].resize(plan.layer_types[t].sites.size());
      totals_[t].resize(plan.layer_types[t].sites.size());
      max_sites = std::max(max_sites, plan.layer_types[t].sites.size());
    }
    runs_.resize(max_sites);
    l2_.resize(plan.linears.size());
    configure(config);
  }

  // What each site does under `config` (the rest of the engine is reused between configs).
  void configure(const WeightPrefetchConfig& config) {
    for (size_t t = 0; t < plan_.layer_types.size(); ++t) {
      const auto& type = plan_.layer_types[t];
      for (size_t i = 0; i < type.sites.size(); ++i) {
        SiteSetup& s = setup_[t][i];
        s.issue = plan_issue(type.sites[i], config, cap_reading_, plan_.semantics());
        s.active = type.sites[i].gated_on && s.issue.on && s.issue.issued_bytes > 0;
      }
    }
  }

  // Runs ops [begin, end) of a layer from time t with the streams as they are.
  double run_layer(int type_index, int layer, double t, size_t begin = 0, size_t end = static_cast<size_t>(-1)) {
    const PlannedLayerType& type = plan_.type(type_index);
    layer_ = layer;
    type_ = type_index;
    for (auto& r : runs_) r = SiteRun{};
    for (auto& l : l2_) l = LinearL2{};  // nothing prefetched survives a decoder layer
    held_total_ = reserved_total_ = 0;
    // A segment that starts after the wait of earlier prefetches whose matmul is still to come:
    // their bytes sit in L2, landed in full.
    for (int s : carried_) {
      const PlannedSite& site = type.sites[static_cast<size_t>(s)];
      if (!active(s) || site.target_op < 0 || site.on_compute_stream) continue;
      CmoTask k;
      k.type = type_index;
      k.site = s;
      k.layer = layer;
      k.linear = site.linear;
      k.bytes = k.done = k.resident_cap = setup_[static_cast<size_t>(type_)][static_cast<size_t>(s)].issue.issued_bytes;
      k.fork_us = k.dispatch_us = k.transfer_us = k.end_us = t;
      inline_tasks_.push_back(k);
      add_range(k, -static_cast<int>(inline_tasks_.size()));
    }
    carried_.clear();
    const bool sites = type_index >= 0 && !type.sites.empty();
    end = std::min(end, type.ops.size());
    for (size_t i = begin; i < end; ++i) {
      bool consumed = false;  // a prefetch reads the output of the op before this one
      if (sites) {
        for (int s : type.forks_before[i]) {
          if (!active(s)) continue;
          t = fork(type, s, t);
          consumed = true;
        }
      }
      const PlannedOp& op = type.ops[i];
      if (op.fuses_into_norm && !consumed && plan_.norm_quant_fusion != NormQuantFusion::kOff) {
        compute_free_us_ = t;  // fused into the AddRmsNorm before it (AddRmsNormQuant): no op of its own
        continue;
      }
      t = run_op(type, i, t);
      if (sites && op.fuses_into_norm && consumed) {
        // The prefetch's consumer keeps the quantize out of the fusion: its time alone is the
        // site's cost (contention on it is counted as slowdown, like on any op).
        const auto& forks = type.forks_before[i];
        int n = 0;
        for (int s : forks) n += active(s) ? 1 : 0;
        for (int s : forks) {
          if (active(s)) totals(s).unfused += op.standalone_us / n;
        }
      }
      if (sites) {
        // Joins after this op: one wait, for everything queued on the prefetch stream so far.
        std::vector<int> joined;
        for (int s : type.joins_after[i]) {
          if (active(s) && runs_[static_cast<size_t>(s)].task >= 0) joined.push_back(s);
        }
        if (!joined.empty()) t = wait(type_index, joined, t);
      }
    }
    if (type_index >= 0) release_layer_l2(t);
    return t;
  }

  // Step time with each layer type simulated once when every layer closes.
  double run_step_by_type() {
    std::vector<double> type_time(plan_.layer_types.size(), -1.0);
    double t = 0;
    for (int ti : plan_.layer_sequence) {
      double& lt = type_time[static_cast<size_t>(ti)];
      if (lt < 0) {
        reset();
        lt = run_layer(ti, 0, 0.0);
        if (!stream_idle()) return -1;  // a CMO outlives its layer: layers are not independent
      }
      t += lt;
    }
    reset();
    const double head = run_layer(-1, -1, 0.0);
    if (!stream_idle()) return -1;
    return t + head;
  }

  SegmentTime run_segment(int type_index, size_t begin, size_t end, const std::vector<int>& carried) {
    reset();
    carried_ = carried;
    SegmentTime s;
    s.time_us = run_layer(type_index, 0, 0.0, begin, end);
    s.closed = stream_idle();
    return s;
  }

  double run_step() {
    reset();
    double t = 0;
    layer_time_.clear();
    for (size_t l = 0; l < plan_.layer_sequence.size(); ++l) {
      const double start = t;
      t = run_layer(plan_.layer_sequence[l], static_cast<int>(l), t);
      if (summaries_) layer_time_.push_back(t - start);
    }
    const double head_start = t;
    t = run_layer(-1, -1, t);
    step_ops_us_ = t - head_start;
    // CMOs no wait covered: a captured graph must join every forked stream before it ends.
    if (head_ < tasks_.size()) {
      if (graph_end_wait_) {
        const double before = t;
        t = wait_for_all(t, JoinKind::kStepEnd);
        end_of_step_wait_us_ = t - before;
      } else {
        double last = t;
        advance_alone(t, kInf, &last);
        unjoined_leftover_us_ = last - t;
        for (size_t k = head_wait_; k < tasks_.size(); ++k) tasks_[k].join = JoinKind::kNone;
      }
    }
    return t;
  }

  StepResult result(double step_time) {
    StepResult r;
    r.step_time_us = step_time;
    r.step_ops_us = step_ops_us_;
    r.layer_time_us = std::move(layer_time_);
    r.end_of_step_wait_us = end_of_step_wait_us_;
    r.unjoined_leftover_us = unjoined_leftover_us_;
    finish_task_totals();
    // CMO tasks are recorded when they finish; order everything by start time, as a profiler lists it.
    std::stable_sort(timeline_.begin(), timeline_.end(),
                     [](const TimelineEvent& a, const TimelineEvent& b) { return a.start_us < b.start_us; });
    r.timeline = std::move(timeline_);
    r.l2_samples = std::move(l2_samples_);
    r.peak_l2_bytes = peak_l2_;
    for (size_t t = 0; t < plan_.layer_types.size(); ++t) {
      for (size_t s = 0; s < plan_.layer_types[t].sites.size(); ++s) r.sites.push_back(summary(t, s));
    }
    return r;
  }

 private:
  bool active(int s) const { return setup_[static_cast<size_t>(type_)][static_cast<size_t>(s)].active; }
  SiteTotals& totals(int s) { return totals_[static_cast<size_t>(type_)][static_cast<size_t>(s)]; }
  SiteTotals& totals_of(const CmoTask& k) { return totals_[static_cast<size_t>(k.type)][static_cast<size_t>(k.site)]; }
  bool stream_idle() const { return head_ >= tasks_.size(); }

  void reset() {
    tasks_.clear();
    inline_tasks_.clear();
    head_ = head_wait_ = 0;
    stream_free_us_ = compute_free_us_ = 0;
    held_total_ = reserved_total_ = 0;
    for (auto& l : l2_) l = LinearL2{};
  }

  // ---- the prefetch stream ------------------------------------------------------------------

  // The head task's next change at or after t, with the stream otherwise left to itself.
  void dispatch_head() {
    if (head_ >= tasks_.size()) return;
    CmoTask& k = tasks_[head_];
    if (k.dispatch_us < 0) {
      k.dispatch_us = std::max(k.fork_us, stream_free_us_);
      k.transfer_us = k.dispatch_us + hw_.cmo_setup_us;
    }
  }

  bool transferring(double t) {
    dispatch_head();
    return head_ < tasks_.size() && tasks_[head_].transfer_us <= t + kEps;
  }

  // Time until the prefetch stream changes on its own (head starts moving bytes or finishes) at rate r_p.
  double prefetch_event_in(double t, double r_p) {
    dispatch_head();
    if (head_ >= tasks_.size()) return kInf;
    const CmoTask& k = tasks_[head_];
    if (k.transfer_us > t + kEps) return k.transfer_us - t;
    return r_p > 0 ? (k.bytes - k.done) / r_p : kInf;
  }

  // Moves the head's bytes for dt at r_p; finishes it when done.
  void move_prefetch(double t, double dt, double r_p) {
    if (head_ >= tasks_.size()) return;
    CmoTask& k = tasks_[head_];
    if (k.transfer_us > t + kEps) return;
    k.done = std::min(k.bytes, k.done + r_p * dt);
    update_landing(k);
    if (k.bytes - k.done <= kEps * std::max(1.0, k.bytes)) finish_head(t + dt);
  }

  void finish_head(double t) {
    CmoTask& k = tasks_[head_];
    k.done = k.bytes;
    k.end_us = t;
    update_landing(k);
    stream_free_us_ = t;
    if (record_) {
      TimelineEvent e = make_event(EventKind::kCmo, k.type, k.layer, kPrefetchStreamId, k.dispatch_us, t - k.dispatch_us);
      e.site = k.site;
      e.bytes = k.bytes;
      e.hbm_bytes = k.bytes;
      e.standalone_us = hw_.cmo_setup_us + k.bytes / k.rate_per_us;
      timeline_.push_back(e);
    }
    ++head_;
    sample_l2(t);
  }

  // The prefetch stream alone (the compute stream waits or runs no HBM traffic) from t to `until`,
  // or until the task `last_index` has finished; returns the time reached.
  double advance_alone(double t, double until, double* last_end = nullptr, size_t last_index = SIZE_MAX) {
    while (head_ < tasks_.size() && (last_index == SIZE_MAX || head_ <= last_index)) {
      const double rate = tasks_[head_].rate_per_us;
      const double dt = prefetch_event_in(t, rate);
      if (t + dt > until) {
        move_prefetch(t, until - t, rate);
        return until;
      }
      move_prefetch(t, dt, rate);
      t += dt;
      if (last_end) *last_end = t;
    }
    // Nothing (more) to wait for: time still runs to `until` when one is given.
    return std::isfinite(until) && last_index == SIZE_MAX ? std::max(t, until) : t;
  }

  // HBM split between the compute op (demand d_c) and the CMO (demand d_p). Below capacity both get
  // what they ask; above it a weighted arbiter gives each a share in proportion to its demand
  // times its weight (the op 1, the CMO cmo_qos_weight), so a CMO beside a saturating op keeps
  // that fraction of its own rate whatever the rate (the H200 analog's contention rows). The rule
  // is continuous at the capacity.
  void share(double d_c, double d_p, double& r_c, double& r_p) const {
    const double cap = hbm_per_us_;
    if (d_c + d_p <= cap) {
      r_c = d_c;
      r_p = d_p;
      return;
    }
    const double w = hw_.cmo_qos_weight;
    const double share_c = cap * d_c / (d_c + w * d_p);
    if (share_c >= d_c) {  // the op asks less than its share: the CMO takes the rest
      r_c = d_c;
      r_p = std::min(d_p, cap - d_c);
    } else if (cap - share_c >= d_p) {  // the CMO asks less than its share: the op takes the rest
      r_p = d_p;
      r_c = std::min(d_c, cap - d_p);
    } else {
      r_c = share_c;
      r_p = cap - share_c;
    }
  }

  // ---- L2 -------------------------------------------------------------------------------------

  void update_landing(const CmoTask& k) {
    if (k.layer != layer_ || k.linear < 0 || k.type != type_) return;  // landed for a layer that has passed
    LinearL2& l = l2_[static_cast<size_t>(k.linear)];
    for (auto& r : l.ranges) {
      if (r.task == static_cast<int>(&k - tasks_.data())) {
        r.to = k.done;
        r.from = std::max(0.0, k.done - k.resident_cap);
      }
    }
    const auto [lo, hi] = resident(k.linear);
    held_total_ += (hi - lo) - l.held;
    l.held = hi - lo;
    peak_l2_ = std::max(peak_l2_, held_total_);
  }

  // The bytes of the weight that sit in L2, [low, high) from its start; a prefetch longer than the
  // L2 it may hold has lost its earliest lines.
  std::pair<double, double> resident(int linear) const {
    double lo = kInf, hi = 0;
    for (const auto& r : l2_[static_cast<size_t>(linear)].ranges) {
      if (r.to <= r.from) continue;
      lo = std::min(lo, r.from);
      hi = std::max(hi, r.to);
    }
    return hi > 0 ? std::make_pair(lo, hi) : std::make_pair(0.0, 0.0);
  }

  void release_linear(int linear, double t) {
    LinearL2& l = l2_[static_cast<size_t>(linear)];
    if (l.held <= 0 && l.ranges.empty() && l.reserved <= 0) return;
    held_total_ -= l.held;
    reserved_total_ -= l.reserved;
    l = LinearL2{};
    sample_l2(t);
  }

  void release_layer_l2(double t) {
    bool any = false;
    for (auto& l : l2_) any = any || l.held > 0;
    for (auto& l : l2_) l = LinearL2{};
    held_total_ = reserved_total_ = 0;
    if (any) sample_l2(t);
  }

  void sample_l2(double t) {
    if (record_) l2_samples_.push_back({t, std::max(0.0, held_total_)});
  }

  // ---- fork, wait -----------------------------------------------------------------------------

  double fork(const PlannedLayerType& type, int s, double t) {
    const PlannedSite& site = type.sites[static_cast<size_t>(s)];
    const SiteSetup& setup = setup_[static_cast<size_t>(type_)][static_cast<size_t>(s)];
    SiteTotals& tot = totals(s);
    CmoTask k;
    k.type = type_;
    k.site = s;
    k.layer = layer_;
    k.linear = site.target_op >= 0 ? site.linear : -1;  // a weight of another layer gives no hit here
    k.bytes = setup.issue.issued_bytes;
    // L2 keeps what other waiting prefetches leave; of one weight only the longer prefix counts.
    const double own = site.linear >= 0 ? l2_[static_cast<size_t>(site.linear)].reserved : 0;
    k.resident_cap = std::max(0.0, std::min(k.bytes, hw_.l2_size_bytes - (reserved_total_ - own)));
    if (k.resident_cap < k.bytes) tot.resident_limited = true;
    if (site.linear >= 0 && k.resident_cap > own) {
      reserved_total_ += k.resident_cap - own;
      l2_[static_cast<size_t>(site.linear)].reserved = k.resident_cap;
    }
    if (site.linear >= 0) {
      // What of [0, bytes) already sits in L2: fetched again.
      const auto [lo, hi] = resident(site.linear);
      k.prefix_before = std::max(0.0, std::min(hi, k.bytes) - lo);
    }
    k.rate_per_us = hw_.cmo_rate_GBps(k.bytes) * 1e3;
    tot.layers += 1;
    tot.issued += k.bytes;
    runs_[static_cast<size_t>(s)].fork_us = t;
    if (site.on_compute_stream) {
      // MLA/SFA before v0.15: the compute stream runs the CMO itself, fully exposed.
      const double dur = hw_.cmo_setup_us + k.bytes / k.rate_per_us;
      k.fork_us = k.dispatch_us = t;
      k.transfer_us = t + hw_.cmo_setup_us;
      k.done = k.bytes;
      k.end_us = t + dur;
      k.join = JoinKind::kInline;
      inline_tasks_.push_back(k);
      add_range(k, -static_cast<int>(inline_tasks_.size()));
      tot.prefetch += dur;
      tot.stall += dur;
      tot.join = JoinKind::kInline;
      if (record_) {
        TimelineEvent e = make_event(EventKind::kCmo, type_, layer_, kComputeStreamId, t, dur);
        e.site = s;
        e.bytes = k.bytes;
        e.hbm_bytes = k.bytes;
        e.standalone_us = dur;
        e.stall_us = dur;
        timeline_.push_back(e);
      }
      compute_free_us_ = t + dur;
      sample_l2(t + dur);
      return t + dur;
    }
    if (record_) emit_event(EventKind::kEventRecord, s, t, hw_.fork_us, 0);
    t += hw_.fork_us;
    tot.fork_join += hw_.fork_us;
    k.fork_us = t;
    compute_free_us_ = t;
    tasks_.push_back(k);
    runs_[static_cast<size_t>(s)].task = static_cast<int>(tasks_.size() - 1);
    if (k.linear >= 0) add_range(tasks_.back(), static_cast<int>(tasks_.size() - 1));
    return t;
  }

  // Registers the task's landing range on its linear; the in-line kind lands whole at once.
  void add_range(const CmoTask& k, int task_id) {
    if (k.linear < 0) return;
    LinearL2& l = l2_[static_cast<size_t>(k.linear)];
    LinearL2::Range r;
    r.task = task_id;
    r.from = k.end_us >= 0 ? std::max(0.0, k.bytes - k.resident_cap) : 0;
    r.to = k.end_us >= 0 ? k.bytes : 0;
    l.ranges.push_back(r);
    if (k.end_us >= 0) {
      const auto [lo, hi] = resident(k.linear);
      held_total_ += (hi - lo) - l.held;
      l.held = hi - lo;
      if (l.held > l.reserved) {
        reserved_total_ += l.held - l.reserved;
        l.reserved = l.held;
      }
      peak_l2_ = std::max(peak_l2_, held_total_);
    }
  }

  // The compute stream waits for every task queued so far (stream wait semantics).
  double wait(int type_index, const std::vector<int>& joined, double t) {
    (void)type_index;
    const double wait_start = t;
    const size_t last = tasks_.size() - 1;
    for (int s : joined) tasks_[static_cast<size_t>(runs_[static_cast<size_t>(s)].task)].join = JoinKind::kOwn;
    t = wait_until(t, last, JoinKind::kNextWait);
    const double stall = t - wait_start;
    for (int s : joined) totals(s).fork_join += hw_.join_us / static_cast<double>(joined.size());
    if (record_) emit_event(EventKind::kEventWait, joined.back(), wait_start, stall + hw_.join_us, stall);
    t += hw_.join_us;
    compute_free_us_ = t;
    return t;
  }

  double wait_for_all(double t, JoinKind kind) {
    if (tasks_.empty()) return t;
    return wait_until(t, tasks_.size() - 1, kind);
  }

  // Runs the prefetch stream alone until task `last` is done; splits the wait among the tasks that
  // finished after it began, in FIFO order.
  double wait_until(double t, size_t last, JoinKind kind) {
    const double wait_start = t;
    for (size_t k = head_wait_; k <= last; ++k) {
      CmoTask& task = tasks_[k];
      if (task.wait_start_us < 0) task.wait_start_us = wait_start;
      if (task.join == JoinKind::kNone) task.join = kind;
    }
    double prev_end = wait_start;
    while (head_ <= last) {
      const size_t k = head_;
      t = advance_alone(t, kInf, nullptr, k);
      CmoTask& task = tasks_[k];
      const double end = std::max(task.end_us, prev_end);
      if (task.end_us > prev_end) totals_of(task).stall += task.end_us - prev_end;
      prev_end = end;
    }
    head_wait_ = last + 1;
    return std::max(t, wait_start);
  }

  // ---- ops ------------------------------------------------------------------------------------

  // The CMO running now (transferring), or nullptr.
  CmoTask* running(double t) {
    if (!transferring(t)) return nullptr;
    return &tasks_[head_];
  }

  double run_op(const PlannedLayerType& type, size_t i, double t) {
    const PlannedOp& op = type.ops[i];
    const double start = t;
    const double ovh = std::min(op.overhead_us, op.standalone_us);
    // Fixed cost first: no HBM traffic of its own, the prefetch stream runs alone meanwhile.
    t = advance_alone(t, t + ovh);
    const double compute = op.measured ? 0.0 : op.compute_us;
    const double mem_alone = op.memory_us();

    // Which linear's L2 bytes this op reads, in its own weight bytes (touched experts only).
    const int linear = op.linear;
    const double tf = op.touched_fraction;
    const double w_op = linear >= 0 ? op.weight_bytes : 0;
    const bool reads_l2 = linear >= 0 && w_op > 0 && mem_alone > 0 && !type.targets[i].empty();
    const double tau_h = reads_l2 ? mem_alone / w_op : 0;  // alone time per weight byte from HBM
    // The whole-weight saving per byte, shaped by the saving curve along the weight.
    const double full_saving_per_byte = reads_l2 ? op.weight_stream_us() * (1.0 - 1.0 / op.l2_read_speedup) / w_op : 0;
    const double other_hbm = std::max(0.0, op.hbm_bytes - w_op);  // activations, with the weight
    const double d_h = mem_alone > 0 ? op.hbm_bytes / mem_alone : 0;  // bytes per us while reading HBM
    auto tau_l_at = [&](double p) {
      const double f = p / w_op;
      const double slope = hw_.l2_saving_curve.empty() ? (f < 1.0 ? 1.0 : 0.0) : hw_.l2_saving_curve.slope_at(f);
      return std::max(l2_tau_floor_, tau_h - full_saving_per_byte * slope);
    };
    // Where the saving curve changes slope next, in the op's weight bytes.
    auto next_break = [&](double p) {
      if (hw_.l2_saving_curve.empty()) return kInf;
      return hw_.l2_saving_curve.next_break_after(p / w_op + kEps) * w_op;
    };

    double p = 0;           // weight bytes consumed (reads_l2) or memory work done in alone-us (otherwise)
    double l2_bytes = 0;    // weight bytes read from L2
    double l2_alone_us = 0; // their alone time
    double hbm_alone_us = 0;
    std::vector<std::pair<int, double>> loss;  // (task, wall time lost to it)
    auto charge = [&](const CmoTask* k, double wall, double progress_alone) {
      const double lost = wall - progress_alone;
      if (lost <= kEps || !k) return;
      loss.emplace_back(static_cast<int>(k - tasks_.data()), lost);
    };
    int guard = 0;
    while (++guard < 100000) {
      const double remaining = reads_l2 ? w_op - p : mem_alone - p;
      if (remaining <= kEps * std::max(1.0, reads_l2 ? w_op : mem_alone)) break;
      CmoTask* k = running(t);
      const double head_rate = head_ < tasks_.size() ? tasks_[head_].rate_per_us : 0;
      if (!reads_l2) {
        double r_c = d_h, r_p = 0;
        if (k) share(d_h, k->rate_per_us, r_c, r_p);
        const double speed = d_h > 0 ? r_c / d_h : 1.0;
        const double op_dt = remaining / speed;
        const double pf_dt = prefetch_event_in(t, k ? r_p : head_rate);
        const double dt = std::min(op_dt, pf_dt);
        move_prefetch(t, dt, k ? r_p : head_rate);
        p += dt * speed;
        charge(k, dt, dt * speed);
        t += dt;
        continue;
      }
      // Weight-reading op, in weight order: before the resident bytes and past them it reads HBM,
      // inside them L2. A prefetch of this weight still landing moves the front (and, once it holds
      // all the L2 it may, the evicted start) at its own rate.
      const auto [lo_t, hi_t] = resident(linear);
      const double lo = std::min(lo_t * tf, w_op), hi = std::min(hi_t * tf, w_op);
      const bool feeding = k && k->linear == linear && k->layer == layer_ && k->type == type_ && k->done < k->bytes;
      const bool evicting = feeding && k->done > k->resident_cap;
      enum class Mode { kBefore, kL2, kTrack, kPast } mode =
          hi <= lo || p >= hi - kEps ? Mode::kPast : p < lo - kEps ? Mode::kBefore : Mode::kL2;
      const double tau_l = tau_l_at(p);
      const double d_l = tau_l > 0 ? other_hbm / w_op / tau_l : 0;
      double r_c = 0, r_p = 0;
      auto grant = [&](double d_c) {
        r_c = d_c;
        r_p = 0;
        if (k) share(d_c, k->rate_per_us, r_c, r_p);
        return d_c > 0 ? r_c / d_c : 1.0;
      };
      double speed = grant(mode == Mode::kL2 ? d_l : d_h);
      double v_front = feeding ? r_p * tf : 0;  // the prefetch front, in the op's bytes per us
      if (mode == Mode::kPast && feeding && p <= hi + kEps && v_front > speed / tau_h) {
        // At the front, which moves faster than the op could read HBM: it reads each line as it lands.
        mode = Mode::kTrack;
        speed = grant(d_l);
        v_front = r_p * tf;
      }
      const double v_hbm = speed / tau_h;
      const double v_l2 = tau_l > 0 ? speed / tau_l : kInf;
      const double v_op = mode == Mode::kL2 ? v_l2 : mode == Mode::kTrack ? std::min(v_front, v_l2) : v_hbm;
      double op_dt = (w_op - p) / v_op;
      auto limit = [&](double gap, double closing) {
        if (gap > kEps && closing > kEps) op_dt = std::min(op_dt, gap / closing);
      };
      switch (mode) {
        case Mode::kBefore: limit(lo - p, v_op - (evicting ? v_front : 0.0)); break;
        case Mode::kL2:
          limit(hi - p, v_op - (feeding ? v_front : 0.0));           // catches the front
          if (evicting) limit(p - lo, v_front - v_op);                 // the evicted start overtakes it
          limit(next_break(p) - p, v_op);                              // the saving curve bends
          break;
        case Mode::kTrack: limit(next_break(p) - p, v_op); break;
        case Mode::kPast:
          if (feeding) limit(p - hi, v_front - v_op);                  // the front catches up
          break;
      }
      if (!std::isfinite(op_dt)) op_dt = 0;
      const double pf_dt = prefetch_event_in(t, k ? r_p : head_rate);
      const double dt = std::max(0.0, std::min(op_dt, pf_dt));
      move_prefetch(t, dt, k ? r_p : head_rate);
      double dp = std::isfinite(v_op) ? v_op * dt : (mode == Mode::kL2 ? hi - p : 0);
      if (mode == Mode::kL2 && !feeding) dp = std::min(dp, hi - p);
      dp = std::min(dp, w_op - p);
      p += dp;
      if (mode == Mode::kBefore || mode == Mode::kPast) {
        hbm_alone_us += dp * tau_h;
        charge(k, dt, dp * tau_h);
      } else {
        l2_bytes += dp;
        l2_alone_us += dp * tau_l;
        charge(k, dt, dp * tau_l);
      }
      t += dt;
    }
    // Compute floor: no op runs faster than its compute; the prefetch stream goes on meanwhile.
    const double floor_end = start + ovh + compute;
    if (t < floor_end) t = advance_alone(t, floor_end);

    // Alone with the hits it got, and what the prefetch stream cost it.
    const double mem_with_hits = reads_l2 ? l2_alone_us + hbm_alone_us : mem_alone;
    const double alone_with_hits = ovh + std::max(compute, mem_with_hits);
    const double dur = t - start;
    const double lost = std::max(0.0, dur - alone_with_hits);
    double raw = 0;
    for (const auto& [task, w] : loss) raw += w;
    if (summaries_ && lost > 0 && raw > 0) {
      for (const auto& [task, w] : loss) totals_of(tasks_[static_cast<size_t>(task)]).slowdown += lost * w / raw;
    }
    if (reads_l2 && l2_bytes > 0) {
      const double saved = std::max(0.0, op.standalone_us - alone_with_hits);
      attribute_hits(linear, l2_bytes / tf, saved, start);
    }
    if (record_) {
      TimelineEvent e = make_event(EventKind::kOp, type_, layer_, kComputeStreamId, start, dur);
      e.op = static_cast<int>(i);
      e.wait_us = std::max(0.0, start - compute_free_us_);
      e.l2_read_bytes = l2_bytes;
      e.hbm_bytes = std::max(0.0, op.hbm_bytes - l2_bytes);
      e.standalone_us = op.standalone_us;
      timeline_.push_back(e);
    }
    compute_free_us_ = t;
    // The matmul has consumed the prefetched part of its weight: it leaves L2 accounting.
    if (linear >= 0 && !type.targets[i].empty()) release_linear(linear, t);
    return t;
  }

  // Splits the hit (in bytes of the whole tensor) and its saving among the tasks that landed each range.
  void attribute_hits(int linear, double hit, double saved, double t) {
    (void)t;
    if (!summaries_) return;
    const LinearL2& l = l2_[static_cast<size_t>(linear)];
    // The hit is the resident stretch from its low end; the first task to land a byte owns it.
    const double lo = resident(linear).first, end = lo + hit;
    double covered = 0;
    std::vector<std::pair<int, double>> owners;
    std::vector<std::pair<double, double>> taken;  // stretches already owned
    for (const auto& r : l.ranges) {
      const double a = std::max(r.from, lo), b = std::min(r.to, end);
      if (b <= a) continue;
      double mine = b - a;
      for (const auto& [x, y] : taken) mine -= std::max(0.0, std::min(b, y) - std::max(a, x));
      taken.emplace_back(a, b);
      if (mine > kEps) {
        owners.emplace_back(r.task, mine);
        covered += mine;
      }
    }
    if (covered <= 0) return;
    for (const auto& [task, bytes] : owners) {
      const CmoTask* k = task_by_id(task);
      if (!k) continue;
      SiteTotals& tot = totals_of(*k);
      tot.hit += bytes;
      tot.saved += saved * bytes / covered;
      // A prefetch whose target ran before it finished raced its own weight.
      if (k->end_us < 0 || k->end_us > t + kEps) tot.race = true;
    }
  }

  // Range owners: prefetch-stream tasks by index, in-line tasks as -(index + 1).
  const CmoTask* task_by_id(int id) const {
    if (id >= 0) return static_cast<size_t>(id) < tasks_.size() ? &tasks_[static_cast<size_t>(id)] : nullptr;
    const size_t index = static_cast<size_t>(-id - 1);
    return index < inline_tasks_.size() ? &inline_tasks_[index] : nullptr;
  }

  // ---- events, summaries -----------------------------------------------------------------------

  static TimelineEvent make_event(EventKind kind, int type_index, int layer, int stream, double start, double dur) {
    TimelineEvent e;
    e.kind = kind;
    e.layer = layer;
    e.layer_type = type_index;
    e.stream = stream;
    e.start_us = start;
    e.duration_us = dur;
    return e;
  }

  void emit_event(EventKind kind, int s, double start, double dur, double stall) {
    TimelineEvent e = make_event(kind, type_, layer_, kComputeStreamId, start, dur);
    e.site = s;
    e.stall_us = stall;
    e.wait_us = std::max(0.0, start - compute_free_us_);
    e.standalone_us = kind == EventKind::kEventRecord ? hw_.fork_us : hw_.join_us;
    timeline_.push_back(e);
  }

  // Window, overlap, prefetch time and join kind per task, once the run is over.
  void finish_task_totals() {
    if (!summaries_) return;
    for (const auto& k : tasks_) {
      SiteTotals& tot = totals_of(k);
      const double end = k.end_us >= 0 ? k.end_us : k.dispatch_us;
      tot.prefetch += std::max(0.0, end - k.dispatch_us);
      if (k.wait_start_us >= 0) {
        tot.window += k.wait_start_us - k.fork_us;  // from the fork's event record to the wait, as analyze sees it
        tot.overlap += std::max(0.0, std::min(end, k.wait_start_us) - k.dispatch_us);
      } else {
        tot.overlap += std::max(0.0, end - k.dispatch_us);
      }
      tot.refetched += std::min(k.prefix_before, k.bytes);
      tot.join = k.join;
    }
  }

  SiteSummary summary(size_t t, size_t s) const {
    const PlannedLayerType& type = plan_.layer_types[t];
    const PlannedSite& site = type.sites[s];
    const SiteSetup& setup = setup_[t][s];
    SiteSummary out;
    out.site = site.site;
    out.layer_type = type.name;
    out.linear = site.linear_name;
    out.config_key = site.ratio_key ? ratio_key_name(*site.ratio_key) : "enabled";
    out.ratio = setup.issue.ratio;
    out.weight_bytes = site.weight_bytes;
    out.requested_bytes = setup.issue.requested_bytes;
    out.on_compute_stream = site.on_compute_stream;
    out.limit = setup.issue.limit;
    out.layers = static_cast<int>(std::count(plan_.layer_sequence.begin(), plan_.layer_sequence.end(), static_cast<int>(t)));
    if (site.gated_on && !site.on_compute_stream) {
      const int last = site.join_op >= 0 ? site.join_op : static_cast<int>(type.ops.size()) - 1;
      for (int i = site.fork_op; i <= last; ++i) {
        if (!fused(t, static_cast<size_t>(i))) out.window_ops.push_back(type.ops[static_cast<size_t>(i)].name);
      }
    }
    if (!site.gated_on) {
      out.reason = site.gate_reason;
    } else if (!setup.active) {
      out.reason = !config_enabled_any(setup) ? "weight prefetch disabled, or this key's module is off (all its ratios 0)"
                                              : "no bytes to prefetch";
    }
    if (!summaries_ || t >= totals_.size()) return out;
    const SiteTotals& a = totals_[t][s];
    out.join = site.on_compute_stream ? JoinKind::kInline : a.join;
    if (a.layers == 0) return out;
    out.active = true;
    const double n = a.layers;
    out.issued_bytes = a.issued / n;
    if (a.resident_limited) out.limit = IssueLimit::kL2;
    out.window_us = a.window / n;
    out.prefetch_us = a.prefetch / n;
    out.overlap_us = a.overlap / n;
    out.overlap_pct = out.prefetch_us > 0 ? 100.0 * out.overlap_us / out.prefetch_us : 0;
    out.stall_us = a.stall / n;
    out.hit_bytes = a.hit / n;
    out.refetched_bytes = a.refetched / n;
    out.race = a.race;
    out.matmul_saved_us = a.saved / n;
    out.vector_slowdown_us = a.slowdown / n;
    out.fork_join_us = a.fork_join / n;
    out.unfused_quant_us = a.unfused / n;
    double window_base = 0;
    if (site.join_op >= 0) {
      for (int i = site.fork_op; i <= site.join_op; ++i) window_base += type.ops[static_cast<size_t>(i)].standalone_us;
    }
    out.vector_slowdown_pct = window_base > 0 ? 100.0 * out.vector_slowdown_us / window_base : 0;
    out.net_gain_us = out.matmul_saved_us - out.stall_us - out.vector_slowdown_us - out.fork_join_us - out.unfused_quant_us;
    return out;
  }

  static bool config_enabled_any(const SiteSetup& s) { return s.issue.on; }

  // Whether op i of layer type t runs fused into the norm before it under this config.
  bool fused(size_t t, size_t i) const {
    const PlannedLayerType& type = plan_.layer_types[t];
    if (!type.ops[i].fuses_into_norm || plan_.norm_quant_fusion == NormQuantFusion::kOff) return false;
    for (int s : type.forks_before[i]) {
      if (setup_[t][static_cast<size_t>(s)].active) return false;
    }
    return true;
  }

  const StepPlan& plan_;
  const HardwareProfile& hw_;
  CapReading cap_reading_;
  bool record_;
  bool summaries_;
  bool graph_end_wait_ = true;
  double hbm_per_us_ = 0, l2_tau_floor_ = 0;
  std::vector<std::vector<SiteSetup>> setup_;
  std::vector<std::vector<SiteTotals>> totals_;
  std::vector<SiteRun> runs_;
  std::vector<LinearL2> l2_;
  std::vector<CmoTask> tasks_;
  std::vector<CmoTask> inline_tasks_;
  std::vector<int> carried_;  // sites of the segment's layer type whose bytes it starts with
  size_t head_ = 0;       // first unfinished prefetch-stream task
  size_t head_wait_ = 0;  // first task no wait has covered yet
  int layer_ = -1, type_ = -1;
  double held_total_ = 0, reserved_total_ = 0, peak_l2_ = 0;
  double stream_free_us_ = 0, compute_free_us_ = 0;
  double step_ops_us_ = 0, end_of_step_wait_us_ = 0, unjoined_leftover_us_ = 0;
  std::vector<double> layer_time_;
  std::vector<TimelineEvent> timeline_;
  std::vector<L2Sample> l2_samples_;
};

}  // namespace

StepResult simulate_step(const StepPlan& plan, const WeightPrefetchConfig& config, const SimOptions& options) {
  Engine engine(plan, config, options.cap_reading, options.record_timeline, true);
  const double t = engine.run_step();
  return engine.result(t);
}

double simulate_step_time(const StepPlan& plan, const WeightPrefetchConfig& config, CapReading cap_reading) {
  {
    Engine engine(plan, config, cap_reading, false, false);
    const double t = engine.run_step_by_type();
    if (t >= 0) return t;
  }
  Engine engine(plan, config, cap_reading, false, false);
  return engine.run_step();
}

SegmentTime simulate_segment(const StepPlan& plan, const WeightPrefetchConfig& config, CapReading cap_reading,
                             int layer_type, size_t begin_op, size_t end_op, const std::vector<int>& carried_sites) {
  Engine engine(plan, config, cap_reading, false, false);
  return engine.run_segment(layer_type, begin_op, end_op, carried_sites);
}

struct SegmentRunner::Impl {
  Impl(const StepPlan& plan, CapReading cap) : engine(plan, WeightPrefetchConfig::disabled(), cap, false, false) {}
  Engine engine;
};

SegmentRunner::SegmentRunner(const StepPlan& plan, CapReading cap_reading) : impl_(std::make_unique<Impl>(plan, cap_reading)) {}
SegmentRunner::~SegmentRunner() = default;

SegmentTime SegmentRunner::run(const WeightPrefetchConfig& config, int layer_type, size_t begin_op, size_t end_op,
                               const std::vector<int>& carried_sites) {
  impl_->engine.configure(config);
  return impl_->engine.run_segment(layer_type, begin_op, end_op, carried_sites);
}

}  // namespace pt
