#pragma once
// A function given by points (x, y), linear between them and flat beyond the ends: measured
// curves (L2 saving against the fraction of a weight in L2, CMO rate against task size).
#include <string>
#include <utility>
#include <vector>

namespace pt {

class PiecewiseLinear {
 public:
  PiecewiseLinear() = default;
  // Points sorted by strictly increasing x (InputError naming `where` otherwise).
  PiecewiseLinear(std::vector<std::pair<double, double>> points, const std::string& where);

  bool empty() const { return points_.empty(); }
  const std::vector<std::pair<double, double>>& points() const { return points_; }
  double at(double x) const;
  // Slope on the piece that starts at or before x (0 beyond the ends).
  double slope_at(double x) const;
  // The first breakpoint strictly after x, or +infinity.
  double next_break_after(double x) const;

 private:
  std::vector<std::pair<double, double>> points_;
};

}  // namespace pt
