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

// Least squares y = a + b x over groups of points sharing an x (token counts, byte counts): the
// same fit as over every point, with each group weighted by its size (rows scaled by sqrt(n)).
std::pair<double, double> fit_grouped(const std::map<double, std::vector<float>>& groups) {
  size_t total = 0;
  double sum = 0;
  for (const auto& [x, ys] : groups) {
    total += ys.size();
    for (float y : ys) sum += y;
  }
  if (groups.size() < 2) return {total ? sum / static_cast<double>(total) : 0.0, 0.0};
  Eigen::MatrixXd a(static_cast<Eigen::Index>(groups.size()), 2);
  Eigen::VectorXd b(static_cast<Eigen::Index>(groups.size()));
  Eigen::Index i = 0;
  for (const auto& [x, ys] : groups) {
    double mean = 0;
    for (float y : ys) mean += y;
    mean /= static_cast<double>(ys.size());
    const double w = std::sqrt(static_cast<double>(ys.size()));
    a(i, 0) = w;
    a(i, 1) = w * x;
    b(i) = w * mean;
    ++i;
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

RunSample sample_run(const Profile& p, const StepPlan& plan, const WeightPrefetchConfig* config, CapReading cap_reading) {
  RunSample s;
  s.source = p.source;
  s.deployment = plan.deployment;
  s.tokens = plan.tokens.padded_tokens;
  s.hbm_GBps = plan.hardware.hbm_GBps;
  s.cmo_setup_us = plan.hardware.cmo_setup_us;
  const Audit audit = audit_profile(p, &plan, config, cap_reading);
  // Matmuls that read prefetched bytes from L2 run faster than their HBM traffic says: they stay
  // in the op fits but not in the bandwidth fit.
  std::set<double> l2_fed;
  for (const auto& cmo : audit.cmos) l2_fed.insert(cmo.next_matmul_start_us);
  const auto spans = step_spans(p, audit.compute_stream);
  const double steps = std::max<double>(1.0, static_cast<double>(spans.size()));
  for (const auto& [id, span] : spans) s.profile_step_us += (span.second - span.first) / steps;
  for (const auto& t : p.tasks) {
    if (t.stream_id != audit.compute_stream && !t.is_communication()) continue;
    const std::string key = calibration_key(t, plan);
    if (key.empty()) continue;
    s.durations[key].push_back(static_cast<float>(t.duration_us));
    s.profile_us_per_step[key] += t.duration_us / steps;
    const auto at = key.find('@');
    if (t.is_vector() && at == std::string::npos) {
      // A vector op whose roofline is compute bound tells the vector efficiency.
      if (const PlannedOp* op = find_op_of_type(plan, key);
          op && op->compute_us > op->hbm_bytes / (plan.hardware.hbm_GBps * 1e3) && t.duration_us > op->overhead_us) {
        s.vector_efficiency.push_back(
            static_cast<float>(op->compute_us * plan.hardware.vector_efficiency / (t.duration_us - op->overhead_us)));
      }
    }
    if (at == std::string::npos || !t.is_cube()) continue;
    // Matmul bytes from the plan's linear: weights (touched experts) plus activations.
    const PlannedOp* op = find_matmul(plan, key.substr(0, at), key.substr(at + 1));
    if (!op || l2_fed.count(t.start_us)) continue;
    s.matmuls[op->hbm_bytes].push_back(static_cast<float>(t.duration_us));
    const double ideal_us = op->compute_us * plan.hardware.matmul_efficiency;  // at 100 % efficiency
    if (op->compute_us > op->hbm_bytes / (plan.hardware.hbm_GBps * 1e3) && t.duration_us > plan.hardware.op_overhead_us) {
      s.matmul_efficiency.push_back(static_cast<float>(ideal_us / (t.duration_us - plan.hardware.op_overhead_us)));
    }
  }
  for (const auto& cmo : audit.cmos) {
    if (cmo.bytes > 0 && cmo.duration_us > 0) {
      auto [it, fresh] = s.cmo_fastest.emplace(cmo.bytes, cmo.duration_us);
      if (!fresh) it->second = std::min(it->second, cmo.duration_us);
    }
  }
  return s;
}

Calibration fit_calibration(const std::vector<CalibrationRun>& runs, CapReading cap_reading) {
  std::vector<RunSample> samples;
  for (const auto& run : runs) samples.push_back(sample_run(*run.profile, *run.plan, run.config, cap_reading));
  return fit_samples(samples);
}

Calibration fit_samples(const std::vector<RunSample>& samples) {
  Calibration c;
  // key -> token count -> durations, over the samples in order.
  std::map<std::string, std::map<double, std::vector<float>>> points;
  std::map<double, std::vector<float>> matmuls;
  std::vector<float> eff, vector_eff;
  std::map<double, double> cmo_fastest;
  for (const auto& s : samples) {
    c.sources.push_back(s.source);
    for (const auto& [key, v] : s.durations) {
      auto& dst = points[key][s.tokens];
      dst.insert(dst.end(), v.begin(), v.end());
    }
    for (const auto& [bytes, v] : s.matmuls) matmuls[bytes].insert(matmuls[bytes].end(), v.begin(), v.end());
    eff.insert(eff.end(), s.matmul_efficiency.begin(), s.matmul_efficiency.end());
    vector_eff.insert(vector_eff.end(), s.vector_efficiency.begin(), s.vector_efficiency.end());
    for (const auto& [bytes, us] : s.cmo_fastest) {
      auto [it, fresh] = cmo_fastest.emplace(bytes, us);
      if (!fresh) it->second = std::min(it->second, us);
    }
  }
  if (points.empty()) throw InputError("calibrate: the profile holds no compute task to fit");

  for (const auto& [key, by_tokens] : points) {
    OpDurationFit f;
    f.key = key;
    auto [a, b] = fit_grouped(by_tokens);
    f.intercept_us = a;
    f.per_token_us = b;
    f.token_counts = by_tokens.size();
    double se = 0, ape = 0;
    for (const auto& [x, ys] : by_tokens) {
      const double pred = a + b * x;
      for (float y : ys) {
        se += (pred - y) * (pred - y);
        if (y > 0) ape += std::abs(pred - y) / y;
      }
      f.points += ys.size();
    }
    f.rmse_us = std::sqrt(se / static_cast<double>(f.points));
    f.mean_abs_error_pct = 100.0 * ape / static_cast<double>(f.points);
    c.ops.push_back(f);
  }

  // Matmuls in decode are memory bound: duration = overhead + bytes / bandwidth.
  size_t matmul_count = 0;
  for (const auto& [bytes, v] : matmuls) matmul_count += v.size();
  if (matmuls.size() < 2) {
    c.notes.push_back("too few matmuls that read no prefetched bytes to fit the HBM bandwidth: profile with weight "
                      "prefetch disabled to calibrate it");
  } else {
    auto [overhead, us_per_byte] = fit_grouped(matmuls);
    if (us_per_byte > 0 && overhead >= 0) {
      // A decode matmul shows the rate it streams at alone, not the HBM peak that concurrent
      // transfers share: the fit sets the streaming efficiency against the profile's peak, and
      // raises the peak only when the matmuls beat it.
      const double rate_GBps = 1.0 / us_per_byte / 1e3;
      const double peak_GBps = samples.front().hbm_GBps;
      const std::string basis =
          fmt::format("least squares over {} matmuls: duration = overhead + bytes / ({:.0f} GB/s)", matmul_count, rate_GBps);
      // Fit errors: the rate is known to the residual's RMS relative to the mean duration, the
      // intercept to the residual's RMS.
      double se = 0, sum = 0;
      for (const auto& [bytes, v] : matmuls) {
        for (float d : v) {
          const double r = d - (overhead + us_per_byte * bytes);
          se += r * r;
          sum += d;
        }
      }
      const double n = static_cast<double>(std::max<size_t>(1, matmul_count));
      const double rms_us = std::sqrt(se / n), mean_us = sum / n;
      const double rel = mean_us > 0 ? rms_us / mean_us : 0;
      if (rate_GBps <= peak_GBps) {
        c.hardware.push_back({"matmul_stream_efficiency", rate_GBps / peak_GBps,
                              fmt::format("{}, against hbm_GBps {:.0f}", basis, peak_GBps), rel * rate_GBps / peak_GBps});
      } else {
        c.hardware.push_back({"hbm_GBps", rate_GBps, basis + ", above the profile's peak", rel * rate_GBps});
        c.hardware.push_back({"matmul_stream_efficiency", 1.0, "the matmuls stream at the fitted peak"});
      }
      c.hardware.push_back({"op_overhead_us", overhead, "intercept of the same fit", rms_us});
    } else {
      c.notes.push_back(fmt::format("the matmul fit gave overhead {:.2f} us and {:.3g} us/byte: not physical, "
                                    "HBM bandwidth left as it was", overhead, us_per_byte));
    }
  }
  if (!eff.empty()) {
    std::sort(eff.begin(), eff.end());
    c.hardware.push_back({"matmul_efficiency", std::clamp(static_cast<double>(eff[eff.size() / 2]), 0.01, 1.0),
                          fmt::format("median over {} compute-bound matmuls", eff.size())});
  } else {
    c.notes.push_back("no compute-bound matmul in the profile (decode): matmul_efficiency left as it was");
  }
  if (!vector_eff.empty()) {
    std::sort(vector_eff.begin(), vector_eff.end());
    c.hardware.push_back({"vector_efficiency", std::clamp(static_cast<double>(vector_eff[vector_eff.size() / 2]), 0.01, 1.0),
                          fmt::format("median over {} compute-bound vector ops", vector_eff.size())});
  } else {
    c.notes.push_back("no compute-bound vector op in the profile (their time is overhead and HBM traffic): "
                      "vector_efficiency left as it was; the fitted op durations carry their real cost");
  }
  // A CMO task lasts its set-up plus its bytes at the engine's rate, and longer when it shares HBM
  // with the ops beside it. The engine's own line lies under every task: of the lower convex hull
  // of (bytes, fastest duration), the edge with the smallest slope and a non-negative intercept.
  if (cmo_fastest.size() >= 2) {
    std::vector<std::pair<double, double>> hull;  // lower hull, by bytes
    for (const auto& point : cmo_fastest) {
      while (hull.size() >= 2) {
        const auto& [x1, y1] = hull[hull.size() - 2];
        const auto& [x2, y2] = hull.back();
        // Drop the middle point when it lies on or above the chord.
        if ((y2 - y1) * (point.first - x1) >= (point.second - y1) * (x2 - x1)) hull.pop_back();
        else break;
      }
      hull.push_back(point);
    }
    double best_slope = 0, best_setup = 0;
    for (size_t i = 1; i < hull.size(); ++i) {
      const double slope = (hull[i].second - hull[i - 1].second) / (hull[i].first - hull[i - 1].first);
      const double setup = hull[i - 1].second - slope * hull[i - 1].first;
      if (slope > 0 && setup >= 0 && (best_slope == 0 || slope < best_slope)) {
        best_slope = slope;
        best_setup = setup;
      }
    }
    if (best_slope > 0) {
      // Fit errors: how far the sizes' fastest tasks sit above the envelope (relative for the rate,
      // in us for the set-up).
      double rel_sq = 0, abs_sq = 0;
      for (const auto& [bytes, us] : cmo_fastest) {
        const double line_us = best_setup + best_slope * bytes;
        if (line_us <= 0) continue;
        rel_sq += (us - line_us) * (us - line_us) / (line_us * line_us);
        abs_sq += (us - line_us) * (us - line_us);
      }
      const double sizes = static_cast<double>(cmo_fastest.size());
      c.hardware.push_back({"cmo_GBps", 1.0 / best_slope / 1e3,
                            fmt::format("lower envelope of the fastest CMO task of each of {} sizes: duration = set-up + "
                                        "bytes / rate", cmo_fastest.size()),
                            std::sqrt(rel_sq / sizes) / best_slope / 1e3});
      c.hardware.push_back({"cmo_setup_us", best_setup, "intercept of the same line", std::sqrt(abs_sq / sizes)});
    } else {
      c.notes.push_back("the CMO tasks give no line with a positive rate and set-up: CMO rate left as it was");
    }
  } else if (cmo_fastest.size() == 1) {
    const auto& [bytes, us] = *cmo_fastest.begin();
    const double setup = samples.front().cmo_setup_us;
    if (us > setup) {
      c.hardware.push_back({"cmo_GBps", bytes / (us - setup) / 1e3,
                            fmt::format("fastest of the CMO tasks, one size only: bytes / (duration - the profile's "
                                        "set-up of {:.2f} us)", setup)});
    }
  } else {
    c.notes.push_back("no CMO task with known bytes: cmo_GBps left as it was (give --model and --additional-config)");
  }
  return c;
}

Reproduction reproduce(const Profile& profile, const StepPlan& plan, const WeightPrefetchConfig& config,
                       CapReading cap_reading) {
  return reproduce(sample_run(profile, plan, &config, cap_reading), plan, config, cap_reading);
}

Reproduction reproduce(const RunSample& sample, const StepPlan& plan, const WeightPrefetchConfig& config, CapReading cap_reading) {
  Reproduction r;
  r.num_tokens = plan.tokens.padded_tokens;
  r.profile_step_us = sample.profile_step_us;
  SimOptions o;
  o.cap_reading = cap_reading;
  o.record_timeline = true;
  const StepResult sim = simulate_step(plan, config, o);
  r.simulated_step_us = sim.step_time_us;
  r.step_error_pct = r.profile_step_us > 0 ? 100.0 * (r.simulated_step_us - r.profile_step_us) / r.profile_step_us : 0;

  std::map<std::string, std::pair<double, double>> per_key;  // profile, simulated
  for (const auto& [key, us] : sample.profile_us_per_step) per_key[key].first = us;
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
