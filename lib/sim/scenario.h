#pragma once
// Everything one run needs, read from the user's inputs: model, deployment, hardware, layer
// template, weight_prefetch_config. Shared by simulate and tune-ratio.
#include <optional>
#include <string>
#include <vector>

#include "config/calibration_file.h"
#include "config/deployment.h"
#include "config/prefetch_config.h"
#include "hardware/hardware_profile.h"
#include "model/model_config.h"
#include "sim/layer_template.h"
#include "sim/op_time_table.h"
#include "sim/simulator.h"
#include "sim/step_plan.h"

namespace pt {

struct ScenarioInputs {
  std::string vllm_ascend_version = "v0.23.0";   // --vllm-ascend: the release whose behaviour is modelled
  std::string model = "Qwen3-32B";
  std::string hardware = "a3-die";
  std::vector<std::string> hardware_overrides;  // NAME=VALUE
  Deployment deployment;
  std::optional<std::string> additional_config;  // inline JSON or @FILE; none = {"enabled": true}
  bool lenient = false;
  std::vector<std::string> env_assignments;      // legacy variables, NAME=VALUE
  bool use_process_env = true;
  std::string cap_reading = "code";
  std::string layer_template;                    // path, or empty for the bundled one
  std::string op_times;                          // CSV path, or empty
  std::string calibration;                       // calibrate's JSON, or empty
  bool allow_calibration_mismatch = false;       // use a calibration of another model or deployment (with a warning)
};

// A --calibration file in use: what it replaced, for the report.
struct CalibrationInUse {
  struct Replaced {
    std::string parameter;
    double before = 0;
    double calibrated = 0;
  };
  std::string path;
  std::vector<Replaced> hardware;      // the profile's value, then the fitted one
  std::vector<std::string> op_models;  // ops whose roofline the fitted durations replace
};

struct Scenario {
  const Release* release = &default_release();   // --vllm-ascend, resolved (vllm_ascend/release.h)
  std::string vllm_ascend_version;               // release->tag
  ModelConfig model;
  HardwareProfile hardware;
  LayerTemplate layer_template;
  OpTimeTable op_times;
  StepPlan plan;
  WeightPrefetchConfig config;
  CapReading cap_reading = CapReading::kCode;
  std::string config_origin;                     // where the config came from, for the report
  std::vector<std::string> warnings;
  std::vector<std::string> notes;
  std::optional<std::string> legacy_equivalent;  // the new --additional-config for legacy env vars
  std::optional<CalibrationInUse> calibration;   // --calibration

  // The plan of this scenario's model, hardware, template, release and op times for another
  // deployment (another token count of a workload, prefetch off ...).
  StepPlan plan_for(const Deployment& deployment) const;
};

// Sites the config sends into vllm-ascend's max_size <= 0 trap (whole tensor, past any cap), one
// sentence each naming the release and the bytes.
std::vector<std::string> whole_tensor_warnings(const StepPlan& plan, const WeightPrefetchConfig& config,
                                               CapReading cap_reading);

// Applies the hardware fits to `hw` (their provenance becomes "calibrated") and adds the op
// models to `table`.
void apply_calibration(const Calibration& c, HardwareProfile& hw, OpTimeTable& table);

// What a calibration made now on `model`, `deployment` and `hardware` records (calibrate writes it).
CalibrationTarget calibration_target(const ModelConfig& model, const Deployment& deployment, const HardwareProfile& hardware,
                                     const std::string& vllm_ascend_version);

// InputError when `c` was fitted on another model or deployment than `target` (unless `allow`,
// then a warning); a warning for another release or hardware, or a file that does not say.
void check_calibration(const Calibration& c, const CalibrationTarget& target, const std::string& file, bool allow,
                       std::vector<std::string>& warnings);

// InputError on any bad input, naming it.
Scenario load_scenario(const ScenarioInputs& inputs);

}  // namespace pt
