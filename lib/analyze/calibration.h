#pragma once
// calibrate: fit what the simulator needs to a real run, so predictions rest on measured op
// times rather than datasheet guesses. Per op type (and per linear for matmuls): duration as a
// linear function of the token count, by least squares; the effective HBM bandwidth and per-op
// overhead from the matmuls; the CMO bandwidth from the prefetch tasks.
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "analyze/prefetch_audit.h"
#include "config/calibration_file.h"
#include "hardware/hardware_profile.h"
#include "profile/profile.h"
#include "sim/op_time_table.h"
#include "sim/step_plan.h"

namespace pt {

// One profile and the plan of the model and deployment that produced it (at its token count).
struct CalibrationRun {
  const Profile* profile = nullptr;
  const StepPlan* plan = nullptr;
  const WeightPrefetchConfig* config = nullptr;  // for the bytes behind each CMO
};

Calibration fit_calibration(const std::vector<CalibrationRun>& runs, CapReading cap_reading);

// What one profile contributes to a fit, compact (a few bytes per task), so that the profiles of a
// cluster can be read one at a time: the durations per op key, the matmuls for the bandwidth fit,
// the CMO rates, and the profile's side of the reproduction.
struct RunSample {
  std::string source;
  Deployment deployment;  // with the token count of the run
  double tokens = 0;
  std::map<std::string, std::vector<float>> durations;  // op key -> task durations (us)
  std::map<double, std::vector<float>> matmuls;         // HBM bytes -> durations of matmuls reading no prefetched bytes
  std::vector<float> matmul_efficiency, vector_efficiency;
  std::map<double, double> cmo_fastest;                 // CMO bytes -> shortest task moving them (the least contended)
  double hbm_GBps = 0, cmo_setup_us = 0;                // the plan's hardware, which the fit is set against
  double profile_step_us = 0;                           // mean of the steps' spans
  std::map<std::string, double> profile_us_per_step;    // op key -> time per step
};
RunSample sample_run(const Profile& profile, const StepPlan& plan, const WeightPrefetchConfig* config, CapReading cap_reading);
// The fit over samples (in order).
Calibration fit_samples(const std::vector<RunSample>& samples);


// How well a calibrated simulation reproduces a run: per op key and per step, in %.
struct ReproductionRow {
  std::string key;
  double profile_us = 0;    // per step
  double simulated_us = 0;  // per step
  double error_pct = 0;
};
struct Reproduction {
  int num_tokens = 0;
  double profile_step_us = 0;
  double simulated_step_us = 0;
  double step_error_pct = 0;
  std::vector<ReproductionRow> ops;
};
Reproduction reproduce(const Profile& profile, const StepPlan& calibrated_plan, const WeightPrefetchConfig& config,
                       CapReading cap_reading);
// The same from a run's sample (its profile side), against the calibrated plan at its token count.
Reproduction reproduce(const RunSample& sample, const StepPlan& calibrated_plan, const WeightPrefetchConfig& config,
                       CapReading cap_reading);

// The key a profile task is fitted under, given the plan's linears ("" to skip the task).
std::string calibration_key(const ProfileTask& task, const StepPlan& plan);

}  // namespace pt
