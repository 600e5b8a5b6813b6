#include "search/ratio_search.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <numeric>
#include <set>
#include <stdexcept>

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

constexpr double kInfBytes = std::numeric_limits<double>::infinity();
constexpr size_t kMaxGridPoints = 2'000'000'000;
// Configurations within 0.1 ns of each other tie; a tie goes to the one met first (the smaller ratios,
// off before a one-byte CMO), so no bytes are moved for a gain nobody can measure.
constexpr double kTieUs = 1e-4;

// Grid values are rounded to 1e-6 so they read back from the emitted JSON bit-identical.
double grid_value(size_t i, double step) { return std::round(static_cast<double>(i) * step * 1e6) / 1e6; }
constexpr double kMinStep = 1e-6;

// ---- the size of a search, before it runs ---------------------------------------------------

// Speeds on the development machine (Release, bench/tune_bench BM_SearchCost_*, medians): one
// segment simulation behind a table entry (5.32e6 in 2.21 s), and one segment-table read while
// configurations are compared (the grid: 90.3e6 configurations x 36 segments in 14.8 s).
constexpr double kSegmentSimulationUs = 0.42;
constexpr double kLookupUs = 0.0045;

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

// The smallest ratio r with int(r x w) >= 1 for every weight w: Python's float product, floored.
double smallest_issuing_ratio(const std::vector<double>& weights) {
  double w_min = std::numeric_limits<double>::infinity();
  for (double w : weights) w_min = std::min(w_min, w);
  if (!(w_min >= 1)) return 1.0;
  double r = 1.0 / w_min;
  auto issues = [&](double x) {
    for (double w : weights) {
      if (std::floor(w * x) < 1) return false;
    }
    return true;
  };
  while (!issues(r)) r = std::nextafter(r, 2.0);
  return r;
}

// 0 (module off), the smallest ratio that issues a CMO (of about one byte: its fork, join and
// set-up alone), then step, 2 step, ... up to the first value at or above the useful maximum.
std::vector<double> ratio_grid(const TunedKey& t, double step) {
  std::vector<double> grid{0.0, smallest_issuing_ratio(t.weights_bytes)};
  const size_t last = static_cast<size_t>(std::ceil(t.max_useful_ratio / step - 1e-9));
  for (size_t i = 1; i <= last; ++i) {
    const double v = std::min(1.0, grid_value(i, step));
    if (v > grid.back()) grid.push_back(v);
  }
  if (grid.back() < t.max_useful_ratio) grid.push_back(std::min(1.0, grid_value(last + 1, step)));
  return grid;
}

KeySetting setting_of(const TunedKey& key, double value, const Semantics& semantics) {
  KeySetting k;
  if (value <= 0) return k;  // module off
  k.on = true;
  const bool legacy = semantics.legacy_mlp_env == LegacyMlpEnv::kOnlyPath &&
                      (key.key == RatioKey::kMlpGateUp || key.key == RatioKey::kMlpDown);
  if (legacy && !key.weights_bytes.empty()) {
    // v0.13 / v0.14 have no mlp module: the same bytes as VLLM_ASCEND_MLP_*_PREFETCH_SIZE.
    k.legacy_bytes = std::max(1.0, std::floor(key.weights_bytes.front() * value));
  } else {
    k.ratio = value;
  }
  return k;
}

struct Segment {
  size_t plan = 0;
  double multiplier = 0;           // plan weight x layers of this type
  std::vector<int> slots;          // tuned-key slots this segment depends on
  std::vector<size_t> strides;
  std::vector<double> table;       // segment time per combination of the slots' grid indices
  std::vector<char> closed;        // whether that run left the streams idle and L2 empty
  double size = 0;                 // entries (the table stays empty in a dry run)
};

