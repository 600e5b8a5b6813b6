#include "sim/simulated_run.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>

#include <fmt/format.h>

#include "util/error.h"

namespace pt {

namespace {

// splitmix64: a deterministic jitter that needs no library.
double unit_random(uint64_t& state) {
  uint64_t z = (state += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  z ^= z >> 31;
  return static_cast<double>(z >> 11) / static_cast<double>(1ULL << 53);
}

const TemplateOp* template_op(const LayerTemplate& t, const std::string& layer_type, const std::string& name) {
  const std::vector<TemplateOp>* ops = nullptr;
  if (layer_type.empty()) {
    ops = &t.step_ops;
  } else if (auto it = t.layer_types.find(layer_type); it != t.layer_types.end()) {
    ops = &it->second;
  }
  if (!ops) return nullptr;
  for (const auto& op : *ops) {
    if (op.name == name) return &op;
  }
  return nullptr;
}

std::vector<CollectiveOp> collectives_of(const PlannedLayerType& type, bool step_ops, const StepPlan& plan,
                                         const LayerTemplate& layer_template, int tp, int dp) {
  std::vector<CollectiveOp> out(type.ops.size());
  auto lookup = [&](std::string_view name, double& value) {
    auto it = plan.variables.find(std::string(name));
    if (it == plan.variables.end()) return false;
    value = it->second;
    return true;
  };
  for (size_t i = 0; i < type.ops.size(); ++i) {
    const PlannedOp& op = type.ops[i];
    if (op.kind != OpKind::kCollective) continue;
    CollectiveOp c;
    const TemplateOp* t = template_op(layer_template, step_ops ? "" : type.name, op.name);
    c.pattern = t ? collective_pattern_name(t->pattern) : "all_reduce";
    double n = tp;
    if (t && t->group) {
      try {
        n = t->group->evaluate(lookup);
      } catch (const InputError&) {
        n = tp;
      }
    }
    c.group_size = std::max(1, static_cast<int>(std::lround(n)));
    const int world = tp * dp;
    if (c.group_size == tp) c.group = "tp";
    else if (c.group_size == dp) c.group = "dp";
    else if (c.group_size == world) c.group = "world";
    else c.group = fmt::format("block{}", c.group_size);
    // step_plan costs a collective as compute_us = factor x bytes / comm_GBps, hbm_bytes = 2 x bytes.
    c.bytes = op.hbm_bytes / 2.0;
    c.transit_bytes = op.compute_us * plan.hardware.comm_GBps * 1e3;
    out[i] = c;
  }
  return out;
}

struct EventRef {
  size_t index;
  double start;
};

// Ends each collective on every rank of its group when the last one has arrived (see the header).
// Events after it on the compute stream move by the wait; a CMO moves with the compute stream at its
// fork, and the join's wait is recomputed against the moved CMO.
void synchronize(std::vector<RankStep>& ranks, const CollectiveTable& table, int tp, int dp) {
  const size_t n = ranks.size();
  struct Walk {
    std::vector<size_t> compute;                 // compute-stream events by start
    std::vector<size_t> collectives;             // positions in `compute` of the collectives
    std::map<std::pair<int, int>, size_t> cmo;   // (layer, site) -> prefetch-stream CMO
    std::map<std::pair<int, int>, double> fork_offset;
    size_t cursor = 0;
    double offset = 0;
  };
  std::vector<Walk> walks(n);
  for (size_t r = 0; r < n; ++r) {
    auto& tl = ranks[r].result.timeline;
    ranks[r].collective_wait_us.assign(tl.size(), 0.0);
    Walk& w = walks[r];
    for (size_t i = 0; i < tl.size(); ++i) {
      if (tl[i].stream == kComputeStreamId) w.compute.push_back(i);
      else if (tl[i].kind == EventKind::kCmo) w.cmo[{tl[i].layer, tl[i].site}] = i;
    }
    std::stable_sort(w.compute.begin(), w.compute.end(), [&](size_t a, size_t b) { return tl[a].start_us < tl[b].start_us; });
    for (size_t p = 0; p < w.compute.size(); ++p) {
      const TimelineEvent& e = tl[w.compute[p]];
      if (e.kind == EventKind::kOp && table.find(e.layer_type, e.op)) w.collectives.push_back(p);
    }
  }
  for (size_t r = 1; r < n; ++r) {
    if (walks[r].collectives.size() != walks[0].collectives.size()) return;  // differently shaped ranks: leave as is
  }
  // Moves rank r's compute events up to position `end` (excluded) by its offset.
  auto advance = [&](size_t r, size_t end) {
    Walk& w = walks[r];
    auto& tl = ranks[r].result.timeline;
    for (; w.cursor < end; ++w.cursor) {
      TimelineEvent& e = tl[w.compute[w.cursor]];
      e.start_us += w.offset;
      if (e.kind == EventKind::kEventRecord) w.fork_offset[{e.layer, e.site}] = w.offset;
      if (e.kind == EventKind::kEventWait) {
        auto c = w.cmo.find({e.layer, e.site});
        auto f = w.fork_offset.find({e.layer, e.site});
        if (c != w.cmo.end() && f != w.fork_offset.end()) {
          const TimelineEvent& cmo = tl[c->second];
          const double cmo_end = cmo.start_us + f->second + cmo.duration_us;
          const double fixed = e.duration_us - e.stall_us;
          const double stall = std::max(0.0, cmo_end - e.start_us);
          const double dur = fixed + stall;
          w.offset += dur - e.duration_us;
          e.duration_us = dur;
          e.stall_us = stall;
        }
      }
    }
  };
  const size_t collectives = walks[0].collectives.size();
  for (size_t k = 0; k < collectives; ++k) {
    for (size_t r = 0; r < n; ++r) advance(r, walks[r].collectives[k]);
    // Arrival of each rank (already moved), and its own transfer time.
    std::vector<double> arrival(n), own(n);
    const TimelineEvent& probe = ranks[0].result.timeline[walks[0].compute[walks[0].collectives[k]]];
    const CollectiveOp* op = table.find(probe.layer_type, probe.op);
    for (size_t r = 0; r < n; ++r) {
      const TimelineEvent& e = ranks[r].result.timeline[walks[r].compute[walks[r].collectives[k]]];
      arrival[r] = e.start_us + walks[r].offset;
      own[r] = e.duration_us;
    }
    std::vector<bool> done(n, false);
    for (size_t r = 0; r < n; ++r) {
      if (done[r]) continue;
      const std::vector<int> group = group_ranks(*op, static_cast<int>(r), tp, dp);
      // The transfer starts when the last rank arrives and takes the longest of the ranks' own
      // times; each rank waits from its arrival until the last one's.
      double last_arrival = -1e300, transfer = 0;
      for (int g : group) {
        if (g < 0 || static_cast<size_t>(g) >= n) continue;
        last_arrival = std::max(last_arrival, arrival[static_cast<size_t>(g)]);
        transfer = std::max(transfer, own[static_cast<size_t>(g)]);
      }
      const double end = last_arrival + transfer;
      for (int g : group) {
        if (g < 0 || static_cast<size_t>(g) >= n) continue;
        const size_t gr = static_cast<size_t>(g);
        done[gr] = true;
        Walk& w = walks[gr];
        TimelineEvent& e = ranks[gr].result.timeline[w.compute[w.collectives[k]]];
        e.start_us = arrival[gr];
        const double dur = end - arrival[gr];
        ranks[gr].collective_wait_us[w.compute[w.collectives[k]]] = last_arrival - arrival[gr];
        w.offset += dur - e.duration_us;
        e.duration_us = dur;
        ++w.cursor;
      }
    }
  }
  for (size_t r = 0; r < n; ++r) {
    advance(r, walks[r].compute.size());
    // The CMOs move with their fork.
    auto& tl = ranks[r].result.timeline;
    for (const auto& [key, index] : walks[r].cmo) {
      auto f = walks[r].fork_offset.find(key);
      if (f != walks[r].fork_offset.end()) tl[index].start_us += f->second;
    }
  }
}

double compute_stream_end(const StepResult& r) {
  double end = 0;
  for (const auto& e : r.timeline) {
    if (e.stream == kComputeStreamId) end = std::max(end, e.start_us + e.duration_us);
  }
  return r.timeline.empty() ? r.step_time_us : end;
}

}  // namespace

const CollectiveOp* CollectiveTable::find(int layer_type, int op) const {
  const std::vector<CollectiveOp>* ops = layer_type < 0 ? &step_ops
                                         : static_cast<size_t>(layer_type) < by_layer_type.size()
                                             ? &by_layer_type[static_cast<size_t>(layer_type)]
                                             : nullptr;
  if (!ops || op < 0 || static_cast<size_t>(op) >= ops->size()) return nullptr;
  const CollectiveOp& c = (*ops)[static_cast<size_t>(op)];
  return c.pattern.empty() ? nullptr : &c;
}

CollectiveTable collective_table(const StepPlan& plan, const LayerTemplate& layer_template, int tp, int dp) {
  CollectiveTable t;
  for (const auto& type : plan.layer_types) t.by_layer_type.push_back(collectives_of(type, false, plan, layer_template, tp, dp));
  t.step_ops = collectives_of(plan.step_ops, true, plan, layer_template, tp, dp);
  return t;
}

std::vector<int> group_ranks(const CollectiveOp& op, int rank, int tp, int dp) {
  std::vector<int> out;
  const int world = tp * dp;
  if (op.group == "tp") {
    const int base = rank / tp * tp;
    for (int i = 0; i < tp; ++i) out.push_back(base + i);
  } else if (op.group == "dp") {
    for (int i = 0; i < dp; ++i) out.push_back(rank % tp + i * tp);
  } else if (op.group == "world") {
    for (int i = 0; i < world; ++i) out.push_back(i);
  } else {
    const int size = std::max(1, op.group_size);
    const int base = rank / size * size;
    for (int i = 0; i < size && base + i < world; ++i) out.push_back(base + i);
  }
  return out;
}

void validate_run_options(const RunOptions& o, const Deployment& d) {
  if (o.steps < 1 || o.steps > 1000) throw InputError(fmt::format("--steps {}: expected 1..1000", o.steps));
  if (!(o.jitter_pct >= 0 && o.jitter_pct < 50)) throw InputError(fmt::format("--jitter {}: expected 0..50 (%)", o.jitter_pct));
  const int world = d.tensor_parallel * d.data_parallel;
  if (o.slow_rank >= o.ranks || (o.slow_rank >= 0 && !(o.slow_pct > 0 && o.slow_pct <= 90))) {
    throw InputError(fmt::format("--slow-rank {}:{}: expected RANK:PCT with a rank below --ranks {} and 0 < PCT <= 90", o.slow_rank,
                                 o.slow_pct, o.ranks));
  }
  if (o.ranks != 1 && o.ranks != world) {
    throw InputError(fmt::format("--ranks {}: expected 1 (rank 0 alone) or {} (every rank of TP{} x DP{})", o.ranks, world,
                                 d.tensor_parallel, d.data_parallel));
  }
}

void simulate_run(const Scenario& scenario, const RunOptions& o, const std::function<void(const RunStep&)>& on_step) {
  const Deployment& d = scenario.plan.deployment;
  validate_run_options(o, d);
  const int tp = d.tensor_parallel, dp = d.data_parallel;
  const CollectiveTable table = collective_table(scenario.plan, scenario.layer_template, tp, dp);
  SimOptions sim;
  sim.cap_reading = scenario.cap_reading;
  sim.record_timeline = true;
  // Rank 0 draws from `seed` (so a one-rank run is what it always was); rank r from its own stream.
  std::vector<uint64_t> rng(static_cast<size_t>(o.ranks));
  for (int r = 0; r < o.ranks; ++r) {
    uint64_t s = o.seed + 0x632BE59BD9B4E019ULL * static_cast<uint64_t>(r);
    rng[static_cast<size_t>(r)] = r == 0 ? o.seed : (unit_random(s), s);
  }
  const bool jitter = o.jitter_pct > 0 || o.slow_rank >= 0;  // ranks differ
  std::vector<StepPlan> plans(jitter ? static_cast<size_t>(o.ranks) : 0);
  double t0 = 0;
  for (int step = 1; step <= o.steps; ++step) {
    RunStep run;
    run.step = step;
    run.start_us = t0;
    for (int r = 0; r < o.ranks; ++r) {
      RankStep rs;
      rs.rank = r;
      if (!jitter && r > 0) {  // every rank runs the same step
        rs = run.ranks.front();
        rs.rank = r;
        run.ranks.push_back(std::move(rs));
        continue;
      }
      if (jitter) {
        uint64_t& state = rng[static_cast<size_t>(r)];
        HardwareProfile hw = scenario.hardware;
        auto spread = [&](double v) { return v * (1.0 + o.jitter_pct / 100.0 * (2.0 * unit_random(state) - 1.0)); };
        hw.matmul_efficiency = std::min(1.0, spread(hw.matmul_efficiency));
        hw.vector_efficiency = std::min(1.0, spread(hw.vector_efficiency));
        hw.hbm_GBps = spread(hw.hbm_GBps);
        hw.cmo_GBps = spread(hw.cmo_GBps);
        if (r == o.slow_rank) {
          const double slow = 1.0 - o.slow_pct / 100.0;
          hw.matmul_efficiency *= slow;
          hw.vector_efficiency *= slow;
          hw.hbm_GBps *= slow;
          hw.cmo_GBps *= slow;
        }
        plans[static_cast<size_t>(r)] = build_step_plan(scenario.model, d, hw, scenario.layer_template, *scenario.release,
                                                        scenario.op_times.empty() ? nullptr : &scenario.op_times);
        rs.plan = &plans[static_cast<size_t>(r)];
      } else {
        rs.plan = &scenario.plan;
      }
      rs.result = simulate_step(*rs.plan, scenario.config, sim);
      rs.collective_wait_us.assign(rs.result.timeline.size(), 0.0);
      run.ranks.push_back(std::move(rs));
    }
    const bool synced = jitter && o.ranks > 1;
    if (synced) synchronize(run.ranks, table, tp, dp);
    double longest = 0;
    for (auto& rs : run.ranks) {
      rs.step_time_us = synced ? compute_stream_end(rs.result) : rs.result.step_time_us;
      longest = std::max(longest, rs.step_time_us);
    }
    on_step(run);
    t0 += longest + o.step_gap_us;
  }
}

}  // namespace pt
