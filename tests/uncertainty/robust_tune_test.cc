// tune-ratio --robust: the two choices are what they claim over the candidates compared, the
// lookups agree with full simulations, and the same seed gives the same answer.
#include "uncertainty/robust_tune.h"

#include <algorithm>
#include <cmath>

#include <gtest/gtest.h>

#include "sim/scenario.h"
#include "util/error.h"

namespace pt {
namespace {

struct Fixture {
  Scenario scenario;
  std::vector<WorkloadPoint> workload{{8, 1}, {72, 3}};
  std::vector<StepPlan> plans;
  std::vector<const StepPlan*> ptrs;
  std::vector<double> weights;
  TuneResult nominal;
};

Fixture& fixture() {
  static Fixture s = [] {
    Fixture s;
    ScenarioInputs in;
    in.use_process_env = false;
    s.scenario = load_scenario(in);
    for (const auto& p : s.workload) {
      Deployment d = s.scenario.plan.deployment;
      d.num_tokens = p.num_tokens;
      s.plans.push_back(s.scenario.plan_for(d));
      s.weights.push_back(p.weight);
    }
    for (const auto& p : s.plans) s.ptrs.push_back(&p);
    TuneOptions o;
    o.step = 0.05;
    s.nominal = tune_ratios(s.ptrs, s.weights, s.scenario.cap_reading, o);
    return s;
  }();
  return s;
}

RobustOptions options(int threads = 2, uint64_t seed = 5) {
  RobustOptions o;
  o.sampling.samples = 24;
  o.sampling.seed = seed;
  o.sampling.threads = threads;
  o.sampling.break_even_points = 4;
  o.step = 0.25;
  return o;
}

TEST(RobustTune, ChoicesAreBestOverTheCandidates) {
  Fixture& s = fixture();
  const RobustTuneResult r = robust_tune(s.scenario, s.scenario.hardware, s.workload, s.nominal, options());
  std::vector<const RobustCandidate*> others{&r.nominal, &r.defaults, &r.disabled, &r.least_regret};
  if (r.best_prefetching) others.push_back(&*r.best_prefetching);
  for (const RobustCandidate* c : others) {
    EXPECT_LE(r.best_expected.expected_step_time_us, c->expected_step_time_us + 1e-6) << c->label;
    EXPECT_LE(r.least_regret.worst_regret_us, c->worst_regret_us + 1e-6) << c->label;
    EXPECT_GE(c->worst_regret_us, -1e-6) << c->label;
    EXPECT_GE(c->gain.p_gain, 0.0);
    EXPECT_LE(c->gain.p_gain, 1.0);
  }
  EXPECT_EQ(r.disabled.gain.p_gain, 0.0);
  EXPECT_GE(r.candidates, 3u);
  // The recommendation is one of the two, or disabled.
  if (r.recommend_disable) {
    EXPECT_FALSE(r.recommended_config.enabled);
  } else {
    const auto& chosen = r.recommended == "least worst-case regret" ? r.least_regret : r.best_expected;
    EXPECT_EQ(r.recommended_config.to_additional_config(s.scenario.release->semantics),
              chosen.config.to_additional_config(s.scenario.release->semantics));
  }
}

TEST(RobustTune, LookupsAgreeWithFullSimulations) {
  Fixture& s = fixture();
  const RobustOptions o = options();
  const RobustTuneResult r = robust_tune(s.scenario, s.scenario.hardware, s.workload, s.nominal, o);
  const RobustCandidate& c = r.best_prefetching ? *r.best_prefetching : r.nominal;
  const Eigen::MatrixXd u = latin_hypercube(o.sampling.samples, r.parameters.size(), o.sampling.seed);
  double expected = 0, expected_off = 0;
  for (size_t i = 0; i < o.sampling.samples; ++i) {
    const HardwareProfile hw = hardware_at(s.scenario.hardware, r.parameters, u.row(static_cast<Eigen::Index>(i)));
    std::vector<StepPlan> plans;
    for (const auto& p : s.workload) {
      Deployment d = s.scenario.plan.deployment;
      d.num_tokens = p.num_tokens;
      plans.push_back(plan_under(s.scenario, hw, d));
    }
    std::vector<const StepPlan*> ptrs;
    for (const auto& p : plans) ptrs.push_back(&p);
    const double t = workload_step_time(ptrs, s.weights, c.config, s.scenario.cap_reading);
    const double off = workload_step_time(ptrs, s.weights, WeightPrefetchConfig::disabled(), s.scenario.cap_reading);
    expected += t / static_cast<double>(o.sampling.samples);
    expected_off += off / static_cast<double>(o.sampling.samples);
    EXPECT_NEAR(c.gain_pct[i], 100.0 * (off - t) / off, 1e-6) << i;
  }
  EXPECT_NEAR(c.expected_step_time_us, expected, 1e-6 * expected);
  EXPECT_NEAR(r.disabled.expected_step_time_us, expected_off, 1e-6 * expected_off);
}

TEST(RobustTune, SameSeedSameAnswerWhateverTheThreads) {
  Fixture& s = fixture();
  const RobustTuneResult a = robust_tune(s.scenario, s.scenario.hardware, s.workload, s.nominal, options(1));
  const RobustTuneResult b = robust_tune(s.scenario, s.scenario.hardware, s.workload, s.nominal, options(2));
  EXPECT_EQ(a.best_expected.gain_pct, b.best_expected.gain_pct);
  EXPECT_EQ(a.least_regret.worst_regret_us, b.least_regret.worst_regret_us);
  EXPECT_EQ(a.advice, b.advice);
  ASSERT_EQ(a.sensitivity.size(), b.sensitivity.size());
  for (size_t i = 0; i < a.sensitivity.size(); ++i) EXPECT_EQ(a.sensitivity[i].index, b.sensitivity[i].index);
}

TEST(RobustTune, RefusesABadStepNamingTheOption) {
  Fixture& s = fixture();
  RobustOptions o = options();
  o.step = 0;
  try {
    robust_tune(s.scenario, s.scenario.hardware, s.workload, s.nominal, o);
    FAIL() << "no error";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("--robust-step"), std::string::npos);
  }
}

}  // namespace
}  // namespace pt
