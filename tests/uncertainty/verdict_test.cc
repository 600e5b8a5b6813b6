// simulate --uncertainty: closed-form gains through the sampler (a parameter the gain ignores gets
// index ~0, the only one it reads ~1; p_gain 0 or 1 where every sample agrees), reproducibility,
// and a calibration that narrows the ranges sharpens the verdict.
#include "uncertainty/verdict.h"

#include <cmath>

#include <gtest/gtest.h>

#include "config/calibration_file.h"
#include "sim/scenario.h"
#include "test_support.h"

namespace pt {
namespace {

UncertaintyOptions small(size_t n = 64) {
  UncertaintyOptions o;
  o.samples = n;
  o.seed = 3;
  o.threads = 2;
  o.break_even_points = 5;
  return o;
}

double index_of(const UncertainVerdict& v, const std::string& name) {
  for (const auto& s : v.sensitivity) {
    if (s.parameter == name) return s.index;
  }
  ADD_FAILURE() << name << " not ranked";
  return -1;
}

TEST(SampleVerdict, OnlyParameterTheGainReadsExplainsItAll) {
  const HardwareProfile hw = load_hardware("a3-die");
  auto gain = [](const HardwareProfile& h) { return h.cmo_GBps / 100.0 - 5.0; };
  const UncertainVerdict v = sample_verdict(hw, hw, gain, small(256), "test");
  ASSERT_FALSE(v.sensitivity.empty());
  EXPECT_EQ(v.sensitivity.front().parameter, "cmo_GBps");
  EXPECT_GT(index_of(v, "cmo_GBps"), 0.95);
  EXPECT_LT(index_of(v, "hbm_GBps"), 0.05);
  EXPECT_LT(index_of(v, "fork_us"), 0.05);
  EXPECT_DOUBLE_EQ(v.nominal_gain_pct, 7.0);
  // cmo_GBps is log-uniform over [150, 1600]: P(cmo > 500) = log(1600/500) / log(1600/150).
  EXPECT_NEAR(v.gain.p_gain, std::log(1600.0 / 500) / std::log(1600.0 / 150), 0.02);
  EXPECT_LE(v.gain.p10, v.gain.p50);
  EXPECT_LE(v.gain.p50, v.gain.p90);
}

TEST(SampleVerdict, PGainIsZeroOrOneWhereEverySampleAgrees) {
  const HardwareProfile hw = load_hardware("a3-die");
  const auto always = sample_verdict(hw, hw, [](const HardwareProfile& h) { return 1 + h.fork_us; }, small(), "");
  const auto never = sample_verdict(hw, hw, [](const HardwareProfile& h) { return -h.join_us; }, small(), "");
  EXPECT_EQ(always.gain.p_gain, 1.0);
  EXPECT_EQ(never.gain.p_gain, 0.0);
  const auto flat = sample_verdict(hw, hw, [](const HardwareProfile&) { return 0.0; }, small(), "");
  EXPECT_EQ(flat.gain.p_gain, 0.0);  // a tie is not a win
  for (const auto& s : flat.sensitivity) EXPECT_EQ(s.index, 0.0);
}

TEST(SampleVerdict, SameSeedSameOutputWhateverTheThreads) {
  const HardwareProfile hw = load_hardware("a3-die");
  auto gain = [](const HardwareProfile& h) { return h.cmo_GBps * h.l2_read_speedup - h.hbm_GBps; };
  UncertaintyOptions one = small(), two = small();
  one.threads = 1;
  const auto a = sample_verdict(hw, hw, gain, one, ""), b = sample_verdict(hw, hw, gain, two, "");
  EXPECT_EQ(a.gain_pct, b.gain_pct);
  UncertaintyOptions other = small();
  other.seed = 4;
  EXPECT_NE(sample_verdict(hw, hw, gain, other, "").gain_pct, a.gain_pct);
}

TEST(SampleVerdict, BreakEvenMapSpansTheTopTwoAndMarksTheBundledPoint) {
  const HardwareProfile hw = load_hardware("a3-die");
  auto gain = [](const HardwareProfile& h) { return h.cmo_GBps / 100.0 + 2 * h.l2_read_speedup - 12; };
  const auto v = sample_verdict(hw, hw, gain, small(256), "test");
  ASSERT_TRUE(v.break_even.has_value());
  const BreakEvenMap& m = *v.break_even;
  EXPECT_EQ(m.x.parameter.name, v.sensitivity[0].parameter);
  EXPECT_EQ(m.y.parameter.name, v.sensitivity[1].parameter);
  ASSERT_EQ(m.gain_pct.size(), 25u);
  EXPECT_DOUBLE_EQ(m.x.values.front(), m.x.parameter.low);
  EXPECT_DOUBLE_EQ(m.x.values.back(), m.x.parameter.high);
  EXPECT_DOUBLE_EQ(m.x.bundled, hw.get(m.x.parameter.name));
  EXPECT_FALSE(m.x.fitted.has_value());
  // Each cell is the gain there, the other parameters at nominal.
  HardwareProfile h = hw;
  h.set(m.x.parameter.name, m.x.values[3], "t");
  h.set(m.y.parameter.name, m.y.values[1], "t");
  EXPECT_DOUBLE_EQ(m.at(3, 1), gain(h));
}

TEST(SampleVerdict, NoRangeNoSampleNamesTheProfile) {
  HardwareProfile hw = load_hardware("a3-die");
  for (auto& [name, p] : hw.provenance) p.range.reset();
  const std::string e = test::error_of([&] { sample_verdict(hw, hw, [](const HardwareProfile&) { return 0.0; }, small(), ""); });
  EXPECT_PRED2(test::contains, e, "a3-die");
}

Scenario default_scenario(const std::string& calibration = "") {
  ScenarioInputs in;
  in.use_process_env = false;
  in.calibration = calibration;
  return load_scenario(in);
}

TEST(ConfigVerdict, DisabledConfigNeverGains) {
  const Scenario s = default_scenario();
  const auto v = config_verdict(s, s.hardware, WeightPrefetchConfig::disabled(), small(16));
  EXPECT_EQ(v.gain.p_gain, 0.0);
  EXPECT_EQ(v.gain.p10, 0.0);
  EXPECT_EQ(v.gain.p90, 0.0);
}

TEST(ConfigVerdict, MatchesTheSimulatorAtTheNominalValues) {
  const Scenario s = default_scenario();
  const auto v = config_verdict(s, s.hardware, s.config, small(16));
  const double on = simulate_step_time(s.plan, s.config, s.cap_reading);
  const double off = simulate_step_time(s.plan, WeightPrefetchConfig::disabled(), s.cap_reading);
  EXPECT_NEAR(v.nominal_gain_pct, 100.0 * (off - on) / off, 1e-9);
}

TEST(ConfigVerdict, CalibrationReplacesRangesWithFitErrorAndSharpensTheVerdict) {
  const Scenario before = default_scenario();
  const auto v0 = config_verdict(before, before.hardware, before.config, small());
  // Fit the three parameters the verdict hangs on most to within 1 %.
  Calibration c;
  for (size_t k = 0; k < 3; ++k) {
    const std::string name = v0.sensitivity[k].parameter;
    const double value = before.hardware.get(name);
    c.hardware.push_back({name, value, "test fit", 0.01 * value});
  }
  const std::string dir = test::make_temp_dir();
  const std::string path = test::write_file(dir + "/calib.json", calibration_to_json(c).dump());
  const Scenario after = default_scenario(path);
  for (const auto& h : c.hardware) {
    const auto& prov = after.hardware.provenance.at(h.parameter);
    ASSERT_TRUE(prov.range.has_value()) << h.parameter;
    EXPECT_NEAR(prov.range->first, h.value - h.error, 1e-9 * h.value);
    EXPECT_NEAR(prov.range->second, h.value + h.error, 1e-9 * h.value);
  }
  const auto v1 = config_verdict(after, bundled_hardware(ScenarioInputs{}), after.config, small());
  for (const auto& p : v1.parameters) {
    bool fitted = false;
    for (const auto& h : c.hardware) fitted = fitted || h.parameter == p.name;
    EXPECT_EQ(p.calibrated, fitted) << p.name;
  }
  EXPECT_LT(v1.gain.p90 - v1.gain.p10, 0.5 * (v0.gain.p90 - v0.gain.p10));
  // The map marks the fitted point beside the bundled one when a top parameter was fitted.
  ASSERT_TRUE(v1.break_even.has_value());
  const bool x_fitted = v1.break_even->x.parameter.calibrated, y_fitted = v1.break_even->y.parameter.calibrated;
  EXPECT_EQ(v1.break_even->x.fitted.has_value(), x_fitted);
  EXPECT_EQ(v1.break_even->y.fitted.has_value(), y_fitted);
}

}  // namespace
}  // namespace pt
