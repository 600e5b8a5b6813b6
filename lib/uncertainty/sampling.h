#pragma once
// What is not known about the hardware, as a space to sample: every scalar parameter of the profile
// that carries a range (an estimate's plausible span, or a calibrated value +/- its fit error), and
// a Latin hypercube over it. Curves stay at their values.
#include <cstdint>
#include <string>
#include <vector>

#include <Eigen/Dense>

#include "hardware/hardware_profile.h"

namespace pt {

// A range wider than this ratio (high / low, low > 0) is sampled log-uniformly, others uniformly.
constexpr double kLogUniformAboveRatio = 4.0;

struct SampledParameter {
  std::string name;          // hardware parameter, e.g. "cmo_GBps"
  double nominal = 0;        // the value in effect (the profile's, or the calibrated one)
  double low = 0, high = 0;  // the range sampled
  bool log_uniform = false;
  bool calibrated = false;   // the range is a fit's value +/- its error
  std::string reason;        // the profile's range_reason
};

// Every scalar parameter with a range, in schema order; a range of zero width is left out.
std::vector<SampledParameter> sampled_parameters(const HardwareProfile& hw);

// The value at u in [0, 1] of the parameter's distribution (uniform or log-uniform in [low, high]).
double parameter_value(const SampledParameter& p, double u);
// Where a value lies in [0, 1] (the inverse of parameter_value, clamped).
double parameter_u(const SampledParameter& p, double value);

// n samples of d coordinates in [0, 1): each column takes each of the n strata [k/n, (k+1)/n)
// exactly once, at a uniform point inside it, in a random order. Deterministic in `seed`
// (splitmix64 / xoshiro256**, no implementation-defined distribution).
Eigen::MatrixXd latin_hypercube(size_t n, size_t d, uint64_t seed);

// `base` with parameter j set to parameter_value(params[j], u(j)), without the sources (provenance):
// a sample only feeds the simulator.
HardwareProfile hardware_at(const HardwareProfile& base, const std::vector<SampledParameter>& params,
                            const Eigen::Ref<const Eigen::RowVectorXd>& u);

// A small seeded generator, the same on every platform.
class SampleRng {
 public:
  explicit SampleRng(uint64_t seed);
  uint64_t next();
  double uniform();              // [0, 1)
  size_t below(size_t n);        // [0, n)

 private:
  uint64_t s_[4];
};

}  // namespace pt