class SegmentedObjective {
 public:
  SegmentedObjective(const std::vector<const StepPlan*>& plans, const std::vector<double>& weights,
                     CapReading cap_reading, const std::vector<TunedKey>& tuned, const Semantics& semantics,
                     bool simulate = true, const std::function<void(size_t simulations)>& progress = {})
      : plans_(plans), cap_reading_(cap_reading), tuned_(tuned), semantics_(semantics),
        plan_constant_(plans.size(), 0.0), plan_weight_(weights), plan_closed_(plans.size(), 1) {
    // A dry run (simulate = false) lays out the segments and counts their tables without
    // simulating or allocating anything: the size of the search, before it runs.
    const double total = std::accumulate(weights.begin(), weights.end(), 0.0);
    for (auto& w : plan_weight_) w /= total;
    std::map<RatioKey, int> slot_of;
    for (size_t i = 0; i < tuned.size(); ++i) slot_of[tuned[i].key] = static_cast<int>(i);

    plan_segments_.resize(plans.size());
    for (size_t p = 0; p < plans.size(); ++p) {
      plan_segments_[p].first = segments_.size();
      const StepPlan& plan = *plans[p];
      SegmentRunner runner(plan, cap_reading);
      WeightPrefetchConfig config;
      config.enabled = true;
      std::vector<int> counts(plan.layer_types.size(), 0);
      for (int ti : plan.layer_sequence) ++counts[static_cast<size_t>(ti)];
      if (simulate) {
        const SegmentTime head = simulate_segment(plan, config, cap_reading, -1, 0, plan.step_ops.ops.size());
        plan_constant_[p] += head.time_us;
        if (!head.closed) plan_closed_[p] = 0;
      }
      for (size_t t = 0; t < plan.layer_types.size(); ++t) {
        const PlannedLayerType& type = plan.layer_types[t];
        // A boundary before op i is valid when nothing is in flight there: the last prefetch forked
        // before it has been waited for (a wait waits for everything queued). Prefetches whose
        // matmul comes after the boundary are carried: the later segment starts with their bytes
        // in L2 and depends on their keys. Carrying is exact only while L2 never fills, so a layer
        // whose prefetches could together exceed it is cut only where nothing is carried.
        const size_t n = type.ops.size();
        double max_held = 0;
        for (const auto& site : type.sites) {
          if (site.gated_on) max_held += std::min(site.weight_bytes, site.cap_bytes);
        }
        const bool carry_exact = max_held <= plan.hardware.l2_size_bytes;
        auto carried_at = [&](size_t i) {
          std::vector<int> c;
          for (size_t s = 0; s < type.sites.size(); ++s) {
            const auto& site = type.sites[s];
            if (site.gated_on && site.fork_op < static_cast<int>(i) && site.target_op >= static_cast<int>(i)) {
              c.push_back(static_cast<int>(s));
            }
          }
          return c;
        };
        auto valid = [&](size_t i) {
          if (i == n) return true;
          int last_fork = -1;
          for (const auto& site : type.sites) {
            if (site.gated_on && !site.on_compute_stream && site.fork_op < static_cast<int>(i)) {
              last_fork = std::max(last_fork, site.fork_op);
            }
          }
          if (last_fork >= 0) {
            bool waited = false;
            for (const auto& site : type.sites) {
              waited = waited || (site.gated_on && site.join_op >= last_fork && site.join_op < static_cast<int>(i));
            }
            if (!waited) return false;
          }
          return carry_exact || carried_at(i).empty();
        };
        size_t begin = 0;
        for (size_t i = 1; i <= n; ++i) {
          if (!valid(i)) continue;
          const std::vector<int> carried = carried_at(begin);
          std::set<int> slots;
          for (const auto& site : type.sites) {
            if (!site.gated_on || site.fork_op < static_cast<int>(begin) || site.fork_op >= static_cast<int>(i)) continue;
            if (site.ratio_key && slot_of.count(*site.ratio_key)) slots.insert(slot_of[*site.ratio_key]);
          }
          for (int c : carried) {
            const auto& site = type.sites[static_cast<size_t>(c)];
            if (site.ratio_key && slot_of.count(*site.ratio_key)) slots.insert(slot_of[*site.ratio_key]);
          }
          Segment seg;
          seg.plan = p;
          seg.multiplier = counts[t];
          seg.slots.assign(slots.begin(), slots.end());
          double entries = 1;
          for (int s : seg.slots) entries *= static_cast<double>(tuned[static_cast<size_t>(s)].grid.size());
          seg.size = entries;
          planned_simulations_ += entries;
          if (!simulate) {
            if (!seg.slots.empty()) segments_.push_back(std::move(seg));
            begin = i;
            continue;
          }
          size_t size = 1;
          for (int s : seg.slots) {
            seg.strides.push_back(size);
            size *= tuned[static_cast<size_t>(s)].grid.size();
          }
          seg.table.resize(size);
          seg.closed.resize(size);
          std::vector<size_t> idx(seg.slots.size(), 0);
          for (size_t c = 0; c < size; ++c) {
            size_t rem = c;
            for (size_t k = seg.slots.size(); k-- > 0;) {
              idx[k] = rem / seg.strides[k];
              rem %= seg.strides[k];
            }
            for (size_t k = 0; k < seg.slots.size(); ++k) {
              const TunedKey& key = tuned[static_cast<size_t>(seg.slots[k])];
              config[key.key] = setting_of(key, key.grid[idx[k]], semantics);
            }
            const SegmentTime st = runner.run(config, static_cast<int>(t), begin, i, carried);
            seg.table[c] = st.time_us;
            seg.closed[c] = st.closed ? 1 : 0;
            if (++simulations_ % (1 << 14) == 0 && progress) progress(simulations_);
          }
          for (int s : seg.slots) config[tuned[static_cast<size_t>(s)].key] = KeySetting{};
          if (seg.slots.empty()) {
            plan_constant_[p] += seg.multiplier * seg.table[0];
            if (!seg.closed[0]) plan_closed_[p] = 0;
          } else {
            segments_.push_back(std::move(seg));
          }
          begin = i;
        }
      }
      plan_segments_[p].second = segments_.size();
    }
  }

  // A copy of `other`'s tables bound to other owners of the same plans and keys (the weights are
  // in its tables).
  SegmentedObjective(const SegmentedObjective& other, const std::vector<const StepPlan*>& plans,
                     const std::vector<TunedKey>& tuned, const Semantics& semantics)
      : plans_(plans), cap_reading_(other.cap_reading_), tuned_(tuned), semantics_(semantics),
        plan_constant_(other.plan_constant_), plan_weight_(other.plan_weight_), plan_closed_(other.plan_closed_),
        segments_(other.segments_), plan_segments_(other.plan_segments_), simulations_(other.simulations_),
        planned_simulations_(other.planned_simulations_) {}

  size_t simulations() const { return simulations_; }
  double planned_simulations() const { return planned_simulations_; }

