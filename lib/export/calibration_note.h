#pragma once
// How a report says that a --calibration file is in use, and what it replaced.
#include <string>

#include <nlohmann/json.hpp>

#include "sim/scenario.h"

namespace pt {

// ", calibrated by calib.json (hbm_GBps 1600 -> 1609, op_overhead_us 2 -> 2.01; 15 op durations)"
// for the end of a hardware line; "" without a calibration.
std::string calibration_suffix(const Scenario& scenario);
// {"path", "hardware": [{"parameter", "before", "calibrated"}], "op_durations": [keys]}, or null.
nlohmann::json calibration_json(const Scenario& scenario);

}  // namespace pt
