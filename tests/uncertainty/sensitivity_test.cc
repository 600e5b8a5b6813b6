// First-order indices against closed forms: an input the output ignores explains nothing, the only
// input of a model explains everything, two equal additive inputs half each.
#include "uncertainty/sensitivity.h"

#include <gtest/gtest.h>

#include "uncertainty/sampling.h"

namespace pt {
namespace {

TEST(FirstOrderIndices, OneParameterLinearModelGetsOneOthersZero) {
  const Eigen::MatrixXd u = latin_hypercube(1000, 4, 3);
  const Eigen::VectorXd y = 5.0 * u.col(2).array() + 1.0;
  const auto s = first_order_indices(u, y);
  ASSERT_EQ(s.size(), 4u);
  EXPECT_GT(s[2], 0.98);
  for (size_t j : {0u, 1u, 3u}) EXPECT_LT(s[j], 0.03) << j;
}

TEST(FirstOrderIndices, TwoEqualAdditiveInputsHalfEach) {
  const Eigen::MatrixXd u = latin_hypercube(1000, 3, 11);
  const Eigen::VectorXd y = u.col(0) + u.col(1);
  const auto s = first_order_indices(u, y);
  EXPECT_NEAR(s[0], 0.5, 0.06);
  EXPECT_NEAR(s[1], 0.5, 0.06);
  EXPECT_LT(s[2], 0.03);
}

TEST(FirstOrderIndices, PureInteractionHasNoFirstOrderShare) {
  // y = (u0 - 1/2)(u1 - 1/2): E[y | u0] = 0 for every u0, so both first-order indices are 0.
  const Eigen::MatrixXd u = latin_hypercube(1000, 2, 5);
  const Eigen::VectorXd y = (u.col(0).array() - 0.5) * (u.col(1).array() - 0.5);
  const auto s = first_order_indices(u, y);
  EXPECT_LT(s[0], 0.05);
  EXPECT_LT(s[1], 0.05);
}

TEST(FirstOrderIndices, ConstantOutputGivesZero) {
  const Eigen::MatrixXd u = latin_hypercube(64, 3, 1);
  const auto s = first_order_indices(u, Eigen::VectorXd::Constant(64, 2.5));
  for (double v : s) EXPECT_EQ(v, 0.0);
}

TEST(Quantile, LinearBetweenOrderStatistics) {
  EXPECT_DOUBLE_EQ(quantile({4, 1, 3, 2, 5}, 0.5), 3);
  EXPECT_DOUBLE_EQ(quantile({1, 2, 3, 4, 5}, 0.1), 1.4);
  EXPECT_DOUBLE_EQ(quantile({1, 2}, 0.9), 1.9);
}

}  // namespace
}  // namespace pt
