#pragma once
// First-order Sobol indices from a Latin hypercube sample, with no extra runs: the share of the
// output's variance that each input explains alone, Var(E[Y | X_j]) / Var(Y).
//
// Estimator: for each input, the samples are binned by its coordinate into B equal-probability
// bins (B = round(sqrt(n)); a Latin hypercube puts n / B samples in each); the variance of the bin
// means, less the part the bins' own sampling noise adds (the mean within-bin variance / (n / B)),
// over the total variance. A constant output gives 0 for every input.
#include <vector>

#include <Eigen/Dense>

namespace pt {

// `u`: n x d coordinates in [0, 1); `y`: n outputs. Indices in [0, 1] (clamped), one per column.
// bins = 0 picks round(sqrt(n)), at least 2.
std::vector<double> first_order_indices(const Eigen::MatrixXd& u, const Eigen::VectorXd& y, size_t bins = 0);

// The q-quantile of `values` (linear between order statistics, as numpy's default).
double quantile(std::vector<double> values, double q);

}  // namespace pt
