#pragma once
// The report of `simulate`: a human table and the JSON contract scripts rely on.
#include <string>

#include <nlohmann/json.hpp>

#include "sim/scenario.h"
#include "sim/simulate_with_baseline.h"
#include "sim/simulator.h"

namespace pt {

// What simulate renders: the run of sim/simulate_with_baseline.h.
using SimulateReport = SimulateRun;

std::string simulate_text(const SimulateReport& report);
// --compare-config: the two configs side by side, per site and per step (part of simulate_text).
std::string compare_text(const SimulateReport& report);
nlohmann::json simulate_json(const SimulateReport& report);

// Shared pieces, also used by tune-ratio.
std::string describe_deployment(const StepPlan& plan);
nlohmann::json deployment_json(const StepPlan& plan);
nlohmann::json site_json(const SiteSummary& site);
// One line per site that moves bytes another site of the same weight already put in L2 (empty when none).
std::string refetch_text(const std::vector<SiteSummary>& sites);
// The per-site table and the list of sites that do not fire.
std::string site_table_text(const StepPlan& plan, const std::vector<SiteSummary>& sites);

}  // namespace pt
