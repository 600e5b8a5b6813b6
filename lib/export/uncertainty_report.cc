#include "export/uncertainty_report.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "export/simulate_report.h"
#include "export/svg_plot.h"
#include "export/text_table.h"

namespace pt {

namespace {

const char* kEstimator =
    "first-order Sobol indices by binning the Latin hypercube on each parameter (round(sqrt(N)) equal-probability bins), "
    "bias-corrected for the bins' sampling noise";

std::string num(double v) {
  if (v == 0) return "0";
  const double a = std::abs(v);
  if (a >= 1e6 || a < 1e-3) return fmt::format("{:.3g}", v);
  return fmt::format("{:.4g}", v);
}


std::string parameters_text(const std::vector<SampledParameter>& params, const std::vector<Sensitivity>& sens) {
  TextTable t({"parameter", "index", "nominal", "low", "high", "sampled", "range from"});
  for (const auto& s : sens) {
    for (const auto& p : params) {
      if (p.name != s.parameter) continue;
      t.add_row({p.name, fmt::format("{:.3f}", s.index), num(p.nominal), num(p.low), num(p.high),
                 p.log_uniform ? "log-uniform" : "uniform", p.calibrated ? "calibration (value +/- fit error)" : "profile"});
    }
  }
  return t.render("  ");
}

// The map in characters: '+' prefetch helps, '.' it hurts, B the bundled estimate, F the fitted point.
std::string map_text(const BreakEvenMap& m) {
  const size_t nx = m.x.values.size(), ny = m.y.values.size();
  auto nearest = [](const BreakEvenAxis& a, double v) {
    const double u = parameter_u(a.parameter, v);
    return static_cast<size_t>(std::lround(u * static_cast<double>(a.values.size() - 1)));
  };
  std::string out = fmt::format("break-even map of the gain of {} (others at their nominal values): + helps, . hurts, "
                                "B bundled estimate{}\n",
                                m.config_label, m.x.fitted || m.y.fitted ? ", F fitted" : "");
  const size_t bx = nearest(m.x, m.x.bundled), by = nearest(m.y, m.y.bundled);
  const size_t fx = nearest(m.x, m.x.fitted.value_or(m.x.parameter.nominal)),
               fy = nearest(m.y, m.y.fitted.value_or(m.y.parameter.nominal));
  const bool fitted = m.x.fitted || m.y.fitted;
  for (size_t r = 0; r < ny; ++r) {
    const size_t yi = ny - 1 - r;
    std::string label = r == 0 ? num(m.y.values.back()) : r + 1 == ny ? num(m.y.values.front()) : "";
    out += fmt::format("  {:>10} ", label);
    for (size_t xi = 0; xi < nx; ++xi) {
      char c = m.at(xi, yi) > kGainTiePct ? '+' : '.';
      if (xi == bx && yi == by) c = 'B';
      if (fitted && xi == fx && yi == fy) c = 'F';
      out += c;
      out += ' ';
    }
    out += r == ny / 2 ? fmt::format("  {} (y)\n", m.y.parameter.name) : "\n";
  }
  const std::string first = num(m.x.values.front()), last = num(m.x.values.back());
  const size_t width = 2 * nx > last.size() + 1 + first.size() ? 2 * nx - last.size() - 1 : first.size() + 1;
  out += fmt::format("  {:>10} {:<{}}{}\n", "", first, width, last);
  out += fmt::format("  {:>10} {} (x){}\n", "", m.x.parameter.name, m.x.parameter.log_uniform || m.y.parameter.log_uniform ? ", log axes where the range spans more than 4x" : "");
  return out;
}

nlohmann::json axis_json(const BreakEvenAxis& a) {
  nlohmann::json j = {{"parameter", a.parameter.name},
                      {"low", a.parameter.low},
                      {"high", a.parameter.high},
                      {"scale", a.parameter.log_uniform ? "log" : "linear"},
                      {"values", a.values},
                      {"bundled", a.bundled},
                      {"nominal", a.parameter.nominal}};
  j["fitted"] = a.fitted ? nlohmann::json(*a.fitted) : nlohmann::json(nullptr);
  return j;
}

nlohmann::json map_json(const BreakEvenMap& m) {
  nlohmann::json grid = nlohmann::json::array();
  for (size_t yi = 0; yi < m.y.values.size(); ++yi) {
    nlohmann::json row = nlohmann::json::array();
    for (size_t xi = 0; xi < m.x.values.size(); ++xi) row.push_back(m.at(xi, yi));
    grid.push_back(row);
  }
  return {{"config", m.config_label}, {"axes", {{"x", axis_json(m.x)}, {"y", axis_json(m.y)}}}, {"grid_gain_pct", grid},
          {"grid_layout", "grid_gain_pct[y index][x index]"}};
}

nlohmann::json sampling_json(const std::vector<SampledParameter>& params, size_t samples, uint64_t seed) {
  nlohmann::json ps = nlohmann::json::array();
  for (const auto& p : params) {
    ps.push_back({{"name", p.name},
                  {"nominal", p.nominal},
                  {"low", p.low},
                  {"high", p.high},
                  {"distribution", p.log_uniform ? "log-uniform" : "uniform"},
                  {"calibrated", p.calibrated},
                  {"reason", p.reason}});
  }
  return {{"samples", samples}, {"seed", seed}, {"design", "latin hypercube"}, {"estimator", kEstimator}, {"parameters", ps}};
}

nlohmann::json sensitivity_json(const std::vector<Sensitivity>& s) {
  nlohmann::json j = nlohmann::json::object();
  for (const auto& e : s) j[e.parameter] = e.index;
  return j;
}

std::vector<std::string> ranking(const std::vector<Sensitivity>& s) {
  std::vector<std::string> out;
  for (const auto& e : s) out.push_back(e.parameter);
  return out;
}

}  // namespace

std::string verdict_text(const UncertainVerdict& v) {
  std::string out = fmt::format("\nuncertainty: {} hardware parameters sampled over their ranges (Latin hypercube, {} samples, "
                                "seed {})\n",
                                v.parameters.size(), v.samples, v.seed);
  out += "  gain = (disabled - with config) / disabled: positive means prefetch makes the step faster (the step-time\n"
         "  change above has the opposite sign)\n";
  out += fmt::format("  at the nominal values   {:+.2f} %\n", v.nominal_gain_pct);
  out += fmt::format("  p_gain                  {:.3f}   (share of samples where prefetch beats disabled)\n", v.gain.p_gain);
  out += fmt::format("  gain p10 / p50 / p90    {:+.2f} / {:+.2f} / {:+.2f} %   (min {:+.2f}, max {:+.2f})\n\n", v.gain.p10,
                     v.gain.p50, v.gain.p90, v.gain.min, v.gain.max);
  out += "sensitivity: first-order Sobol index of the gain (the share of its variance each parameter explains alone;\n"
         "measure the top one first)\n";
  out += parameters_text(v.parameters, v.sensitivity);
  if (v.break_even) {
    out += '\n';
    out += map_text(*v.break_even);
  }
  return out;
}

nlohmann::json verdict_json(const UncertainVerdict& v) {
  nlohmann::json j = {{"p_gain", v.gain.p_gain},
                      {"gain_pct_p10", v.gain.p10},
                      {"gain_pct_p50", v.gain.p50},
                      {"gain_pct_p90", v.gain.p90},
                      {"gain_pct_mean", v.gain.mean},
                      {"gain_pct_nominal", v.nominal_gain_pct},
                      {"gain_sign", "positive: prefetch makes the step faster than disabled"},
                      {"sensitivity", sensitivity_json(v.sensitivity)},
                      {"sensitivity_ranking", ranking(v.sensitivity)},
                      {"uncertainty", sampling_json(v.parameters, v.samples, v.seed)}};
  j["break_even"] = v.break_even ? map_json(*v.break_even) : nlohmann::json(nullptr);
  return j;
}

namespace {

std::string candidate_row_ratios(const RobustTuneResult& r, const RobustCandidate& c) {
  if (c.ratios.empty()) return c.label == "prefetch disabled" ? "disabled" : "defaults";
  std::vector<std::string> parts;
  for (size_t k = 0; k < r.keys.size() && k < c.ratios.size(); ++k) {
    const double v = c.ratios[k];
    parts.push_back(fmt::format("{}={}", ratio_key_name(r.keys[k].key),
                                v == 0 ? "off" : v < 0.005 ? fmt::format("{:.2g}", v) : fmt::format("{:.2f}", v)));
  }
  return fmt::format("{}", fmt::join(parts, " "));
}

nlohmann::json candidate_json(const RobustTuneResult& r, const RobustCandidate& c, const Semantics& sem) {
  nlohmann::json ratios = nlohmann::json::object();
  for (size_t k = 0; k < r.keys.size() && k < c.ratios.size(); ++k) ratios[ratio_key_name(r.keys[k].key)] = c.ratios[k];
  return {{"origin", c.label},
          {"config", nlohmann::json{{"weight_prefetch_config", c.config.to_inner_json(sem)}}},
          {"ratios", ratios},
          {"expected_step_time_us", c.expected_step_time_us},
          {"worst_case_step_time_us", c.worst_step_time_us},
          {"expected_regret_us", c.expected_regret_us},
          {"worst_case_regret_us", c.worst_regret_us},
          {"p_gain", c.gain.p_gain},
          {"gain_pct_p10", c.gain.p10},
          {"gain_pct_p50", c.gain.p50},
          {"gain_pct_p90", c.gain.p90}};
}

}  // namespace

std::string robust_text(const RobustTuneResult& r, const TuneReport& nominal) {
  const Scenario& sc = *nominal.scenario;
  const Semantics& sem = sc.release->semantics;
  std::string out = fmt::format("--additional-config '{}'\n", r.recommended_config.to_additional_config(sem));
  if (auto env = r.recommended_config.legacy_env(sem); !env.empty()) {
    out += fmt::format("env {}   (vllm-ascend {} has no mlp module: the MLP prefetch runs from these variables)\n",
                       fmt::join(env, " "), sc.release->tag);
  }
  out += "\n";
  std::vector<std::string> points;
  for (const auto& p : nominal.workload) points.push_back(fmt::format("{} tokens x{:g}", p.num_tokens, p.weight));
  out += fmt::format("release     vllm-ascend {} (prefetch code {})\n", sc.release->tag, sem.name);
  out += fmt::format("model       {} on {} ({}), caps: {} reading\n", sc.model.name, sc.hardware.name, sc.hardware.family,
                     cap_reading_name(sc.cap_reading));
  out += fmt::format("workload    {}\n", fmt::join(points, ", "));
  out += fmt::format("robust      {} hardware parameters sampled (Latin hypercube, {} samples, seed {}); robust grid at step "
                     "{:g} plus the nominal tuned ratios; {} candidate configs on every sample; {} segment simulations\n",
                     r.parameters.size(), r.samples, r.seed, r.step, r.candidates, r.segment_simulations);
  if (!r.exact_expected) out += "note        some segments do not close: the best expected config is the best of the candidates\n";
  out += fmt::format("nominal     the plain tune at the nominal values gains {:+.2f} % over disabled there ({})\n",
                     nominal.result.gain_pct, nominal.result.recommend_disable ? "advice: disable" : "advice: enable");
  out += fmt::format("advice      {}\n\n", r.advice);
  out += "configs over the sampled hardware (weighted mean step over the workload; regret: against each sample's own best\n"
         "among the configs compared; gain positive = faster than disabled)\n";
  TextTable t({"config", "ratios", "expected us", "worst us", "worst regret us", "p_gain", "gain p10 %", "p50 %", "p90 %"});
  auto row = [&](const std::string& role, const RobustCandidate& c) {
    t.add_row({role, candidate_row_ratios(r, c), fmt_us(c.expected_step_time_us), fmt_us(c.worst_step_time_us),
               fmt_us(c.worst_regret_us), fmt::format("{:.3f}", c.gain.p_gain), fmt::format("{:+.2f}", c.gain.p10),
               fmt::format("{:+.2f}", c.gain.p50), fmt::format("{:+.2f}", c.gain.p90)});
  };
  row("best expected", r.best_expected);
  row("least worst-case regret", r.least_regret);
  row("nominal tuned", r.nominal);
  if (r.best_prefetching) row("best that prefetches", *r.best_prefetching);
  row("vllm-ascend defaults", r.defaults);
  row("prefetch disabled", r.disabled);
  out += t.render("  ");
  out += fmt::format("  recommended: {}\n\n", r.recommended);
  if (!r.sensitivity.empty()) {
    out += "sensitivity: first-order Sobol index of the gain over disabled of " +
           (r.break_even ? r.break_even->config_label : std::string("the recommended config")) +
           " (measure the top one first)\n";
    out += parameters_text(r.parameters, r.sensitivity);
  }
  if (r.break_even) {
    out += '\n';
    out += map_text(*r.break_even);
  }
  for (const auto& w : sc.warnings) out += fmt::format("warning: {}\n", w);
  return out;
}

nlohmann::json robust_json(const RobustTuneResult& r, const TuneReport& nominal) {
  const Scenario& sc = *nominal.scenario;
  const Semantics& sem = sc.release->semantics;
  const RobustCandidate& rec = r.recommended == "least worst-case regret" ? r.least_regret
                               : r.recommended == "disabled"              ? r.disabled
                                                                          : r.best_expected;
  nlohmann::json j = {
      {"vllm_ascend_version", sc.release->tag},
      {"recommended", r.recommended},
      {"recommend_disable", r.recommend_disable},
      {"advice", r.advice},
      {"recommended_additional_config", nlohmann::json{{"weight_prefetch_config", r.recommended_config.to_inner_json(sem)}}},
      {"recommended_additional_config_arg", r.recommended_config.to_additional_config(sem)},
      {"recommended_env", r.recommended_config.legacy_env(sem)},
      {"p_gain", rec.gain.p_gain},
      {"gain_pct_p10", rec.gain.p10},
      {"gain_pct_p50", rec.gain.p50},
      {"gain_pct_p90", rec.gain.p90},
      {"gain_sign", "positive: the config makes the step faster than disabled"},
      {"robust",
       {{"best_expected", candidate_json(r, r.best_expected, sem)},
        {"least_worst_case_regret", candidate_json(r, r.least_regret, sem)},
        {"nominal_tuned", candidate_json(r, r.nominal, sem)},
        {"defaults", candidate_json(r, r.defaults, sem)},
        {"disabled", candidate_json(r, r.disabled, sem)},
        {"best_prefetching", r.best_prefetching ? candidate_json(r, *r.best_prefetching, sem) : nlohmann::json(nullptr)},
        {"candidates", r.candidates},
        {"robust_step", r.step},
        {"segment_simulations", r.segment_simulations},
        {"exact_expected", r.exact_expected}}},
      {"sensitivity", sensitivity_json(r.sensitivity)},
      {"sensitivity_ranking", ranking(r.sensitivity)},
      {"uncertainty", sampling_json(r.parameters, r.samples, r.seed)},
      {"nominal", tune_json(nominal)},
  };
  j["break_even"] = r.break_even ? map_json(*r.break_even) : nlohmann::json(nullptr);
  return j;
}

std::string break_even_csv(const BreakEvenMap& m) {
  std::string out = fmt::format("{},{},gain_pct\n", m.x.parameter.name, m.y.parameter.name);
  for (size_t yi = 0; yi < m.y.values.size(); ++yi) {
    for (size_t xi = 0; xi < m.x.values.size(); ++xi) {
      out += fmt::format("{},{},{}\n", m.x.values[xi], m.y.values[yi], m.at(xi, yi));
    }
  }
  return out;
}

namespace {

// Green where prefetch helps, red where it hurts, paler near zero.
std::string gain_color(double g, double scale) {
  if (!std::isfinite(g)) return "rgb(200,200,200)";
  const double f = std::clamp(std::abs(g) / (scale > 0 ? scale : 1.0), 0.0, 1.0);
  const double t = 0.15 + 0.85 * f;
  const int base = 247;
  if (g > 0) return fmt::format("rgb({},{},{})", static_cast<int>(base - t * 200), static_cast<int>(base - t * 90), static_cast<int>(base - t * 170));
  return fmt::format("rgb({},{},{})", static_cast<int>(base - t * 30), static_cast<int>(base - t * 190), static_cast<int>(base - t * 190));
}

}  // namespace

std::string break_even_svg(const BreakEvenMap& m, const std::string& title) {
  const double left = 90, top = 50, pw = 500, ph = 500, right = 170, bottom = 70;
  const double w = left + pw + right, h = top + ph + bottom;
  const size_t nx = m.x.values.size(), ny = m.y.values.size();
  double scale = 0;
  for (double g : m.gain_pct) {
    if (std::isfinite(g)) scale = std::max(scale, std::abs(g));
  }
  // Grid nodes sit at equal steps of each axis' sampling coordinate (log for a log axis).
  auto X = [&](double u) { return left + u * pw; };
  auto Y = [&](double u) { return top + (1 - u) * ph; };
  const double cw = pw / static_cast<double>(nx - 1), ch = ph / static_cast<double>(ny - 1);
  std::string s = fmt::format(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{:.0f}\" height=\"{:.0f}\" viewBox=\"0 0 {:.0f} {:.0f}\" "
      "font-family=\"sans-serif\">\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n",
      w, h, w, h);
  s += fmt::format("<text x=\"{}\" y=\"24\" font-size=\"15\" font-weight=\"bold\">{}</text>\n", left, svg_escape(title));
  s += fmt::format("<text x=\"{}\" y=\"40\" font-size=\"11\">gain of {} over prefetch disabled, others at their nominal "
                   "values; black line: zero gain</text>\n",
                   left, svg_escape(m.config_label));
  for (size_t yi = 0; yi < ny; ++yi) {
    for (size_t xi = 0; xi < nx; ++xi) {
      const double cx = X(static_cast<double>(xi) / static_cast<double>(nx - 1)), cy = Y(static_cast<double>(yi) / static_cast<double>(ny - 1));
      const double x0 = std::max(left, cx - cw / 2), x1 = std::min(left + pw, cx + cw / 2);
      const double y0 = std::max(top, cy - ch / 2), y1 = std::min(top + ph, cy + ch / 2);
      s += fmt::format("<rect x=\"{:.2f}\" y=\"{:.2f}\" width=\"{:.2f}\" height=\"{:.2f}\" fill=\"{}\"><title>{} {}, {} {}: "
                       "{:+.2f} %</title></rect>\n",
                       x0, y0, x1 - x0, y1 - y0, gain_color(m.at(xi, yi), scale), m.x.parameter.name, num(m.x.values[xi]),
                       m.y.parameter.name, num(m.y.values[yi]), m.at(xi, yi));
    }
  }
  // The zero contour, by marching squares between grid nodes (linear interpolation on each edge).
  auto node = [&](size_t xi, size_t yi) {
    return std::make_pair(X(static_cast<double>(xi) / static_cast<double>(nx - 1)), Y(static_cast<double>(yi) / static_cast<double>(ny - 1)));
  };
  auto cross = [&](size_t ax, size_t ay, size_t bx, size_t by) {
    const double ga = m.at(ax, ay), gb = m.at(bx, by);
    const double f = ga / (ga - gb);
    const auto [x0, y0] = node(ax, ay);
    const auto [x1, y1] = node(bx, by);
    return std::make_pair(x0 + f * (x1 - x0), y0 + f * (y1 - y0));
  };
  std::string path;
  for (size_t yi = 0; yi + 1 < ny; ++yi) {
    for (size_t xi = 0; xi + 1 < nx; ++xi) {
      const size_t corner[4][2] = {{xi, yi}, {xi + 1, yi}, {xi + 1, yi + 1}, {xi, yi + 1}};
      std::vector<std::pair<double, double>> pts;
      for (int e = 0; e < 4; ++e) {
        const auto* a = corner[e];
        const auto* b = corner[(e + 1) % 4];
        const double ga = m.at(a[0], a[1]), gb = m.at(b[0], b[1]);
        if (!std::isfinite(ga) || !std::isfinite(gb)) continue;
        if ((ga > 0) != (gb > 0)) pts.push_back(cross(a[0], a[1], b[0], b[1]));
      }
      for (size_t k = 0; k + 1 < pts.size(); k += 2) {
        path += fmt::format("M{:.2f},{:.2f}L{:.2f},{:.2f}", pts[k].first, pts[k].second, pts[k + 1].first, pts[k + 1].second);
      }
    }
  }
  if (!path.empty()) s += fmt::format("<path d=\"{}\" stroke=\"black\" stroke-width=\"2\" fill=\"none\"/>\n", path);
  s += fmt::format("<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"none\" stroke=\"#444\"/>\n", left, top, pw, ph);
  // Ticks at five points of each axis.
  for (int k = 0; k <= 4; ++k) {
    const double u = k / 4.0;
    s += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" font-size=\"11\" text-anchor=\"middle\">{}</text>\n", X(u), top + ph + 16,
                     num(parameter_value(m.x.parameter, u)));
    s += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" font-size=\"11\" text-anchor=\"end\">{}</text>\n", left - 6, Y(u) + 4,
                     num(parameter_value(m.y.parameter, u)));
  }
  s += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" font-size=\"13\" text-anchor=\"middle\">{}{}</text>\n", left + pw / 2,
                   top + ph + 40, svg_escape(m.x.parameter.name), m.x.parameter.log_uniform ? " (log scale)" : "");
  s += fmt::format("<text x=\"20\" y=\"{:.1f}\" font-size=\"13\" text-anchor=\"middle\" transform=\"rotate(-90 20 {:.1f})\">{}{}</text>\n",
                   top + ph / 2, top + ph / 2, svg_escape(m.y.parameter.name), m.y.parameter.log_uniform ? " (log scale)" : "");
  auto marker = [&](double xv, double yv, const std::string& label, const std::string& shape) {
    const double px = X(parameter_u(m.x.parameter, xv)), py = Y(parameter_u(m.y.parameter, yv));
    std::string out = shape == "circle"
                          ? fmt::format("<circle cx=\"{:.2f}\" cy=\"{:.2f}\" r=\"7\" fill=\"white\" stroke=\"black\" stroke-width=\"2\"/>\n", px, py)
                          : fmt::format("<path d=\"M{:.2f},{:.2f}l7,7l-7,7l-7,-7z\" fill=\"black\" stroke=\"white\"/>\n", px, py - 7);
    out += fmt::format("<text x=\"{:.2f}\" y=\"{:.2f}\" font-size=\"12\" font-weight=\"bold\">{}</text>\n", px + 10, py - 8, svg_escape(label));
    return out;
  };
  s += marker(m.x.bundled, m.y.bundled, "bundled estimate", "circle");
  if (m.x.fitted || m.y.fitted) {
    s += marker(m.x.fitted.value_or(m.x.parameter.nominal), m.y.fitted.value_or(m.y.parameter.nominal), "fitted", "diamond");
  }
  // Legend.
  const double lx = left + pw + 20;
  s += fmt::format("<text x=\"{:.0f}\" y=\"{:.0f}\" font-size=\"12\" font-weight=\"bold\">gain %</text>\n", lx, top + 10);
  for (int k = 0; k <= 8; ++k) {
    const double g = scale * (1 - k / 4.0);
    s += fmt::format("<rect x=\"{:.0f}\" y=\"{:.0f}\" width=\"18\" height=\"18\" fill=\"{}\"/>\n", lx, top + 20 + k * 20, gain_color(g == 0 ? -0.0 : g, scale));
    s += fmt::format("<text x=\"{:.0f}\" y=\"{:.0f}\" font-size=\"11\">{:+.2f}{}</text>\n", lx + 24, top + 34 + k * 20, g,
                     k == 0 ? " (helps)" : k == 8 ? " (hurts)" : "");
  }
  s += "</svg>\n";
  return s;
}

}  // namespace pt
