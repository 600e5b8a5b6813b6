#pragma once
// tune-ratio --robust: one static config for a workload when the hardware is not known. Over the
// sampled hardware (uncertainty/sampling.h), two choices among the configs evaluated:
//   - best expected: the shortest step time averaged over the samples. Exact over the robust grid:
//     the mean of the samples' segment tables is the table of the mean step time, so the tuner's
//     own decomposed search runs on it;
//   - least worst-case regret: the smallest max over samples of (its step time - that sample's own
//     best), among the candidates: prefetch disabled, vllm-ascend's defaults, the nominal tuned
//     config, the best expected one, and every sample's own best on the robust grid.
// Each sample's segment tables are built once (simulations of segments only, the search's layout)
// and every candidate is then evaluated on every sample by lookups.
#include <optional>
#include <string>
#include <vector>

#include "search/ratio_search.h"
#include "search/workload.h"
#include "sim/scenario.h"
#include "uncertainty/verdict.h"

namespace pt {

struct RobustOptions {
  UncertaintyOptions sampling;
  double step = 0.1;                 // the robust grid: each key at multiples of it, plus its nominal tuned value
  double disable_threshold_pct = 1.0; // as tune-ratio's: below this expected gain, disable
  double near_optimal_pct = 0.5;      // least-regret is preferred when its expected step is this close to the best
};

struct RobustCandidate {
  std::string label;                  // "best expected", "least worst-case regret", "nominal tuned", ...
  WeightPrefetchConfig config;
  std::vector<double> ratios;         // per tuned key (0: module off); empty for disabled / defaults
  double expected_step_time_us = 0;   // mean over samples of the weighted workload step time
  double worst_step_time_us = 0;      // max over samples
  double expected_regret_us = 0;
  double worst_regret_us = 0;         // max over samples of (step time - the sample's own best)
  GainDistribution gain;              // gain_pct over disabled, per sample
  std::vector<double> gain_pct;       // per sample
};

struct RobustTuneResult {
  std::vector<SampledParameter> parameters;
  size_t samples = 0;
  uint64_t seed = 0;
  double step = 0;
  std::vector<TunedKey> keys;               // the robust grid
  RobustCandidate best_expected, least_regret, nominal, defaults, disabled;
  // The best expected of the candidates that prefetch at all (the subject of the sensitivity and
  // the map when the advice is to disable); none when no candidate prefetches.
  std::optional<RobustCandidate> best_prefetching;
  size_t candidates = 0;                    // distinct configs compared on every sample
  size_t segment_simulations = 0;           // over all samples
  bool exact_expected = true;               // the mean tables closed everywhere (the exact expected search ran)
  std::string recommended;                  // "best expected", "least worst-case regret" or "disabled"
  bool recommend_disable = false;
  WeightPrefetchConfig recommended_config;  // enabled false when disabling is the advice
  std::string advice;
  // Sensitivity and break-even map of the gain of the recommended enabled config (the best
  // expected one when the advice is to disable).
  std::vector<Sensitivity> sensitivity;
  std::optional<BreakEvenMap> break_even;
};

// `plans` and `weights`: the workload at the nominal hardware (for the layout); `nominal`: the
// plain tune of the same plans.
RobustTuneResult robust_tune(const Scenario& scenario, const HardwareProfile& bundled,
                             const std::vector<WorkloadPoint>& workload, const TuneResult& nominal,
                             const RobustOptions& options);

}  // namespace pt
