#pragma once
// Writes a simulated run in the Ascend profilers' own layouts and formats, CMO tasks included, so
// that the Ascend tools (msprof-analyze advisor, compare, cluster) read it as they read a real one
// (docs/profile-formats.md lists every file and the reader code each one follows):
//   torch_npu: <host>_<pid>_<YYYYMMDDhhmmssmmm>_ascend_pt/
//                profiler_info_<rank>.json, profiler_metadata.json, PROF_*/device_<d>/info.json.<d>,
//                ASCEND_PROFILER_OUTPUT/{trace_view.json, kernel_details.csv, op_statistic.csv,
//                step_trace_time.csv, communication.json, communication_matrix.json}
//                (+ ascend_pytorch_profiler_<rank>.db and analysis.db with format "db")
//   msprof:    PROF_<6>_<YYYYMMDDhhmmssmmm>_<16 letters>/
//                device_<d>/info.json.<d>, mindstudio_profiler_output/{msprof_<14>.json,
//                op_summary_<14>.csv, op_statistic_<14>.csv, task_time_<14>.csv},
//                analyze/{communication.json, communication_matrix.json} (+ msprof_<14>.db)
// One such directory per rank (ranks 1, or every TP x DP rank of the deployment).
// The runs themselves (jittered steps, ranks, collective waits) come from sim/simulated_run.h;
// this file only renders them.
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "sim/scenario.h"
#include "sim/simulated_run.h"
#include "util/file_io.h"

namespace pt {

struct ProfileExportOptions {
  std::string layout = "torch_npu";  // or "msprof"
  std::string format = "text";       // "db": the SQLite export as well
  int steps = 1;
  double jitter_pct = 0;  // per-step spread of the hardware rates, deterministic from `seed`
  uint64_t seed = 1;
  double base_time_us = 1763856000000000.0;  // absolute start, as real profiles carry epoch microseconds
  double step_gap_us = 150;                  // host time between steps
  int ranks = 1;                             // 1 or TP x DP
  int slow_rank = -1;                        // a rank slower than the others by slow_pct % (sim/simulated_run.h)
  double slow_pct = 0;
};

// Where the files go while they are rendered: appended to piece by piece (a 1 GB trace is never
// held whole), or, for SQLite, written at a path the sink provides.
class ProfileSink {
 public:
  virtual ~ProfileSink() = default;
  virtual void append(const std::string& rel, std::string_view data) = 0;
  // A real file for a database; its content counts as the file `rel` once `close_file` is called.
  virtual std::string file_path(const std::string& rel) = 0;
  virtual void close_file(const std::string& rel) = 0;
};

// Renders the run into `sink`. InputError for bad options.
void export_profile(const Scenario& scenario, const ProfileExportOptions& options, ProfileSink& sink);

// Files relative to the output directory, with their content (tests, small runs).
std::vector<std::pair<std::string, std::string>> export_profile(const Scenario& scenario, const ProfileExportOptions& options);

// Writes the files under `dir` (new or empty) through an OutputSet: all or nothing.
void write_profile_directory(const std::string& dir, const std::vector<std::pair<std::string, std::string>>& files);

// The export as one directory of an OutputSet, streamed: when the set commits, the files are
// rendered straight into its staging directory (memory stays at one step whatever the run's
// size) and renamed into place with the rest of the set. `written` gets the files and their
// sizes once they are staged (it must outlive commit()). Bad options are refused here, before
// anything is written.
void add_profile_export(OutputSet& out, const Scenario& scenario, const ProfileExportOptions& options, const std::string& dir,
                        std::vector<std::pair<std::string, uint64_t>>& written);

// The same, alone: a set of this one directory, committed. Returns the files written and their sizes.
std::vector<std::pair<std::string, uint64_t>> export_profile_to_directory(const Scenario& scenario,
                                                                          const ProfileExportOptions& options,
                                                                          const std::string& dir);

}  // namespace pt
