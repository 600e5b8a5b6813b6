#pragma once
// The profile formats, one file each under lib/profile/readers/, behind one table: how a format is
// recognised (by its file name in a profiler output directory, by its content when a user names
// the file) and how it is read. Every reader streams its file and appends tasks whose strings are
// interned in the profile's pool, so memory is the tasks' (128 bytes each), whatever the file size.
#include <string>
#include <string_view>
#include <vector>

#include "profile/profile.h"

namespace pt {

struct ReadContext {
  Profile& profile;  // strings, files read, notes
  TimeOrigin& origin;
  std::vector<ProfileTask>& tasks;  // appended to
  // Appends, refusing to pass kMaxProfileTasks (naming `source`).
  void add(ProfileTask t, const std::string& source);
};

enum class ProfileFormat { kTraceJson, kKernelCsv, kTaskTimeCsv, kMsprofDb };

struct ProfileReader {
  ProfileFormat format;
  const char* name;                                   // "trace_json"
  bool (*named)(std::string_view file_name);          // a profiler's own name for the format
  bool (*sniff)(std::string_view path, std::string_view head);  // any name: by the first bytes
  void (*read)(const std::string& path, ReadContext& ctx);
};

// The table, in order of preference within one output directory: a trace (or task_time) sees the
// CMO tasks, kernel_details only the compute ones.
const std::vector<ProfileReader>& profile_readers();
const ProfileReader& reader_for(ProfileFormat f);
// The reader for a file the user names directly: by name first, then by content.
const ProfileReader& reader_for_file(const std::string& path);

// Each format's read, also reachable from text (tests, fuzzing).
void read_trace_json_path(const std::string& path, ReadContext& ctx);
void read_trace_json_string(std::string_view text, const std::string& source, ReadContext& ctx);
void read_kernel_csv_path(const std::string& path, ReadContext& ctx);
void read_kernel_csv_string(std::string_view text, const std::string& source, ReadContext& ctx);
void read_task_time_csv_path(const std::string& path, ReadContext& ctx);
void read_task_time_csv_string(std::string_view text, const std::string& source, ReadContext& ctx);
void read_msprof_db_path(const std::string& path, ReadContext& ctx);

// kernel_details / op_summary rows joined onto trace (or task_time) tasks by task id and start
// time (within 1 us): op types, shapes, step ids, and the core type of tasks an old trace calls
// "Other". Streamed: the rows are never held.
struct JoinStats {
  size_t other = 0;          // trace tasks typed "Other"
  size_t matched = 0;        // trace tasks that found their kernel_details row
  size_t other_by_name = 0;  // "Other" tasks typed from their name
};
JoinStats join_kernel_csv_path(const std::string& path, ReadContext& ctx);
JoinStats join_kernel_csv_string(std::string_view text, const std::string& source, ReadContext& ctx);
// The same, for rows already read (read_kernel_csv_*), and the typing by name alone.
JoinStats join_kernel_tasks(std::vector<ProfileTask>& tasks, const std::vector<ProfileTask>& kernel_tasks);

// Stable sort by start time through an index permutation: no second copy of the tasks.
void sort_by_start(std::vector<ProfileTask>& tasks);

}  // namespace pt
