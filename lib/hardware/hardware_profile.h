#pragma once
// One accelerator (a 910B, one die of an A3 card, or an analog such as the H200 of
// validation/gpu-analog): every rate the simulator uses, each with its source, and for an estimate
// the range it could plausibly take.
#include <cmath>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "util/piecewise_linear.h"

namespace pt {

struct HardwareProfile {
  std::string name;
  std::string description;
  // "A2" or "A3" select vllm-ascend's MoE communication rules; any other name (an analog) takes A3's.
  std::string family;

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
  // The HBM capacity every concurrent transfer shares (matmul, vector op, CMO).
  double hbm_GBps = 0;
  // What one engine achieves alone, as a fraction of hbm_GBps: a matmul streaming its weight.
  double matmul_stream_efficiency = 1;
  double grouped_matmul_stream_efficiency = NAN;  // NaN: as matmul_stream_efficiency
  // Share of a vector op's bytes that go to HBM; the rest (decode activations just written by the
  // op before) is read from L2 at l2_GBps.
  double vector_hbm_fraction = 1;
  double l2_size_bytes = 0;
  double l2_GBps = 0;
  double l2_read_speedup = 0;                      // matmul, the whole weight in L2
  double grouped_matmul_l2_read_speedup = NAN;     // NaN: as l2_read_speedup
  double cmo_GBps = 0;
  double cmo_qos_weight = 0;
  // Optional (0: not used): the rate a CMO keeps beside a matmul that wants more HBM than there is,
  // when the matmul's engine wins arbitration outright instead of by weight.
  double cmo_GBps_beside_matmul = 0;
  double cmo_setup_us = 0;
  double op_overhead_us = 0;  // per op in a captured sequence: launch, scheduling, tail
  double alone_fixed_us = 0;  // what an op timed alone pays on top (start and tail that a sequence hides)
  double fork_us = 0;
  double join_us = 0;
  double comm_GBps = 0;
  double comm_latency_us = 0;
  double hbm_capacity_bytes = 0;  // device memory; 0 when the profile does not give it (optional)

  // Fraction of a weight in L2 (read first) -> fraction of the whole-weight saving; linear when empty.
  PiecewiseLinear l2_saving_curve;
  // CMO task bytes -> GB/s when the task has HBM to itself; cmo_GBps when empty.
  PiecewiseLinear cmo_GBps_by_bytes;

  struct Provenance {
    std::string source;
    bool estimate = false;
    std::optional<std::pair<double, double>> range;  // plausible [low, high] of an estimate
    std::string range_reason;
  };
  std::map<std::string, Provenance> provenance;  // by parameter name (scalars and curves)

  // Sets one scalar parameter by name ("hbm_GBps=1200"); InputError for an unknown name or bad value.
  void set(const std::string& name, double value, const std::string& where);
  // The value in effect (a NaN fallback resolved); 0 for an unknown name.
  double get(const std::string& name) const;

  double grouped_stream_efficiency() const {
    return std::isnan(grouped_matmul_stream_efficiency) ? matmul_stream_efficiency : grouped_matmul_stream_efficiency;
  }
  double grouped_l2_read_speedup() const {
    return std::isnan(grouped_matmul_l2_read_speedup) ? l2_read_speedup : grouped_matmul_l2_read_speedup;
  }
  // Saving fraction when the first `fraction` of a weight sits in L2.
  double l2_saving_fraction(double fraction) const;
  // The CMO's rate alone for a task of `bytes`, bounded by the HBM peak.
  double cmo_rate_GBps(double bytes) const;
};

// Scalar parameter names in schema order (hbm_capacity_bytes last); the curves in curve_parameter_names().
const std::vector<std::string>& hardware_parameter_names();
const std::vector<std::string>& curve_parameter_names();
// Whether a profile may leave the parameter out (it then takes the default that reproduces the
// model before it existed).
bool hardware_parameter_optional(const std::string& name);
// The values a scalar parameter may take at all ([min, max] that set() accepts); {0, 0} for an unknown name.
std::pair<double, double> hardware_parameter_limits(const std::string& name);

HardwareProfile parse_hardware_profile(const std::string& text, const std::string& source);
// A JSON path, or a bundled name (910B1, 910B2, 910B3, 910B4, a3-die).
HardwareProfile load_hardware(const std::string& spec);
std::vector<std::string> bundled_hardware_names();

// Applies "name=value" overrides from the command line (--hw-set).
void apply_hardware_overrides(HardwareProfile& hw, const std::vector<std::string>& assignments);

}  // namespace pt
