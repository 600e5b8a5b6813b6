#pragma once
// simulate's run: one step under the scenario's config beside the same step with prefetch disabled
// (and, for --compare-config, under a second config), all on the scenario's one plan. export/
// renders the result (simulate_report.h).
#include <optional>
#include <string>
#include <vector>

#include "config/prefetch_config.h"
#include "sim/scenario.h"
#include "sim/simulator.h"

namespace pt {

// A second config to run on the same plan, and where it came from.
struct ComparedConfig {
  WeightPrefetchConfig config;
  std::string origin;
  std::vector<std::string> warnings;  // what loading it said
};

struct SimulateRun {
  const Scenario* scenario = nullptr;
  StepResult with_config;
  StepResult baseline;  // prefetch disabled
  std::optional<ComparedConfig> compare;
  std::optional<StepResult> compared;  // with compare->config
  double difference_pct() const;  // (with - baseline) / baseline * 100; negative = faster
};

SimulateRun simulate_with_baseline(const Scenario& scenario, bool record_timeline,
                                   std::optional<ComparedConfig> compare = std::nullopt);

}  // namespace pt
