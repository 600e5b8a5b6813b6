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
  // The recommended argument: the tuned config, or enabled=false when disabling is advised.
  std::string recommended_additional_config() const;
};

std::string tune_text(const TuneReport& report);
nlohmann::json tune_json(const TuneReport& report);

}  // namespace pt
