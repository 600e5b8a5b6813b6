#pragma once
// Times come back relative to `origin` (one per profile, shared by its files; see TimeOrigin).
// Readers for every Ascend profiler format the reference names (ascend-hardware-and-profile-formats.md
// section 3), and for prefetch-tuner's own exports. Each throws InputError naming the file and the
// CSV line or JSON byte offset on a bad file.
//
// Times stay absolute, as in the files (epoch microseconds, ~1.7e15): a double holds them to
// 2^-2 us = 0.25 us at that size, so a start read as 1736413971558972.912 becomes ...973.0.
#include <string>
#include <string_view>
#include <vector>

#include "profile/profile.h"

namespace pt {

// kernel_details.csv (torch_npu) or op_summary_*.csv (msprof): compute tasks only, never CMO.
// Accepts Block Dim / Block Num, a tab after the start time, N/A fields, quoted shapes with commas,
// an optional Step Id column. Also reads prefetch-tuner's --timeline-csv (which has CMO rows).
std::vector<ProfileTask> read_kernel_csv(std::string_view text, const std::string& source, TimeOrigin* origin = nullptr);

// task_time*.csv (msprof): all tasks, CMO and EVENT included.
std::vector<ProfileTask> read_task_time_csv(std::string_view text, const std::string& source, TimeOrigin* origin = nullptr);

// trace_view.json / msprof_*.json, parsed as a stream from the file (a 1 GB trace is never held
// whole in memory). A JSON array or an object with "traceEvents"; "ts" as a string or a number;
// "Physic Stream Id" or "Stream Id". Returns the X events of the "Ascend Hardware" process.
std::vector<ProfileTask> read_trace_json_file(const std::string& path, TimeOrigin* origin = nullptr);
std::vector<ProfileTask> read_trace_json_text(std::string_view text, const std::string& source,
                                             TimeOrigin* origin = nullptr);

// Old traces call AI-core kernels "Other": take the core type (and op type, shapes) from
// kernel_details by task id and start time.
void join_kernel_details(std::vector<ProfileTask>& trace_tasks, const std::vector<ProfileTask>& kernel_tasks);

// A file of any format above (chosen by name and content), or a directory searched for
// ASCEND_PROFILER_OUTPUT / mindstudio_profiler_output files. InputError when nothing usable is
// found, naming what was looked for.
Profile load_profile(const std::string& path);

}  // namespace pt
