// Time to simulate one decode step, single-threaded. The plan (template instantiated for the
// model and deployment) is built once outside the timed loop, as tune-ratio does.
#include <benchmark/benchmark.h>

#include "sim/scenario.h"
#include "sim/simulator.h"

namespace {

pt::Scenario make(const std::string& model, int tp, int dp, bool ep, int tokens) {
  pt::ScenarioInputs in;
  in.model = model;
  in.deployment.tensor_parallel = tp;
  in.deployment.data_parallel = dp;
  in.deployment.expert_parallel = ep;
  in.deployment.num_tokens = tokens;
  in.use_process_env = false;
  return pt::load_scenario(in);
}

// Qwen3-235B-A22B, 94 MoE layers: the guide's operating point (TP4 DP4 EP, 144 tokens per DP rank).
const pt::Scenario& qwen3_235b() {
  static const pt::Scenario s = make("Qwen3-235B-A22B", 4, 4, true, 144);
  return s;
}
// Qwen3-32B W8A8 TP4, 72 tokens: the embedded default scenario.
const pt::Scenario& qwen3_32b() {
  static const pt::Scenario s = make("Qwen3-32B", 4, 1, false, 72);
  return s;
}

void BM_StepTime_Qwen3_235B(benchmark::State& state) {
  const auto& s = qwen3_235b();
  for (auto _ : state) benchmark::DoNotOptimize(pt::simulate_step_time(s.plan, s.config, s.cap_reading));
}
void BM_StepTime_Qwen3_32B(benchmark::State& state) {
  const auto& s = qwen3_32b();
  for (auto _ : state) benchmark::DoNotOptimize(pt::simulate_step_time(s.plan, s.config, s.cap_reading));
}
// With per-site summaries (what `simulate` prints), no timeline.
void BM_StepWithSummaries_Qwen3_235B(benchmark::State& state) {
  const auto& s = qwen3_235b();
  pt::SimOptions o;
  o.cap_reading = s.cap_reading;
  for (auto _ : state) benchmark::DoNotOptimize(pt::simulate_step(s.plan, s.config, o).step_time_us);
}
// With the full timeline recorded (simulate --timeline-csv / --trace-json).
void BM_StepWithTimeline_Qwen3_235B(benchmark::State& state) {
  const auto& s = qwen3_235b();
  pt::SimOptions o;
  o.cap_reading = s.cap_reading;
  o.record_timeline = true;
  for (auto _ : state) benchmark::DoNotOptimize(pt::simulate_step(s.plan, s.config, o).timeline.size());
}
// Building the plan: once per scenario (and per token count in a workload).
void BM_BuildPlan_Qwen3_235B(benchmark::State& state) {
  const auto& s = qwen3_235b();
  for (auto _ : state) {
    auto plan = pt::build_step_plan(s.model, s.plan.deployment, s.hardware, s.layer_template);
    benchmark::DoNotOptimize(plan.layer_types.size());
  }
}

BENCHMARK(BM_StepTime_Qwen3_235B)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_StepTime_Qwen3_32B)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_StepWithSummaries_Qwen3_235B)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_StepWithTimeline_Qwen3_235B)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_BuildPlan_Qwen3_235B)->Unit(benchmark::kMicrosecond);

}  // namespace
