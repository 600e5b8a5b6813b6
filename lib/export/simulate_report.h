#pragma once
// The report of `simulate`: a human table and the JSON contract scripts rely on.
#include <string>

#include <nlohmann/json.hpp>

#include "sim/scenario.h"
#include "sim/simulator.h"

namespace pt {

struct SimulateReport {
  const Scenario* scenario = nullptr;
  StepResult with_config;
  StepResult baseline;  // prefetch disabled
  double difference_pct() const;  // (with - baseline) / baseline * 100; negative = faster
};

SimulateReport run_simulate(const Scenario& scenario, bool record_timeline);

std::string simulate_text(const SimulateReport& report);
nlohmann::json simulate_json(const SimulateReport& report);

// Shared pieces, also used by tune-ratio.
std::string describe_deployment(const StepPlan& plan);
nlohmann::json deployment_json(const StepPlan& plan);
nlohmann::json site_json(const SiteSummary& site);
// The per-site table and the list of sites that do not fire.
std::string site_table_text(const StepPlan& plan, const std::vector<SiteSummary>& sites);

}  // namespace pt
