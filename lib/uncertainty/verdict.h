#pragma once
// simulate --uncertainty: the verdict on one config (does prefetch beat disabled?) over what is not
// known about the hardware: the probability that it helps, the gain's percentiles, which parameter
// the verdict hangs on (first-order Sobol indices), and a break-even map over the two that matter most.
//
// gain_pct = (t_disabled - t_config) / t_disabled x 100: positive means prefetch makes the step
// faster (tune-ratio's gain_pct; simulate's own step-time change has the opposite sign).
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "config/prefetch_config.h"
#include "hardware/hardware_profile.h"
#include "sim/scenario.h"
#include "uncertainty/sampling.h"

namespace pt {

struct UncertaintyOptions {
  size_t samples = 1000;
  uint64_t seed = 1;
  int threads = 2;
  size_t break_even_points = 25;  // per axis
};

// A gain within this of 0 (%) is a tie, not a win: 1e-9 of the step, where the tables' float sums
// of an all-off config and disabled may differ.
constexpr double kGainTiePct = 1e-7;

struct GainDistribution {
  double p_gain = 0;  // share of samples where the config is faster than disabled (gain > kGainTiePct)
  double p10 = 0, p50 = 0, p90 = 0, mean = 0, min = 0, max = 0;  // gain_pct
};
GainDistribution summarize_gain(const std::vector<double>& gain_pct);

struct Sensitivity {
  std::string parameter;
  double index = 0;  // first-order Sobol index of the gain
};

struct BreakEvenAxis {
  SampledParameter parameter;
  std::vector<double> values;  // grid, low to high (log-spaced for a log-uniform parameter)
  double bundled = 0;          // the bundled profile's value
  std::optional<double> fitted;  // the calibrated value, when a calibration set it
};

struct BreakEvenMap {
  BreakEvenAxis x, y;
  std::vector<double> gain_pct;  // row-major: y index * x size + x index; others at their nominal values
  std::string config_label;      // what the gain is of
  double at(size_t xi, size_t yi) const { return gain_pct[yi * x.values.size() + xi]; }
};

struct UncertainVerdict {
  std::vector<SampledParameter> parameters;
  size_t samples = 0;
  uint64_t seed = 0;
  std::vector<double> gain_pct;           // per sample
  GainDistribution gain;
  double nominal_gain_pct = 0;            // at the nominal values
  std::vector<Sensitivity> sensitivity;   // descending
  std::optional<BreakEvenMap> break_even; // none with fewer than two parameters
};

// The gain (%) of some config under one hardware profile.
using GainFunction = std::function<double(const HardwareProfile&)>;

// Samples `gain` over the parameters of `hw` with a ranged value (Latin hypercube, `threads`
// threads; the result does not depend on the thread count), then the summary, the indices and the
// break-even map (axes spanning the sampled range and the bundled one). `bundled`: the profile
// before calibration and --hw-set, for the map's markers; `hw` itself when there is none.
// InputError when no parameter has a range.
UncertainVerdict sample_verdict(const HardwareProfile& hw, const HardwareProfile& bundled, const GainFunction& gain,
                                const UncertaintyOptions& options, const std::string& config_label);

// The break-even map alone, over the two given parameters.
BreakEvenMap break_even_map(const HardwareProfile& hw, const HardwareProfile& bundled, const SampledParameter& x,
                            const SampledParameter& y, const GainFunction& gain, const UncertaintyOptions& options,
                            const std::string& config_label);

// The scenario's plan rebuilt under another hardware profile, at `deployment`.
StepPlan plan_under(const Scenario& scenario, const HardwareProfile& hw, const Deployment& deployment);

// simulate --uncertainty: the gain of `config` in the scenario's one step.
UncertainVerdict config_verdict(const Scenario& scenario, const HardwareProfile& bundled, const WeightPrefetchConfig& config,
                                const UncertaintyOptions& options);

// The hardware before --calibration, with --hw-set applied: the "bundled estimate" of the maps.
HardwareProfile bundled_hardware(const ScenarioInputs& inputs);

// Runs f(i) for i in [0, n) on `threads` threads (strided); rethrows the first exception.
void parallel_for(size_t n, int threads, const std::function<void(size_t)>& f);

}  // namespace pt