  // What one latency search evaluates (`evaluated` of exhaustive / eliminate), from the layout
  // alone: the full grid counts the points the release can express; the decomposed search, for
  // every on/off pattern of the modules, the variable elimination of each group (assuming every
  // segment closes, as decode layers do).
  // `lookups` gets the segment-table reads they take.
  double planned_evaluations(bool grid, const std::vector<size_t>& module_of, size_t modules, int only_plan,
                             double& lookups) const {
    auto n = [&](int k) { return static_cast<double>(tuned_[static_cast<size_t>(k)].grid.size()); };
    const size_t p0 = only_plan >= 0 ? static_cast<size_t>(only_plan) : 0;
    const size_t p1 = only_plan >= 0 ? p0 + 1 : plans_.size();
    if (grid) {
      std::vector<double> on(modules, 1.0);
      for (size_t k = 0; k < tuned_.size(); ++k) on[module_of[k]] *= n(static_cast<int>(k)) - 1;
      double total = 1;
      for (double o : on) total *= 1 + o;
      if (tuned_.empty()) return 0;
      lookups += total * static_cast<double>(plan_segments_[p1 - 1].second - plan_segments_[p0].first);
      return total;
    }
    double total = 0;
    for (const auto& group : components()) {
      const std::set<int> in_group(group.begin(), group.end());
      std::set<std::vector<int>> factor_sets;
      for (size_t p = p0; p < p1; ++p) {
        for (size_t i = plan_segments_[p].first; i < plan_segments_[p].second; ++i) {
          std::vector<int> vars;
          for (int sl : segments_[i].slots) {
            if (in_group.count(sl)) vars.push_back(sl);
          }
          if (!vars.empty()) factor_sets.insert(vars);
        }
      }
      for (size_t mask = 0; mask < (size_t{1} << modules); ++mask) {
        auto allowed = [&](int k) { return (mask >> module_of[static_cast<size_t>(k)]) & 1 ? n(k) - 1 : 1.0; };
        std::vector<std::set<int>> factors;
        for (const auto& f : factor_sets) factors.emplace_back(f.begin(), f.end());
        std::set<int> left(group.begin(), group.end());
        while (!left.empty()) {
          int best_var = -1;
          double best_size = std::numeric_limits<double>::infinity();
          for (int v : left) {
            std::set<int> nb;
            for (const auto& f : factors) {
              if (f.count(v)) nb.insert(f.begin(), f.end());
            }
            nb.erase(v);
            double size = 1;
            for (int u : nb) size *= n(u);
            if (size < best_size) {
              best_size = size;
              best_var = v;
            }
          }
          std::set<int> nb;
          std::vector<std::set<int>> rest;
          for (auto& f : factors) {
            if (f.count(best_var)) nb.insert(f.begin(), f.end());
            else rest.push_back(std::move(f));
          }
          nb.erase(best_var);
          double count = allowed(best_var);
          for (int u : nb) count *= allowed(u);
          total += count;
          lookups += count * static_cast<double>(factors.size() - rest.size());
          rest.push_back(nb);
          factors = std::move(rest);
          left.erase(best_var);
        }
      }
    }
    return total;
  }
  size_t full_simulations() const { return full_simulations_; }

  // The config of a point, as the release can express it; false when a module has some tuned keys
  // off and others on (a 0 inside an enabled module would prefetch the whole tensor).
  bool expressible(const std::vector<size_t>& point) const {
    for (size_t a = 0; a < tuned_.size(); ++a) {
      for (size_t b = a + 1; b < tuned_.size(); ++b) {
        if (std::string(ratio_module_name(tuned_[a].key)) != ratio_module_name(tuned_[b].key)) continue;
        if ((point[a] == 0) != (point[b] == 0)) return false;
      }
    }
    return true;
  }

  WeightPrefetchConfig config_of(const std::vector<size_t>& point) const {
    std::vector<double> ratios(tuned_.size());
    for (size_t i = 0; i < tuned_.size(); ++i) ratios[i] = tuned_[i].grid[point[i]];
    return tuned_config(tuned_, ratios, semantics_);
  }

  // Weighted step time; `only_plan` >= 0 restricts to one plan, unweighted. A point whose segments
  // do not all close (a CMO outlives its segment) is simulated whole instead.
  double evaluate(const std::vector<size_t>& point, int only_plan = -1) const {
    double t = 0;
    const size_t p0 = only_plan >= 0 ? static_cast<size_t>(only_plan) : 0;
    const size_t p1 = only_plan >= 0 ? p0 + 1 : plans_.size();
    for (size_t p = p0; p < p1; ++p) {
      const double w = only_plan >= 0 ? 1.0 : plan_weight_[p];
      double tp = plan_constant_[p];
      bool closed = plan_closed_[p] != 0;
      for (size_t i = plan_segments_[p].first; i < plan_segments_[p].second && closed; ++i) {
        const Segment& seg = segments_[i];
        size_t c = 0;
        for (size_t k = 0; k < seg.slots.size(); ++k) c += point[static_cast<size_t>(seg.slots[k])] * seg.strides[k];
        tp += seg.multiplier * seg.table[c];
        closed = seg.closed[c] != 0;
      }
      if (!closed) tp = full_time(point, p);
      t += w * tp;
    }
    return t;
  }

  // Keys that share a segment must be searched together; others are independent. (A module's keys
  // are coupled only by being off together: the search fixes each module on or off first.)
  std::vector<std::vector<int>> components() const {
    std::vector<int> parent(tuned_.size());
    std::iota(parent.begin(), parent.end(), 0);
    std::function<int(int)> find = [&](int x) { return parent[static_cast<size_t>(x)] == x ? x : parent[static_cast<size_t>(x)] = find(parent[static_cast<size_t>(x)]); };
    for (const auto& seg : segments_) {
      for (size_t k = 1; k < seg.slots.size(); ++k) parent[static_cast<size_t>(find(seg.slots[k]))] = find(seg.slots[0]);
    }
    // Plans whose segments do not close couple every key they touch.
    for (size_t p = 0; p < plans_.size(); ++p) {
      if (closes(p)) continue;
      for (size_t k = 1; k < tuned_.size(); ++k) parent[static_cast<size_t>(find(static_cast<int>(k)))] = find(0);
    }
    std::map<int, std::vector<int>> groups;
    for (size_t i = 0; i < tuned_.size(); ++i) groups[find(static_cast<int>(i))].push_back(static_cast<int>(i));
    std::vector<std::vector<int>> out;
    for (auto& [root, g] : groups) out.push_back(g);
    return out;
  }

  // Exhaustive over the given slots, others held at `point`; returns the best objective and sets `point`.
  // Grid indices [lo, hi) a slot may take: {0} for a module that is off, [1, n) for one that is on.
  using Ranges = std::vector<std::pair<size_t, size_t>>;
  Ranges full_ranges() const {
    Ranges r;
    for (const auto& t : tuned_) r.emplace_back(0, t.grid.size());
    return r;
  }

