#pragma once
// The report of `analyze`: stream summary, per-site audit and suggestions, an optional
// side-by-side comparison with a second profile, and the per-CMO rows as CSV.
#include <string>

#include <nlohmann/json.hpp>

#include "analyze/cluster_audit.h"
#include "analyze/prefetch_audit.h"

namespace pt {

std::string analyze_text(const Audit& audit, const Audit* compare);
nlohmann::json analyze_json(const Audit& audit, const Audit* compare);
std::string cmo_csv(const Audit& audit);

// A cluster: one row per rank, the slowest rank and the step time skew, then the slowest rank's audit.
std::string cluster_text(const ClusterAudit& cluster);
nlohmann::json cluster_json(const ClusterAudit& cluster);

}  // namespace pt
