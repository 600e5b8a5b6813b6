#include "sim/simulator.h"

#include <algorithm>
#include <cmath>
#include <limits>

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

IssuePlan plan_issue(const PlannedSite& site, const WeightPrefetchConfig& config, CapReading cap_reading,
                     double prefetch_cap_bytes) {
  IssuePlan p;
  p.ratio = site.ratio_key ? config[*site.ratio_key] : site.fixed_ratio;
  // vllm-ascend passes int(ratio * bytes) as max_size.
  p.requested_bytes = std::floor(p.ratio * site.weight_bytes);
  p.issued_bytes = p.requested_bytes;
  p.limit = "ratio";
  if (site.code_cap_bytes < p.issued_bytes) {
    p.issued_bytes = site.code_cap_bytes;
    p.limit = "cap (code)";
  }
  if (cap_reading == CapReading::kGuide && prefetch_cap_bytes < p.issued_bytes) {
    p.issued_bytes = prefetch_cap_bytes;
    p.limit = "cap (guide)";
  }
  if (p.ratio >= 1.0 && p.issued_bytes == site.weight_bytes) p.limit = "weight";
  return p;
}

namespace {

constexpr double kEps = 1e-9;

struct SiteAccum {
  int layers = 0;
  double issued = 0, window = 0, prefetch = 0, overlap = 0, stall = 0, saved = 0, slowdown = 0, window_base = 0, cost = 0;
  bool l2_limited = false;
};

struct CmoTask {
  int site = 0;
  double ready_us = 0;
  double start_us = 0;
  double bytes_total = 0;
  double bytes_left = 0;
};

class Engine {
 public:
  Engine(const StepPlan& plan, const WeightPrefetchConfig& config, CapReading cap_reading, bool record,
         bool summaries)
      : plan_(plan), hw_(plan.hardware), record_(record), summaries_(summaries) {
    bytes_per_us_ = hw_.hbm_GBps * 1e3;
    cmo_bytes_per_us_ = std::min(hw_.cmo_GBps, hw_.hbm_GBps) * 1e3;
    issue_.resize(plan.layer_types.size());
    active_.resize(plan.layer_types.size());
    size_t max_sites = 0, max_ops = plan.step_ops.ops.size();
    for (size_t t = 0; t < plan.layer_types.size(); ++t) {
      const auto& type = plan.layer_types[t];
      for (const auto& site : type.sites) {
        IssuePlan ip = plan_issue(site, config, cap_reading, hw_.prefetch_cap_bytes);
        issue_[t].push_back(ip);
        active_[t].push_back(config.enabled && site.gated_on && ip.issued_bytes > 0);
      }
      max_sites = std::max(max_sites, type.sites.size());
      max_ops = std::max(max_ops, type.ops.size());
    }
    issued_.resize(max_sites);
    in_l2_.resize(max_sites);
    finished_.resize(max_sites);
    fork_t_.resize(max_sites);
    join_t_.resize(max_sites);
    cmo_start_.resize(max_sites);
    cmo_end_.resize(max_sites);
    stall_.resize(max_sites);
    saved_.resize(max_sites);
    op_slow_.resize(max_ops);
    op_base_.resize(max_ops);
    queue_.reserve(max_sites);
    held_by_linear_.assign(plan.linears.size(), 0.0);
    if (summaries_) {
      accum_.resize(plan.layer_types.size());
      for (size_t t = 0; t < plan.layer_types.size(); ++t) accum_[t].resize(plan.layer_types[t].sites.size());
    }
  }

