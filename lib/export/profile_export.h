#pragma once
// Writes a simulated run in the Ascend profilers' own layouts and formats, CMO tasks included:
//   torch_npu: <host>_<pid>_<ts>_ascend_pt/ASCEND_PROFILER_OUTPUT/{trace_view.json, kernel_details.csv, op_statistic.csv}
//   msprof:    PROF_<...>/mindstudio_profiler_output/{msprof_<ts>.json, op_summary_<ts>.csv, op_statistic_<ts>.csv, task_time_<ts>.csv}
// Used for the bundled sample profiles and for testing analyze / calibrate on known ground truth.
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "sim/scenario.h"

namespace pt {

struct ProfileExportOptions {
  std::string layout = "torch_npu";  // or "msprof"
  int steps = 1;
  double jitter_pct = 0;  // per-step spread of the hardware rates, deterministic from `seed`
  uint64_t seed = 1;
  double base_time_us = 1763856000000000.0;  // absolute start, as real profiles carry epoch microseconds
  double step_gap_us = 150;                  // host time between steps
};

// Files relative to the output directory, with their content.
std::vector<std::pair<std::string, std::string>> export_profile(const Scenario& scenario, const ProfileExportOptions& options);

// Writes the files under `dir` (created if missing; must not hold a profile already): into a
// temporary sibling directory first, renamed into place once complete.
void write_profile_directory(const std::string& dir, const std::vector<std::pair<std::string, std::string>>& files);

}  // namespace pt
