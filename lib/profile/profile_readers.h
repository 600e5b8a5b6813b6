#pragma once
// Reading profiles: a file of any format (readers/readers.h), one profiler output directory, or a
// whole cluster (one run directory per rank: *_ascend_pt, PROF_*, text or DB). Every reader
// streams its file; each throws InputError naming the file and the CSV line, JSON byte offset or
// table on a bad one.
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "profile/profile.h"
#include "profile/readers/readers.h"

namespace pt {

// kernel_details.csv (torch_npu) or op_summary_*.csv (msprof): compute tasks only, never CMO.
// Also reads prefetch-tuner's --timeline-csv (which has CMO rows). Times relative to `origin`.
TaskList read_kernel_csv(std::string_view text, const std::string& source, TimeOrigin* origin = nullptr);
// task_time*.csv (msprof): all tasks, CMO and EVENT included.
TaskList read_task_time_csv(std::string_view text, const std::string& source, TimeOrigin* origin = nullptr);
// trace_view.json / msprof_*.json, streamed from the file. Returns the X events of the "Ascend
// Hardware" process.
TaskList read_trace_json_file(const std::string& path, TimeOrigin* origin = nullptr);
TaskList read_trace_json_text(std::string_view text, const std::string& source, TimeOrigin* origin = nullptr);

// Old traces call AI-core kernels "Other": take the core type (and op type, shapes) from
// kernel_details by task id and start time. `trace_tasks` may then point into `kernel_tasks`' strings.
void join_kernel_details(TaskList& trace_tasks, const TaskList& kernel_tasks);
// The same for tasks whose strings the caller keeps alive.
void join_kernel_details(std::vector<ProfileTask>& trace_tasks, const std::vector<ProfileTask>& kernel_tasks);

// One profiler output directory of a run (ASCEND_PROFILER_OUTPUT, mindstudio_profiler_output, or
// any directory holding profiler files), and what identifies its rank.
struct ProfileLocation {
  std::string dir;      // the directory holding the files
  std::string run_dir;  // the run it belongs to (*_ascend_pt, PROF_*), or `dir`
  int rank = -1;        // from profiler_info_<rank>.json, ascend_pytorch_profiler_<rank>.db or info.json's rank_id
};

// The output directories under `path` (itself included), sorted by rank then path; a file is one
// location of its own. InputError when there is none, naming what was looked for.
std::vector<ProfileLocation> find_profiles(const std::string& path);

// A file of any format above (chosen by name and content), or a directory holding exactly one run.
// InputError when nothing usable is found, or when the directory holds several runs.
Profile load_profile(const std::string& path);
Profile load_profile(const ProfileLocation& location, const std::string& source);

// Every rank of a cluster directory (or the one run of a profile), held at once.
struct ProfileSet {
  std::string source;
  std::vector<Profile> profiles;  // in rank order
};
ProfileSet load_profile_set(const std::string& path);

// Reads the locations `threads` at a time and hands each profile to `use` on the thread that read
// it, before that thread reads the next: memory holds `threads` profiles, whatever the cluster's
// size. Calls run concurrently: `use` should write only what belongs to its index. The first
// error stops the run and is rethrown.
void for_each_profile(const std::vector<ProfileLocation>& locations, const std::string& source, int threads,
                      const std::function<void(size_t index, Profile& profile)>& use);

}  // namespace pt