  double exhaustive(const std::vector<int>& slots, std::vector<size_t>& point, int only_plan, size_t& evaluated,
                    const std::function<void(double)>& progress, const Ranges& ranges) const {
    size_t total = 1;
    for (int s : slots) {
      const auto [lo, hi] = ranges[static_cast<size_t>(s)];
      const size_t n = hi - lo;
      if (n == 0) return std::numeric_limits<double>::infinity();
      if (total > kMaxGridPoints / n) {
        throw InputError(fmt::format("the grid has more than {} points at this step; use a larger --step or the default search",
                                     kMaxGridPoints));
      }
      total *= n;
    }
    std::vector<size_t> cur = point;
    for (int s : slots) cur[static_cast<size_t>(s)] = ranges[static_cast<size_t>(s)].first;
    std::vector<size_t> best = cur;
    double best_value = std::numeric_limits<double>::infinity();
    const size_t report_every = std::max<size_t>(total / 100, 1 << 16);
    for (size_t n = 0; n < total; ++n) {
      if (expressible(cur)) {
        const double v = evaluate(cur, only_plan);
        // Ties go to the point met first: the smallest ratios, so no bytes are moved for nothing.
        if (v < best_value - kTieUs) {
          best_value = v;
          best = cur;
        }
        ++evaluated;
      }
      if (progress && n % report_every == 0) progress(static_cast<double>(n) / static_cast<double>(total));
      for (size_t k = 0; k < slots.size(); ++k) {
        const auto [lo, hi] = ranges[static_cast<size_t>(slots[k])];
        size_t& i = cur[static_cast<size_t>(slots[k])];
        if (++i < hi) break;
        i = lo;
      }
    }
    point = best;
    return best_value;
  }

  // The same minimum as `exhaustive` over `slots`, by variable elimination: the objective is a sum
  // of segment tables, each over a few keys, so keys are eliminated one at a time (min-sum), each
  // step a table over the eliminated key's neighbours only. Needs every segment of the plans in
  // scope to close; returns false (doing nothing) otherwise.
  bool eliminate(const std::vector<int>& slots, std::vector<size_t>& point, int only_plan, const Ranges& ranges,
                 size_t& evaluated) const {
    const size_t p0 = only_plan >= 0 ? static_cast<size_t>(only_plan) : 0;
    const size_t p1 = only_plan >= 0 ? p0 + 1 : plans_.size();
    for (size_t p = p0; p < p1; ++p) {
      if (!closes(p)) return false;
    }
    const std::set<int> in_group(slots.begin(), slots.end());
    struct Factor {
      std::vector<int> vars;        // slots, ascending
      std::vector<size_t> strides;  // over the full grid sizes
      std::vector<double> table;
    };
    auto index_of = [&](const Factor& f, const std::vector<size_t>& at) {
      size_t c = 0;
      for (size_t k = 0; k < f.vars.size(); ++k) c += at[static_cast<size_t>(f.vars[k])] * f.strides[k];
      return c;
    };
    auto make = [&](std::vector<int> vars) {
      Factor f;
      std::sort(vars.begin(), vars.end());
      f.vars = vars;
      size_t size = 1;
      for (int v : vars) {
        f.strides.push_back(size);
        size *= tuned_[static_cast<size_t>(v)].grid.size();
      }
      f.table.assign(size, 0.0);
      return f;
    };
    // Segment tables restricted to the group's keys (the others held at `point`), summed per key set.
    std::map<std::vector<int>, Factor> merged;
    for (size_t p = p0; p < p1; ++p) {
      const double w = only_plan >= 0 ? 1.0 : plan_weight_[p];
      for (size_t i = plan_segments_[p].first; i < plan_segments_[p].second; ++i) {
        const Segment& seg = segments_[i];
        std::vector<int> vars;
        for (int sl : seg.slots) {
          if (in_group.count(sl)) vars.push_back(sl);
        }
        if (vars.empty()) continue;
        auto it = merged.find(vars);
        if (it == merged.end()) it = merged.emplace(vars, make(vars)).first;
        Factor& f = it->second;
        std::vector<size_t> at = point;
        for (size_t c = 0; c < f.table.size(); ++c) {
          size_t rem = c;
          for (size_t k = f.vars.size(); k-- > 0;) {
            at[static_cast<size_t>(f.vars[k])] = rem / f.strides[k];
            rem %= f.strides[k];
          }
          size_t sc = 0;
          for (size_t k = 0; k < seg.slots.size(); ++k) sc += at[static_cast<size_t>(seg.slots[k])] * seg.strides[k];
          f.table[c] += w * seg.multiplier * seg.table[sc];
        }
      }
    }
    std::vector<Factor> factors;
    for (auto& [vars, f] : merged) factors.push_back(std::move(f));
    // Eliminate in order of fewest neighbours; remember each key's best value given its neighbours.
    struct Step {
      int var;
      Factor argmin;  // over the neighbours: the best grid index of `var`
    };
    std::vector<Step> steps;
    std::set<int> left(slots.begin(), slots.end());
    const std::vector<size_t> lo_point = [&] {
      std::vector<size_t> v = point;
      for (int sl : slots) v[static_cast<size_t>(sl)] = ranges[static_cast<size_t>(sl)].first;
      return v;
    }();
    while (!left.empty()) {
      int best_var = -1;
      size_t best_size = SIZE_MAX;
      for (int v : left) {
        std::set<int> nb;
        for (const auto& f : factors) {
          if (std::find(f.vars.begin(), f.vars.end(), v) == f.vars.end()) continue;
          for (int u : f.vars) {
            if (u != v) nb.insert(u);
          }
        }
        size_t size = 1;
        for (int u : nb) size *= tuned_[static_cast<size_t>(u)].grid.size();
        if (size < best_size) {
          best_size = size;
          best_var = v;
        }
      }
      std::vector<Factor> with, without;
      std::set<int> nb;
      for (auto& f : factors) {
        if (std::find(f.vars.begin(), f.vars.end(), best_var) != f.vars.end()) {
          for (int u : f.vars) {
            if (u != best_var) nb.insert(u);
          }
          with.push_back(std::move(f));
        } else {
          without.push_back(std::move(f));
        }
      }
      Factor reduced = make(std::vector<int>(nb.begin(), nb.end()));
      Factor arg = make(std::vector<int>(nb.begin(), nb.end()));
      const auto [vlo, vhi] = ranges[static_cast<size_t>(best_var)];
      std::vector<size_t> at = lo_point;
      for (size_t c = 0; c < reduced.table.size(); ++c) {
        size_t rem = c;
        bool allowed = true;
        for (size_t k = reduced.vars.size(); k-- > 0;) {
          const size_t idx = rem / reduced.strides[k];
          rem %= reduced.strides[k];
          at[static_cast<size_t>(reduced.vars[k])] = idx;
          const auto [lo, hi] = ranges[static_cast<size_t>(reduced.vars[k])];
          allowed = allowed && idx >= lo && idx < hi;
        }
        double best = std::numeric_limits<double>::infinity();
        size_t best_i = vlo;
        if (allowed) {
          for (size_t vi = vlo; vi < vhi; ++vi) {
            at[static_cast<size_t>(best_var)] = vi;
            double sum = 0;
            for (const auto& f : with) sum += f.table[index_of(f, at)];
            ++evaluated;
            if (sum < best - kTieUs) {
              best = sum;
              best_i = vi;
            }
          }
        }
        reduced.table[c] = best;
        arg.table[c] = static_cast<double>(best_i);
      }
      steps.push_back({best_var, std::move(arg)});
      without.push_back(std::move(reduced));
      factors = std::move(without);
      left.erase(best_var);
    }
    // Back-substitute, last eliminated first.
    std::vector<size_t> chosen = lo_point;
    for (auto it = steps.rbegin(); it != steps.rend(); ++it) {
      chosen[static_cast<size_t>(it->var)] = static_cast<size_t>(it->argmin.table[index_of(it->argmin, chosen)]);
    }
    point = chosen;
    return true;
  }

