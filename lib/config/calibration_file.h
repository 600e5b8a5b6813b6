#pragma once
// The calibration file calibrate writes and simulate / tune-ratio read (--calibration): fitted
// hardware parameters and op durations. The fit itself lives in analyze/calibration.h.
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace pt {

struct OpDurationFit {
  std::string key;             // "SwiGlu" or "QuantBatchMatmulV3@down_proj"
  double intercept_us = 0;
  double per_token_us = 0;
  size_t points = 0;
  size_t token_counts = 0;     // distinct token counts behind the fit (1: a constant)
  double rmse_us = 0;
  double mean_abs_error_pct = 0;
};

struct HardwareFit {
  std::string parameter;       // hardware profile parameter name
  double value = 0;
  std::string basis;           // how it was obtained
  // Fit error in the value's unit (0: none given, as in files written before it): the uncertainty
  // analysis samples the parameter within value +/- error instead of the profile's range.
  double error = 0;
};

struct Calibration {
  std::vector<std::string> sources;
  std::vector<HardwareFit> hardware;
  std::vector<OpDurationFit> ops;
  std::vector<std::string> notes;
};

nlohmann::json calibration_to_json(const Calibration& c);
// InputError naming the file and JSON path; hardware parameter names and ranges are checked.
Calibration parse_calibration(const std::string& text, const std::string& source);
Calibration load_calibration(const std::string& path);

}  // namespace pt
