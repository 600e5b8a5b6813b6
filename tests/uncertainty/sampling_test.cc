// The sampling design: a Latin hypercube that really stratifies, reproducibly, over exactly the
// parameters that carry a range.
#include "uncertainty/sampling.h"

#include <algorithm>
#include <cmath>
#include <set>

#include <gtest/gtest.h>

#include "hardware/hardware_profile.h"

namespace pt {
namespace {

TEST(LatinHypercube, EveryColumnTakesEveryStratumOnce) {
  const size_t n = 97, d = 5;
  const Eigen::MatrixXd u = latin_hypercube(n, d, 7);
  ASSERT_EQ(u.rows(), static_cast<Eigen::Index>(n));
  ASSERT_EQ(u.cols(), static_cast<Eigen::Index>(d));
  for (Eigen::Index j = 0; j < u.cols(); ++j) {
    std::set<long> strata;
    for (Eigen::Index i = 0; i < u.rows(); ++i) {
      ASSERT_GE(u(i, j), 0.0);
      ASSERT_LT(u(i, j), 1.0);
      strata.insert(static_cast<long>(std::floor(u(i, j) * static_cast<double>(n))));
    }
    EXPECT_EQ(strata.size(), n) << "column " << j;
  }
}

TEST(LatinHypercube, SameSeedSameSampleOtherSeedOther) {
  const Eigen::MatrixXd a = latin_hypercube(64, 4, 42), b = latin_hypercube(64, 4, 42), c = latin_hypercube(64, 4, 43);
  EXPECT_TRUE(a == b);
  EXPECT_FALSE(a == c);
  // Columns are not the same permutation (independent strata orders).
  EXPECT_FALSE(a.col(0) == a.col(1));
}

TEST(SampledParameters, EveryRangedEstimateOfTheBundledProfileAndNothingMeasured) {
  const HardwareProfile hw = load_hardware("a3-die");
  const auto params = sampled_parameters(hw);
  size_t ranged = 0;
  for (const auto& [name, prov] : hw.provenance) {
    if (prov.range && prov.range->second > prov.range->first) ++ranged;
  }
  EXPECT_EQ(params.size(), ranged);
  EXPECT_GE(params.size(), 10u);
  for (const auto& p : params) {
    EXPECT_NE(p.name, "l2_size_bytes");  // from the CANN ini: no range
    EXPECT_LE(p.low, p.nominal);
    EXPECT_GE(p.high, p.nominal);
    EXPECT_EQ(p.log_uniform, p.low > 0 && p.high / p.low > kLogUniformAboveRatio) << p.name;
    if (p.name == "cmo_GBps") { EXPECT_TRUE(p.log_uniform); }  // 150 to 1600
    if (p.name == "hbm_GBps") { EXPECT_FALSE(p.log_uniform); }  // 1421 to 1800
  }
}

TEST(SampledParameters, ValueAndCoordinateAreInverse) {
  SampledParameter lin{"hbm_GBps", 1600, 1000, 2000, false, false, ""};
  SampledParameter log{"cmo_GBps", 1200, 100, 1600, true, false, ""};
  EXPECT_DOUBLE_EQ(parameter_value(lin, 0.25), 1250);
  EXPECT_NEAR(parameter_value(log, 0.5), 400, 1e-9);  // the geometric mean
  for (double u : {0.0, 0.1, 0.5, 0.9, 1.0}) {
    EXPECT_NEAR(parameter_u(lin, parameter_value(lin, u)), u, 1e-12);
    EXPECT_NEAR(parameter_u(log, parameter_value(log, u)), u, 1e-12);
  }
}

TEST(SampledParameters, HardwareAtSetsEachSampledValue) {
  const HardwareProfile hw = load_hardware("a3-die");
  const auto params = sampled_parameters(hw);
  Eigen::RowVectorXd u = Eigen::RowVectorXd::Constant(static_cast<Eigen::Index>(params.size()), 0.0);
  const HardwareProfile low = hardware_at(hw, params, u);
  for (const auto& p : params) EXPECT_DOUBLE_EQ(low.get(p.name), p.low) << p.name;
  EXPECT_EQ(low.l2_size_bytes, hw.l2_size_bytes);
}

}  // namespace
}  // namespace pt
