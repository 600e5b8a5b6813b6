#include "search/ratio_search.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <numeric>
#include <set>

#include <fmt/format.h>

#include "util/error.h"

namespace pt {

TuneObjective parse_objective(const std::string& text) {
  if (text == "latency") return TuneObjective::kLatency;
  if (text == "overlap") return TuneObjective::kOverlap;
  throw InputError(fmt::format("--objective {}: expected latency or overlap", text));
}

SearchMethod parse_search_method(const std::string& text) {
  if (text == "decomposed" || text == "default") return SearchMethod::kDecomposed;
  if (text == "grid") return SearchMethod::kGrid;
  throw InputError(fmt::format("--search {}: expected decomposed (default) or grid", text));
}

const char* search_method_name(SearchMethod m) { return m == SearchMethod::kGrid ? "grid" : "decomposed"; }

double workload_step_time(const std::vector<const StepPlan*>& plans, const std::vector<double>& weights,
                          const WeightPrefetchConfig& config, CapReading cap_reading) {
  const double total = std::accumulate(weights.begin(), weights.end(), 0.0);
  double t = 0;
  for (size_t p = 0; p < plans.size(); ++p) t += weights[p] / total * simulate_step_time(*plans[p], config, cap_reading);
  return t;
}

namespace {

constexpr size_t kMaxGridPoints = 2'000'000'000;
constexpr double kTieUs = 1e-9;

// Grid values are rounded to 1e-6 so they read back from the emitted JSON bit-identical.
double grid_value(size_t i, double step) { return std::round(static_cast<double>(i) * step * 1e6) / 1e6; }
constexpr double kMinStep = 1e-6;

// 0, step, 2 step, ... up to the first value at or above `max_useful`.
std::vector<double> ratio_grid(double max_useful, double step) {
  std::vector<double> grid;
  const size_t last = static_cast<size_t>(std::ceil(max_useful / step - 1e-9));
  for (size_t i = 0; i <= last; ++i) grid.push_back(std::min(1.0, grid_value(i, step)));
  if (grid.back() < max_useful) grid.push_back(std::min(1.0, grid_value(last + 1, step)));
  return grid;
}

// ---- the size of a search, before it runs ---------------------------------------------------

// Speeds on the development machine (Release, bench/tune_bench BM_SearchCost_*, medians): one
// segment simulation behind a table entry, one table lookup while a configuration is evaluated,
// and one whole step with summaries (the overlap objective).
constexpr double kSegmentSimulationUs = 0.6;
constexpr double kSegmentLookupUs = 0.0026;
constexpr double kStepSimulationUs = 25;

// Counts what SegmentedObjective and tune_ratios will do, from the same segment boundaries (no
// site spans one), without simulating anything. ratio_search_test checks it against the counts
// of real searches.
SearchEstimate estimate_search(const std::vector<const StepPlan*>& plans, const std::vector<TunedKey>& tuned,
                               const TuneOptions& options) {
  std::map<RatioKey, int> slot_of;
  for (size_t i = 0; i < tuned.size(); ++i) slot_of[tuned[i].key] = static_cast<int>(i);
  auto grid_size = [&](int slot) { return static_cast<double>(tuned[static_cast<size_t>(slot)].grid.size()); };
  SearchEstimate e;
  std::vector<std::set<int>> segments;       // the slots of each segment that has any
  std::vector<double> segments_of(plans.size(), 0);
  for (size_t p = 0; p < plans.size(); ++p) {
    for (const PlannedLayerType& type : plans[p]->layer_types) {
      const size_t n = type.ops.size();
      std::vector<char> spanned(n + 1, 0);
      for (const auto& site : type.sites) {
        if (!site.gated_on) continue;
        for (int i = site.fork_op + 1; i <= site.target_op; ++i) spanned[static_cast<size_t>(i)] = 1;
      }
      size_t begin = 0;
      for (size_t i = 1; i <= n; ++i) {
        if (i < n && spanned[i]) continue;
        std::set<int> slots;
        for (const auto& site : type.sites) {
          if (!site.gated_on || site.fork_op < static_cast<int>(begin) || site.fork_op >= static_cast<int>(i)) continue;
          if (site.ratio_key && slot_of.count(*site.ratio_key)) slots.insert(slot_of[*site.ratio_key]);
        }
        double size = 1;
        for (int s : slots) size *= grid_size(s);
        e.segment_simulations += size;
        if (!slots.empty()) {
          segments.push_back(slots);
          segments_of[p] += 1;
        }
        begin = i;
      }
    }
  }
  // Keys that share a segment are searched together (SegmentedObjective::components).
  std::vector<int> group(tuned.size());
  std::iota(group.begin(), group.end(), 0);
  for (const auto& slots : segments) {
    const int to = group[static_cast<size_t>(*slots.begin())];
    for (int s : slots) {
      const int from = group[static_cast<size_t>(s)];
      for (int& g : group) {
        if (g == from) g = to;
      }
    }
  }
  double grid = 1, decomposed = 0, curves = 0;
  for (size_t k = 0; k < tuned.size(); ++k) {
    grid *= grid_size(static_cast<int>(k));
    curves += grid_size(static_cast<int>(k));
    if (group[k] != static_cast<int>(k)) continue;
    double size = 1;
    for (size_t j = 0; j < tuned.size(); ++j) {
      if (group[j] == static_cast<int>(k)) size *= grid_size(static_cast<int>(j));
    }
    decomposed += size;
  }
  if (tuned.empty()) grid = 0;
  const double all_segments = static_cast<double>(segments.size());
  double lookups = (curves + (tuned.size() == 2 ? grid : 0)) * all_segments;  // near-optimal curves, heat map
  double steps = 0;
  if (options.objective == TuneObjective::kLatency) {
    e.configurations = options.method == SearchMethod::kGrid ? grid : decomposed;
    lookups += e.configurations * all_segments;                                  // the workload
    for (double own : segments_of) lookups += e.configurations * own;            // each token count alone
  } else {
    e.configurations = 2 * curves;
    steps = 4 * curves * static_cast<double>(plans.size());  // two passes, for the workload and each token count
  }
  e.segment_lookups = lookups;
  e.table_bytes = e.segment_simulations * sizeof(double);
  e.seconds = (e.segment_simulations * kSegmentSimulationUs + lookups * kSegmentLookupUs + steps * kStepSimulationUs) / 1e6;
  return e;
}

std::string duration_text(double seconds) {
  if (seconds < 90) return fmt::format("{:.0f} s", std::max(1.0, seconds));
  if (seconds < 5400) return fmt::format("{:.0f} min", seconds / 60);
  if (seconds < 48 * 3600) return fmt::format("{:.0f} h", seconds / 3600);
  return fmt::format("{:.0f} days", seconds / 86400);
}

std::string bytes_text(double bytes) {
  if (bytes < double(1 << 30)) return fmt::format("{:.0f} MiB", bytes / (1 << 20));
  return fmt::format("{:.3g} GiB", bytes / (1 << 30));
}

bool fits(const SearchEstimate& e) { return e.seconds <= kMaxSearchSeconds && e.table_bytes <= kMaxSearchTableBytes; }

struct Segment {
  size_t plan = 0;
  double multiplier = 0;           // plan weight x layers of this type
  std::vector<int> slots;          // tuned-key slots this segment depends on
  std::vector<size_t> strides;
  std::vector<double> table;       // segment time per combination of the slots' grid indices
};

class SegmentedObjective {
 public:
  SegmentedObjective(const std::vector<const StepPlan*>& plans, const std::vector<double>& weights,
                     CapReading cap_reading, const std::vector<TunedKey>& tuned,
                     const std::function<void(size_t simulations)>& progress = {})
      : plans_(plans), tuned_(tuned), plan_constant_(plans.size(), 0.0), plan_weight_(weights) {
    const double total = std::accumulate(weights.begin(), weights.end(), 0.0);
    for (auto& w : plan_weight_) w /= total;
    std::map<RatioKey, int> slot_of;
    for (size_t i = 0; i < tuned.size(); ++i) slot_of[tuned[i].key] = static_cast<int>(i);

    plan_segments_.resize(plans.size());
    for (size_t p = 0; p < plans.size(); ++p) {
      plan_segments_[p].first = segments_.size();
      const StepPlan& plan = *plans[p];
      WeightPrefetchConfig config;
      config.enabled = true;
      for (auto& r : config.ratio) r = 0;
      std::vector<int> counts(plan.layer_types.size(), 0);
      for (int ti : plan.layer_sequence) ++counts[static_cast<size_t>(ti)];
      plan_constant_[p] += simulate_segment_time(plan, config, cap_reading, -1, 0, plan.step_ops.ops.size());
      for (size_t t = 0; t < plan.layer_types.size(); ++t) {
        const PlannedLayerType& type = plan.layer_types[t];
        // A boundary before op i is valid when no site spans it (fork < i <= target).
        const size_t n = type.ops.size();
        std::vector<char> spanned(n + 1, 0);
        for (const auto& site : type.sites) {
          if (!site.gated_on) continue;
          for (int i = site.fork_op + 1; i <= site.target_op; ++i) spanned[static_cast<size_t>(i)] = 1;
        }
        size_t begin = 0;
        for (size_t i = 1; i <= n; ++i) {
          if (i < n && spanned[i]) continue;
          std::set<int> slots;
          for (const auto& site : type.sites) {
            if (!site.gated_on || site.fork_op < static_cast<int>(begin) || site.fork_op >= static_cast<int>(i)) continue;
            if (site.ratio_key && slot_of.count(*site.ratio_key)) slots.insert(slot_of[*site.ratio_key]);
          }
          Segment seg;
          seg.plan = p;
          seg.multiplier = counts[t];
          seg.slots.assign(slots.begin(), slots.end());
          size_t size = 1;
          for (int s : seg.slots) {
            seg.strides.push_back(size);
            size *= tuned[static_cast<size_t>(s)].grid.size();
          }
          seg.table.resize(size);
          std::vector<size_t> idx(seg.slots.size(), 0);
          for (size_t c = 0; c < size; ++c) {
            size_t rem = c;
            for (size_t k = seg.slots.size(); k-- > 0;) {
              idx[k] = rem / seg.strides[k];
              rem %= seg.strides[k];
            }
            for (size_t k = 0; k < seg.slots.size(); ++k) {
              const TunedKey& key = tuned[static_cast<size_t>(seg.slots[k])];
              config[key.key] = key.grid[idx[k]];
            }
            seg.table[c] = simulate_segment_time(plan, config, cap_reading, static_cast<int>(t), begin, i);
            if (++simulations_ % (1 << 16) == 0 && progress) progress(simulations_);
          }
          for (int s : seg.slots) config[tuned[static_cast<size_t>(s)].key] = 0;
          if (seg.slots.empty()) {
            plan_constant_[p] += seg.multiplier * seg.table[0];
          } else {
            segments_.push_back(std::move(seg));
          }
          begin = i;
        }
      }
      plan_segments_[p].second = segments_.size();
    }
  }

