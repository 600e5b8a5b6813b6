#pragma once
// The report of `calibrate`: the fitted hardware and op durations, and how well the calibrated
// simulator reproduces the runs (text, or the calibration file's JSON with the reproduction).
#include <string>

#include <nlohmann/json.hpp>

#include "calibrate/calibrate_run.h"
#include "sim/scenario.h"

namespace pt {

// `calibration_out`: the file the calibration is written to ("" for none), named at the end.
std::string calibrate_text(const Scenario& base, const CalibrateRun& run, const std::string& calibration_out);
// The calibration file's JSON plus `reproduction`, `profiles_read` and the config matched with.
nlohmann::json calibrate_json(const Scenario& base, const CalibrateRun& run);

}  // namespace pt