  // Runs ops [begin, end) of a layer from time t. Every site forks, joins and feeds its target
  // inside one layer, so the streams are idle and L2 holds no prefetch at a layer boundary.
  double run_layer(const PlannedLayerType& type, int type_index, int layer, double t, size_t begin = 0,
                   size_t end = static_cast<size_t>(-1)) {
    const auto& ops = type.ops;
    const size_t n_sites = type.sites.size();
    current_type_ = type_index;
    current_layer_ = layer;
    const std::vector<IssuePlan>* issue = type_index >= 0 ? &issue_[static_cast<size_t>(type_index)] : nullptr;
    const std::vector<char>* active = type_index >= 0 ? &active_[static_cast<size_t>(type_index)] : nullptr;
    for (size_t s = 0; s < n_sites; ++s) {
      issued_[s] = 0;
      in_l2_[s] = 0;
      finished_[s] = 0;
      stall_[s] = 0;
    }
    queue_.clear();
    head_ = 0;
    end = std::min(end, ops.size());
    for (size_t i = begin; i < end; ++i) {
      const PlannedOp& op = ops[i];
      if (n_sites) {
        for (int s : type.forks_before[i]) {
          if (!(*active)[static_cast<size_t>(s)]) continue;
          t = fork(type, type_index, layer, s, (*issue)[static_cast<size_t>(s)], t);
        }
      }
      // L2 bytes of this op's weight: the largest prefetch of it that has landed (all start at offset 0).
      double hit = 0;
      if (n_sites) {
        for (int s : type.targets[i]) hit = std::max(hit, landed_bytes(s));
      }
      const double dur0 = hit > 0 ? op.duration_with_l2(hit, hw_.hbm_GBps, hw_.l2_read_speedup) : op.standalone_us;
      const double hbm = std::max(0.0, op.hbm_bytes - std::min(hit * op.touched_fraction, op.weight_bytes));
      const double start = t;
      t = run_op(dur0, hbm, t);
      op_base_[i] = dur0;
      op_slow_[i] = (t - start) - dur0;
      if (record_) {
        TimelineEvent e = make_event(EventKind::kOp, type_index, layer, kComputeStreamId, start, t - start);
        e.op = static_cast<int>(i);
        e.wait_us = std::max(0.0, start - compute_free_us_);
        e.l2_read_bytes = std::min(hit * op.touched_fraction, op.weight_bytes);
        e.hbm_bytes = hbm;
        e.standalone_us = op.standalone_us;
        timeline_.push_back(e);
      }
      compute_free_us_ = t;
      if (n_sites) {
        for (int s : type.targets[i]) {
          const size_t su = static_cast<size_t>(s);
          if (!(*active)[su] || issued_[su] <= 0) continue;
          saved_[su] = op.standalone_us - op.duration_with_l2(landed_bytes(s), hw_.hbm_GBps, hw_.l2_read_speedup);
        }
        // The matmul has consumed the prefetched part of its weight; it no longer counts against L2.
        if (op.linear >= 0 && held_by_linear_[static_cast<size_t>(op.linear)] > 0) {
          l2_held_ -= held_by_linear_[static_cast<size_t>(op.linear)];
          held_by_linear_[static_cast<size_t>(op.linear)] = 0;
          issued_in_l2_done(t);
        }
        for (int s : type.joins_after[i]) {
          const size_t su = static_cast<size_t>(s);
          if (!(*active)[su] || type.sites[su].on_compute_stream || issued_[su] <= 0) continue;
          t = join(type_index, layer, s, t);
        }
      }
    }
    if (summaries_ && type_index >= 0) accumulate(type, type_index);
    return t;
  }

  // Step time with each layer type simulated once: layers of one type start from the same idle
  // state and so take the same time.
  double run_step_by_type() {
    std::vector<double> type_time(plan_.layer_types.size(), -1.0);
    double t = 0;
    for (int ti : plan_.layer_sequence) {
      double& lt = type_time[static_cast<size_t>(ti)];
      if (lt < 0) {
        reset_streams();
        lt = run_layer(plan_.layer_types[static_cast<size_t>(ti)], ti, 0, 0.0);
      }
      t += lt;
    }
    reset_streams();
    return t + run_layer(plan_.step_ops, -1, -1, 0.0);
  }

  double run_segment(int type_index, size_t begin, size_t end) {
    reset_streams();
    const PlannedLayerType& type = type_index >= 0 ? plan_.layer_types[static_cast<size_t>(type_index)] : plan_.step_ops;
    return run_layer(type, type_index, 0, 0.0, begin, end);
  }

  double run_step() {
    double t = 0;
    layer_time_.clear();
    for (size_t l = 0; l < plan_.layer_sequence.size(); ++l) {
      const int ti = plan_.layer_sequence[l];
      const double start = t;
      t = run_layer(plan_.layer_types[static_cast<size_t>(ti)], ti, static_cast<int>(l), t);
      if (summaries_) layer_time_.push_back(t - start);
    }
    const double head_start = t;
    t = run_layer(plan_.step_ops, -1, -1, t);
    step_ops_us_ = t - head_start;
    return t;
  }

