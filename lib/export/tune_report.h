#pragma once
// The report of `tune-ratio`: the paste-ready --additional-config first, then the evidence.
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "search/ratio_search.h"
#include "search/workload.h"
#include "sim/scenario.h"

namespace pt {

struct TuneReport {
  const Scenario* scenario = nullptr;      // the scenario at the first token count (model, hardware ...)
  std::vector<WorkloadPoint> workload;
  std::vector<const StepPlan*> plans;      // one per workload point
  TuneResult result;
  double elapsed_ms = 0;
  // The recommended config: the tuned one, or enabled=false when disabling is advised.
  WeightPrefetchConfig recommended_config() const;
  std::string recommended_additional_config() const;
  std::vector<std::string> recommended_env() const;  // legacy MLP variables (v0.13 / v0.14), or none
};

std::string tune_text(const TuneReport& report);
nlohmann::json tune_json(const TuneReport& report);
// The curves behind the plot: each tuned key swept with the others at the tuned point, per
// workload entry. One header, raw numbers; ratio 0 with module_off 1 is the key's module off.
std::string tune_sweep_csv(const TuneReport& report);

}  // namespace pt