  size_t simulations() const { return simulations_; }
  size_t num_slots() const { return tuned_.size(); }

  // Weighted step time; `only_plan` >= 0 restricts to one plan, unweighted.
  double evaluate(const std::vector<size_t>& point, int only_plan = -1) const {
    if (only_plan >= 0) {
      // One plan's own segments only: the per-token-count searches stay linear in the workload size.
      const size_t p = static_cast<size_t>(only_plan);
      double t = plan_constant_[p];
      for (size_t i = plan_segments_[p].first; i < plan_segments_[p].second; ++i) {
        const Segment& seg = segments_[i];
        size_t c = 0;
        for (size_t k = 0; k < seg.slots.size(); ++k) c += point[static_cast<size_t>(seg.slots[k])] * seg.strides[k];
        t += seg.multiplier * seg.table[c];
      }
      return t;
    }
    double t = 0;
    for (size_t p = 0; p < plans_.size(); ++p) {
      if (only_plan < 0) t += plan_weight_[p] * plan_constant_[p];
      else if (static_cast<size_t>(only_plan) == p) t += plan_constant_[p];
    }
    for (const auto& seg : segments_) {
      if (only_plan >= 0 && seg.plan != static_cast<size_t>(only_plan)) continue;
      size_t c = 0;
      for (size_t k = 0; k < seg.slots.size(); ++k) c += point[static_cast<size_t>(seg.slots[k])] * seg.strides[k];
      t += (only_plan >= 0 ? 1.0 : plan_weight_[seg.plan]) * seg.multiplier * seg.table[c];
    }
    return t;
  }

