#pragma once
// calibrate's run: the plan of each profile (its token count given or read from its matmul
// shapes), the fit (analyze/calibration.h), and each profile reproduced by the calibrated
// simulator. export/calibrate_report.h renders it; app/ only reads flags and files.
#include <vector>

#include "analyze/calibration.h"
#include "profile/profile.h"
#include "sim/scenario.h"

namespace pt {

struct CalibrateRun {
  std::vector<Profile> profiles;
  std::vector<StepPlan> plans;         // one per profile, the scenario's deployment at its token count
  Calibration calibration;
  std::vector<Reproduction> checks;    // the calibrated simulator against each profile
};

// `num_tokens`: one per profile, or empty to read each from its profile. InputError when a count
// is missing and cannot be read, or the counts do not match the profiles.
CalibrateRun run_calibrate(const Scenario& base, std::vector<Profile> profiles, const std::vector<int>& num_tokens);

}  // namespace pt
