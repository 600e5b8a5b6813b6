#include "uncertainty/sampling.h"

#include <algorithm>
#include <cmath>

namespace pt {

namespace {

uint64_t splitmix64(uint64_t& x) {
  uint64_t z = (x += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

}  // namespace

SampleRng::SampleRng(uint64_t seed) {
  for (auto& v : s_) v = splitmix64(seed);
}

uint64_t SampleRng::next() {
  const uint64_t result = rotl(s_[1] * 5, 7) * 9;
  const uint64_t t = s_[1] << 17;
  s_[2] ^= s_[0];
  s_[3] ^= s_[1];
  s_[1] ^= s_[2];
  s_[0] ^= s_[3];
  s_[2] ^= t;
  s_[3] = rotl(s_[3], 45);
  return result;
}

double SampleRng::uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }

size_t SampleRng::below(size_t n) {
  // The modulo bias (n / 2^64) is far below anything a sample count can show.
  return static_cast<size_t>(next() % n);
}

std::vector<SampledParameter> sampled_parameters(const HardwareProfile& hw) {
  std::vector<SampledParameter> out;
  for (const auto& name : hardware_parameter_names()) {
    auto it = hw.provenance.find(name);
    if (it == hw.provenance.end() || !it->second.range) continue;
    const auto [lo, hi] = *it->second.range;
    if (!(hi > lo)) continue;
    SampledParameter p;
    p.name = name;
    p.nominal = hw.get(name);
    p.low = lo;
    p.high = hi;
    p.log_uniform = lo > 0 && hi / lo > kLogUniformAboveRatio;
    p.calibrated = it->second.source.rfind("calibrated", 0) == 0;
    p.reason = it->second.range_reason;
    out.push_back(p);
  }
  return out;
}

double parameter_value(const SampledParameter& p, double u) {
  u = std::clamp(u, 0.0, 1.0);
  if (p.log_uniform) return std::exp(std::log(p.low) + u * (std::log(p.high) - std::log(p.low)));
  return p.low + u * (p.high - p.low);
}

double parameter_u(const SampledParameter& p, double value) {
  if (!(p.high > p.low)) return 0.5;
  const double u = p.log_uniform ? (std::log(std::max(value, 1e-300)) - std::log(p.low)) / (std::log(p.high) - std::log(p.low))
                                 : (value - p.low) / (p.high - p.low);
  return std::clamp(u, 0.0, 1.0);
}

Eigen::MatrixXd latin_hypercube(size_t n, size_t d, uint64_t seed) {
  Eigen::MatrixXd u(static_cast<Eigen::Index>(n), static_cast<Eigen::Index>(d));
  SampleRng rng(seed);
  std::vector<size_t> perm(n);
  for (size_t j = 0; j < d; ++j) {
    for (size_t i = 0; i < n; ++i) perm[i] = i;
    for (size_t i = n; i > 1; --i) std::swap(perm[i - 1], perm[rng.below(i)]);  // Fisher-Yates
    for (size_t i = 0; i < n; ++i) {
      u(static_cast<Eigen::Index>(i), static_cast<Eigen::Index>(j)) =
          (static_cast<double>(perm[i]) + rng.uniform()) / static_cast<double>(n);
    }
  }
  return u;
}

HardwareProfile hardware_at(const HardwareProfile& base, const std::vector<SampledParameter>& params,
                            const Eigen::Ref<const Eigen::RowVectorXd>& u) {
  HardwareProfile hw = base;
  // The sources are for reports; a sample only feeds plans (each of which copies its profile).
  hw.provenance.clear();
  for (size_t j = 0; j < params.size(); ++j) {
    const auto [lo, hi] = hardware_parameter_limits(params[j].name);
    hw.set(params[j].name, std::clamp(parameter_value(params[j], u(static_cast<Eigen::Index>(j))), lo, hi), "sample");
  }
  return hw;
}

}  // namespace pt
