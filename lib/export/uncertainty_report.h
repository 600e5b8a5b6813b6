#pragma once
// Reports of simulate --uncertainty and tune-ratio --robust: text sections, JSON keys, and the
// break-even map as CSV and SVG. They only read results.
#include <string>

#include <nlohmann/json.hpp>

#include "export/tune_report.h"
#include "uncertainty/robust_tune.h"
#include "uncertainty/verdict.h"

namespace pt {

// The section simulate --uncertainty appends to its report.
std::string verdict_text(const UncertainVerdict& v);
// Keys merged into simulate's JSON: p_gain, gain_pct_p10/p50/p90, sensitivity, break_even, uncertainty.
nlohmann::json verdict_json(const UncertainVerdict& v);

// tune-ratio --robust: the paste-ready line of the recommended config first, then the evidence.
std::string robust_text(const RobustTuneResult& r, const TuneReport& nominal);
nlohmann::json robust_json(const RobustTuneResult& r, const TuneReport& nominal);

// One row per grid point: <x parameter>,<y parameter>,gain_pct (one header, raw numbers).
std::string break_even_csv(const BreakEvenMap& map);
// The map coloured by gain (green helps, red hurts), the zero-gain contour, and the markers.
std::string break_even_svg(const BreakEvenMap& map, const std::string& title);

}  // namespace pt