  // Every segment of every plan closes at every entry: lookups alone give every step time.
  bool closes_all() const {
    for (size_t p = 0; p < plans_.size(); ++p) {
      if (!closes(p)) return false;
    }
    return true;
  }
  // Whether `other` has the same segments and table sizes (the same plans' layout under other hardware).
  bool same_layout(const SegmentedObjective& other) const {
    if (other.segments_.size() != segments_.size() || other.plan_constant_.size() != plan_constant_.size()) return false;
    for (size_t i = 0; i < segments_.size(); ++i) {
      if (segments_[i].slots != other.segments_[i].slots || segments_[i].table.size() != other.segments_[i].table.size()) {
        return false;
      }
    }
    return true;
  }
  // this = this + weight x other, table by table (a weighted sum of tables is the table of the
  // weighted sum of step times); a closed flag stays only where both closed.
  void add_scaled(const SegmentedObjective& other, double weight) {
    for (size_t p = 0; p < plan_constant_.size(); ++p) {
      plan_constant_[p] += weight * other.plan_constant_[p];
      plan_closed_[p] = plan_closed_[p] && other.plan_closed_[p];
    }
    for (size_t i = 0; i < segments_.size(); ++i) {
      for (size_t c = 0; c < segments_[i].table.size(); ++c) {
        segments_[i].table[c] += weight * other.segments_[i].table[c];
        segments_[i].closed[c] = segments_[i].closed[c] && other.segments_[i].closed[c];
      }
    }
  }
  void scale(double factor) {
    for (auto& c : plan_constant_) c *= factor;
    for (auto& seg : segments_) {
      for (auto& v : seg.table) v *= factor;
    }
  }

 private:
  bool closes(size_t p) const {
    if (!plan_closed_[p]) return false;
    for (size_t i = plan_segments_[p].first; i < plan_segments_[p].second; ++i) {
      for (char c : segments_[i].closed) {
        if (!c) return false;
      }
    }
    return true;
  }

  double full_time(const std::vector<size_t>& point, size_t p) const {
    auto key = std::make_pair(p, point);
    auto it = full_cache_.find(key);
    if (it != full_cache_.end()) return it->second;
    ++full_simulations_;
    const double t = simulate_step_time(*plans_[p], config_of(point), cap_reading_);
    full_cache_.emplace(std::move(key), t);
    return t;
  }

  const std::vector<const StepPlan*>& plans_;
  CapReading cap_reading_;
  const std::vector<TunedKey>& tuned_;
  const Semantics& semantics_;
  std::vector<double> plan_constant_;
  std::vector<double> plan_weight_;
  std::vector<char> plan_closed_;
  std::vector<Segment> segments_;
  std::vector<std::pair<size_t, size_t>> plan_segments_;  // [first, last) of each plan's segments
  size_t simulations_ = 0;
  double planned_simulations_ = 0;
  mutable size_t full_simulations_ = 0;
  mutable std::map<std::pair<size_t, std::vector<size_t>>, double> full_cache_;
};

// Exact and still decomposed: for every on/off pattern of the modules, each group of keys that
// share a segment is searched alone over its keys' allowed values.
std::vector<size_t> decomposed_best(const SegmentedObjective& objective, const std::vector<TunedKey>& tuned,
                                    const std::vector<std::vector<int>>& components, int only_plan, size_t& evaluated,
                                    const std::function<void(double)>& progress) {
  std::vector<std::string> modules;
  for (const auto& t : tuned) {
    if (std::find(modules.begin(), modules.end(), ratio_module_name(t.key)) == modules.end()) modules.emplace_back(ratio_module_name(t.key));
  }
  double best = std::numeric_limits<double>::infinity();
  std::vector<size_t> best_point(tuned.size(), 0);
  const size_t masks = size_t{1} << modules.size();
  for (size_t mask = 0; mask < masks; ++mask) {
    if (progress) progress(static_cast<double>(mask) / static_cast<double>(masks));
    auto ranges = objective.full_ranges();
    for (size_t k = 0; k < tuned.size(); ++k) {
      const size_t m = static_cast<size_t>(std::find(modules.begin(), modules.end(), ratio_module_name(tuned[k].key)) - modules.begin());
      ranges[k] = (mask >> m) & 1 ? std::make_pair(size_t{1}, tuned[k].grid.size()) : std::make_pair(size_t{0}, size_t{1});
    }
    std::vector<size_t> cand(tuned.size(), 0);
    for (size_t k = 0; k < cand.size(); ++k) cand[k] = ranges[k].first;
    for (const auto& group : components) {
      if (!objective.eliminate(group, cand, only_plan, ranges, evaluated)) {
        objective.exhaustive(group, cand, only_plan, evaluated, nullptr, ranges);
      }
    }
    const double v = objective.evaluate(cand, only_plan);
    if (v < best - kTieUs) {
      best = v;
      best_point = cand;
    }
  }
  return best_point;
}

