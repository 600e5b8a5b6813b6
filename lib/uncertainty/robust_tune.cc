#include "uncertainty/robust_tune.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <set>

#include <fmt/format.h>

#include "uncertainty/sensitivity.h"
#include "util/error.h"

namespace pt {

namespace {

constexpr double kTieUs = 1e-4;  // as the tuner: step times within 0.1 ns tie, the first candidate wins

// Each key's grid cut to multiples of `step`, keeping 0 (module off), the smallest issuing ratio,
// the last value (the cap or L2 binds above it) and the nominal tuned value.
std::vector<TunedKey> robust_keys(const TuneResult& nominal, double step) {
  std::vector<TunedKey> keys = nominal.tuned;
  for (size_t k = 0; k < keys.size(); ++k) {
    const std::vector<double>& g = nominal.tuned[k].grid;
    const double keep = k < nominal.best_ratios.size() ? nominal.best_ratios[k] : 0.0;
    std::vector<double> out;
    for (size_t i = 0; i < g.size(); ++i) {
      const double m = g[i] / step;
      if (i < 2 || i + 1 == g.size() || g[i] == keep || std::abs(m - std::round(m)) < 1e-6) out.push_back(g[i]);
    }
    keys[k].grid = out;
  }
  return keys;
}

size_t index_in(const std::vector<double>& grid, double v) {
  size_t best = 0;
  for (size_t i = 1; i < grid.size(); ++i) {
    if (std::abs(grid[i] - v) < std::abs(grid[best] - v)) best = i;
  }
  return best;
}

std::vector<StepPlan> workload_plans(const Scenario& s, const HardwareProfile& hw, const std::vector<WorkloadPoint>& w) {
  std::vector<StepPlan> plans;
  plans.reserve(w.size());
  for (const auto& p : w) {
    Deployment d = s.plan.deployment;
    d.num_tokens = p.num_tokens;
    plans.push_back(plan_under(s, hw, d));
  }
  return plans;
}

std::vector<const StepPlan*> pointers(const std::vector<StepPlan>& plans) {
  std::vector<const StepPlan*> out;
  for (const auto& p : plans) out.push_back(&p);
  return out;
}

std::string ratios_text(const std::vector<TunedKey>& keys, const std::vector<double>& ratios) {
  if (ratios.empty()) return "";
  std::vector<std::string> parts;
  for (size_t k = 0; k < keys.size() && k < ratios.size(); ++k) {
    const double v = ratios[k];
    parts.push_back(fmt::format("{} {}", ratio_key_name(keys[k].key),
                                v == 0 ? "off" : v < 0.005 ? fmt::format("{:.2g}", v) : fmt::format("{:.2f}", v)));
  }
  std::string out;
  for (size_t i = 0; i < parts.size(); ++i) out += (i ? ", " : "") + parts[i];
  return out;
}

}  // namespace

RobustTuneResult robust_tune(const Scenario& scenario, const HardwareProfile& bundled,
                             const std::vector<WorkloadPoint>& workload, const TuneResult& nominal,
                             const RobustOptions& options) {
  if (!(options.step > 0 && options.step <= 1)) {
    throw InputError(fmt::format("--robust-step {}: expected a number in (0, 1], e.g. 0.1", options.step));
  }
  const size_t n = options.sampling.samples;
  if (n < 8 || n > 1000000) throw InputError(fmt::format("--samples {}: expected 8 to 1000000", n));
  if (workload.empty()) throw InputError("tune-ratio --robust: empty workload");
  RobustTuneResult r;
  r.parameters = sampled_parameters(scenario.hardware);
  if (r.parameters.empty()) {
    throw InputError(fmt::format("--robust: hardware profile {} gives no parameter a range: nothing to sample "
                                 "(an estimate carries \"range\"; see docs/hardware-schema.md)",
                                 scenario.hardware.name));
  }
  r.samples = n;
  r.seed = options.sampling.seed;
  r.step = options.step;
  r.keys = robust_keys(nominal, options.step);
  std::vector<double> weights;
  for (const auto& p : workload) weights.push_back(p.weight);
  const Semantics& semantics = scenario.release->semantics;
  const WeightPrefetchConfig off = WeightPrefetchConfig::disabled();
  const WeightPrefetchConfig defaults = WeightPrefetchConfig::defaults_enabled(semantics);
  const CapReading cap = scenario.cap_reading;
  const Eigen::MatrixXd u = latin_hypercube(n, r.parameters.size(), options.sampling.seed);
  auto sample_hw = [&](size_t i) { return hardware_at(scenario.hardware, r.parameters, u.row(static_cast<Eigen::Index>(i))); };

  // Pass 1: per sample, the segment tables on the robust grid, its own best, disabled and defaults.
  std::vector<std::optional<SegmentTables>> tables(n);
  std::vector<std::vector<size_t>> own(n);
  std::vector<double> t_off(n), t_def(n), t_own(n);
  std::vector<size_t> sims(n, 0);
  parallel_for(n, options.sampling.threads, [&](size_t i) {
    const std::vector<StepPlan> plans = workload_plans(scenario, sample_hw(i), workload);
    const std::vector<const StepPlan*> ptrs = pointers(plans);
    t_off[i] = workload_step_time(ptrs, weights, off, cap);
    t_def[i] = workload_step_time(ptrs, weights, defaults, cap);
    if (r.keys.empty()) return;
    SegmentTables t(ptrs, weights, cap, r.keys);
    own[i] = t.best_point();
    t_own[i] = t.evaluate(own[i]);
    sims[i] = t.simulations();
    if (t.closes_all()) tables[i].emplace(std::move(t));  // lookups alone from here on: the plans may go
  });
  for (size_t s : sims) r.segment_simulations += s;

  // The candidates on the robust grid, in order of preference on a tie.
  std::vector<std::vector<size_t>> points;
  std::vector<std::string> origin;
  std::set<std::vector<size_t>> seen;
  auto add_point = [&](const std::vector<size_t>& p, const std::string& label) {
    if (seen.insert(p).second) {
      points.push_back(p);
      origin.push_back(label);
    }
  };
  bool all_closed = !r.keys.empty();
  for (const auto& t : tables) all_closed = all_closed && t.has_value();
  std::vector<size_t> nominal_point;
  for (size_t k = 0; k < r.keys.size(); ++k) {
    nominal_point.push_back(index_in(r.keys[k].grid, k < nominal.best_ratios.size() ? nominal.best_ratios[k] : 0.0));
  }
  if (!r.keys.empty()) {
    add_point(nominal_point, "nominal tuned");
    if (all_closed) {
      // The mean of the samples' tables is the table of the mean step time: the tuner's exact search on it.
      SegmentTables mean = tables[0]->clone();
      mean.scale(1.0 / static_cast<double>(n));
      for (size_t i = 1; i < n; ++i) mean.add_scaled(*tables[i], 1.0 / static_cast<double>(n));
      add_point(mean.best_point(), "best expected on the robust grid");
    }
    for (size_t i = 0; i < n; ++i) add_point(own[i], "one sample's own best");
  }
  r.exact_expected = all_closed || r.keys.empty();

  // Pass 2: every candidate on every sample, by lookups (a sample whose tables do not close is re-simulated).
  const size_t c_count = points.size();
  std::vector<double> times(c_count * n, 0.0);  // candidate-major
  parallel_for(n, options.sampling.threads, [&](size_t i) {
    if (tables[i]) {
      for (size_t c = 0; c < c_count; ++c) times[c * n + i] = tables[i]->evaluate(points[c]);
      return;
    }
    if (c_count == 0) return;
    const std::vector<StepPlan> plans = workload_plans(scenario, sample_hw(i), workload);
    const std::vector<const StepPlan*> ptrs = pointers(plans);
    SegmentTables t(ptrs, weights, cap, r.keys);
    for (size_t c = 0; c < c_count; ++c) times[c * n + i] = t.evaluate(points[c]);
  });
  tables.clear();

  std::vector<double> own_best(n);
  for (size_t i = 0; i < n; ++i) {
    double b = std::min(t_off[i], t_def[i]);
    if (!r.keys.empty()) b = std::min(b, t_own[i]);
    for (size_t c = 0; c < c_count; ++c) b = std::min(b, times[c * n + i]);
    own_best[i] = b;
  }
  auto make = [&](const std::string& label, const WeightPrefetchConfig& config, std::vector<double> ratios,
                  const std::function<double(size_t)>& time) {
    RobustCandidate c;
    c.label = label;
    c.config = config;
    c.ratios = std::move(ratios);
    c.worst_step_time_us = -std::numeric_limits<double>::infinity();
    c.worst_regret_us = -std::numeric_limits<double>::infinity();
    for (size_t i = 0; i < n; ++i) {
      const double t = time(i);
      c.expected_step_time_us += t / static_cast<double>(n);
      c.worst_step_time_us = std::max(c.worst_step_time_us, t);
      c.expected_regret_us += (t - own_best[i]) / static_cast<double>(n);
      c.worst_regret_us = std::max(c.worst_regret_us, t - own_best[i]);
      c.gain_pct.push_back(100.0 * (t_off[i] - t) / t_off[i]);
    }
    c.gain = summarize_gain(c.gain_pct);
    return c;
  };
  r.disabled = make("prefetch disabled", off, {}, [&](size_t i) { return t_off[i]; });
  r.defaults = make("vllm-ascend defaults", defaults, {}, [&](size_t i) { return t_def[i]; });
  std::vector<RobustCandidate> all{r.disabled};
  for (size_t c = 0; c < c_count; ++c) {
    std::vector<double> ratios;
    for (size_t k = 0; k < r.keys.size(); ++k) ratios.push_back(r.keys[k].grid[points[c][k]]);
    all.push_back(make(origin[c], tuned_config(r.keys, ratios, semantics), ratios, [&, c](size_t i) { return times[c * n + i]; }));
  }
  all.push_back(r.defaults);
  r.candidates = all.size();
  r.nominal = c_count > 0 ? all[1] : r.disabled;
  size_t be = 0, lr = 0;
  for (size_t c = 1; c < all.size(); ++c) {
    if (all[c].expected_step_time_us < all[be].expected_step_time_us - kTieUs) be = c;
    if (all[c].worst_regret_us < all[lr].worst_regret_us - kTieUs) lr = c;
  }
  r.best_expected = all[be];
  r.least_regret = all[lr];

  // The advice: the least worst-case regret when it costs little on average, else the best expected;
  // disabled when that gains less than the threshold on average.
  const RobustCandidate* pick = &r.best_expected;
  std::string why;
  const double e_best = r.best_expected.expected_step_time_us;
  const double e_lr = r.least_regret.expected_step_time_us;
  if (lr == be) {
    why = "it is both the best on average and the one with the least worst-case regret";
  } else if (e_lr <= e_best * (1.0 + options.near_optimal_pct / 100.0) + kTieUs) {
    pick = &r.least_regret;
    why = fmt::format("its expected step is within {:.2f} % of the best expected ({:+.2f} %), and its worst-case regret is "
                      "{:.1f} us against {:.1f} us",
                      options.near_optimal_pct, 100.0 * (e_lr - e_best) / e_best, r.least_regret.worst_regret_us,
                      r.best_expected.worst_regret_us);
  } else {
    why = fmt::format("the least-regret config ({}) costs {:+.2f} % on average, more than {:.2f} %; the best expected's "
                      "worst-case regret is {:.1f} us",
                      r.least_regret.label, 100.0 * (e_lr - e_best) / e_best, options.near_optimal_pct,
                      r.best_expected.worst_regret_us);
  }
  const double e_off = r.disabled.expected_step_time_us;
  const double expected_gain = 100.0 * (e_off - pick->expected_step_time_us) / e_off;
  const std::string chosen = pick == &r.least_regret && lr != be ? "least worst-case regret" : "best expected";
  if (r.keys.empty()) {
    r.recommended = "disabled";
    r.recommend_disable = true;
    r.advice = "no prefetch site fires for this model and deployment: leave weight prefetch disabled";
  } else if (pick->label == "prefetch disabled") {
    r.recommended = "disabled";
    r.recommend_disable = true;
    r.advice = fmt::format("disable weight prefetch: disabled is the {} config ({})", chosen, why);
  } else if (expected_gain < options.disable_threshold_pct) {
    r.recommended = "disabled";
    r.recommend_disable = true;
    r.advice = fmt::format("disable weight prefetch: the {} config ({}) gains {:.2f} % over disabled on average, below the "
                           "{:.2f} % threshold, and beats disabled with probability {:.2f}",
                           chosen, ratios_text(r.keys, pick->ratios), expected_gain, options.disable_threshold_pct,
                           pick->gain.p_gain);
  } else {
    r.recommended = chosen;
    r.advice = fmt::format("use the {} config ({}): {}; it gains {:.2f} % over disabled on average and beats it with "
                           "probability {:.2f}",
                           chosen, ratios_text(r.keys, pick->ratios), why, expected_gain, pick->gain.p_gain);
  }
  r.recommended_config = r.recommend_disable ? off : pick->config;

  // Which parameter the verdict hangs on: the gain of the recommended config when it prefetches,
  // else of the best expected config that prefetches at all (what would have to change for
  // prefetch to pay), else of vllm-ascend's defaults.
  auto prefetches = [](const RobustCandidate& c) {
    if (c.label == "prefetch disabled") return false;
    if (c.ratios.empty()) return true;  // defaults
    return std::any_of(c.ratios.begin(), c.ratios.end(), [](double v) { return v > 0; });
  };
  const RobustCandidate* subject = prefetches(*pick) && !r.recommend_disable ? pick : nullptr;
  if (!subject) {
    for (const auto& c : all) {
      if (prefetches(c) && (!subject || c.expected_step_time_us < subject->expected_step_time_us - kTieUs)) subject = &c;
    }
  }
  if (subject) r.best_prefetching = *subject;
  if (subject) {
    const Eigen::VectorXd y = Eigen::Map<const Eigen::VectorXd>(subject->gain_pct.data(), static_cast<Eigen::Index>(n));
    const std::vector<double> s = first_order_indices(u, y);
    for (size_t j = 0; j < r.parameters.size(); ++j) r.sensitivity.push_back({r.parameters[j].name, s[j]});
    std::stable_sort(r.sensitivity.begin(), r.sensitivity.end(), [](const auto& a, const auto& b) { return a.index > b.index; });
    if (r.parameters.size() >= 2 && options.sampling.break_even_points > 0) {
      const WeightPrefetchConfig config = subject->config;
      auto gain = [&](const HardwareProfile& hw) {
        const std::vector<StepPlan> plans = workload_plans(scenario, hw, workload);
        const std::vector<const StepPlan*> ptrs = pointers(plans);
        const double t_on = workload_step_time(ptrs, weights, config, cap);
        const double t = workload_step_time(ptrs, weights, off, cap);
        return 100.0 * (t - t_on) / t;
      };
      auto find = [&](const std::string& name) {
        for (const auto& p : r.parameters) {
          if (p.name == name) return p;
        }
        return r.parameters.front();
      };
      r.break_even = break_even_map(scenario.hardware, bundled, find(r.sensitivity[0].parameter),
                                    find(r.sensitivity[1].parameter), gain, options.sampling,
                                    fmt::format("{}{}", subject == pick ? "the recommended config" : "the best config that prefetches",
                                                subject->ratios.empty() ? " (vllm-ascend defaults)"
                                                                        : " [" + ratios_text(r.keys, subject->ratios) + "]"));
    }
  }
  return r;
}

}  // namespace pt
