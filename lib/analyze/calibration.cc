#include "analyze/calibration.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include <Eigen/Dense>
#include <fmt/format.h>

#include "util/error.h"

namespace pt {

namespace {

const PlannedOp* find_matmul(const StepPlan& plan, const std::string& type, const std::string& linear) {
  auto match = [&](const PlannedLayerType& lt) -> const PlannedOp* {
    for (const auto& op : lt.ops) {
      if (op.linear >= 0 && op.type == type && plan.linears[static_cast<size_t>(op.linear)].name == linear) return &op;
    }
    return nullptr;
  };
  for (const auto& lt : plan.layer_types) {
    if (const PlannedOp* op = match(lt)) return op;
  }
  return match(plan.step_ops);
}

const PlannedOp* find_op_of_type(const StepPlan& plan, const std::string& type) {
  for (const auto& lt : plan.layer_types) {
    for (const auto& op : lt.ops) {
      if (op.type == type && !op.measured && (op.kind == OpKind::kVector || op.kind == OpKind::kQuantize)) return &op;
    }
  }
  return nullptr;
}

bool is_event_or_cmo(const ProfileTask& t) { return t.is_cmo() || t.is_event(); }

// Least squares fit y = a + b x with Eigen; b = 0 when x takes a single value.
std::pair<double, double> fit_line(const std::vector<double>& x, const std::vector<double>& y) {
  std::set<double> distinct(x.begin(), x.end());
  if (distinct.size() < 2) {
    double mean = 0;
    for (double v : y) mean += v;
    return {mean / static_cast<double>(y.size()), 0.0};
  }
  Eigen::MatrixXd a(static_cast<Eigen::Index>(x.size()), 2);
  Eigen::VectorXd b(static_cast<Eigen::Index>(y.size()));
  for (size_t i = 0; i < x.size(); ++i) {
    a(static_cast<Eigen::Index>(i), 0) = 1.0;
    a(static_cast<Eigen::Index>(i), 1) = x[i];
    b(static_cast<Eigen::Index>(i)) = y[i];
  }
  const Eigen::Vector2d coef = a.colPivHouseholderQr().solve(b);
  return {coef(0), coef(1)};
}

std::map<int64_t, std::pair<double, double>> step_spans(const Profile& p, int64_t compute_stream) {
  std::map<int64_t, std::pair<double, double>> spans;
  for (const auto& t : p.tasks) {
    if (t.stream_id != compute_stream || is_event_or_cmo(t)) continue;
    auto [it, fresh] = spans.emplace(t.step_id, std::make_pair(t.start_us, t.end_us()));
    if (!fresh) {
      it->second.first = std::min(it->second.first, t.start_us);
      it->second.second = std::max(it->second.second, t.end_us());
    }
  }
  return spans;
}

}  // namespace

std::string calibration_key(const ProfileTask& t, const StepPlan& plan) {
  if (is_event_or_cmo(t) || !(t.is_compute() || t.is_communication())) return "";
  const std::string type(t.kind());
  const std::string linear = matmul_linear(t, plan);
  return linear.empty() ? type : type + "@" + linear;
}

Calibration fit_calibration(const std::vector<CalibrationRun>& runs, CapReading cap_reading) {
  Calibration c;
  std::map<std::string, std::pair<std::vector<double>, std::vector<double>>> points;
  std::vector<double> mm_bytes, mm_dur, cmo_rates;
  std::vector<double> eff, vector_eff;
  for (const auto& run : runs) {
    const Profile& p = *run.profile;
    const StepPlan& plan = *run.plan;
    c.sources.push_back(p.source);
    const double tokens = plan.tokens.padded_tokens;
    const Audit audit = audit_profile(p, &plan, run.config, cap_reading);
    // Matmuls that read prefetched bytes from L2 run faster than their HBM traffic says: they stay
    // in the op fits but not in the bandwidth fit.
    std::set<double> l2_fed;
    for (const auto& cmo : audit.cmos) l2_fed.insert(cmo.next_matmul_start_us);
    for (const auto& t : p.tasks) {
      if (t.stream_id != audit.compute_stream && !t.is_communication()) continue;
      const std::string key = calibration_key(t, plan);
      if (key.empty()) continue;
      points[key].first.push_back(tokens);
      points[key].second.push_back(t.duration_us);
      const auto at = key.find('@');
      if (t.is_vector() && at == std::string::npos) {
        // A vector op whose roofline is compute bound tells the vector efficiency.
        if (const PlannedOp* op = find_op_of_type(plan, key);
            op && op->compute_us > op->hbm_bytes / (plan.hardware.hbm_GBps * 1e3) && t.duration_us > op->overhead_us) {
          vector_eff.push_back(op->compute_us * plan.hardware.vector_efficiency / (t.duration_us - op->overhead_us));
        }
      }
      if (at == std::string::npos || !t.is_cube()) continue;
      // Matmul bytes from the plan's linear: weights (touched experts) plus activations.
      const PlannedOp* op = find_matmul(plan, key.substr(0, at), key.substr(at + 1));
      if (!op || l2_fed.count(t.start_us)) continue;
      mm_bytes.push_back(op->hbm_bytes);
      mm_dur.push_back(t.duration_us);
      const double ideal_us = op->compute_us * plan.hardware.matmul_efficiency;  // at 100 % efficiency
      if (op->compute_us > op->hbm_bytes / (plan.hardware.hbm_GBps * 1e3) && t.duration_us > plan.hardware.op_overhead_us) {
        eff.push_back(ideal_us / (t.duration_us - plan.hardware.op_overhead_us));
      }
    }
    for (const auto& cmo : audit.cmos) {
      if (cmo.GBps > 0) cmo_rates.push_back(cmo.GBps);
    }
  }
  if (points.empty()) throw InputError("calibrate: the profile holds no compute task to fit");

  for (auto& [key, xy] : points) {
    OpDurationFit f;
    f.key = key;
    auto [a, b] = fit_line(xy.first, xy.second);
    f.intercept_us = a;
    f.per_token_us = b;
    f.points = xy.first.size();
    f.token_counts = std::set<double>(xy.first.begin(), xy.first.end()).size();
    double se = 0, ape = 0;
    for (size_t i = 0; i < xy.first.size(); ++i) {
      const double pred = a + b * xy.first[i];
      se += (pred - xy.second[i]) * (pred - xy.second[i]);
      if (xy.second[i] > 0) ape += std::abs(pred - xy.second[i]) / xy.second[i];
    }
    f.rmse_us = std::sqrt(se / static_cast<double>(f.points));
    f.mean_abs_error_pct = 100.0 * ape / static_cast<double>(f.points);
    c.ops.push_back(f);
  }

  // Matmuls in decode are memory bound: duration = overhead + bytes / bandwidth.
  if (std::set<double>(mm_bytes.begin(), mm_bytes.end()).size() < 2) {
    c.notes.push_back("too few matmuls that read no prefetched bytes to fit the HBM bandwidth: profile with weight "
                      "prefetch disabled to calibrate it");
  } else {
    auto [overhead, us_per_byte] = fit_line(mm_bytes, mm_dur);
    if (us_per_byte > 0 && overhead >= 0) {
      c.hardware.push_back({"hbm_GBps", 1.0 / us_per_byte / 1e3,
                            fmt::format("least squares over {} matmuls: duration = overhead + bytes / bandwidth", mm_bytes.size())});
      c.hardware.push_back({"op_overhead_us", overhead, "intercept of the same fit"});
    } else {
      c.notes.push_back(fmt::format("the matmul fit gave overhead {:.2f} us and {:.3g} us/byte: not physical, "
                                    "HBM bandwidth left as it was", overhead, us_per_byte));
    }
  }
  if (!eff.empty()) {
    std::sort(eff.begin(), eff.end());
    c.hardware.push_back({"matmul_efficiency", std::clamp(eff[eff.size() / 2], 0.01, 1.0),
                          fmt::format("median over {} compute-bound matmuls", eff.size())});
  } else {
    c.notes.push_back("no compute-bound matmul in the profile (decode): matmul_efficiency left as it was");
  }
  if (!vector_eff.empty()) {
    std::sort(vector_eff.begin(), vector_eff.end());
    c.hardware.push_back({"vector_efficiency", std::clamp(vector_eff[vector_eff.size() / 2], 0.01, 1.0),
                          fmt::format("median over {} compute-bound vector ops", vector_eff.size())});
  } else {
    c.notes.push_back("no compute-bound vector op in the profile (their time is overhead and HBM traffic): "
                      "vector_efficiency left as it was; the fitted op durations carry their real cost");
  }
  if (!cmo_rates.empty()) {
    std::sort(cmo_rates.begin(), cmo_rates.end());
    // The fastest CMOs are the least contended: the upper decile approximates the engine's own rate.
    const double p90 = cmo_rates[std::min(cmo_rates.size() - 1, cmo_rates.size() * 9 / 10)];
    c.hardware.push_back({"cmo_GBps", p90, fmt::format("90th percentile of bytes / duration over {} CMO tasks "
                                                       "(slower ones shared HBM with their window)", cmo_rates.size())});
  } else {
    c.notes.push_back("no CMO task with known bytes: cmo_GBps left as it was (give --model and --additional-config)");
  }
  return c;
}

Reproduction reproduce(const Profile& profile, const StepPlan& plan, const WeightPrefetchConfig& config,
                       CapReading cap_reading) {
  Reproduction r;
  r.num_tokens = plan.tokens.padded_tokens;
  const Audit audit = audit_profile(profile, &plan, &config, cap_reading);
  const auto spans = step_spans(profile, audit.compute_stream);
  const double steps = std::max<double>(1.0, static_cast<double>(spans.size()));
  for (const auto& [id, span] : spans) r.profile_step_us += (span.second - span.first) / steps;
  SimOptions o;
  o.cap_reading = cap_reading;
  o.record_timeline = true;
  const StepResult sim = simulate_step(plan, config, o);
  r.simulated_step_us = sim.step_time_us;
  r.step_error_pct = r.profile_step_us > 0 ? 100.0 * (r.simulated_step_us - r.profile_step_us) / r.profile_step_us : 0;

  std::map<std::string, std::pair<double, double>> per_key;  // profile, simulated
  for (const auto& t : profile.tasks) {
    if (t.stream_id != audit.compute_stream && !t.is_communication()) continue;
    const std::string key = calibration_key(t, plan);
    if (!key.empty()) per_key[key].first += t.duration_us / steps;
  }
  for (const auto& e : sim.timeline) {
    if (e.kind != EventKind::kOp) continue;
    const PlannedLayerType& type = e.layer_type >= 0 ? plan.layer_types[static_cast<size_t>(e.layer_type)] : plan.step_ops;
    const PlannedOp& op = type.ops[static_cast<size_t>(e.op)];
    const std::string key = op.linear >= 0 && (op.kind == OpKind::kMatmul || op.kind == OpKind::kGroupedMatmul)
                                ? op.type + "@" + plan.linears[static_cast<size_t>(op.linear)].name
                                : op.type;
    per_key[key].second += e.duration_us;
  }
  for (const auto& [key, v] : per_key) {
    ReproductionRow row{key, v.first, v.second, v.first > 0 ? 100.0 * (v.second - v.first) / v.first : 0};
    r.ops.push_back(row);
  }
  std::sort(r.ops.begin(), r.ops.end(), [](const auto& a, const auto& b) { return a.profile_us > b.profile_us; });
  return r;
}

}  // namespace pt