// Largest ratio per key whose sites all end within tolerance of their window, at every token
// count with weight: the guide's "no later than the vector op" made exact. Keys interact only
// through shared segments, so two passes settle them.
std::vector<size_t> overlap_point(const SegmentedObjective& objective, const std::vector<const StepPlan*>& plans,
                                  const std::vector<double>& weights, CapReading cap_reading,
                                  const std::vector<TunedKey>& tuned, double tolerance_us, size_t& evaluated) {
  std::vector<size_t> point(tuned.size(), 0);
  SimOptions options;
  options.cap_reading = cap_reading;
  auto feasible = [&](size_t slot) {
    if (!objective.expressible(point)) return false;
    const WeightPrefetchConfig c = objective.config_of(point);
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
      for (size_t i = 1; i < tuned[k].grid.size(); ++i) {
        point[k] = i;
        // Keys of one module switch on together: give the others their smallest setting meanwhile.
        std::vector<size_t> saved = point;
        for (size_t j = 0; j < tuned.size(); ++j) {
          if (j != k && point[j] == 0 && std::string(ratio_module_name(tuned[j].key)) == ratio_module_name(tuned[k].key)) {
            point[j] = 1;
          }
        }
        if (feasible(k)) best = i;
        point = saved;
      }
      point[k] = best;
    }
  }
  // A module left half on is switched on whole at the smallest settings.
  for (size_t k = 0; k < tuned.size(); ++k) {
    for (size_t j = 0; j < tuned.size(); ++j) {
      if (point[k] > 0 && point[j] == 0 && std::string(ratio_module_name(tuned[j].key)) == ratio_module_name(tuned[k].key)) {
        point[j] = 1;
      }
    }
  }
  return point;
}

}  // namespace

WeightPrefetchConfig tuned_config(const std::vector<TunedKey>& tuned, const std::vector<double>& ratios,
                                  const Semantics& semantics) {
  WeightPrefetchConfig c;
  c.enabled = true;
  // Modules with at least one tuned key on; their keys that are not tuned keep the default.
  std::set<std::string> on_modules, tuned_modules;
  for (size_t i = 0; i < tuned.size(); ++i) {
    tuned_modules.insert(ratio_module_name(tuned[i].key));
    if (ratios[i] > 0) on_modules.insert(ratio_module_name(tuned[i].key));
  }
  for (int k = 0; k < kNumRatioKeys; ++k) {
    const RatioKey key = static_cast<RatioKey>(k);
    const std::string module = ratio_module_name(key);
    if (!on_modules.count(module)) continue;  // off (every ratio 0), also modules no tuned key belongs to
    const bool legacy = semantics.legacy_mlp_env == LegacyMlpEnv::kOnlyPath && module == "mlp";
    c[key] = KeySetting{true, legacy ? 0.0 : default_ratio(key),
                        legacy ? std::optional<double>(18.0 * 1024 * 1024) : std::nullopt};
  }
  for (size_t i = 0; i < tuned.size(); ++i) {
    if (ratios[i] > 0) c[tuned[i].key] = setting_of(tuned[i], ratios[i], semantics);
  }
  return c;
}

double TuneResult::ratio_of(RatioKey key) const {
  for (size_t i = 0; i < tuned.size() && i < best_ratios.size(); ++i) {
    if (tuned[i].key == key) return best_ratios[i];
  }
  return 0;
}


struct SegmentTables::Impl {
  std::vector<const StepPlan*> plans;
  std::vector<double> weights;
  std::vector<TunedKey> tuned;
  CapReading cap_reading = CapReading::kCode;
  const Semantics* semantics = nullptr;
  std::unique_ptr<SegmentedObjective> objective;
  std::vector<std::vector<int>> components;
};

SegmentTables::SegmentTables(const std::vector<const StepPlan*>& plans, const std::vector<double>& weights,
                             CapReading cap_reading, const std::vector<TunedKey>& tuned)
    : impl_(std::make_unique<Impl>()) {
  if (plans.empty() || plans.size() != weights.size()) throw std::logic_error("SegmentTables: empty workload");
  impl_->plans = plans;
  impl_->weights = weights;
  impl_->tuned = tuned;
  impl_->cap_reading = cap_reading;
  impl_->semantics = &plans.front()->semantics();
  impl_->objective = std::make_unique<SegmentedObjective>(impl_->plans, impl_->weights, cap_reading, impl_->tuned,
                                                          *impl_->semantics);
  impl_->components = impl_->objective->components();
}

SegmentTables::~SegmentTables() = default;
SegmentTables::SegmentTables(SegmentTables&&) noexcept = default;
SegmentTables& SegmentTables::operator=(SegmentTables&&) noexcept = default;

SegmentTables SegmentTables::clone() const {
  SegmentTables c(*this, 0);
  return c;
}

SegmentTables::SegmentTables(const SegmentTables& other, int) : impl_(std::make_unique<Impl>()) {
  impl_->plans = other.impl_->plans;
  impl_->weights = other.impl_->weights;
  impl_->tuned = other.impl_->tuned;
  impl_->cap_reading = other.impl_->cap_reading;
  impl_->semantics = other.impl_->semantics;
  impl_->objective = std::make_unique<SegmentedObjective>(*other.impl_->objective, impl_->plans,
                                                          impl_->tuned, *impl_->semantics);
  impl_->components = other.impl_->components;
}

