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

// What a calibration was fitted on. simulate and tune-ratio refuse a calibration of another model
// (by the hash of its shape fields) or deployment, and warn about another release or hardware.
struct CalibrationTarget {
  std::string model;             // its name, for messages
  std::string model_shape_hash;  // model_shape_hash(): what is compared
  int tensor_parallel = 0;
  int data_parallel = 0;
  bool expert_parallel = false;
  std::string quantization;      // quantization_name()
  std::string phase;             // phase_name()
  std::string vllm_ascend_version;
  std::string hardware;          // the hardware profile's name
  bool known() const { return !model_shape_hash.empty(); }
};

struct Calibration {
  CalibrationTarget fitted_on;   // empty in files written before calibrations recorded it
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
