#include "util/piecewise_linear.h"

#include <cmath>
#include <limits>

#include <fmt/format.h>

#include "util/error.h"

namespace pt {

PiecewiseLinear::PiecewiseLinear(std::vector<std::pair<double, double>> points, const std::string& where)
    : points_(std::move(points)) {
  if (points_.empty()) throw InputError(fmt::format("{}: expected at least one point [x, y]", where));
  for (size_t i = 0; i < points_.size(); ++i) {
    if (!std::isfinite(points_[i].first) || !std::isfinite(points_[i].second)) {
      throw InputError(fmt::format("{}[{}]: expected finite numbers", where, i));
    }
    if (i > 0 && !(points_[i].first > points_[i - 1].first)) {
      throw InputError(fmt::format("{}[{}]: x = {} does not increase (the previous point has x = {})", where, i,
                                   points_[i].first, points_[i - 1].first));
    }
  }
}

double PiecewiseLinear::at(double x) const {
  if (points_.empty()) return 0;
  if (x <= points_.front().first) return points_.front().second;
  if (x >= points_.back().first) return points_.back().second;
  for (size_t i = 1; i < points_.size(); ++i) {
    if (x <= points_[i].first) {
      const auto [x0, y0] = points_[i - 1];
      const auto [x1, y1] = points_[i];
      return y0 + (y1 - y0) * (x - x0) / (x1 - x0);
    }
  }
  return points_.back().second;
}

double PiecewiseLinear::slope_at(double x) const {
  if (points_.size() < 2 || x < points_.front().first || x >= points_.back().first) return 0;
  for (size_t i = 1; i < points_.size(); ++i) {
    if (x < points_[i].first) {
      return (points_[i].second - points_[i - 1].second) / (points_[i].first - points_[i - 1].first);
    }
  }
  return 0;
}

double PiecewiseLinear::next_break_after(double x) const {
  for (const auto& p : points_) {
    if (p.first > x) return p.first;
  }
  return std::numeric_limits<double>::infinity();
}

}  // namespace pt
