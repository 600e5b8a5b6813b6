// tune-ratio --plot: a well-formed SVG with one panel per tuned key (title, axis labels with units,
// the chosen point in red) and a heat map exactly when two keys are tuned.
#include "export/svg_plot.h"

#include <algorithm>
#include <cmath>
#include <regex>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "search/ratio_search.h"
#include "sim/scenario.h"
#include "test_support.h"

namespace pt {
namespace {

using test::contains;

TuneResult tune(const std::string& quantization, int num_tokens) {
  ScenarioInputs in;
  in.model = "Qwen3-8B";
  in.deployment.quantization = parse_quantization(quantization);
  in.deployment.num_tokens = num_tokens;
  in.use_process_env = false;
  const Scenario s = load_scenario(in);
  return tune_ratios({&s.plan}, {1.0}, s.cap_reading, TuneOptions{});
}

const TuneResult& four_keys() {  // W8A8 static: attn.qkv, attn.o, mlp.gate_up, mlp.down
  static const TuneResult r = tune("w8a8", 16);
  return r;
}
const TuneResult& two_keys() {  // BF16: the attn sites need W8A8 static, so mlp.gate_up and mlp.down only
  static const TuneResult r = tune("bf16", 16);
  return r;
}

size_t count(const std::string& s, const std::string& needle) {
  size_t n = 0;
  for (size_t at = s.find(needle); at != std::string::npos; at = s.find(needle, at + needle.size())) ++n;
  return n;
}

// A crude XML check: every tag closed in order, no stray '<' or '&' in text, attributes quoted.
// Returns the element names in document order.
std::vector<std::string> check_xml(const std::string& s) {
  std::vector<std::string> stack, names;
  size_t i = 0;
  while (i < s.size()) {
    if (s[i] == '&') {
      const size_t semi = s.find(';', i);
      EXPECT_NE(semi, std::string::npos);
      const std::string entity = s.substr(i, semi - i + 1);
      EXPECT_TRUE(entity == "&lt;" || entity == "&gt;" || entity == "&amp;" || entity == "&quot;") << entity;
      i = semi + 1;
      continue;
    }
    if (s[i] != '<') {
      ++i;
      continue;
    }
    const size_t end = s.find('>', i);
    if (end == std::string::npos) {
      ADD_FAILURE() << "unterminated tag at " << i;
      break;
    }
    std::string tag = s.substr(i + 1, end - i - 1);
    EXPECT_EQ(tag.find('<'), std::string::npos) << tag;
    EXPECT_EQ(count(tag, "\"") % 2, 0u) << "unbalanced quotes in <" << tag << ">";
    if (tag[0] == '/') {
      const std::string name = tag.substr(1);
      if (stack.empty() || stack.back() != name) {
        ADD_FAILURE() << "</" << name << "> closes " << (stack.empty() ? "nothing" : "<" + stack.back() + ">");
        return names;
      }
      stack.pop_back();
    } else {
      const bool self_closing = tag.back() == '/';
      const std::string name = tag.substr(0, tag.find_first_of(" /\n"));
      names.push_back(name);
      if (!self_closing) stack.push_back(name);
    }
    i = end + 1;
  }
  EXPECT_TRUE(stack.empty()) << "unclosed <" << (stack.empty() ? "" : stack.back()) << ">";
  return names;
}

void expect_well_formed(const std::string& svg) {
  ASSERT_EQ(svg.rfind("<svg ", 0), 0u) << svg.substr(0, 40);
  ASSERT_GE(svg.size(), 7u);
  EXPECT_EQ(svg.substr(svg.size() - 7), "</svg>\n");
  const std::vector<std::string> names = check_xml(svg);
  ASSERT_FALSE(names.empty());
  EXPECT_EQ(names.front(), "svg");
  EXPECT_EQ(std::count(names.begin(), names.end(), "svg"), 1);
  EXPECT_TRUE(contains(svg, "xmlns=\"http://www.w3.org/2000/svg\""));
}

void expect_one_panel_per_key(const TuneResult& r, const std::string& svg) {
  ASSERT_EQ(r.curves.size(), r.tuned.size());
  EXPECT_EQ(count(svg, ">step time vs "), r.tuned.size());
  EXPECT_EQ(count(svg, "<circle cx=") - (r.heatmap ? 1 : 0), r.tuned.size());
  const std::regex red_circle(R"(<circle [^>]*fill="#d62728"[^>]*/>)");  // the chosen point, red, per panel
  EXPECT_EQ(static_cast<size_t>(std::distance(std::sregex_iterator(svg.begin(), svg.end(), red_circle), std::sregex_iterator())),
            r.tuned.size());
  EXPECT_EQ(count(svg, "step time (us, workload mean)"), r.tuned.size());
  // The red text labels, whatever their other attributes.
  std::vector<std::string> labels;
  const std::regex red_text(R"(<text [^>]*fill="#d62728"[^>]*>([^<]*)</text>)");
  for (auto it = std::sregex_iterator(svg.begin(), svg.end(), red_text); it != std::sregex_iterator(); ++it) {
    labels.push_back((*it)[1].str());
  }
  EXPECT_EQ(labels.size(), r.tuned.size());
  for (const auto& curve : r.curves) {
    const std::string key = ratio_key_name(curve.key);
    SCOPED_TRACE(key);
    EXPECT_EQ(count(svg, ">step time vs " + key + " ratio (other keys at their tuned values)</text>"), 1u);
    EXPECT_EQ(count(svg, ">" + key + " ratio (fraction of the weight prefetched)</text>"), 1u);
    // The red label of the chosen point: the tuned ratio and, for the latency objective, the
    // lowest step time of its curve (the other keys at their tuned values).
    const double best = *std::min_element(curve.step_time_us.begin(), curve.step_time_us.end());
    const std::string label = fmt::format("chosen {:.2f}: {:.1f} us", r.ratio_of(curve.key), best);
    EXPECT_NE(std::find(labels.begin(), labels.end(), label), labels.end()) << label;
  }
}

TEST(SvgPlot, FourKeysFourPanelsNoHeatMap) {
  const TuneResult& r = four_keys();
  ASSERT_EQ(r.tuned.size(), 4u);
  ASSERT_FALSE(r.heatmap.has_value());
  const std::string svg = tune_plot_svg(r, "four keys");
  expect_well_formed(svg);
  expect_one_panel_per_key(r, svg);
  EXPECT_EQ(count(svg, "<title>"), 0u);
  EXPECT_EQ(count(svg, "step time (us) over"), 0u);
}

TEST(SvgPlot, TwoKeysAddAHeatMapWithOneTitledCellPerGridPoint) {
  const TuneResult& r = two_keys();
  ASSERT_EQ(r.tuned.size(), 2u);
  ASSERT_TRUE(r.heatmap.has_value());
  const std::string svg = tune_plot_svg(r, "two keys");
  expect_well_formed(svg);
  expect_one_panel_per_key(r, svg);
  const RatioHeatmap& h = *r.heatmap;
  const size_t cells = h.x_ratios.size() * h.y_ratios.size();
  EXPECT_EQ(cells, h.step_time_us.size());
  EXPECT_EQ(count(svg, "<title>"), cells);
  // A cell the release cannot express is grey and says so; every other cell gives its step time.
  const std::regex cell(R"(<rect [^>]*><title>[^<]*( us| not expressible on this release)</title></rect>)");
  const size_t inexpressible = static_cast<size_t>(std::count_if(h.step_time_us.begin(), h.step_time_us.end(), [](double v) { return std::isnan(v); }));
  EXPECT_EQ(count(svg, "not expressible on this release</title>"), inexpressible);
  EXPECT_EQ(static_cast<size_t>(std::distance(std::sregex_iterator(svg.begin(), svg.end(), cell), std::sregex_iterator())), cells);
  const std::string x = ratio_key_name(h.x_key), y = ratio_key_name(h.y_key);
  EXPECT_TRUE(contains(svg, ">step time (us) over " + x + " x " + y + "</text>")) << x << " x " << y;
  EXPECT_TRUE(contains(svg, ">" + x + " ratio</text>")) << x;
  EXPECT_TRUE(contains(svg, ">" + y + " ratio</text>")) << y;
  // The cell of the tuned point names its ratios and holds the tuned step time.
  const std::string tuned_cell =
      fmt::format("<title>{} {:.2f}, {} {:.2f}: {:.1f} us</title>", x, r.ratio_of(h.x_key), y, r.ratio_of(h.y_key), r.step_time_us);
  EXPECT_EQ(count(svg, tuned_cell), 1u) << tuned_cell;
  // The heat map's lowest value is the tuned step time.
  EXPECT_NEAR(*std::min_element(h.step_time_us.begin(), h.step_time_us.end()), r.step_time_us, 1e-6 * r.step_time_us);
}

TEST(SvgPlot, TitleIsEscaped) {
  const std::string svg = tune_plot_svg(four_keys(), "a <b> & \"c\"");
  expect_well_formed(svg);
  EXPECT_TRUE(contains(svg, ">a &lt;b&gt; &amp; &quot;c&quot;</text>"));
}

TEST(SvgPlot, EscapeLeavesPlainTextAndEscapesEachSpecialOnce) {
  EXPECT_EQ(svg_escape("mlp.gate_up ratio (1 B)"), "mlp.gate_up ratio (1 B)");
  EXPECT_EQ(svg_escape("<&>\"'"), "&lt;&amp;&gt;&quot;'");
  EXPECT_EQ(svg_escape("&amp;"), "&amp;amp;");  // text, not markup: escaped again
  EXPECT_EQ(svg_escape(""), "");
}


// Issue 12: the plot says what a user needs to read it: where prefetch disabled and vllm-ascend's
// defaults sit, the near-optimal band, why the axis ends (the cap binds), what the jump from ratio
// 0 to the first step is, and a heat-map scale with no green-means-good.
TEST(SvgPlot, ReferenceLinesBandCapMarkerJumpAndLegend) {
  const TuneResult& r = four_keys();
  const std::string svg = tune_plot_svg(r, "four keys");
  expect_well_formed(svg);
  // The references are drawn where they fall near the curves (dashed lines, labelled with their time).
  EXPECT_GT(r.baseline_step_time_us, 0);
  EXPECT_PRED2(contains, svg, fmt::format("prefetch disabled: {:.1f} us", r.baseline_step_time_us));
  EXPECT_PRED2(contains, svg, fmt::format("vllm-ascend defaults: {:.1f} us", r.default_step_time_us));
  EXPECT_EQ(count(svg, "class=\"near-optimal\""), r.near_optimal.size());
  EXPECT_EQ(count(svg, "(fork, join and CMO set-up)"), r.curves.size());
  // W8A8 Qwen3-8B: mlp.gate_up and mlp.down are capped at 18 MiB (their axis ends where it binds).
  size_t capped = 0;
  for (const auto& t : r.tuned) {
    if (t.max_useful_ratio < 1) {
      ++capped;
      EXPECT_NEAR(t.cap_bytes, 18.0 * (1 << 20), 1) << ratio_key_name(t.key);
      EXPECT_PRED2(contains, svg, fmt::format("cap binds at {:.3f} (18 MiB)", t.max_useful_ratio));
    }
  }
  EXPECT_GE(capped, 1u);
  EXPECT_EQ(count(svg, "cap binds at"), capped);
}

TEST(SvgPlot, HeatMapScaleIsViridisWithALegend) {
  const TuneResult& r = two_keys();
  const std::string svg = tune_plot_svg(r, "two keys");
  EXPECT_PRED2(contains, svg, "lower step time = faster");
  // The fastest cell is viridis' dark end, the slowest its yellow: no green at the fast end.
  const RatioHeatmap& h = *r.heatmap;
  const double lo = *std::min_element(h.step_time_us.begin(), h.step_time_us.end());
  const std::string fastest = fmt::format("fill=\"rgb(68,1,84)\"><title>{} {:.2f}, {} {:.2f}: {:.1f} us</title>",
                                          ratio_key_name(h.x_key), r.ratio_of(h.x_key), ratio_key_name(h.y_key),
                                          r.ratio_of(h.y_key), lo);
  EXPECT_PRED2(contains, svg, fastest);
  EXPECT_PRED2(contains, svg, "fill=\"rgb(253,231,37)\"");  // the colour bar's slow end
}

}  // namespace
}  // namespace pt