  StepResult result(double step_time) {
    StepResult r;
    r.step_time_us = step_time;
    r.step_ops_us = step_ops_us_;
    r.layer_time_us = std::move(layer_time_);
    // CMO tasks are recorded when they finish; order everything by start time, as a profiler lists it.
    std::stable_sort(timeline_.begin(), timeline_.end(),
                     [](const TimelineEvent& a, const TimelineEvent& b) { return a.start_us < b.start_us; });
    r.timeline = std::move(timeline_);
    r.l2_samples = std::move(l2_samples_);
    r.peak_l2_bytes = peak_l2_;
    for (size_t t = 0; t < plan_.layer_types.size(); ++t) {
      const auto& type = plan_.layer_types[t];
      for (size_t s = 0; s < type.sites.size(); ++s) r.sites.push_back(summary(t, s));
    }
    return r;
  }

 private:
  // Idle streams and empty L2 at time 0, for a run that stands on its own.
  void reset_streams() {
    prefetch_free_us_ = 0;
    compute_free_us_ = 0;
    l2_held_ = 0;
    std::fill(held_by_linear_.begin(), held_by_linear_.end(), 0.0);
  }

  double landed_bytes(int s) const {
    const size_t su = static_cast<size_t>(s);
    if (finished_[su]) return in_l2_[su];
    if (head_ < queue_.size() && queue_[head_].site == s) {
      return queue_[head_].bytes_total - queue_[head_].bytes_left;
    }
    return 0;
  }

  void issued_in_l2_done(double t) {
    if (record_) l2_samples_.push_back({t, std::max(0.0, l2_held_)});
  }

  double fork(const PlannedLayerType& type, int type_index, int layer, int s, const IssuePlan& ip, double t) {
    const size_t su = static_cast<size_t>(s);
    const PlannedSite& site = type.sites[su];
    // The prefetch can only use L2 not already held by earlier prefetches still waiting for their matmul.
    // Prefetches all start at offset 0, so two of one weight overlap in L2: only the larger counts.
    double& held = held_by_linear_[static_cast<size_t>(site.linear)];
    double bytes = std::min(ip.issued_bytes, hw_.l2_size_bytes - (l2_held_ - held));
    if (bytes < ip.issued_bytes && summaries_) accum_[static_cast<size_t>(type_index)][su].l2_limited = true;
    if (bytes <= 0) return t;
    issued_[su] = bytes;
    if (bytes > held) {
      l2_held_ += bytes - held;
      held = bytes;
    }
    peak_l2_ = std::max(peak_l2_, l2_held_);
    if (site.on_compute_stream) {
      // MLA/SFA prefetch runs in the current stream: the compute stream does the CMO itself.
      const double dur = hw_.cmo_setup_us + bytes / cmo_bytes_per_us_;
      fork_t_[su] = t;
      cmo_start_[su] = t;
      cmo_end_[su] = t + dur;
      join_t_[su] = t;
      emit_cmo(type_index, layer, s, kComputeStreamId, t, dur, bytes);
      in_l2_[su] = bytes;
      finished_[su] = 1;
      issued_in_l2_done(t + dur);
      compute_free_us_ = t + dur;
      return t + dur;
    }
    if (record_) emit_event(EventKind::kEventRecord, type_index, layer, s, t, hw_.fork_us, 0);
    t += hw_.fork_us;
    compute_free_us_ = t;
    fork_t_[su] = t;
    CmoTask task;
    task.site = s;
    task.ready_us = t + hw_.cmo_setup_us;
    task.bytes_total = bytes;
    task.bytes_left = bytes;
    task.start_us = std::max(task.ready_us, prefetch_free_us_);
    queue_.push_back(task);
    return t;
  }

  // HBM split between the compute op (demand d_c) and the CMO (demand d_p). Below capacity both get
  // what they ask; above it the CMO gets its QoS-weighted share, or what the op leaves if more.
  void share(double d_c, double d_p, double& r_c, double& r_p) const {
    const double cap = bytes_per_us_;
    if (d_c + d_p <= cap) {
      r_c = d_c;
      r_p = d_p;
      return;
    }
    const double w = hw_.cmo_qos_weight;
    const double fair_p = cap * w / (1.0 + w);
    r_p = std::min(d_p, std::max(fair_p, cap - d_c));
    r_c = std::min(d_c, cap - r_p);
  }

