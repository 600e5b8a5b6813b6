#include "uncertainty/verdict.h"

#include <algorithm>
#include <cmath>
#include <exception>
#include <mutex>
#include <thread>

#include <fmt/format.h>

#include "uncertainty/sensitivity.h"
#include "util/error.h"

namespace pt {

void parallel_for(size_t n, int threads, const std::function<void(size_t)>& f) {
  const size_t t = static_cast<size_t>(std::clamp(threads, 1, 64));
  if (t == 1 || n < 2) {
    for (size_t i = 0; i < n; ++i) f(i);
    return;
  }
  std::exception_ptr error;
  std::mutex m;
  std::vector<std::thread> pool;
  for (size_t w = 0; w < t; ++w) {
    pool.emplace_back([&, w] {
      try {
        for (size_t i = w; i < n; i += t) f(i);
      } catch (...) {
        std::lock_guard<std::mutex> lock(m);
        if (!error) error = std::current_exception();
      }
    });
  }
  for (auto& th : pool) th.join();
  if (error) std::rethrow_exception(error);
}

GainDistribution summarize_gain(const std::vector<double>& g) {
  GainDistribution d;
  if (g.empty()) return d;
  size_t wins = 0;
  double sum = 0;
  for (double v : g) {
    if (v > kGainTiePct) ++wins;
    sum += v;
  }
  d.p_gain = static_cast<double>(wins) / static_cast<double>(g.size());
  d.mean = sum / static_cast<double>(g.size());
  d.p10 = quantile(g, 0.10);
  d.p50 = quantile(g, 0.50);
  d.p90 = quantile(g, 0.90);
  d.min = *std::min_element(g.begin(), g.end());
  d.max = *std::max_element(g.begin(), g.end());
  return d;
}

HardwareProfile bundled_hardware(const ScenarioInputs& inputs) {
  HardwareProfile hw = load_hardware(inputs.hardware);
  apply_hardware_overrides(hw, inputs.hardware_overrides);
  return hw;
}

StepPlan plan_under(const Scenario& s, const HardwareProfile& hw, const Deployment& deployment) {
  return build_step_plan(s.model, deployment, hw, s.layer_template, *s.release, s.op_times.empty() ? nullptr : &s.op_times);
}

BreakEvenMap break_even_map(const HardwareProfile& hw, const HardwareProfile& bundled, const SampledParameter& x,
                            const SampledParameter& y, const GainFunction& gain, const UncertaintyOptions& options,
                            const std::string& config_label) {
  BreakEvenMap map;
  map.config_label = config_label;
  const size_t n = std::max<size_t>(2, options.break_even_points);
  auto axis = [&](const SampledParameter& p) {
    BreakEvenAxis a;
    a.parameter = p;
    a.bundled = bundled.get(p.name);
    if (p.calibrated) a.fitted = p.nominal;
    // Span the sampled range and the bundled profile's own, so both markers lie on the map.
    auto it = bundled.provenance.find(p.name);
    if (it != bundled.provenance.end() && it->second.range) {
      a.parameter.low = std::min(a.parameter.low, it->second.range->first);
      a.parameter.high = std::max(a.parameter.high, it->second.range->second);
    }
    a.parameter.low = std::min(a.parameter.low, a.bundled);
    a.parameter.high = std::max(a.parameter.high, a.bundled);
    a.parameter.log_uniform = a.parameter.low > 0 && a.parameter.high / a.parameter.low > kLogUniformAboveRatio;
    for (size_t i = 0; i < n; ++i) a.values.push_back(parameter_value(a.parameter, static_cast<double>(i) / static_cast<double>(n - 1)));
    return a;
  };
  map.x = axis(x);
  map.y = axis(y);
  map.gain_pct.assign(n * n, 0.0);
  parallel_for(n * n, options.threads, [&](size_t c) {
    HardwareProfile h = hw;
    const size_t xi = c % n, yi = c / n;
    h.set(x.name, map.x.values[xi], "break-even map");
    h.set(y.name, map.y.values[yi], "break-even map");
    map.gain_pct[c] = gain(h);
  });
  return map;
}

UncertainVerdict sample_verdict(const HardwareProfile& hw, const HardwareProfile& bundled, const GainFunction& gain,
                                const UncertaintyOptions& options, const std::string& config_label) {
  UncertainVerdict v;
  v.parameters = sampled_parameters(hw);
  if (v.parameters.empty()) {
    throw InputError(fmt::format("--uncertainty: hardware profile {} gives no parameter a range: nothing to sample "
                                 "(an estimate carries \"range\"; see docs/hardware-schema.md)",
                                 hw.name));
  }
  if (options.samples < 8 || options.samples > 1000000) {
    throw InputError(fmt::format("--samples {}: expected 8 to 1000000", options.samples));
  }
  v.samples = options.samples;
  v.seed = options.seed;
  const Eigen::MatrixXd u = latin_hypercube(options.samples, v.parameters.size(), options.seed);
  v.gain_pct.assign(options.samples, 0.0);
  parallel_for(options.samples, options.threads, [&](size_t i) {
    v.gain_pct[i] = gain(hardware_at(hw, v.parameters, u.row(static_cast<Eigen::Index>(i))));
  });
  v.gain = summarize_gain(v.gain_pct);
  v.nominal_gain_pct = gain(hw);
  const Eigen::VectorXd y = Eigen::Map<const Eigen::VectorXd>(v.gain_pct.data(), static_cast<Eigen::Index>(v.gain_pct.size()));
  const std::vector<double> s = first_order_indices(u, y);
  for (size_t j = 0; j < v.parameters.size(); ++j) v.sensitivity.push_back({v.parameters[j].name, s[j]});
  std::stable_sort(v.sensitivity.begin(), v.sensitivity.end(), [](const auto& a, const auto& b) { return a.index > b.index; });
  if (v.parameters.size() >= 2 && options.break_even_points > 0) {
    auto find = [&](const std::string& name) {
      for (const auto& p : v.parameters) {
        if (p.name == name) return p;
      }
      return v.parameters.front();
    };
    v.break_even = break_even_map(hw, bundled, find(v.sensitivity[0].parameter), find(v.sensitivity[1].parameter), gain,
                                  options, config_label);
  }
  return v;
}

UncertainVerdict config_verdict(const Scenario& scenario, const HardwareProfile& bundled, const WeightPrefetchConfig& config,
                                const UncertaintyOptions& options) {
  const WeightPrefetchConfig off = WeightPrefetchConfig::disabled();
  const Deployment deployment = scenario.plan.deployment;
  auto gain = [&](const HardwareProfile& hw) {
    const StepPlan plan = plan_under(scenario, hw, deployment);
    const double t_on = simulate_step_time(plan, config, scenario.cap_reading);
    const double t_off = simulate_step_time(plan, off, scenario.cap_reading);
    return 100.0 * (t_off - t_on) / t_off;
  };
  return sample_verdict(scenario.hardware, bundled, gain, options, "the given config");
}

}  // namespace pt