  // Keys that share a segment must be searched together; others are independent.
  std::vector<std::vector<int>> components() const {
    std::vector<int> parent(tuned_.size());
    std::iota(parent.begin(), parent.end(), 0);
    std::function<int(int)> find = [&](int x) { return parent[static_cast<size_t>(x)] == x ? x : parent[static_cast<size_t>(x)] = find(parent[static_cast<size_t>(x)]); };
    for (const auto& seg : segments_) {
      for (size_t k = 1; k < seg.slots.size(); ++k) parent[static_cast<size_t>(find(seg.slots[k]))] = find(seg.slots[0]);
    }
    std::map<int, std::vector<int>> groups;
    for (size_t i = 0; i < tuned_.size(); ++i) groups[find(static_cast<int>(i))].push_back(static_cast<int>(i));
    std::vector<std::vector<int>> out;
    for (auto& [root, g] : groups) out.push_back(g);
    return out;
  }

  // Exhaustive over the given slots, others held at `point`; returns the best objective and sets `point`.
  double exhaustive(const std::vector<int>& slots, std::vector<size_t>& point, int only_plan, size_t& evaluated,
                    const std::function<void(double)>& progress) const {
    size_t total = 1;
    for (int s : slots) {
      const size_t n = tuned_[static_cast<size_t>(s)].grid.size();
      if (total > kMaxGridPoints / n) {
        throw InputError(fmt::format("the grid has more than {} points at this step; use a larger --step or the default search",
                                     kMaxGridPoints));
      }
      total *= n;
    }
    std::vector<size_t> cur = point;
    for (int s : slots) cur[static_cast<size_t>(s)] = 0;
    std::vector<size_t> best = cur;
    double best_value = std::numeric_limits<double>::infinity();
    const size_t report_every = std::max<size_t>(total / 100, 1 << 16);
    for (size_t n = 0; n < total; ++n) {
      const double v = evaluate(cur, only_plan);
      // Ties go to the point met first: the smallest ratios, so no bytes are moved for nothing.
      if (v < best_value - kTieUs) {
        best_value = v;
        best = cur;
      }
      ++evaluated;
      if (progress && n % report_every == 0) progress(static_cast<double>(n) / static_cast<double>(total));
      for (size_t k = 0; k < slots.size(); ++k) {
        size_t& i = cur[static_cast<size_t>(slots[k])];
        if (++i < tuned_[static_cast<size_t>(slots[k])].grid.size()) break;
        i = 0;
      }
    }
    point = best;
    return best_value;
  }

