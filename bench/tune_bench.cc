// tune-ratio's search, single-threaded, over a four-point workload. Plans are built once per
// token count outside the timed loop; the segment tables are built inside it (they depend on the
// step and the workload), so each iteration is a whole tune_ratios call.
#include <benchmark/benchmark.h>

#include "search/ratio_search.h"
#include "sim/scenario.h"

namespace {

struct Workload {
  pt::Scenario scenario;
  std::vector<pt::StepPlan> plans;
  std::vector<const pt::StepPlan*> ptrs;
  std::vector<double> weights{1, 1, 2, 4};
};

Workload make(const std::string& model, int tp, int dp, bool ep, std::vector<int> tokens) {
  pt::ScenarioInputs in;
  in.model = model;
  in.deployment.tensor_parallel = tp;
  in.deployment.data_parallel = dp;
  in.deployment.expert_parallel = ep;
  in.use_process_env = false;
  Workload w{pt::load_scenario(in), {}, {}};
  for (int t : tokens) {
    pt::Deployment d = w.scenario.plan.deployment;
    d.num_tokens = t;
    w.plans.push_back(pt::build_step_plan(w.scenario.model, d, w.scenario.hardware, w.scenario.layer_template));
  }
  for (const auto& p : w.plans) w.ptrs.push_back(&p);
  return w;
}

// Qwen3-32B W8A8 TP4: four sites (attn.qkv, attn.o, mlp.gate_up, mlp.down).
const Workload& qwen3_32b() {
  static const Workload w = make("Qwen3-32B", 4, 1, false, {8, 16, 32, 72});
  return w;
}
// Qwen3-235B-A22B TP4 DP4 EP: attn.qkv, attn.o, moe.gate_up (the gate needs >= 96 tokens per rank).
const Workload& qwen3_235b() {
  static const Workload w = make("Qwen3-235B-A22B", 4, 4, true, {144, 288, 432, 576});
  return w;
}

void run(benchmark::State& state, const Workload& w, pt::SearchMethod method, double step) {
  pt::TuneOptions o;
  o.method = method;
  o.step = step;
  size_t points = 0;
  for (auto _ : state) {
    auto r = pt::tune_ratios(w.ptrs, w.weights, pt::CapReading::kCode, o);
    points = r.grid_points;
    benchmark::DoNotOptimize(r.step_time_us);
  }
  state.counters["configs"] = static_cast<double>(points);
}

void BM_DefaultSearch_Qwen3_32B_step001(benchmark::State& s) { run(s, qwen3_32b(), pt::SearchMethod::kDecomposed, 0.01); }
void BM_DefaultSearch_Qwen3_235B_step001(benchmark::State& s) { run(s, qwen3_235b(), pt::SearchMethod::kDecomposed, 0.01); }
void BM_Grid_Qwen3_32B_step005(benchmark::State& s) { run(s, qwen3_32b(), pt::SearchMethod::kGrid, 0.05); }
void BM_Grid_Qwen3_235B_step005(benchmark::State& s) { run(s, qwen3_235b(), pt::SearchMethod::kGrid, 0.05); }
void BM_Grid_Qwen3_32B_step001(benchmark::State& s) { run(s, qwen3_32b(), pt::SearchMethod::kGrid, 0.01); }

// The speeds behind SearchEstimate (ratio_search.cc): the time per segment simulation comes from a
// search that is almost all table building (the default search at a fine step: time / sims), the
// time per lookup from one that is almost all table reads (the grid: time / lookups);
// "estimate_s" is what the guard predicted from them.
void search_cost(benchmark::State& state, pt::SearchMethod method, double step,
                 pt::TuneObjective objective = pt::TuneObjective::kLatency) {
  const Workload& w = qwen3_32b();
  pt::TuneOptions o;
  o.objective = objective;
  o.method = method;
  o.step = step;
  pt::SearchEstimate e;
  o.on_start = [&](const pt::SearchEstimate& est) { e = est; };
  for (auto _ : state) {
    auto r = pt::tune_ratios(w.ptrs, w.weights, pt::CapReading::kCode, o);
    benchmark::DoNotOptimize(r.step_time_us);
  }
  state.counters["sims"] = e.segment_simulations;
  state.counters["configs"] = e.configurations;
  state.counters["lookups"] = e.segment_lookups;
  state.counters["estimate_s"] = e.seconds;
}
void BM_SearchCost_Tables_Qwen3_32B_step0001(benchmark::State& s) { search_cost(s, pt::SearchMethod::kDecomposed, 0.001); }
void BM_SearchCost_Lookups_Qwen3_32B_grid_step001(benchmark::State& s) { search_cost(s, pt::SearchMethod::kGrid, 0.01); }
// The overlap objective: whole-step simulations, 4 per grid value and token count.
void BM_SearchCost_Steps_Qwen3_32B_overlap_step0001(benchmark::State& s) {
  search_cost(s, pt::SearchMethod::kDecomposed, 0.001, pt::TuneObjective::kOverlap);
}
BENCHMARK(BM_SearchCost_Tables_Qwen3_32B_step0001)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_SearchCost_Steps_Qwen3_32B_overlap_step0001)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_SearchCost_Lookups_Qwen3_32B_grid_step001)->Unit(benchmark::kMillisecond)->Iterations(1);

BENCHMARK(BM_DefaultSearch_Qwen3_32B_step001)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_DefaultSearch_Qwen3_235B_step001)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Grid_Qwen3_32B_step005)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Grid_Qwen3_235B_step005)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Grid_Qwen3_32B_step001)->Unit(benchmark::kMillisecond)->Iterations(1);

}  // namespace