  double run_op(double dur0, double hbm_bytes, double t) {
    double remaining = dur0;  // in op-alone microseconds
    const double demand = dur0 > 0 ? hbm_bytes / dur0 : 0.0;
    while (remaining > kEps) {
      if (head_ >= queue_.size()) return t + remaining;
      CmoTask& cmo = queue_[head_];
      if (cmo.start_us > t + kEps) {
        const double gap = cmo.start_us - t;
        if (gap >= remaining) return t + remaining;
        t += gap;
        remaining -= gap;
        continue;
      }
      double r_c = 0, r_p = 0;
      share(demand, cmo_bytes_per_us_, r_c, r_p);
      const double speed = demand > 0 ? r_c / demand : 1.0;
      const double op_left_us = remaining / speed;
      const double cmo_left_us = cmo.bytes_left / r_p;
      if (cmo_left_us < op_left_us) {
        t += cmo_left_us;
        remaining -= cmo_left_us * speed;
        finish_head(t);
      } else {
        t += op_left_us;
        cmo.bytes_left -= r_p * op_left_us;
        remaining = 0;
        if (cmo.bytes_left <= kEps) finish_head(t);
      }
    }
    return t;
  }

  void finish_head(double t) {
    CmoTask& cmo = queue_[head_];
    const size_t su = static_cast<size_t>(cmo.site);
    finished_[su] = 1;
    in_l2_[su] = cmo.bytes_total;
    cmo_start_[su] = cmo.start_us;
    cmo_end_[su] = t;
    prefetch_free_us_ = t;
    if (record_) emit_cmo(current_type_, current_layer_, cmo.site, kPrefetchStreamId, cmo.start_us, t - cmo.start_us, cmo.bytes_total);
    ++head_;
    if (head_ < queue_.size()) queue_[head_].start_us = std::max(queue_[head_].ready_us, t);
  }

  double join(int type_index, int layer, int s, double t) {
    const size_t su = static_cast<size_t>(s);
    join_t_[su] = t;
    while (!finished_[su]) {
      CmoTask& cmo = queue_[head_];
      t = std::max(t, cmo.start_us) + cmo.bytes_left / cmo_bytes_per_us_;
      cmo.bytes_left = 0;
      finish_head(t);
    }
    stall_[su] = t - join_t_[su];
    if (record_) emit_event(EventKind::kEventWait, type_index, layer, s, join_t_[su], stall_[su] + hw_.join_us, stall_[su]);
    t += hw_.join_us;
    compute_free_us_ = t;
    return t;
  }

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

  void emit_cmo(int type_index, int layer, int s, int stream, double start, double dur, double bytes) {
    if (!record_) return;
    TimelineEvent e = make_event(EventKind::kCmo, type_index, layer, stream, start, dur);
    e.site = s;
    e.bytes = bytes;
    e.hbm_bytes = bytes;
    e.standalone_us = bytes / cmo_bytes_per_us_;  // the transfer alone, setup excluded as in the slice
    timeline_.push_back(e);
  }

  void emit_event(EventKind kind, int type_index, int layer, int s, double start, double dur, double stall) {
    TimelineEvent e = make_event(kind, type_index, layer, kComputeStreamId, start, dur);
    e.site = s;
    e.stall_us = stall;
    e.wait_us = std::max(0.0, start - compute_free_us_);
    e.standalone_us = kind == EventKind::kEventRecord ? hw_.fork_us : hw_.join_us;
    timeline_.push_back(e);
  }

  void accumulate(const PlannedLayerType& type, int type_index) {
    auto& acc = accum_[static_cast<size_t>(type_index)];
    for (size_t s = 0; s < type.sites.size(); ++s) {
      if (!active_[static_cast<size_t>(type_index)][s] || issued_[s] <= 0) continue;
      const PlannedSite& site = type.sites[s];
      SiteAccum& a = acc[s];
      a.layers += 1;
      a.issued += issued_[s];
      a.prefetch += cmo_end_[s] - cmo_start_[s];
      a.saved += saved_[s];
      if (site.on_compute_stream) {
        a.cost += cmo_end_[s] - cmo_start_[s];
        continue;
      }
      const double window = join_t_[s] - fork_t_[s];
      a.window += window;
      a.overlap += std::max(0.0, std::min(cmo_end_[s], join_t_[s]) - cmo_start_[s]);
      a.stall += stall_[s];
      a.cost += hw_.fork_us + hw_.join_us;
      for (int i = site.fork_op; i <= site.join_op; ++i) {
        a.slowdown += op_slow_[static_cast<size_t>(i)];
        a.window_base += op_base_[static_cast<size_t>(i)];
      }
    }
  }

