#pragma once
// One NPU (a 910B, or one die of an A3 card): every rate the simulator uses, each with its source.
#include <map>
#include <string>
#include <vector>

namespace pt {

struct HardwareProfile {
  std::string name;
  std::string description;
  std::string family;  // "A2" or "A3"

  // What the profilers write in info.json about the device (optional "device" object of the
  // schema; absent: 24 AIC / 48 AIV and the clock the bf16 cube rate implies).
  struct Device {
    std::string soc_version;
    int ai_core_num = 24;
    int aiv_num = 48;
    double aic_frequency_mhz = 0;
  } device;

  double cube_TFLOPS_bf16 = 0;
  double cube_TOPS_int8 = 0;
  double vector_TFLOPS_fp16 = 0;
  double vector_TFLOPS_fp32 = 0;
  double matmul_efficiency = 0;
  double vector_efficiency = 0;
  double hbm_GBps = 0;
  double l2_size_bytes = 0;
  double l2_GBps = 0;
  double l2_read_speedup = 0;
  double cmo_GBps = 0;
  double cmo_qos_weight = 0;
  double cmo_setup_us = 0;
  double op_overhead_us = 0;
  double fork_us = 0;
  double join_us = 0;
  double comm_GBps = 0;
  double comm_latency_us = 0;
  double prefetch_cap_bytes = 0;
  double mla_o_proj_cap_bytes = 0;

  struct Provenance {
    std::string source;
    bool estimate = false;
  };
  std::map<std::string, Provenance> provenance;  // by parameter name

  // Sets one parameter by name ("hbm_GBps=1200"); InputError for an unknown name or bad value.
  void set(const std::string& name, double value, const std::string& where);
  double get(const std::string& name) const;
};

// Parameter names in schema order.
const std::vector<std::string>& hardware_parameter_names();

HardwareProfile parse_hardware_profile(const std::string& text, const std::string& source);
// A JSON path, or a bundled name (910B1, 910B2, 910B3, 910B4, a3-die).
HardwareProfile load_hardware(const std::string& spec);
std::vector<std::string> bundled_hardware_names();

// Applies "name=value" overrides from the command line (--hw-set).
void apply_hardware_overrides(HardwareProfile& hw, const std::vector<std::string>& assignments);

}  // namespace pt
