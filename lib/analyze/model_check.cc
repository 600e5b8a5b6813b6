#include "analyze/model_check.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <map>
#include <set>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "util/error.h"

namespace pt {

std::vector<long long> weight_dims(std::string_view shapes) {
  const size_t semi = shapes.find(';');
  if (semi == std::string_view::npos) return {};
  const std::string_view w = shapes.substr(semi + 1, shapes.find(';', semi + 1) - semi - 1);
  std::vector<long long> dims;
  size_t i = 0;
  while (i < w.size()) {
    while (i < w.size() && !std::isdigit(static_cast<unsigned char>(w[i]))) ++i;
    size_t j = i;
    while (j < w.size() && std::isdigit(static_cast<unsigned char>(w[j]))) ++j;
    if (j > i) {
      if (j - i > 12) return {};  // no weight is that large: not a shape
      dims.push_back(std::strtoll(std::string(w.substr(i, j - i)).c_str(), nullptr, 10));
    }
    i = j;
  }
  return dims;
}

bool weight_fits(const std::vector<long long>& d, const Linear& l, bool transposed) {
  const auto n = static_cast<long long>(l.out_features), k = static_cast<long long>(l.in_features);
  const auto e = static_cast<long long>(l.count);
  if (l.count == 1) {
    if (d.size() == 2) return (d[0] == n && d[1] == k) || (transposed && d[0] == k && d[1] == n);
    if (d.size() == 4) return (d[0] * d[3] == k && d[1] * d[2] == n) || (transposed && d[0] * d[3] == n && d[1] * d[2] == k);
    return false;
  }
  if (d.size() == 3) return d[0] == e && ((d[1] == k && d[2] == n) || (transposed && d[1] == n && d[2] == k));
  if (d.size() == 5) {
    return d[0] == e && ((d[1] * d[4] == k && d[2] * d[3] == n) || (transposed && d[1] * d[4] == n && d[2] * d[3] == k));
  }
  return false;
}

std::optional<std::string> check_model_fits(const Profile& profile, const StepPlan& plan) {
  // The weights of the profile's matmuls, each once.
  std::set<std::vector<long long>> weights;
  for (const auto& t : profile.tasks) {
    if (!t.is_cube() || t.input_shapes.empty()) continue;
    auto d = weight_dims(t.input_shapes);
    if (d.size() >= 2) weights.insert(std::move(d));
  }
  if (weights.empty()) {
    return std::string("the profile has no matmul shapes (no kernel_details / op_summary): it was not checked against the model");
  }
  // The linears the plan runs as matmuls, in the order the layer runs them.
  std::vector<const Linear*> used;
  auto collect = [&](const PlannedLayerType& type) {
    for (const auto& op : type.ops) {
      if (op.linear < 0 || (op.kind != OpKind::kMatmul && op.kind != OpKind::kGroupedMatmul)) continue;
      const Linear* l = &plan.linears[static_cast<size_t>(op.linear)];
      if (std::find(used.begin(), used.end(), l) == used.end()) used.push_back(l);
    }
  };
  for (const auto& type : plan.layer_types) collect(type);
  collect(plan.step_ops);
  for (const Linear* l : used) {
    const bool found = std::any_of(weights.begin(), weights.end(), [&](const auto& d) { return weight_fits(d, *l); });
    if (found) continue;
    std::vector<std::string> seen;
    for (const auto& d : weights) {
      if (seen.size() == 8) {
        seen.push_back("...");
        break;
      }
      seen.push_back(fmt::format("{}", fmt::join(d, "x")));
    }
    const std::string shape = l->count > 1 ? fmt::format("{}x{}x{}", l->count, l->in_features, l->out_features)
                                           : fmt::format("{}x{}", l->out_features, l->in_features);
    throw InputError(fmt::format(
        "{}: the profile does not fit {} at TP{}: no matmul has the weight of {} ({} per rank); its matmuls' weights are {}. "
        "Give the --model and deployment (--tensor-parallel-size, --quantization ...) the profile was taken with",
        profile.source, plan.model.name, plan.deployment.tensor_parallel, l->name, shape, fmt::join(seen, ", ")));
  }
  return std::nullopt;
}

}  // namespace pt
