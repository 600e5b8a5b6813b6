#pragma once
// Does a profile come from the model and deployment it is audited or calibrated against? Its
// matmuls' weight shapes say: each linear the model runs (per rank, at the deployment's TP) has to
// appear. Auditing a Qwen3-8B profile as Qwen3-32B would otherwise divide the 8B's CMO times into
// the 32B's byte counts (rates above the HBM's) and calibrate on the wrong ops.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "model/linear_shapes.h"
#include "profile/profile.h"
#include "sim/step_plan.h"

namespace pt {

// The dimensions of a matmul's weight, the second input of "M,K;N,K" ("M,K;E,K,N" grouped).
std::vector<long long> weight_dims(std::string_view input_shapes);

// True when `dims` is the weight of `linear` per rank: N x K (E x K x N grouped), the FRACTAL_NZ
// form (K/k0, N/n0, n0, k0) of it, and with `transposed` also K x N (E x N x K).
bool weight_fits(const std::vector<long long>& dims, const Linear& linear, bool transposed = true);

// InputError naming the first linear of the model no matmul of the profile has the weight of,
// and what the profile's weights are. A profile without matmul shapes (a trace alone) cannot be
// checked: returns a note saying so (nullopt when checked).
std::optional<std::string> check_model_fits(const Profile& profile, const StepPlan& plan);

}  // namespace pt
