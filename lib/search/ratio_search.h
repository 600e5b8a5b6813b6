#pragma once
// tune-ratio's search: the prefetch_ratio values that minimize the weighted step time over a
// workload (latency), or that prefetch as much as each window hides (overlap).
//
// Why it is fast and still exact: every prefetch forks, joins and feeds its matmul inside one
// layer, so a layer splits into segments that no site crosses. At a segment boundary both streams
// are idle and L2 holds no prefetch, so the step time is a sum of segment times, and each segment
// depends only on the ratio keys of the sites inside it. Segment times are tabulated once per
// grid value; any configuration is then evaluated by table lookups.
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "config/prefetch_config.h"
#include "sim/simulator.h"
#include "sim/step_plan.h"

namespace pt {

enum class TuneObjective { kLatency, kOverlap };
enum class SearchMethod {
  kDecomposed,  // default: exhaustive over each group of keys that share a segment
  kGrid,        // exhaustive over the full Cartesian grid of all keys (ground truth)
};

TuneObjective parse_objective(const std::string& text);
SearchMethod parse_search_method(const std::string& text);
const char* search_method_name(SearchMethod m);

// How big a search is, known before it starts: tune_ratios refuses one above kMaxSearchSeconds
// or kMaxSearchTableBytes, naming a --step that fits.
struct SearchEstimate {
  double configurations = 0;       // compared by the workload search
  double segment_simulations = 0;  // entries of the segment tables
  double segment_lookups = 0;      // table reads while configurations are evaluated
  double table_bytes = 0;
  double seconds = 0;              // at the speeds of bench/tune_bench on the development machine
};
constexpr double kMaxSearchSeconds = 120;
constexpr double kMaxSearchTableBytes = 512.0 * (1 << 20);

struct TuneOptions {
  TuneObjective objective = TuneObjective::kLatency;
  SearchMethod method = SearchMethod::kDecomposed;
  double step = 0.01;
  double stall_tolerance_us = 0.5;   // overlap objective: allowed stall per site
  double near_optimal_pct = 0.5;     // report ratios within this % of the best
  double disable_threshold_pct = 1.0;
  std::function<void(const SearchEstimate&)> on_start;  // once, before the tables are built
  std::function<void(double done_fraction)> progress;   // while the tables are built and searched
};

struct TunedKey {
  RatioKey key;
  double max_useful_ratio = 1;  // above it the cap makes every ratio issue the same bytes
  // grid[0] = 0 means "module off" (the only way vllm-ascend turns a key off); grid[1] is the
  // smallest ratio with int(ratio x bytes) >= 1 for every weight of the key, which still issues a
  // CMO with its fork and join; then multiples of the step.
  std::vector<double> grid;
  std::vector<double> weights_bytes;  // the weights the key applies to (a ratio fits each)
};

struct LeftOutSite {
  std::string site;
  std::string layer_type;
  std::string reason;
};

struct PerTokensResult {
  int num_tokens = 0;
  double weight = 0;
  WeightPrefetchConfig best;          // best for this token count alone
  std::vector<double> best_ratios;    // per tuned key, the grid value chosen (0: module off)
  double best_step_time_us = 0;
  double tuned_step_time_us = 0;      // with the workload's tuned config
  double default_step_time_us = 0;
  double baseline_step_time_us = 0;
};

struct NearOptimalRange {
  RatioKey key;
  double min = 0, max = 0;
  bool contiguous = true;
};

struct RatioCurve {
  RatioKey key;
  std::vector<double> ratios;        // the grid: 0 is the module off
  std::vector<double> step_time_us;  // weighted, other keys at their best
  std::vector<std::vector<double>> plan_step_time_us;  // per workload entry, per ratio
};

struct RatioHeatmap {
  RatioKey x_key, y_key;
  std::vector<double> x_ratios, y_ratios;
  std::vector<double> step_time_us;  // row-major: y index * x size + x index
};

struct TuneResult {
  // The tuned value of `key` (0 when off or not tuned).
  double ratio_of(RatioKey key) const;
  SearchMethod method = SearchMethod::kDecomposed;
  TuneObjective objective = TuneObjective::kLatency;
  double step = 0.01;
  std::vector<TunedKey> tuned;
  std::vector<LeftOutSite> left_out;
  WeightPrefetchConfig best;
  std::vector<double> best_ratios;    // per tuned key, the grid value chosen (0: module off)
  double step_time_us = 0;            // weighted over the workload, with `best`
  double default_step_time_us = 0;    // vllm-ascend's defaults, enabled
  double baseline_step_time_us = 0;   // prefetch disabled
  double gain_pct = 0;                // over prefetch disabled
  bool recommend_disable = false;
  std::string recommendation;
  std::vector<PerTokensResult> per_tokens;
  std::vector<NearOptimalRange> near_optimal;
  std::vector<RatioCurve> curves;
  std::optional<RatioHeatmap> heatmap;
  size_t grid_points = 0;             // configurations the search compared
  size_t segment_simulations = 0;     // segment runs of the simulator behind the tables
  size_t full_simulations = 0;        // whole-step runs for configurations whose segments do not close
  std::vector<std::string> notes;     // how keys that do not fire are written, and the like
};

// One plan per workload token count (same model, deployment and hardware), with its weight.
// InputError for a bad step or tolerance, or a search too large to run (see SearchEstimate).
TuneResult tune_ratios(const std::vector<const StepPlan*>& plans, const std::vector<double>& weights,
                       CapReading cap_reading, const TuneOptions& options);

// The config of a point of the tuned grid, as the release can express it: a module whose tuned keys
// are all 0 is off (every ratio 0); keys of an enabled module that do not fire here keep their
// vllm-ascend default, since a 0 would prefetch the whole tensor if they ever fired. On v0.13 /
// v0.14 the MLP keys become legacy byte sizes.
WeightPrefetchConfig tuned_config(const std::vector<TunedKey>& tuned, const std::vector<double>& ratios,
                                  const Semantics& semantics);

// Weighted step time of `config` over the plans (the full simulator, for checks and reports).
double workload_step_time(const std::vector<const StepPlan*>& plans, const std::vector<double>& weights,
                          const WeightPrefetchConfig& config, CapReading cap_reading);

}  // namespace pt
