#include "export/svg_plot.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include <fmt/format.h>

namespace pt {

namespace {

constexpr double kPanelW = 640, kPanelH = 260, kLeft = 80, kRight = 30, kTop = 40, kBottom = 50;

std::string escape(const std::string& s) {
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

// Blue (fast) to red (slow).
std::string color(double f) {
  f = std::isfinite(f) ? std::clamp(f, 0.0, 1.0) : 0.0;
  const int r = static_cast<int>(40 + 215 * f), g = static_cast<int>(90 + 100 * (1 - std::abs(f - 0.5) * 2)),
            b = static_cast<int>(230 - 200 * f);
  return fmt::format("rgb({},{},{})", r, g, b);
}

std::string line_panel(const RatioCurve& curve, double chosen, double y0) {
  std::string s;
  const double x_lo = 0, x_hi = std::max(curve.ratios.back(), 0.05);
  double y_lo = *std::min_element(curve.step_time_us.begin(), curve.step_time_us.end());
  double y_hi = *std::max_element(curve.step_time_us.begin(), curve.step_time_us.end());
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
                   escape(std::string("step time vs ") + ratio_key_name(curve.key) + " ratio (other keys at their tuned values)"));
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
  std::string path;
  for (size_t i = 0; i < curve.ratios.size(); ++i) {
    path += fmt::format("{}{:.2f},{:.2f} ", i ? "L" : "M", X(curve.ratios[i]), Y(curve.step_time_us[i]));
  }
  s += fmt::format("<path d=\"{}\" fill=\"none\" stroke=\"#1f6fd1\" stroke-width=\"2\"/>\n", path);
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
  s += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" font-size=\"11\">{:.1f} us</text>\n", x0 + size + 52, top + 10, hi);
  s += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" font-size=\"11\">{:.1f} us</text>\n", x0 + size + 52, top + size, lo);
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
  s += fmt::format("<text x=\"{}\" y=\"28\" font-size=\"16\" font-weight=\"bold\">{}</text>\n", kLeft, escape(title));
  double y = 40;
  for (const auto& curve : result.curves) {
    s += line_panel(curve, result.ratio_of(curve.key), y);
    y += kPanelH;
  }
  if (result.heatmap) s += heat_panel(*result.heatmap, result.ratio_of(result.heatmap->x_key), result.ratio_of(result.heatmap->y_key), y);
  s += "</svg>\n";
  return s;
}

}  // namespace pt
