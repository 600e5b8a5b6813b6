#pragma once
// The report of `analyze`: stream summary, per-site audit and suggestions, an optional
// side-by-side comparison with a second profile, and the per-CMO rows as CSV.
#include <string>

#include <nlohmann/json.hpp>

#include "analyze/prefetch_audit.h"

namespace pt {

std::string analyze_text(const Audit& audit, const Audit* compare);
nlohmann::json analyze_json(const Audit& audit, const Audit* compare);
std::string cmo_csv(const Audit& audit);

}  // namespace pt
