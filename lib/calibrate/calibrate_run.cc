#include "calibrate/calibrate_run.h"

#include <map>
#include <mutex>

#include <fmt/format.h>

#include "analyze/model_check.h"
#include "profile/profile_readers.h"
#include "util/error.h"

namespace pt {

CalibrateRun run_calibrate(const Scenario& base, const std::vector<std::string>& profile_paths, const std::vector<int>& num_tokens,
                           int threads) {
  if (!num_tokens.empty() && num_tokens.size() != profile_paths.size()) {
    throw InputError(fmt::format("--num-tokens: {} token counts for {} profiles; give one per profile, in order",
                                 num_tokens.size(), profile_paths.size()));
  }
  // Every rank of every profile named; a cluster's ranks share its token count.
  std::vector<ProfileLocation> locations;
  std::vector<size_t> path_of;  // location -> index of the profile named
  for (size_t i = 0; i < profile_paths.size(); ++i) {
    for (const auto& l : find_profiles(profile_paths[i])) {
      locations.push_back(l);
      path_of.push_back(i);
    }
  }
  std::vector<RunSample> samples(locations.size());
  std::vector<std::string> notes;
  std::mutex notes_mutex;
  for_each_profile(locations, "", threads, [&](size_t i, Profile& p) {
    if (locations.size() == profile_paths.size()) p.source = profile_paths[path_of[i]];  // one run per profile: the name given
    Deployment d = base.plan.deployment;
    if (!num_tokens.empty()) {
      d.num_tokens = num_tokens[path_of[i]];
    } else if (auto inferred = infer_num_tokens(p)) {
      d.num_tokens = *inferred;
    } else {
      throw InputError(fmt::format("{}: cannot tell the token count (no matmul input shapes); give --num-tokens", p.source));
    }
    const StepPlan plan = base.plan_for(d);
    // A profile of another model would fit the wrong ops (and CMO rates above the HBM's).
    if (auto note = check_model_fits(p, plan)) {
      std::lock_guard<std::mutex> lock(notes_mutex);
      notes.push_back(fmt::format("{}: {}", p.source, *note));
    }
    samples[i] = sample_run(p, plan, &base.config, base.cap_reading);
  });

  CalibrateRun run;
  run.profiles_named = profile_paths.size();
  run.runs_read = locations.size();
  for (const auto& s : samples) run.num_tokens.push_back(*s.deployment.num_tokens);
  run.calibration = fit_samples(samples);
  run.calibration.fitted_on = calibration_target(base.model, base.plan.deployment, base.hardware, base.vllm_ascend_version);
  run.calibration.notes.insert(run.calibration.notes.end(), notes.begin(), notes.end());

  // The calibrated simulator against the runs it came from: one reproduction per token count (the
  // ranks of a cluster averaged).
  HardwareProfile hw = base.hardware;
  OpTimeTable table = base.op_times;
  apply_calibration(run.calibration, hw, table);
  std::map<int, std::vector<const RunSample*>> by_tokens;
  for (const auto& s : samples) by_tokens[*s.deployment.num_tokens].push_back(&s);
  for (const auto& [tokens, list] : by_tokens) {
    RunSample mean = *list.front();
    if (list.size() > 1) {
      mean.profile_step_us = 0;
      mean.profile_us_per_step.clear();
      for (const RunSample* s : list) {
        mean.profile_step_us += s->profile_step_us / static_cast<double>(list.size());
        for (const auto& [key, us] : s->profile_us_per_step) mean.profile_us_per_step[key] += us / static_cast<double>(list.size());
      }
    }
    const StepPlan calibrated = build_step_plan(base.model, mean.deployment, hw, base.layer_template, *base.release, &table);
    run.checks.push_back(reproduce(mean, calibrated, base.config, base.cap_reading));
  }
  return run;
}

}  // namespace pt
