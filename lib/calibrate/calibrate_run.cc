#include "calibrate/calibrate_run.h"

#include <fmt/format.h>

#include "profile/profile_readers.h"
#include "util/error.h"

namespace pt {

CalibrateRun run_calibrate(const Scenario& base, std::vector<Profile> profiles, const std::vector<int>& num_tokens) {
  if (!num_tokens.empty() && num_tokens.size() != profiles.size()) {
    throw InputError(fmt::format("--num-tokens: {} token counts for {} profiles; give one per profile, in order",
                                 num_tokens.size(), profiles.size()));
  }
  CalibrateRun run;
  run.profiles = std::move(profiles);
  for (size_t i = 0; i < run.profiles.size(); ++i) {
    Deployment d = base.plan.deployment;
    if (!num_tokens.empty()) {
      d.num_tokens = num_tokens[i];
    } else if (auto inferred = infer_num_tokens(run.profiles[i])) {
      d.num_tokens = *inferred;
    } else {
      throw InputError(fmt::format("{}: cannot tell the token count (no matmul input shapes); give --num-tokens",
                                   run.profiles[i].source));
    }
    run.plans.push_back(base.plan_for(d));
  }
  std::vector<CalibrationRun> runs;
  for (size_t i = 0; i < run.profiles.size(); ++i) runs.push_back({&run.profiles[i], &run.plans[i], &base.config});
  run.calibration = fit_calibration(runs, base.cap_reading);

  // The calibrated simulator against the runs it came from.
  HardwareProfile hw = base.hardware;
  OpTimeTable table = base.op_times;
  apply_calibration(run.calibration, hw, table);
  for (size_t i = 0; i < run.profiles.size(); ++i) {
    const StepPlan calibrated =
        build_step_plan(base.model, run.plans[i].deployment, hw, base.layer_template, *base.release, &table);
    run.checks.push_back(reproduce(run.profiles[i], calibrated, base.config, base.cap_reading));
  }
  return run;
}

}  // namespace pt