 private:
  const std::vector<const StepPlan*>& plans_;
  const std::vector<TunedKey>& tuned_;
  std::vector<double> plan_constant_;
  std::vector<double> plan_weight_;
  std::vector<Segment> segments_;
  std::vector<std::pair<size_t, size_t>> plan_segments_;  // [first, last) of each plan's segments
  size_t simulations_ = 0;
};

WeightPrefetchConfig config_from_point(const std::vector<TunedKey>& tuned, const std::vector<size_t>& point) {
  WeightPrefetchConfig c;
  c.enabled = true;
  for (auto& r : c.ratio) r = 0;  // every key written out; keys that cannot fire get 0
  for (size_t i = 0; i < tuned.size(); ++i) c[tuned[i].key] = tuned[i].grid[point[i]];
  return c;
}

// Largest ratio per key whose sites all end within tolerance of their window, at every token
// count with weight: the guide's "no later than the vector op" made exact. Keys interact only
// through shared segments, so two passes settle them.
std::vector<size_t> overlap_point(const std::vector<const StepPlan*>& plans, const std::vector<double>& weights,
                                  CapReading cap_reading, const std::vector<TunedKey>& tuned, double tolerance_us,
                                  size_t& evaluated) {
  std::vector<size_t> point(tuned.size(), 0);
  SimOptions options;
  options.cap_reading = cap_reading;
  auto feasible = [&](size_t slot) {
    const WeightPrefetchConfig c = config_from_point(tuned, point);
    const std::string key = ratio_key_name(tuned[slot].key);
    for (size_t p = 0; p < plans.size(); ++p) {
      if (weights[p] <= 0) continue;
      const StepResult r = simulate_step(*plans[p], c, options);
      ++evaluated;
      for (const auto& s : r.sites) {
        if (s.active && s.config_key == key && s.stall_us > tolerance_us) return false;
      }
    }
    return true;
  };
  for (int pass = 0; pass < 2; ++pass) {
    for (size_t k = 0; k < tuned.size(); ++k) {
      size_t best = 0;
      for (size_t i = 0; i < tuned[k].grid.size(); ++i) {
        point[k] = i;
        if (feasible(k)) best = i;
      }
      point[k] = best;
    }
  }
  return point;
}

}  // namespace

TuneResult tune_ratios(const std::vector<const StepPlan*>& plans, const std::vector<double>& weights,
                       CapReading cap_reading, const TuneOptions& options) {
  if (plans.empty() || plans.size() != weights.size()) throw InputError("tune-ratio: empty workload");
  if (!(options.step >= kMinStep) || options.step > 1) {
    throw InputError(fmt::format("--step {}: expected a number in [{:g}, 1], e.g. 0.01", options.step, kMinStep));
  }
  if (!(options.stall_tolerance_us >= 0)) throw InputError("--tolerance: expected a number of microseconds >= 0");
  if (!(options.near_optimal_pct >= 0)) throw InputError("--near-optimal-pct: expected a percentage >= 0");

  TuneResult result;
  result.method = options.method;
  result.objective = options.objective;
  result.step = options.step;

  // Keys that fire somewhere in the workload, and how far their ratio can usefully go.
  const HardwareProfile& hw = plans.front()->hardware;
  std::map<RatioKey, double> useful;
  std::map<std::pair<std::string, std::string>, std::string> off_reasons;
  std::set<std::pair<std::string, std::string>> fires;
  for (const StepPlan* plan : plans) {
    for (const auto& type : plan->layer_types) {
      for (const auto& site : type.sites) {
        const auto id = std::make_pair(site.site, type.name);
        if (!site.gated_on) {
          off_reasons.emplace(id, site.gate_reason);
          continue;
        }
        fires.insert(id);
        if (!site.ratio_key) continue;
        double limit = std::min(site.code_cap_bytes, hw.l2_size_bytes);
        if (cap_reading == CapReading::kGuide) limit = std::min(limit, hw.prefetch_cap_bytes);
        const double r = site.weight_bytes > 0 ? std::min(1.0, limit / site.weight_bytes) : 0.0;
        useful[*site.ratio_key] = std::max(useful[*site.ratio_key], r);
      }
    }
  }
  for (const auto& [id, reason] : off_reasons) {
    if (!fires.count(id)) result.left_out.push_back({id.first, id.second, reason});
  }
  auto tuned_at = [&](double step) {
    std::vector<TunedKey> tuned;
    for (const auto& [key, r] : useful) tuned.push_back({key, r, ratio_grid(r, step)});
    return tuned;
  };
  result.tuned = tuned_at(options.step);

  // Refused before it starts when it would take too long, with the step that fits; announced
  // (and its progress shown) when it may take a while.
  const SearchEstimate estimate = estimate_search(plans, result.tuned, options);
  if (!fits(estimate)) {
    double fitting = 1;
    for (double decade = 1e-6; decade < 1; decade *= 10) {
      bool found = false;
      for (double m : {1.0, 2.0, 5.0}) {
        const double candidate = decade * m;
        if (candidate <= options.step || !fits(estimate_search(plans, tuned_at(candidate), options))) continue;
        fitting = candidate;
        found = true;
        break;
      }
      if (found) break;
    }
    throw InputError(fmt::format(
        "--step {:g}: this search would take about {} ({:.3g} configurations, {:.3g} segment simulations, {} of tables); "
        "at most {} and {}: use --step {:g} or larger",
        options.step, duration_text(estimate.seconds), estimate.configurations, estimate.segment_simulations,
        bytes_text(estimate.table_bytes), duration_text(kMaxSearchSeconds), bytes_text(kMaxSearchTableBytes), fitting));
  }
  if (options.on_start) options.on_start(estimate);
  const double table_share = estimate.seconds > 0 ? estimate.segment_simulations * kSegmentSimulationUs / 1e6 / estimate.seconds : 0;
  std::function<void(size_t)> table_progress;
  std::function<void(double)> search_progress;
  if (options.progress) {
    table_progress = [&](size_t done) {
      options.progress(table_share * std::min(1.0, static_cast<double>(done) / estimate.segment_simulations));
    };
    search_progress = [&](double f) { options.progress(table_share + (1 - table_share) * f); };
  }

  SegmentedObjective objective(plans, weights, cap_reading, result.tuned, table_progress);
  result.segment_simulations = objective.simulations();
  std::vector<size_t> point(result.tuned.size(), 0);
  size_t evaluated = 0;
  std::vector<int> all_slots(result.tuned.size());
  std::iota(all_slots.begin(), all_slots.end(), 0);
  auto search_latency = [&](std::vector<size_t>& pt_, int only_plan, const std::function<void(double)>& progress) {
    if (options.method == SearchMethod::kGrid) {
      objective.exhaustive(all_slots, pt_, only_plan, evaluated, progress);
    } else {
      const size_t before = evaluated;
      for (const auto& group : objective.components()) {
        std::function<void(double)> group_progress;
        if (progress) {
          const double done = static_cast<double>(evaluated - before), total = std::max(1.0, estimate.configurations);
          double size = 1;
          for (int k : group) size *= static_cast<double>(result.tuned[static_cast<size_t>(k)].grid.size());
          group_progress = [&progress, done, size, total](double f) { progress(std::min(1.0, (done + f * size) / total)); };
        }
        objective.exhaustive(group, pt_, only_plan, evaluated, group_progress);
      }
    }
  };
  if (!result.tuned.empty()) {
    if (options.objective == TuneObjective::kLatency) {
      search_latency(point, -1, search_progress);
    } else {
      point = overlap_point(plans, weights, cap_reading, result.tuned, options.stall_tolerance_us, evaluated);
    }
  }
  if (search_progress) search_progress(1.0);
  result.grid_points = evaluated;
  result.best = config_from_point(result.tuned, point);
  result.step_time_us = workload_step_time(plans, weights, result.best, cap_reading);
  result.default_step_time_us = workload_step_time(plans, weights, WeightPrefetchConfig::defaults_enabled(), cap_reading);
  WeightPrefetchConfig off;
  off.enabled = false;
  result.baseline_step_time_us = workload_step_time(plans, weights, off, cap_reading);
  result.gain_pct = 100.0 * (result.baseline_step_time_us - result.step_time_us) / result.baseline_step_time_us;
  if (result.tuned.empty()) {
    result.recommend_disable = true;
    result.recommendation = "no prefetch site fires for this model and deployment: leave weight prefetch disabled";
  } else if (result.gain_pct < options.disable_threshold_pct) {
    result.recommend_disable = true;
    result.recommendation = fmt::format(
        "the best config gains {:.2f} % over prefetch disabled, below the {:.2f} % threshold: disable weight prefetch "
        "(the guide's advice for latency-bound use: the prefetch competes with the vector ops it hides behind)",
        result.gain_pct, options.disable_threshold_pct);
  } else {
    result.recommendation = fmt::format("enable with the tuned ratios: {:.2f} % faster than prefetch disabled", result.gain_pct);
  }

  // Per token count: its own best, and how the shared config does there.
  for (size_t p = 0; p < plans.size(); ++p) {
    PerTokensResult r;
    r.num_tokens = plans[p]->tokens.scheduled_tokens;
    r.weight = weights[p];
    std::vector<size_t> own(result.tuned.size(), 0);
    if (!result.tuned.empty()) {
      if (options.objective == TuneObjective::kLatency) {
        search_latency(own, static_cast<int>(p), nullptr);
      } else {
        std::vector<const StepPlan*> one{plans[p]};
        own = overlap_point(one, {1.0}, cap_reading, result.tuned, options.stall_tolerance_us, evaluated);
      }
    }
    r.best = config_from_point(result.tuned, own);
    r.best_step_time_us = simulate_step_time(*plans[p], r.best, cap_reading);
    r.tuned_step_time_us = simulate_step_time(*plans[p], result.best, cap_reading);
    r.default_step_time_us = simulate_step_time(*plans[p], WeightPrefetchConfig::defaults_enabled(), cap_reading);
    r.baseline_step_time_us = simulate_step_time(*plans[p], off, cap_reading);
    result.per_tokens.push_back(r);
  }

  // Near-optimal ranges and curves: each key swept with the others at the chosen point.
  const double best_value = objective.evaluate(point);
  for (size_t k = 0; k < result.tuned.size(); ++k) {
    RatioCurve curve;
    curve.key = result.tuned[k].key;
    NearOptimalRange range;
    range.key = curve.key;
    bool found = false, left = false;
    std::vector<size_t> probe = point;
    for (size_t i = 0; i < result.tuned[k].grid.size(); ++i) {
      probe[k] = i;
      const double v = objective.evaluate(probe);
      curve.ratios.push_back(result.tuned[k].grid[i]);
      curve.step_time_us.push_back(v);
      if (v <= best_value * (1.0 + options.near_optimal_pct / 100.0) + kTieUs) {
        if (!found) range.min = result.tuned[k].grid[i];
        if (found && left) range.contiguous = false;
        range.max = result.tuned[k].grid[i];
        found = true;
      } else if (found) {
        left = true;
      }
    }
    // Every ratio above the useful maximum issues the same bytes as the last grid value.
    if (range.max >= result.tuned[k].grid.back()) range.max = 1.0;
    result.near_optimal.push_back(range);
    result.curves.push_back(curve);
  }
  if (result.tuned.size() == 2) {
    RatioHeatmap h;
    h.x_key = result.tuned[0].key;
    h.y_key = result.tuned[1].key;
    h.x_ratios = result.tuned[0].grid;
    h.y_ratios = result.tuned[1].grid;
    std::vector<size_t> probe = point;
    for (size_t y = 0; y < h.y_ratios.size(); ++y) {
      for (size_t x = 0; x < h.x_ratios.size(); ++x) {
        probe[0] = x;
        probe[1] = y;
        h.step_time_us.push_back(objective.evaluate(probe));
      }
    }
    result.heatmap = h;
  }
  return result;
}

}  // namespace pt
