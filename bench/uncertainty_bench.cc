// tune-ratio --robust against one plain tune-ratio of the same scenario: the embedded default
// (Qwen3-32B W8A8 TP4 on a3-die) over the four-point workload 8,16,32,72 (weights 1,1,2,4).
// The robust run is what the CLI does: the plain tune at the nominal values, then 1000 Latin
// hypercube samples on 2 threads (wall time), the candidates on every sample, the sensitivity and
// the 25 x 25 break-even map.
#include <benchmark/benchmark.h>

#include "search/ratio_search.h"
#include "sim/scenario.h"
#include "uncertainty/robust_tune.h"
#include "uncertainty/verdict.h"

namespace {

struct Workload {
  pt::Scenario scenario;
  std::vector<pt::WorkloadPoint> points{{8, 1}, {16, 1}, {32, 2}, {72, 4}};
  std::vector<pt::StepPlan> plans;
  std::vector<const pt::StepPlan*> ptrs;
  std::vector<double> weights;
};

const Workload& default_scenario() {
  static const Workload w = [] {
    Workload w;
    pt::ScenarioInputs in;
    in.use_process_env = false;
    w.scenario = pt::load_scenario(in);
    for (const auto& p : w.points) {
      pt::Deployment d = w.scenario.plan.deployment;
      d.num_tokens = p.num_tokens;
      w.plans.push_back(w.scenario.plan_for(d));
      w.weights.push_back(p.weight);
    }
    for (const auto& p : w.plans) w.ptrs.push_back(&p);
    return w;
  }();
  return w;
}

void BM_PlainTune_Default_4points(benchmark::State& state) {
  const Workload& w = default_scenario();
  pt::TuneOptions o;
  for (auto _ : state) {
    auto r = pt::tune_ratios(w.ptrs, w.weights, w.scenario.cap_reading, o);
    benchmark::DoNotOptimize(r.step_time_us);
  }
}

void robust(benchmark::State& state, int threads, size_t samples) {
  const Workload& w = default_scenario();
  pt::RobustOptions ro;
  ro.sampling.samples = samples;
  ro.sampling.threads = threads;
  size_t sims = 0;
  for (auto _ : state) {
    pt::TuneOptions o;
    const pt::TuneResult nominal = pt::tune_ratios(w.ptrs, w.weights, w.scenario.cap_reading, o);
    auto r = pt::robust_tune(w.scenario, w.scenario.hardware, w.points, nominal, ro);
    sims = r.segment_simulations;
    benchmark::DoNotOptimize(r.best_expected.expected_step_time_us);
  }
  state.counters["segment_sims"] = static_cast<double>(sims);
}

void BM_RobustTune_Default_4points_1000samples_2threads(benchmark::State& s) { robust(s, 2, 1000); }
void BM_RobustTune_Default_4points_1000samples_1thread(benchmark::State& s) { robust(s, 1, 1000); }

void BM_SimulateUncertainty_Default_1000samples_2threads(benchmark::State& state) {
  const Workload& w = default_scenario();
  pt::UncertaintyOptions o;
  for (auto _ : state) {
    auto v = pt::config_verdict(w.scenario, w.scenario.hardware, w.scenario.config, o);
    benchmark::DoNotOptimize(v.gain.p50);
  }
}

}  // namespace

BENCHMARK(BM_PlainTune_Default_4points)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_RobustTune_Default_4points_1000samples_2threads)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_RobustTune_Default_4points_1000samples_1thread)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_SimulateUncertainty_Default_1000samples_2threads)->Unit(benchmark::kMillisecond)->UseRealTime();