double SegmentTables::evaluate(const std::vector<size_t>& point) const { return impl_->objective->evaluate(point); }

std::vector<size_t> SegmentTables::best_point() const {
  if (impl_->tuned.empty()) return {};
  size_t evaluated = 0;
  return decomposed_best(*impl_->objective, impl_->tuned, impl_->components, -1, evaluated, nullptr);
}

WeightPrefetchConfig SegmentTables::config_of(const std::vector<size_t>& point) const {
  return impl_->objective->config_of(point);
}
bool SegmentTables::expressible(const std::vector<size_t>& point) const { return impl_->objective->expressible(point); }
bool SegmentTables::closes_all() const { return impl_->objective->closes_all(); }

void SegmentTables::add_scaled(const SegmentTables& other, double weight) {
  if (!impl_->objective->same_layout(*other.impl_->objective)) {
    throw std::logic_error("SegmentTables::add_scaled: the tables have different layouts");
  }
  impl_->objective->add_scaled(*other.impl_->objective, weight);
}
void SegmentTables::scale(double factor) { impl_->objective->scale(factor); }
size_t SegmentTables::simulations() const { return impl_->objective->simulations(); }
const std::vector<TunedKey>& SegmentTables::tuned() const { return impl_->tuned; }

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
  const Semantics& semantics = plans.front()->semantics();

  // Keys that fire somewhere in the workload, how far their ratio can usefully go, and the weights
  // each applies to.
  std::map<RatioKey, double> useful;
  std::map<RatioKey, double> cap_of, l2_ratio;
  std::map<RatioKey, std::set<double>> key_weights;
  std::map<std::pair<std::string, std::string>, SiteOff> off_reasons;
  std::set<std::pair<std::string, std::string>> fires;
  for (const StepPlan* plan : plans) {
    for (const auto& type : plan->layer_types) {
      for (const auto& site : type.sites) {
        const auto id = std::make_pair(site.site, type.name);
        if (!site.gated_on) {
          off_reasons.emplace(id, site.gate);
          continue;
        }
        fires.insert(id);
        if (!site.ratio_key) continue;
        double limit = site.cap_bytes;
        if (cap_reading == CapReading::kGuide) limit = std::min(limit, semantics.mlp_cap_bytes);
        const double r = site.weight_bytes > 0 ? std::min(1.0, limit / site.weight_bytes) : 0.0;
        if (!useful.count(*site.ratio_key) || r > useful[*site.ratio_key]) cap_of[*site.ratio_key] = r < 1 ? limit : kInfBytes;
        useful[*site.ratio_key] = std::max(useful[*site.ratio_key], r);
        const double fits = site.weight_bytes > 0 ? std::min(1.0, plan->hardware.l2_size_bytes / site.weight_bytes) : 1.0;
        l2_ratio[*site.ratio_key] = std::min(l2_ratio.count(*site.ratio_key) ? l2_ratio[*site.ratio_key] : 1.0, fits);
        key_weights[*site.ratio_key].insert(site.weight_bytes);
      }
    }
  }
  for (const auto& [id, reason] : off_reasons) {
    if (!fires.count(id)) result.left_out.push_back({id.first, id.second, reason});
  }
  for (const auto& [key, r] : useful) {
    TunedKey t;
    t.key = key;
    t.max_useful_ratio = r;
    t.cap_bytes = cap_of.count(key) ? cap_of[key] : kInfBytes;
    t.l2_binding_ratio = l2_ratio.count(key) ? l2_ratio[key] : 1.0;
    t.weights_bytes.assign(key_weights[key].begin(), key_weights[key].end());
    t.grid = ratio_grid(t, options.step);
    result.tuned.push_back(t);
  }
  for (int k = 0; k < kNumRatioKeys; ++k) {
    const RatioKey key = static_cast<RatioKey>(k);
    if (useful.count(key)) continue;
    for (const auto& t : result.tuned) {
      if (std::string(ratio_module_name(t.key)) == ratio_module_name(key)) {
        result.notes.push_back(fmt::format("{} does not fire here; it keeps its default {} while its module is on (a 0 "
                                           "would prefetch the whole tensor if it ever fired)",
                                           ratio_key_name(key), default_ratio(key)));
        break;
      }
    }
  }

  // The modules the tuned keys belong to: each is either off (all its keys 0) or on (all > 0).
  std::vector<std::string> modules;
  for (const auto& t : result.tuned) {
    if (std::find(modules.begin(), modules.end(), ratio_module_name(t.key)) == modules.end()) modules.emplace_back(ratio_module_name(t.key));
  }
  std::vector<size_t> module_of;
  for (const auto& t : result.tuned) {
    module_of.push_back(static_cast<size_t>(std::find(modules.begin(), modules.end(), ratio_module_name(t.key)) - modules.begin()));
  }

  // Refused before it starts when it would take too long, with the step that fits; announced
  // (and its progress shown) when it may take a while. The estimate is the search's own layout,
  // laid out without simulating.
  auto estimate_at = [&](const std::vector<TunedKey>& tuned) {
    SegmentedObjective dry(plans, weights, cap_reading, tuned, semantics, /*simulate=*/false);
    SearchEstimate e;
    e.segment_simulations = dry.planned_simulations();
    if (options.objective == TuneObjective::kLatency) {
      const bool grid = options.method == SearchMethod::kGrid;
      e.configurations = dry.planned_evaluations(grid, module_of, modules.size(), -1, e.segment_lookups);
      for (size_t p = 0; p < plans.size(); ++p) {
        e.configurations += dry.planned_evaluations(grid, module_of, modules.size(), static_cast<int>(p), e.segment_lookups);
      }
    }
    e.table_bytes = e.segment_simulations * static_cast<double>(sizeof(double) + sizeof(char));
    e.seconds = (e.segment_simulations * kSegmentSimulationUs + e.segment_lookups * kLookupUs) / 1e6;
    return e;
  };
  const SearchEstimate estimate = estimate_at(result.tuned);
  if (!fits(estimate)) {
    double fitting = 1;
    for (double decade = 1e-6; decade < 1 && fitting == 1; decade *= 10) {
      for (double m : {1.0, 2.0, 5.0}) {
        const double candidate = decade * m;
        if (candidate <= options.step) continue;
        std::vector<TunedKey> coarser = result.tuned;
        for (auto& t : coarser) t.grid = ratio_grid(t, candidate);
        if (!fits(estimate_at(coarser))) continue;
        fitting = candidate;
        break;
      }
    }
    throw InputError(fmt::format(
        "--step {:g}: this search would take about {} ({:.3g} configurations, {:.3g} segment simulations, {} of tables); "
        "at most {} and {}: use --step {:g} or larger",
        options.step, duration_text(estimate.seconds), estimate.configurations, estimate.segment_simulations,
        bytes_text(estimate.table_bytes), duration_text(kMaxSearchSeconds), bytes_text(kMaxSearchTableBytes), fitting));
  }
  if (options.on_start) options.on_start(estimate);
  const double table_share =
      estimate.seconds > 0 ? estimate.segment_simulations * kSegmentSimulationUs / 1e6 / estimate.seconds : 0;
  std::function<void(size_t)> table_progress;
  std::function<void(double)> search_progress;
  if (options.progress) {
    table_progress = [&](size_t done) {
      options.progress(table_share * std::min(1.0, static_cast<double>(done) / estimate.segment_simulations));
    };
    search_progress = [&](double f) { options.progress(table_share + (1 - table_share) * f); };
  }

  SegmentedObjective objective(plans, weights, cap_reading, result.tuned, semantics, true, table_progress);
  result.segment_simulations = objective.simulations();
  std::vector<size_t> point(result.tuned.size(), 0);
  size_t evaluated = 0;
  std::vector<int> all_slots(result.tuned.size());
  std::iota(all_slots.begin(), all_slots.end(), 0);
  const auto components = objective.components();
  auto search_latency = [&](std::vector<size_t>& pt_, int only_plan, const std::function<void(double)>& progress) {
    if (options.method == SearchMethod::kGrid) {
      objective.exhaustive(all_slots, pt_, only_plan, evaluated, progress, objective.full_ranges());
      return;
    }
    pt_ = decomposed_best(objective, result.tuned, components, only_plan, evaluated, progress);
  };
  if (!result.tuned.empty()) {
    if (options.objective == TuneObjective::kLatency) {
      search_latency(point, -1, search_progress);
    } else {
      point = overlap_point(objective, plans, weights, cap_reading, result.tuned, options.stall_tolerance_us, evaluated);
    }
  }
  if (search_progress) search_progress(1.0);
  const WeightPrefetchConfig off = WeightPrefetchConfig::disabled();
  const WeightPrefetchConfig defaults = WeightPrefetchConfig::defaults_enabled(semantics);
  result.best = result.tuned.empty() ? off : objective.config_of(point);
  for (size_t i = 0; i < result.tuned.size(); ++i) result.best_ratios.push_back(result.tuned[i].grid[point[i]]);
  result.step_time_us = workload_step_time(plans, weights, result.best, cap_reading);
  result.default_step_time_us = workload_step_time(plans, weights, defaults, cap_reading);
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
        own = overlap_point(objective, one, {1.0}, cap_reading, result.tuned, options.stall_tolerance_us, evaluated);
      }
    }
    r.best = result.tuned.empty() ? off : objective.config_of(own);
    for (size_t i = 0; i < result.tuned.size(); ++i) r.best_ratios.push_back(result.tuned[i].grid[own[i]]);
    r.best_step_time_us = simulate_step_time(*plans[p], r.best, cap_reading);
    r.tuned_step_time_us = simulate_step_time(*plans[p], result.best, cap_reading);
    r.default_step_time_us = simulate_step_time(*plans[p], defaults, cap_reading);
    r.baseline_step_time_us = simulate_step_time(*plans[p], off, cap_reading);
    result.per_tokens.push_back(r);
  }
  result.grid_points = evaluated;

  // Near-optimal ranges and curves: each key swept with the others at the chosen point (a module
  // partner that is off is switched on at its smallest setting where the sweep needs it).
  const double best_value = result.tuned.empty() ? 0 : objective.evaluate(point);
  auto expressible_probe = [&](std::vector<size_t> probe, size_t k) {
    for (size_t j = 0; j < result.tuned.size(); ++j) {
      if (j == k || std::string(ratio_module_name(result.tuned[j].key)) != ratio_module_name(result.tuned[k].key)) continue;
      if (probe[k] == 0) probe[j] = 0;
      else if (probe[j] == 0) probe[j] = 1;
    }
    return probe;
  };
  for (size_t k = 0; k < result.tuned.size(); ++k) {
    RatioCurve curve;
    curve.key = result.tuned[k].key;
    NearOptimalRange range;
    range.key = curve.key;
    bool found = false, left = false;
    for (size_t i = 0; i < result.tuned[k].grid.size(); ++i) {
      std::vector<size_t> probe = point;
      probe[k] = i;
      probe = expressible_probe(probe, k);
      const double v = objective.evaluate(probe);
      curve.ratios.push_back(result.tuned[k].grid[i]);
      curve.step_time_us.push_back(v);
      curve.plan_step_time_us.resize(plans.size());
      for (size_t p = 0; p < plans.size(); ++p) curve.plan_step_time_us[p].push_back(objective.evaluate(probe, static_cast<int>(p)));
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
        h.step_time_us.push_back(objective.expressible(probe) ? objective.evaluate(probe)
                                                             : std::numeric_limits<double>::quiet_NaN());
      }
    }
    result.heatmap = h;
  }
  result.full_simulations = objective.full_simulations();
  return result;
}

}  // namespace pt
