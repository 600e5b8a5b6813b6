#include "uncertainty/sensitivity.h"

#include <algorithm>
#include <cmath>

namespace pt {

std::vector<double> first_order_indices(const Eigen::MatrixXd& u, const Eigen::VectorXd& y, size_t bins) {
  const Eigen::Index n = u.rows();
  const Eigen::Index d = u.cols();
  std::vector<double> out(static_cast<size_t>(d), 0.0);
  if (n < 4 || y.size() != n) return out;
  if (bins == 0) bins = static_cast<size_t>(std::lround(std::sqrt(static_cast<double>(n))));
  const Eigen::Index b = std::clamp<Eigen::Index>(static_cast<Eigen::Index>(bins), 2, n / 2);
  const double mean = y.mean();
  const double total = (y.array() - mean).square().sum() / static_cast<double>(n);
  if (!(total > 1e-24 * std::max(1.0, mean * mean))) return out;
  Eigen::VectorXd sum(b), sum_sq(b);
  Eigen::VectorXi count(b);
  for (Eigen::Index j = 0; j < d; ++j) {
    sum.setZero();
    sum_sq.setZero();
    count.setZero();
    for (Eigen::Index i = 0; i < n; ++i) {
      const Eigen::Index k = std::clamp<Eigen::Index>(static_cast<Eigen::Index>(std::floor(u(i, j) * static_cast<double>(b))), 0, b - 1);
      sum(k) += y(i);
      sum_sq(k) += y(i) * y(i);
      count(k) += 1;
    }
    // Between-bin variance of the conditional means, and the noise the finite bins add to it.
    double between = 0, noise = 0;
    for (Eigen::Index k = 0; k < b; ++k) {
      const double c = count(k);
      if (c < 2) continue;
      const double m = sum(k) / c;
      const double within = std::max(0.0, (sum_sq(k) - c * m * m) / (c - 1));
      between += c * (m - mean) * (m - mean);
      noise += within;  // each bin mean carries within / c of noise, weighted by c
    }
    between /= static_cast<double>(n);
    noise /= static_cast<double>(n);
    out[static_cast<size_t>(j)] = std::clamp((between - noise) / total, 0.0, 1.0);
  }
  return out;
}

double quantile(std::vector<double> v, double q) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const double pos = std::clamp(q, 0.0, 1.0) * static_cast<double>(v.size() - 1);
  const size_t lo = static_cast<size_t>(std::floor(pos));
  const size_t hi = std::min(v.size() - 1, lo + 1);
  return v[lo] + (pos - static_cast<double>(lo)) * (v[hi] - v[lo]);
}

}  // namespace pt
