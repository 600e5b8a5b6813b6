// tune-ratio's search: the default (decomposed) search must reach the exhaustive grid's optimum,
// and every number it reports must be what the full simulator gives for that config.
#include "search/ratio_search.h"

#include <chrono>
#include <cmath>

#include <algorithm>

#include <gtest/gtest.h>

#include "config/prefetch_config.h"
#include "search/workload.h"
#include "sim/scenario.h"
#include "util/error.h"

namespace pt {
namespace {

struct Case {
  const char* model;
  int tp, dp;
  bool ep;
  std::vector<int> tokens;
  const char* release = "v0.23.0";
};

struct Built {
  Scenario scenario;
  std::vector<StepPlan> plans;
  std::vector<const StepPlan*> ptrs;
  std::vector<double> weights;
};

Built build(const Case& c, CapReading cap = CapReading::kCode) {
  ScenarioInputs in;
  in.model = c.model;
  in.deployment.tensor_parallel = c.tp;
  in.deployment.data_parallel = c.dp;
  in.deployment.expert_parallel = c.ep;
  in.deployment.num_tokens = c.tokens.front();
  in.use_process_env = false;
  in.cap_reading = cap == CapReading::kCode ? "code" : "guide";
  in.vllm_ascend_version = c.release;
  Built b{load_scenario(in), {}, {}, {}};
  b.plans.reserve(c.tokens.size());
  for (size_t i = 0; i < c.tokens.size(); ++i) {
    Deployment d = b.scenario.plan.deployment;
    d.num_tokens = c.tokens[i];
    b.plans.push_back(b.scenario.plan_for(d));
    b.weights.push_back(static_cast<double>(i + 1));  // unequal weights exercise the weighting
  }
  for (const auto& p : b.plans) b.ptrs.push_back(&p);
  return b;
}

// Every bundled model, at deployments where its sites fire.
const std::vector<Case>& cases() {
  static const std::vector<Case> c = {
      {"Qwen3-8B", 4, 1, false, {72}},
      {"Qwen3-32B", 4, 1, false, {16, 72}},
      {"Llama-3.1-70B", 4, 1, false, {72}},
      {"Qwen3-30B-A3B", 4, 1, false, {128, 256}, "v0.22.1rc1"},
      {"Qwen3-235B-A22B", 4, 4, true, {144, 576}, "v0.18.0"},
      // 16 ranks (TP8 x DP2, experts split over all 16): DeepSeek-V3 W8A8 does not fit 8 dies.
      {"DeepSeek-V3", 8, 2, false, {128, 256}, "v0.15.0rc1"},
      {"Qwen3-Next-80B-A3B", 4, 1, false, {128, 256}, "v0.13.0"},
      {"GLM-4.5-Air", 4, 1, false, {128, 256}, "v0.18.0"},
      {"Mistral-Small-24B", 4, 1, false, {16, 72}},
      {"Qwen3-32B", 4, 1, false, {16, 72}, "v0.14.0rc1"},  // the MLP keys become legacy byte sizes
  };
  return c;
}

TEST(RatioSearchTest, DefaultSearchReachesTheGridOptimumOnEveryBundledModel) {
  for (const auto& c : cases()) {
    SCOPED_TRACE(c.model);
    Built b = build(c);
    TuneOptions o;
    o.step = 0.05;  // the grid at 0.01 would be ~2e7 configurations per model
    o.method = SearchMethod::kDecomposed;
    const TuneResult fast = tune_ratios(b.ptrs, b.weights, b.scenario.cap_reading, o);
    o.method = SearchMethod::kGrid;
    const TuneResult grid = tune_ratios(b.ptrs, b.weights, b.scenario.cap_reading, o);
    ASSERT_FALSE(fast.tuned.empty()) << "no site fires: the case does not exercise the search";
    EXPECT_NEAR(fast.step_time_us, grid.step_time_us, 1e-6 * grid.step_time_us);
    // The grid really enumerated the whole Cartesian product.
    size_t product = 1;
    for (const auto& k : grid.tuned) product *= k.grid.size();
    EXPECT_EQ(grid.grid_points >= product, true);
    EXPECT_LT(fast.grid_points, grid.grid_points + 1);
  }
}

TEST(RatioSearchTest, GuideCapReadingAlsoAgreesWithTheGrid) {
  Built b = build({"Qwen3-32B", 2, 1, false, {72}}, CapReading::kGuide);
  TuneOptions o;
  o.step = 0.02;
  const TuneResult fast = tune_ratios(b.ptrs, b.weights, CapReading::kGuide, o);
  o.method = SearchMethod::kGrid;
  const TuneResult grid = tune_ratios(b.ptrs, b.weights, CapReading::kGuide, o);
  EXPECT_NEAR(fast.step_time_us, grid.step_time_us, 1e-6 * grid.step_time_us);
  // Under the guide's reading every key is capped at 18 MiB: qkv (25 MiB at TP2 W8A8) stops at 0.72.
  for (const auto& k : fast.tuned) {
    if (k.key == RatioKey::kAttnQkv) {
      EXPECT_NEAR(k.max_useful_ratio, 18.0 / 25.0, 1e-9);
    }
  }
}

TEST(RatioSearchTest, ReportedTimesAreWhatTheSimulatorGivesForThatConfig) {
  Built b = build({"Qwen3-32B", 4, 1, false, {8, 16, 32, 72}});
  const TuneResult r = tune_ratios(b.ptrs, b.weights, CapReading::kCode, {});
  EXPECT_DOUBLE_EQ(r.step_time_us, workload_step_time(b.ptrs, b.weights, r.best, CapReading::kCode));
  for (size_t p = 0; p < b.plans.size(); ++p) {
    EXPECT_DOUBLE_EQ(r.per_tokens[p].tuned_step_time_us, simulate_step_time(b.plans[p], r.best, CapReading::kCode));
    // Each token count's own best is at least as good as the shared config there.
    EXPECT_LE(r.per_tokens[p].best_step_time_us, r.per_tokens[p].tuned_step_time_us + 1e-9);
    // simulate_step_time (one run per layer type) equals the full every-layer simulation.
    EXPECT_NEAR(simulate_step(b.plans[p], r.best, {}).step_time_us, r.per_tokens[p].tuned_step_time_us, 1e-6);
  }
  // The curves come from the segment tables: each point must equal a fresh full simulation.
  for (size_t k = 0; k < r.curves.size(); ++k) {
    const auto& curve = r.curves[k];
    for (size_t i = 0; i < curve.ratios.size(); i += 7) {
      std::vector<double> ratios = r.best_ratios;
      ratios[k] = curve.ratios[i];
      // A module partner follows: off together, or on at its smallest setting.
      for (size_t j = 0; j < ratios.size(); ++j) {
        if (j == k || std::string(ratio_module_name(r.tuned[j].key)) != ratio_module_name(curve.key)) continue;
        if (ratios[k] == 0) ratios[j] = 0;
        else if (ratios[j] == 0) ratios[j] = r.tuned[j].grid[1];
      }
      const WeightPrefetchConfig c = tuned_config(r.tuned, ratios, b.plans[0].semantics());
      EXPECT_NEAR(curve.step_time_us[i], workload_step_time(b.ptrs, b.weights, c, CapReading::kCode), 1e-6)
          << ratio_key_name(curve.key) << " = " << curve.ratios[i];
    }
  }
  // The best is no worse than the defaults or than prefetch disabled (both lie on or near the grid).
  EXPECT_LE(r.step_time_us, r.baseline_step_time_us + 1e-9);
}

TEST(RatioSearchTest, EmittedConfigRoundTripsThroughTheParserUnchanged) {
  Built b = build({"Qwen3-235B-A22B", 4, 4, true, {144, 576}});
  const TuneResult r = tune_ratios(b.ptrs, b.weights, CapReading::kCode, {});
  const Semantics& sem = b.plans[0].semantics();
  const PrefetchConfigParse back = parse_prefetch_config(r.best.to_additional_config(sem), "emitted", /*lenient=*/false,
                                                         *b.plans[0].release);
  EXPECT_TRUE(back.warnings.empty());
  EXPECT_EQ(back.config, r.best);
  // Every module is written out, so none falls back to vllm-ascend's defaults.
  const auto inner = r.best.to_inner_json(sem);
  for (const char* m : {"attn", "moe", "mlp"}) EXPECT_FALSE(inner["prefetch_ratio"][m].empty()) << m;
  EXPECT_DOUBLE_EQ(simulate_step_time(b.plans[0], back.config, CapReading::kCode),
                   simulate_step_time(b.plans[0], r.best, CapReading::kCode));
}

TEST(RatioSearchTest, OverlapObjectiveLeavesNoStallAboveTheTolerance) {
  for (double tolerance : {0.0, 0.5, 2.0}) {
    Built b = build({"Qwen3-32B", 4, 1, false, {16, 72}});
    TuneOptions o;
    o.objective = TuneObjective::kOverlap;
    o.stall_tolerance_us = tolerance;
    const TuneResult r = tune_ratios(b.ptrs, b.weights, CapReading::kCode, o);
    bool any_prefetch = false;
    for (const auto& plan : b.plans) {
      for (const auto& s : simulate_step(plan, r.best, {}).sites) {
        if (!s.active) continue;
        any_prefetch = true;
        EXPECT_LE(s.stall_us, tolerance + 1e-9) << s.site << " tolerance " << tolerance;
      }
    }
    EXPECT_TRUE(any_prefetch) << "the overlap objective prefetched nothing at tolerance " << tolerance;
    // Largest: one more step on any key would break the tolerance (or it is at its maximum).
    for (size_t k = 0; k < r.tuned.size(); ++k) {
      const auto& key = r.tuned[k];
      auto at = std::find(key.grid.begin(), key.grid.end(), r.best_ratios[k]);
      ASSERT_NE(at, key.grid.end());
      if (at + 1 == key.grid.end()) continue;
      const double next = *(at + 1);
      std::vector<double> ratios = r.best_ratios;
      ratios[k] = next;
      for (size_t j = 0; j < ratios.size(); ++j) {
        if (j != k && ratios[j] == 0 && std::string(ratio_module_name(r.tuned[j].key)) == ratio_module_name(key.key)) {
          ratios[j] = r.tuned[j].grid[1];
        }
      }
      const WeightPrefetchConfig c = tuned_config(r.tuned, ratios, b.plans[0].semantics());
      bool broken = false;
      for (const auto& plan : b.plans) {
        for (const auto& s : simulate_step(plan, c, {}).sites) broken |= s.active && s.stall_us > tolerance + 1e-9;
      }
      EXPECT_TRUE(broken) << ratio_key_name(key.key) << " could go to " << next;
    }
  }
}

TEST(RatioSearchTest, KeysBeyondTheCapAreNotSearched) {
  // Qwen3-32B W8A8 TP4: gate_up 62.5 MiB, down 31.25 MiB, MLP cap 18 MiB.
  Built b = build({"Qwen3-32B", 4, 1, false, {72}});
  const TuneResult r = tune_ratios(b.ptrs, b.weights, CapReading::kCode, {});
  for (const auto& k : r.tuned) {
    if (k.key == RatioKey::kMlpGateUp) {
      EXPECT_NEAR(k.max_useful_ratio, 18.0 / 62.5, 1e-12);
      EXPECT_EQ(k.grid.size(), 31u);  // off, the one-byte ratio, 0.01 .. 0.29
    }
    if (k.key == RatioKey::kMlpDown) {
      EXPECT_EQ(k.grid.size(), 60u);  // off, the one-byte ratio, 0.01 .. 0.58 (18/31.25 = 0.576)
    }
    // grid[0] is "module off"; grid[1] the smallest ratio that still asks for a byte of every
    // weight the key applies to (vllm-ascend: int(ratio * bytes) >= 1).
    EXPECT_EQ(k.grid[0], 0.0);
    for (double w : k.weights_bytes) EXPECT_GE(std::floor(w * k.grid[1]), 1.0) << ratio_key_name(k.key);
    EXPECT_LT(k.grid[1], 1e-6);
  }
}

TEST(RatioSearchTest, SitesThatCannotFireAreLeftOutWithTheReason) {
  // Qwen3-30B-A3B at 72 tokens, TP4 without EP: 72 tokens at gating < 96, so moe.gate_up is out.
  Built b = build({"Qwen3-30B-A3B", 4, 1, false, {72}, "v0.22.1rc1"});
  const TuneResult r = tune_ratios(b.ptrs, b.weights, CapReading::kCode, {});
  bool found = false;
  for (const auto& l : r.left_out) {
    if (l.site == "moe.gate_up") {
      found = true;
      EXPECT_NE(l.reason.find("96"), std::string::npos) << l.reason;
    }
  }
  EXPECT_TRUE(found);
  for (const auto& k : r.tuned) EXPECT_NE(k.key, RatioKey::kMoeGateUp);
}

TEST(RatioSearchTest, RecommendsDisablingBelowTheThreshold) {
  Built b = build({"Qwen3-32B", 4, 1, false, {72}});
  TuneOptions o;
  o.disable_threshold_pct = 1000;  // no config can gain that much
  const TuneResult r = tune_ratios(b.ptrs, b.weights, CapReading::kCode, o);
  EXPECT_TRUE(r.recommend_disable);
  EXPECT_NE(r.recommendation.find("disable"), std::string::npos);
  o.disable_threshold_pct = -1000;
  EXPECT_FALSE(tune_ratios(b.ptrs, b.weights, CapReading::kCode, o).recommend_disable);
}

TEST(RatioSearchTest, BadArgumentsAreRefused) {
  Built b = build({"Qwen3-8B", 4, 1, false, {72}});
  for (double step : {0.0, -0.01, 1.5, std::nan("")}) {
    TuneOptions o;
    o.step = step;
    EXPECT_THROW(tune_ratios(b.ptrs, b.weights, CapReading::kCode, o), InputError) << step;
  }
  TuneOptions o;
  o.stall_tolerance_us = -1;
  EXPECT_THROW(tune_ratios(b.ptrs, b.weights, CapReading::kCode, o), InputError);
  EXPECT_THROW(tune_ratios({}, {}, CapReading::kCode, {}), InputError);
}

// What tune-ratio pastes does, on the release it was tuned for, exactly what the report says: the
// emitted --additional-config (and on v0.13 / v0.14 the legacy MLP variables), read back by the
// release's own rules and simulated, gives the reported step time at every token count.
TEST(RatioSearchTest, EveryEmittedConfigReproducesItsTimeOnEveryReleaseAndModel) {
  const std::vector<Case> models = {
      {"Qwen3-8B", 4, 1, false, {16, 72}},           {"Qwen3-32B", 4, 1, false, {72}},
      {"Llama-3.1-70B", 8, 1, false, {72}},          {"Qwen3-30B-A3B", 4, 1, false, {128}},
      {"Qwen3-235B-A22B", 4, 4, true, {576}},        {"DeepSeek-V3", 8, 2, false, {128}},
      {"Qwen3-Next-80B-A3B", 4, 1, false, {128}},
  };
  for (const auto& release : releases()) {
    for (Case c : models) {
      c.release = release.tag;
      SCOPED_TRACE(std::string(c.model) + " " + release.tag);
      Built b = build(c);
      TuneOptions o;
      o.step = 0.05;
      o.disable_threshold_pct = -100;  // always recommend the tuned config, to check it
      const TuneResult r = tune_ratios(b.ptrs, b.weights, CapReading::kCode, o);
      const Semantics& sem = release.semantics;
      PrefetchConfigParse back = parse_prefetch_config(r.best.to_additional_config(sem), "emitted", false, release);
      EXPECT_TRUE(back.warnings.empty());
      EXPECT_TRUE(back.whole_tensor_keys.empty()) << "the emitted config falls into the max_size 0 trap";
      std::vector<std::string> env = r.best.legacy_env(sem);
      apply_legacy_env(read_legacy_env(env, false), release, back.config);
      EXPECT_EQ(back.config, r.best);
      for (size_t p = 0; p < b.plans.size(); ++p) {
        EXPECT_DOUBLE_EQ(simulate_step_time(b.plans[p], back.config, CapReading::kCode), r.per_tokens[p].tuned_step_time_us);
      }
      EXPECT_DOUBLE_EQ(workload_step_time(b.ptrs, b.weights, back.config, CapReading::kCode), r.step_time_us);
    }
  }
}

// ---- the size of a search, known before it runs ---------------------------------------------

// The guard and the progress line rest on the estimate: it must count what the search then does.
TEST(RatioSearchTest, TheEstimateCountsWhatTheSearchDoes) {
  for (const Case& c : cases()) {
    Built b = build(c);
    for (SearchMethod method : {SearchMethod::kDecomposed, SearchMethod::kGrid}) {
      for (double step : {0.05, 0.01}) {
        if (method == SearchMethod::kGrid && step < 0.05) continue;  // the full grid at 0.01 takes seconds
        TuneOptions o;
        o.method = method;
        o.step = step;
        SearchEstimate e;
        o.on_start = [&](const SearchEstimate& est) { e = est; };
        const TuneResult r = tune_ratios(b.ptrs, b.weights, CapReading::kCode, o);
        SCOPED_TRACE(std::string(c.model) + " " + search_method_name(method) + " step " + std::to_string(step));
        EXPECT_EQ(e.configurations, static_cast<double>(r.grid_points));
        EXPECT_EQ(e.segment_simulations, static_cast<double>(r.segment_simulations));
        EXPECT_EQ(e.table_bytes, e.segment_simulations * 9);  // a double and a closed flag per entry
        EXPECT_GT(e.seconds, 0);
      }
    }
  }
}

// --step 0.00001 died of bad_alloc in 0.2 s (the guard covered only the grid): it is refused up
// front, with the time it would take and a step that runs.
TEST(RatioSearchTest, ASearchTooLargeIsRefusedAtOnceNamingAStepThatRuns) {
  Built b = build({"Qwen3-32B", 4, 1, false, {8, 16, 32, 72}});
  TuneOptions o;
  o.step = 0.00001;
  const auto start = std::chrono::steady_clock::now();
  std::string e;
  try {
    tune_ratios(b.ptrs, b.weights, CapReading::kCode, o);
  } catch (const InputError& err) {
    e = err.what();
  }
  EXPECT_LT(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(), 2.0);
  EXPECT_EQ(e.rfind("--step 1e-05: this search would take about ", 0), 0u) << e;
  EXPECT_NE(e.find(" segment simulations, "), std::string::npos) << e;
  const size_t at = e.find("use --step ");
  ASSERT_NE(at, std::string::npos) << e;
  const double fitting = std::stod(e.substr(at + 11));
  EXPECT_GT(fitting, o.step);
  // That step passes the guard (the run is stopped as soon as it starts), and the grid method
  // has the same guard.
  struct Started {};
  o.step = fitting;
  o.on_start = [](const SearchEstimate& est) {
    EXPECT_LE(est.seconds, kMaxSearchSeconds);
    EXPECT_LE(est.table_bytes, kMaxSearchTableBytes);
    throw Started{};
  };
  EXPECT_THROW(tune_ratios(b.ptrs, b.weights, CapReading::kCode, o), Started);
  o.method = SearchMethod::kGrid;
  o.step = 0.001;
  o.on_start = nullptr;
  EXPECT_THROW(tune_ratios(b.ptrs, b.weights, CapReading::kCode, o), InputError);
  o.objective = TuneObjective::kOverlap;
  o.step = 0.000001;
  EXPECT_THROW(tune_ratios(b.ptrs, b.weights, CapReading::kCode, o), InputError);
}

TEST(RatioSearchTest, ProgressCoversTheTablesAndTheSearchAndEndsAtOne) {
  Built b = build({"Qwen3-32B", 4, 1, false, {72}});
  TuneOptions o;
  o.step = 0.002;
  std::vector<double> seen;
  o.progress = [&](double f) { seen.push_back(f); };
  tune_ratios(b.ptrs, b.weights, CapReading::kCode, o);
  ASSERT_GE(seen.size(), 3u);
  EXPECT_GT(seen.front(), 0);  // the first report comes while the tables are built
  EXPECT_LT(seen.front(), 1);
  for (size_t i = 1; i < seen.size(); ++i) EXPECT_GE(seen[i], seen[i - 1]) << i;
  EXPECT_EQ(seen.back(), 1);
}

}  // namespace
}  // namespace pt
