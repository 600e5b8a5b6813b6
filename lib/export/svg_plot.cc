#include "export/svg_plot.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include <fmt/format.h>

namespace pt {

std::string svg_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '&': out += "&amp;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
  return out;
}

namespace {

constexpr double kPanelW = 640, kPanelH = 260, kLeft = 80, kRight = 30, kTop = 40, kBottom = 50;


// Round-number ticks covering [lo, hi].
std::vector<double> ticks(double lo, double hi, int target = 5) {
  if (hi <= lo) hi = lo + 1;
  const double raw = (hi - lo) / target;
  const double mag = std::pow(10.0, std::floor(std::log10(raw)));
  double step = mag;
  for (double m : {1.0, 2.0, 2.5, 5.0, 10.0}) {
    if (raw <= m * mag) {
      step = m * mag;
      break;
    }
  }
  std::vector<double> t;
  for (double v = std::ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) t.push_back(v);
  return t;
}

std::string fmt_tick(double v) {
  std::string s = std::abs(v) >= 1e7 ? fmt::format("{:.4g}", v) : fmt::format("{:.6g}", v);
  return s == "-0" ? "0" : s;
}

// Viridis (sequential, dark purple = fastest to yellow = slowest): no hue that reads as "good".
std::string color(double f) {
  f = std::isfinite(f) ? std::clamp(f, 0.0, 1.0) : 0.0;
  static constexpr double kStops[][3] = {{68, 1, 84},    {72, 40, 120},  {62, 74, 137}, {49, 104, 142}, {38, 130, 142},
                                         {31, 158, 137}, {53, 183, 121}, {110, 206, 88}, {181, 222, 43}, {253, 231, 37}};
  constexpr int n = sizeof(kStops) / sizeof(kStops[0]);
  const double x = f * (n - 1);
  const int k = std::min(n - 2, static_cast<int>(x));
  const double u = x - k;
  auto mix = [&](int c) { return static_cast<int>(std::lround(kStops[k][c] + (kStops[k + 1][c] - kStops[k][c]) * u)); };
  return fmt::format("rgb({},{},{})", mix(0), mix(1), mix(2));
}

std::string line_panel(const TuneResult& result, size_t index, double y0) {
  const RatioCurve& curve = result.curves[index];
  const double chosen = result.ratio_of(curve.key);
  const TunedKey* tuned = nullptr;
  for (const auto& t : result.tuned) {
    if (t.key == curve.key) tuned = &t;
  }
  const NearOptimalRange* near = nullptr;
  for (const auto& n : result.near_optimal) {
    if (n.key == curve.key) near = &n;
  }
  std::string s;
  const double x_lo = 0, x_hi = std::max(curve.ratios.back(), 0.05);
  double y_lo = *std::min_element(curve.step_time_us.begin(), curve.step_time_us.end());
  double y_hi = *std::max_element(curve.step_time_us.begin(), curve.step_time_us.end());
  // The two references are drawn when they fall near the curve's range (a far one would flatten it).
  struct Reference {
    double us;
    const char* label;
    const char* colour;
  };
  std::vector<Reference> refs;
  const double span = std::max(y_hi - y_lo, 1e-6);
  for (const Reference r : {Reference{result.baseline_step_time_us, "prefetch disabled", "#555555"},
                            Reference{result.default_step_time_us, "vllm-ascend defaults", "#e07b00"}}) {
    if (r.us > 0 && std::isfinite(r.us) && r.us <= y_hi + 3 * span && r.us >= y_lo - 3 * span) {
      refs.push_back(r);
      y_lo = std::min(y_lo, r.us);
      y_hi = std::max(y_hi, r.us);
    }
  }
  if (y_hi - y_lo < 1e-6) {
    y_lo -= 1;
    y_hi += 1;
  }
  const double pad = (y_hi - y_lo) * 0.08;
  y_lo -= pad;
  y_hi += pad;
  const double pw = kPanelW - kLeft - kRight, ph = kPanelH - kTop - kBottom;
  auto X = [&](double v) { return kLeft + (v - x_lo) / (x_hi - x_lo) * pw; };
  auto Y = [&](double v) { return y0 + kTop + (1 - (v - y_lo) / (y_hi - y_lo)) * ph; };
  s += fmt::format("<text x=\"{}\" y=\"{}\" font-size=\"14\" font-weight=\"bold\">{}</text>\n", kLeft, y0 + 24,
                   svg_escape(std::string("step time vs ") + ratio_key_name(curve.key) + " ratio (other keys at their tuned values)"));
  // The near-optimal band: ratios within --near-optimal-pct of the best step time.
  if (near && near->max >= near->min) {
    const double a = X(near->min), b = X(std::max(near->max, near->min));
    s += fmt::format("<rect class=\"near-optimal\" x=\"{:.1f}\" y=\"{:.1f}\" width=\"{:.1f}\" height=\"{:.1f}\" fill=\"#2ca02c\" "
                     "fill-opacity=\"0.15\"/>\n",
                     a, y0 + kTop, std::max(2.0, b - a), ph);
    s += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" font-size=\"10\" fill=\"#2a7a2a\">near-optimal {:.2f} to {:.2f}{}</text>\n",
                     a + 3, y0 + kTop + ph - 4, near->min, near->max, near->contiguous ? "" : " (not contiguous)");
  }
  s += fmt::format("<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"none\" stroke=\"#444\"/>\n", kLeft, y0 + kTop, pw, ph);
  for (double t : ticks(x_lo, x_hi)) {
    s += fmt::format("<line x1=\"{0:.1f}\" x2=\"{0:.1f}\" y1=\"{1:.1f}\" y2=\"{2:.1f}\" stroke=\"#ddd\"/>\n", X(t), y0 + kTop, y0 + kTop + ph);
    s += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" font-size=\"11\" text-anchor=\"middle\">{}</text>\n", X(t), y0 + kTop + ph + 16, fmt_tick(t));
  }
  for (double t : ticks(y_lo, y_hi)) {
    s += fmt::format("<line x1=\"{:.1f}\" x2=\"{:.1f}\" y1=\"{:.1f}\" y2=\"{:.1f}\" stroke=\"#ddd\"/>\n", kLeft, kLeft + pw, Y(t), Y(t));
    s += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" font-size=\"11\" text-anchor=\"end\">{}</text>\n", kLeft - 6, Y(t) + 4, fmt_tick(t));
  }
  s += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" font-size=\"12\" text-anchor=\"middle\">{} ratio (fraction of the weight prefetched)</text>\n",
                   kLeft + pw / 2, y0 + kPanelH - 8, ratio_key_name(curve.key));
  s += fmt::format("<text x=\"16\" y=\"{:.1f}\" font-size=\"12\" text-anchor=\"middle\" transform=\"rotate(-90 16 {:.1f})\">step time (us, workload mean)</text>\n",
                   y0 + kTop + ph / 2, y0 + kTop + ph / 2);
  for (const auto& r : refs) {
    s += fmt::format("<line class=\"reference\" x1=\"{:.1f}\" x2=\"{:.1f}\" y1=\"{:.2f}\" y2=\"{:.2f}\" stroke=\"{}\" "
                     "stroke-dasharray=\"6 3\"/>\n",
                     kLeft, kLeft + pw, Y(r.us), Y(r.us), r.colour);
    s += fmt::format("<text x=\"{:.1f}\" y=\"{:.2f}\" font-size=\"10\" fill=\"{}\" text-anchor=\"end\">{}: {:.1f} us</text>\n",
                     kLeft + pw - 4, Y(r.us) - 3, r.colour, r.label, r.us);
  }
  // Where the axis ends: the ratio above which the cap (or, before it, the L2) makes larger ratios
  // pointless.
  if (tuned) {
    const double end = curve.ratios.back();
    if (std::isfinite(tuned->cap_bytes) && tuned->max_useful_ratio < 1) {
      s += fmt::format("<line class=\"binds\" x1=\"{0:.1f}\" x2=\"{0:.1f}\" y1=\"{1:.1f}\" y2=\"{2:.1f}\" stroke=\"#9467bd\" "
                       "stroke-dasharray=\"4 3\"/>\n",
                       X(end), y0 + kTop, y0 + kTop + ph);
      s += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" font-size=\"10\" fill=\"#9467bd\" text-anchor=\"end\">cap binds at {:.3f} "
                       "({:.0f} MiB): larger ratios issue the same bytes</text>\n",
                       X(end) - 4, y0 + kTop + ph * 0.45, tuned->max_useful_ratio, tuned->cap_bytes / (1 << 20));
    }
    if (tuned->l2_binding_ratio < 1 && tuned->l2_binding_ratio <= end + 1e-12) {
      const double x = X(tuned->l2_binding_ratio);
      s += fmt::format("<line class=\"binds\" x1=\"{0:.1f}\" x2=\"{0:.1f}\" y1=\"{1:.1f}\" y2=\"{2:.1f}\" stroke=\"#8c564b\" "
                       "stroke-dasharray=\"2 2\"/>\n",
                       x, y0 + kTop, y0 + kTop + ph);
      s += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" font-size=\"10\" fill=\"#8c564b\" text-anchor=\"end\">L2 full at {:.3f}: "
                       "the earliest lines are evicted</text>\n",
                       x - 4, y0 + kTop + ph * 0.45 + 12, tuned->l2_binding_ratio);
    }
  }
  std::string path;
  for (size_t i = 0; i < curve.ratios.size(); ++i) {
    path += fmt::format("{}{:.2f},{:.2f} ", i ? "L" : "M", X(curve.ratios[i]), Y(curve.step_time_us[i]));
  }
  s += fmt::format("<path d=\"{}\" fill=\"none\" stroke=\"#1f6fd1\" stroke-width=\"2\"/>\n", path);
  // Ratio 0 is the module off; the first step above it already pays a fork, a wait and a CMO's set-up.
  if (curve.ratios.size() >= 2 && curve.ratios[0] == 0) {
    const double jump = curve.step_time_us[1] - curve.step_time_us[0];
    s += fmt::format("<text class=\"jump\" x=\"{:.1f}\" y=\"{:.1f}\" font-size=\"10\" fill=\"#444\">module off to ratio {:.2g}: {:+.1f} us "
                     "(fork, join and CMO set-up)</text>\n",
                     X(curve.ratios[1]) + 6, std::min(Y(curve.step_time_us[0]), Y(curve.step_time_us[1])) - 14 < y0 + kTop + 30
                                                 ? std::max(Y(curve.step_time_us[0]), Y(curve.step_time_us[1])) + 14
                                                 : std::min(Y(curve.step_time_us[0]), Y(curve.step_time_us[1])) - 6,
                     curve.ratios[1], jump);
  }
  size_t ci = 0;
  for (size_t i = 0; i < curve.ratios.size(); ++i) {
    if (std::abs(curve.ratios[i] - chosen) < std::abs(curve.ratios[ci] - chosen)) ci = i;
  }
  s += fmt::format("<circle cx=\"{:.2f}\" cy=\"{:.2f}\" r=\"5\" fill=\"#d62728\"/>\n", X(curve.ratios[ci]), Y(curve.step_time_us[ci]));
  // The label goes on whichever side of the point has room.
  const bool right_half = X(curve.ratios[ci]) > kLeft + pw * 0.6;
  s += fmt::format("<text x=\"{:.2f}\" y=\"{:.2f}\" font-size=\"11\" fill=\"#d62728\" text-anchor=\"{}\">chosen {:.2f}: {:.1f} us</text>\n",
                   X(curve.ratios[ci]) + (right_half ? -8 : 8), Y(curve.step_time_us[ci]) - 8, right_half ? "end" : "start",
                   curve.ratios[ci], curve.step_time_us[ci]);
  return s;
}