  SiteSummary summary(size_t t, size_t s) const {
    const PlannedLayerType& type = plan_.layer_types[t];
    const PlannedSite& site = type.sites[s];
    const IssuePlan& ip = issue_[t][s];
    SiteSummary out;
    out.site = site.site;
    out.layer_type = type.name;
    out.linear = site.linear_name;
    out.config_key = site.ratio_key ? ratio_key_name(*site.ratio_key) : "enabled";
    out.ratio = ip.ratio;
    out.weight_bytes = site.weight_bytes;
    out.requested_bytes = ip.requested_bytes;
    out.on_compute_stream = site.on_compute_stream;
    out.layers = static_cast<int>(std::count(plan_.layer_sequence.begin(), plan_.layer_sequence.end(), static_cast<int>(t)));
    if (site.gated_on) {
      for (int i = site.fork_op; i <= site.join_op && !site.on_compute_stream; ++i) {
        out.window_ops.push_back(type.ops[static_cast<size_t>(i)].name);
      }
    }
    if (!site.gated_on) {
      out.reason = site.gate_reason;
    } else if (!active_[t][s]) {
      out.reason = ip.issued_bytes <= 0 ? (ip.ratio <= 0 ? "ratio 0 in the config: nothing is prefetched" : "no bytes to prefetch")
                                        : "weight prefetch disabled (\"enabled\" is not true)";
    }
    out.limit = ip.limit;
    if (!summaries_ || t >= accum_.size()) return out;
    const SiteAccum& a = accum_[t][s];
    if (a.layers == 0) {
      if (out.reason.empty()) out.reason = "L2 full: no space left for this prefetch";
      return out;
    }
    out.active = true;
    const double n = a.layers;
    out.issued_bytes = a.issued / n;
    if (a.l2_limited) out.limit = "L2";
    out.window_us = a.window / n;
    out.prefetch_us = a.prefetch / n;
    out.overlap_us = a.overlap / n;
    out.overlap_pct = out.prefetch_us > 0 ? 100.0 * out.overlap_us / out.prefetch_us : 0;
    out.stall_us = a.stall / n;
    out.matmul_saved_us = a.saved / n;
    out.vector_slowdown_us = a.slowdown / n;
    out.vector_slowdown_pct = a.window_base > 0 ? 100.0 * a.slowdown / a.window_base : 0;
    out.net_gain_us = out.matmul_saved_us - out.stall_us - out.vector_slowdown_us - a.cost / n;
    return out;
  }

 public:
  int current_type_ = -1;
  int current_layer_ = -1;

 private:
  const StepPlan& plan_;
  const HardwareProfile& hw_;
  bool record_;
  bool summaries_;
  double bytes_per_us_ = 0, cmo_bytes_per_us_ = 0;
  std::vector<std::vector<IssuePlan>> issue_;
  std::vector<std::vector<char>> active_;
  std::vector<double> issued_, in_l2_, fork_t_, join_t_, cmo_start_, cmo_end_, stall_, saved_, op_slow_, op_base_;
  std::vector<char> finished_;
  std::vector<CmoTask> queue_;
  size_t head_ = 0;
  double l2_held_ = 0, peak_l2_ = 0;
  std::vector<double> held_by_linear_;  // prefetched bytes of each linear held in L2
  double prefetch_free_us_ = 0, compute_free_us_ = 0;
  double step_ops_us_ = 0;
  std::vector<double> layer_time_;
  std::vector<TimelineEvent> timeline_;
  std::vector<L2Sample> l2_samples_;
  std::vector<std::vector<SiteAccum>> accum_;
};

}  // namespace

StepResult simulate_step(const StepPlan& plan, const WeightPrefetchConfig& config, const SimOptions& options) {
  Engine engine(plan, config, options.cap_reading, options.record_timeline, true);
  const double t = engine.run_step();
  return engine.result(t);
}

double simulate_step_time(const StepPlan& plan, const WeightPrefetchConfig& config, CapReading cap_reading) {
  Engine engine(plan, config, cap_reading, false, false);
  return engine.run_step_by_type();
}

double simulate_segment_time(const StepPlan& plan, const WeightPrefetchConfig& config, CapReading cap_reading,
                             int layer_type, size_t begin_op, size_t end_op) {
  Engine engine(plan, config, cap_reading, false, false);
  return engine.run_segment(layer_type, begin_op, end_op);
}

}  // namespace pt