std::string heat_panel(const RatioHeatmap& h, double chosen_x, double chosen_y, double y0) {
  std::string s;
  const double size = 360;
  const double x0 = kLeft;
  const double top = y0 + kTop;
  // A cell the release cannot express (NaN) is drawn grey and left out of the colour scale.
  double lo = std::numeric_limits<double>::infinity(), hi = -lo;
  for (double v : h.step_time_us) {
    if (std::isfinite(v)) lo = std::min(lo, v), hi = std::max(hi, v);
  }
  const double cw = size / h.x_ratios.size(), ch = size / h.y_ratios.size();
  s += fmt::format("<text x=\"{}\" y=\"{}\" font-size=\"14\" font-weight=\"bold\">step time (us) over {} x {}</text>\n", kLeft,
                   y0 + 24, ratio_key_name(h.x_key), ratio_key_name(h.y_key));
  for (size_t y = 0; y < h.y_ratios.size(); ++y) {
    for (size_t x = 0; x < h.x_ratios.size(); ++x) {
      const double v = h.step_time_us[y * h.x_ratios.size() + x];
      if (!std::isfinite(v)) {
        s += fmt::format("<rect x=\"{:.2f}\" y=\"{:.2f}\" width=\"{:.2f}\" height=\"{:.2f}\" fill=\"#bbbbbb\"><title>{} {:.2f}, {} {:.2f}: not expressible on this release</title></rect>\n",
                         x0 + x * cw, top + size - (y + 1) * ch, cw + 0.3, ch + 0.3, ratio_key_name(h.x_key), h.x_ratios[x],
                         ratio_key_name(h.y_key), h.y_ratios[y]);
        continue;
      }
      const double f = hi > lo ? (v - lo) / (hi - lo) : 0;
      s += fmt::format("<rect x=\"{:.2f}\" y=\"{:.2f}\" width=\"{:.2f}\" height=\"{:.2f}\" fill=\"{}\"><title>{} {:.2f}, {} {:.2f}: {:.1f} us</title></rect>\n",
                       x0 + x * cw, top + size - (y + 1) * ch, cw + 0.3, ch + 0.3, color(f), ratio_key_name(h.x_key), h.x_ratios[x],
                       ratio_key_name(h.y_key), h.y_ratios[y], v);
    }
  }
  s += fmt::format("<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"none\" stroke=\"#444\"/>\n", x0, top, size, size);
  auto X = [&](double r) { return x0 + r / h.x_ratios.back() * size; };
  auto Y = [&](double r) { return top + size - r / h.y_ratios.back() * size; };
  for (double t : ticks(0, h.x_ratios.back())) {
    s += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" font-size=\"11\" text-anchor=\"middle\">{}</text>\n", X(t), top + size + 16, fmt_tick(t));
  }
  for (double t : ticks(0, h.y_ratios.back())) {
    s += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" font-size=\"11\" text-anchor=\"end\">{}</text>\n", x0 - 6, Y(t) + 4, fmt_tick(t));
  }
  s += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" font-size=\"12\" text-anchor=\"middle\">{} ratio</text>\n", x0 + size / 2,
                   top + size + 36, ratio_key_name(h.x_key));
  s += fmt::format("<text x=\"16\" y=\"{:.1f}\" font-size=\"12\" text-anchor=\"middle\" transform=\"rotate(-90 16 {:.1f})\">{} ratio</text>\n",
                   top + size / 2, top + size / 2, ratio_key_name(h.y_key));
  s += fmt::format("<circle cx=\"{:.2f}\" cy=\"{:.2f}\" r=\"6\" fill=\"none\" stroke=\"black\" stroke-width=\"2\"/>\n", X(chosen_x), Y(chosen_y));
  // Colour bar.
  for (int i = 0; i < 50; ++i) {
    s += fmt::format("<rect x=\"{:.1f}\" y=\"{:.2f}\" width=\"18\" height=\"{:.2f}\" fill=\"{}\"/>\n", x0 + size + 30,
                     top + size - (i + 1) * size / 50, size / 50 + 0.3, color(i / 49.0));
  }
  s += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" font-size=\"11\">{:.1f} us (slower)</text>\n", x0 + size + 52, top + 10, hi);
  s += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" font-size=\"11\">{:.1f} us (faster)</text>\n", x0 + size + 52, top + size, lo);
  s += fmt::format("<text class=\"legend\" x=\"{:.1f}\" y=\"{:.1f}\" font-size=\"11\">lower step time = faster</text>\n", x0 + size + 52,
                   top + size / 2);
  return s;
}

}  // namespace

std::string tune_plot_svg(const TuneResult& result, const std::string& title) {
  const double heat_h = result.heatmap ? 480 : 0;
  const double height = 50 + kPanelH * result.curves.size() + heat_h + 10;
  std::string s = fmt::format(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{:.0f}\" height=\"{:.0f}\" viewBox=\"0 0 {:.0f} {:.0f}\" "
      "font-family=\"sans-serif\">\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n",
      kPanelW, height, kPanelW, height);
  s += fmt::format("<text x=\"{}\" y=\"28\" font-size=\"16\" font-weight=\"bold\">{}</text>\n", kLeft, svg_escape(title));
  double y = 40;
  for (size_t i = 0; i < result.curves.size(); ++i) {
    s += line_panel(result, i, y);
    y += kPanelH;
  }
  if (result.heatmap) s += heat_panel(*result.heatmap, result.ratio_of(result.heatmap->x_key), result.ratio_of(result.heatmap->y_key), y);
  s += "</svg>\n";
  return s;
}

}  // namespace pt
