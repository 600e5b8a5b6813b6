#include "profile/profile_readers.h"

#include <algorithm>
#include <atomic>
#include <exception>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <regex>
#include <thread>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include "util/error.h"

namespace pt {

namespace fs = std::filesystem;

namespace {

// ---- task lists from text (the public per-format API) ------------------------------------------

template <typename F>
TaskList read_into(TimeOrigin* shared_origin, F&& read) {
  TimeOrigin own;
  Profile p;
  TaskList out;
  p.strings = out.strings;
  ReadContext ctx{p, shared_origin ? *shared_origin : own, out.tasks};
  read(ctx);
  sort_by_start(out.tasks);
  return out;
}

// ---- directories ---------------------------------------------------------------------------------

// The profiler files directly inside one directory, by format.
struct OutputDir {
  fs::path dir;
  std::vector<std::string> traces, kernels, task_times, dbs;
  bool usable() const { return !traces.empty() || !kernels.empty() || !task_times.empty() || !dbs.empty(); }
};

OutputDir scan_output_dir(const fs::path& dir) {
  OutputDir out;
  out.dir = dir;
  std::error_code ec;
  for (fs::directory_iterator it(dir, fs::directory_options::skip_permission_denied, ec), end; !ec && it != end; it.increment(ec)) {
    std::error_code type_ec;
    if (!it->is_regular_file(type_ec)) continue;
    const std::string name = it->path().filename().string();
    const std::string path = it->path().string();
    for (const auto& r : profile_readers()) {
      if (!r.named(name)) continue;
      switch (r.format) {
        case ProfileFormat::kTraceJson: out.traces.push_back(path); break;
        case ProfileFormat::kKernelCsv: out.kernels.push_back(path); break;
        case ProfileFormat::kTaskTimeCsv: out.task_times.push_back(path); break;
        case ProfileFormat::kMsprofDb: out.dbs.push_back(path); break;
      }
      break;
    }
  }
  for (auto* v : {&out.traces, &out.kernels, &out.task_times, &out.dbs}) std::sort(v->begin(), v->end());
  return out;
}

constexpr int kMaxSearchDepth = 6;

const char* kLookedFor =
    "looked for ASCEND_PROFILER_OUTPUT/trace_view.json, kernel_details.csv or ascend_pytorch_profiler_*.db (torch_npu) and "
    "mindstudio_profiler_output/msprof_*.json, op_summary_*.csv or task_time_*.csv, or msprof_*.db (msprof), in the directory "
    "and up to 6 levels below it";

bool under(const fs::path& dir, const fs::path& root) {
  const fs::path rel = dir.lexically_relative(root);
  return !rel.empty() && *rel.begin() != ".." && rel != ".";
}

std::vector<OutputDir> find_output_dirs(const fs::path& root) {
  if (OutputDir here = scan_output_dir(root); here.usable()) return {here};
  std::vector<OutputDir> found;
  std::error_code ec;
  fs::recursive_directory_iterator it(root, fs::directory_options::skip_permission_denied, ec);
  for (fs::recursive_directory_iterator end; !ec && it != end; it.increment(ec)) {
    std::error_code type_ec;
    if (!it->is_directory(type_ec) || it->is_symlink(type_ec)) continue;
    const int level = it.depth() + 1;  // directories below root
    if (level >= kMaxSearchDepth) it.disable_recursion_pending();
    if (OutputDir d = scan_output_dir(it->path()); d.usable()) found.push_back(std::move(d));
  }
  // One run, several copies of its data: a torch_npu run keeps msprof's own output under
  // <run>/PROF_*/mindstudio_profiler_output beside <run>/ASCEND_PROFILER_OUTPUT (which is what it
  // exported), and a PROF_* directory of some CANN versions keeps per-device summary/timeline
  // files (and its msprof_*.db) beside mindstudio_profiler_output. The named output directory
  // stands for its run.
  std::vector<fs::path> torch_runs, msprof_runs;
  for (const auto& d : found) {
    if (d.dir.filename() == "ASCEND_PROFILER_OUTPUT") torch_runs.push_back(d.dir.parent_path());
    if (d.dir.filename() == "mindstudio_profiler_output") msprof_runs.push_back(d.dir.parent_path());
  }
  auto same_run_as_another = [&](const OutputDir& d) {
    const auto name = d.dir.filename();
    if (name == "ASCEND_PROFILER_OUTPUT") return false;
    for (const auto& run : torch_runs) {
      if (under(d.dir, run)) return true;
    }
    if (name == "mindstudio_profiler_output") return false;
    for (const auto& run : msprof_runs) {
      if (under(d.dir, run) || d.dir == run) return true;
    }
    return false;
  };
  found.erase(std::remove_if(found.begin(), found.end(), same_run_as_another), found.end());
  std::sort(found.begin(), found.end(), [](const OutputDir& a, const OutputDir& b) { return a.dir < b.dir; });
  return found;
}

fs::path run_dir_of(const fs::path& dir) {
  const auto name = dir.filename();
  if (name == "ASCEND_PROFILER_OUTPUT" || name == "mindstudio_profiler_output") return dir.parent_path();
  return dir;
}

// The rank of a run: profiler_info_<rank>.json (torch_npu), ascend_pytorch_profiler_<rank>.db,
// or the rank_id of device_*/info.json.* (msprof); -1 when none says.
int rank_of(const OutputDir& d, const fs::path& run) {
  static const std::regex info(R"(^profiler_info_(\d+)\.json$)"), db(R"(^ascend_pytorch_profiler_(\d+)\.db$)"),
      device_info(R"(^info\.json\.\d+$)");
  std::error_code ec;
  std::smatch m;
  for (fs::directory_iterator it(run, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (std::regex_match(name, m, info)) return std::stoi(m[1]);
  }
  for (const auto& path : d.dbs) {
    const std::string name = fs::path(path).filename().string();
    if (std::regex_match(name, m, db)) return std::stoi(m[1]);
  }
  for (fs::directory_iterator it(run, ec), end; !ec && it != end; it.increment(ec)) {
    std::error_code type_ec;
    if (!it->is_directory(type_ec) || !it->path().filename().string().starts_with("device_")) continue;
    for (fs::directory_iterator f(it->path(), ec), fend; !ec && f != fend; f.increment(ec)) {
      const std::string name = f->path().filename().string();
      if (!std::regex_match(name, device_info) || f->file_size(ec) > (1u << 20)) continue;
      std::ifstream in(f->path());
      const auto j = nlohmann::json::parse(in, nullptr, false);
      if (j.is_object() && j.contains("rank_id") && j["rank_id"].is_number_integer()) {
        const auto r = j["rank_id"].get<long long>();
        if (r >= 0 && r < (1 << 20)) return static_cast<int>(r);
      }
    }
  }
  return -1;
}

// ---- loading -------------------------------------------------------------------------------------

void note_join(Profile& profile, const JoinStats& stats, bool had_kernels) {
  if (stats.other == 0) return;
  if (!had_kernels) {
    profile.notes.push_back(fmt::format(
        "{} tasks have Task Type \"Other\" (an older trace) and there is no kernel_details.csv to take their core "
        "type from: typed by name (MatMul and convolution kernels AI_CORE, memory copies MEMCPY_ASYNC, the rest AI_VECTOR_CORE)",
        stats.other));
  } else if (stats.other_by_name > 0) {
    profile.notes.push_back(fmt::format(
        "{} of {} tasks with Task Type \"Other\" have no kernel_details row with the same task id and start: typed by "
        "name (MatMul and convolution kernels AI_CORE, memory copies MEMCPY_ASYNC, the rest AI_VECTOR_CORE)",
        stats.other_by_name, stats.other));
  }
}

std::string cmo_note(bool msprof) {
  return msprof ? "no msprof_*.json, task_time_*.csv or database: CMO tasks cannot be seen, op_summary never lists them"
                : "no trace_view.json, task_time or database: CMO tasks cannot be seen, kernel_details.csv never lists them";
}

// Tasks kernel_details has no row for (CMO, events, HCCL) take the step of the task before them.
void propagate_steps(std::vector<ProfileTask>& tasks) {
  int32_t current = -1;
  for (const auto& t : tasks) {
    if (t.step_id >= 0) {
      current = t.step_id;  // the first known step also covers the tasks before it
      break;
    }
  }
  if (current < 0) return;
  for (auto& t : tasks) {
    if (t.step_id >= 0) current = t.step_id;
    else t.step_id = current;
  }
}

JoinStats join_kernels(const OutputDir& d, ReadContext& ctx) {
  JoinStats total;
  sort_by_start(ctx.tasks);
  for (const auto& path : d.kernels) {
    const JoinStats s = join_kernel_csv_path(path, ctx);
    total.other = s.other;
    total.matched += s.matched;
    total.other_by_name = s.other_by_name;
    ctx.profile.files.push_back(path);
  }
  if (d.kernels.empty()) total = join_kernel_tasks(ctx.tasks, {});
  return total;
}

void load_output_dir(const OutputDir& d, Profile& profile, TimeOrigin& origin) {
  const bool msprof = d.dir.filename() == "mindstudio_profiler_output" ||
                      (!d.kernels.empty() && fs::path(d.kernels.front()).filename().string().starts_with("op_summary"));
  ReadContext ctx{profile, origin, profile.tasks};
  if (!d.traces.empty()) {
    for (const auto& path : d.traces) {
      read_trace_json_path(path, ctx);
      profile.files.push_back(path);
    }
    if (!profile.tasks.empty()) {
      note_join(profile, join_kernels(d, ctx), !d.kernels.empty());
      propagate_steps(profile.tasks);
      return;
    }
    profile.notes.push_back(fmt::format("{}: no \"Ascend Hardware\" tasks in the trace; read the other files instead",
                                        fmt::join(d.traces, ", ")));
  }
  if (!d.task_times.empty()) {
    for (const auto& path : d.task_times) {
      read_task_time_csv_path(path, ctx);
      profile.files.push_back(path);
    }
    join_kernels(d, ctx);  // op types, shapes and steps for the compute tasks
    propagate_steps(profile.tasks);
    return;
  }
  if (!d.dbs.empty()) {
    for (const auto& path : d.dbs) {
      read_msprof_db_path(path, ctx);
      profile.files.push_back(path);
    }
    sort_by_start(profile.tasks);
    propagate_steps(profile.tasks);
    return;
  }
  for (const auto& path : d.kernels) {
    read_kernel_csv_path(path, ctx);
    profile.files.push_back(path);
  }
  profile.notes.push_back(cmo_note(msprof));
}

void load_file(const std::string& path, Profile& profile, TimeOrigin& origin) {
  ReadContext ctx{profile, origin, profile.tasks};
  const ProfileReader& reader = reader_for_file(path);
  reader.read(path, ctx);
  profile.files.push_back(path);
  switch (reader.format) {
    case ProfileFormat::kTraceJson:
      if (profile.tasks.empty()) {
        throw InputError(fmt::format(
            "{}: no tasks of an \"Ascend Hardware\" process (complete \"X\" events of the process whose process_name "
            "metadata is \"Ascend Hardware\"): not a trace of an Ascend device?",
            path));
      }
      sort_by_start(profile.tasks);
      note_join(profile, join_kernel_tasks(profile.tasks, {}), false);
      return;
    case ProfileFormat::kKernelCsv:
      if (!profile.from_prefetch_tuner) {
        const bool msprof = fs::path(path).filename().string().starts_with("op_summary");
        profile.notes.push_back(cmo_note(msprof));
      }
      return;
    case ProfileFormat::kTaskTimeCsv:
    case ProfileFormat::kMsprofDb:
      return;
  }
}

void finish(Profile& profile) {
  if (profile.tasks.empty()) {
    throw InputError(fmt::format("{}: no device tasks in {}", profile.source, fmt::join(profile.files, ", ")));
  }
  sort_by_start(profile.tasks);
}

}  // namespace

// ---- public API ---------------------------------------------------------------------------------

TaskList read_kernel_csv(std::string_view text, const std::string& source, TimeOrigin* origin) {
  return read_into(origin, [&](ReadContext& ctx) { read_kernel_csv_string(text, source, ctx); });
}

TaskList read_task_time_csv(std::string_view text, const std::string& source, TimeOrigin* origin) {
  return read_into(origin, [&](ReadContext& ctx) { read_task_time_csv_string(text, source, ctx); });
}

TaskList read_trace_json_file(const std::string& path, TimeOrigin* origin) {
  return read_into(origin, [&](ReadContext& ctx) { read_trace_json_path(path, ctx); });
}

TaskList read_trace_json_text(std::string_view text, const std::string& source, TimeOrigin* origin) {
  return read_into(origin, [&](ReadContext& ctx) { read_trace_json_string(text, source, ctx); });
}

void join_kernel_details(TaskList& trace_tasks, const TaskList& kernel_tasks) {
  join_kernel_tasks(trace_tasks.tasks, kernel_tasks.tasks);
  if (kernel_tasks.strings != trace_tasks.strings) {
    // The joined tasks now point into the kernel rows' strings too: re-intern them into the
    // trace's pool, or they would dangle once `kernel_tasks` goes.
    for (auto& t : trace_tasks.tasks) {
      t.name = trace_tasks.strings->intern(t.name);
      t.op_type = trace_tasks.strings->intern(t.op_type);
      t.task_type = trace_tasks.strings->intern(t.task_type);
      t.input_shapes = trace_tasks.strings->intern(t.input_shapes);
      t.site = trace_tasks.strings->intern(t.site);
    }
  }
}

void join_kernel_details(std::vector<ProfileTask>& trace_tasks, const std::vector<ProfileTask>& kernel_tasks) {
  join_kernel_tasks(trace_tasks, kernel_tasks);
}

std::vector<ProfileLocation> find_profiles(const std::string& path) {
  std::error_code ec;
  const fs::file_status status = fs::status(path, ec);
  if (path.empty() || !fs::exists(status)) {
    throw InputError(fmt::format("{}: no such file or directory (expected a profiler output directory, "
                                 "trace_view.json, kernel_details.csv, op_summary_*.csv, task_time_*.csv or a profiler database)",
                                 path));
  }
  if (!fs::is_directory(status) && !fs::is_regular_file(status)) {
    // A FIFO would hang the content sniffing (and be read twice); a device never ends.
    throw InputError(fmt::format("{}: is {}, expected a profiler output directory or a regular file", path,
                                 fs::is_fifo(status) ? "a FIFO" : fs::is_character_file(status) ? "a character device"
                                 : fs::is_block_file(status)                                    ? "a block device"
                                                                                                : "not a regular file"));
  }
  if (!fs::is_directory(status)) return {ProfileLocation{path, path, -1}};
  const auto dirs = find_output_dirs(path);
  if (dirs.empty()) throw InputError(fmt::format("{}: no profile found: {}", path, kLookedFor));
  std::vector<ProfileLocation> out;
  for (const auto& d : dirs) {
    const fs::path run = run_dir_of(d.dir);
    out.push_back({d.dir.string(), run.string(), rank_of(d, run)});
  }
  // Rank order; runs that do not say take the ranks after the known ones, in path order.
  std::stable_sort(out.begin(), out.end(), [](const ProfileLocation& a, const ProfileLocation& b) {
    return (a.rank < 0 ? INT32_MAX : a.rank) < (b.rank < 0 ? INT32_MAX : b.rank);
  });
  return out;
}

Profile load_profile(const ProfileLocation& location, const std::string& source) {
  Profile profile;
  TimeOrigin origin;  // one for every file of this profile, so their times line up
  profile.source = source;
  profile.run_dir = location.run_dir;
  profile.rank = location.rank;
  std::error_code ec;
  if (fs::is_directory(location.dir, ec)) {
    load_output_dir(scan_output_dir(location.dir), profile, origin);
  } else {
    load_file(location.dir, profile, origin);
  }
  finish(profile);
  profile.time_origin_ns = origin.origin_ns();
  return profile;
}

Profile load_profile(const std::string& path) {
  const auto locations = find_profiles(path);
  if (locations.size() > 1) {
    std::string list;
    for (const auto& l : locations) list += (list.empty() ? " " : ", ") + l.dir;
    throw InputError(fmt::format("{}: holds {} profiler output directories (a cluster: analyze and calibrate read it whole); "
                                 "name one of them here:{}",
                                 path, locations.size(), list));
  }
  return load_profile(locations.front(), path);
}

ProfileSet load_profile_set(const std::string& path) {
  ProfileSet set;
  set.source = path;
  const auto locations = find_profiles(path);
  set.profiles.resize(locations.size());
  for_each_profile(locations, path, 1, [&](size_t i, Profile& p) { set.profiles[i] = std::move(p); });
  return set;
}

void for_each_profile(const std::vector<ProfileLocation>& locations, const std::string& source, int threads,
                      const std::function<void(size_t index, Profile& profile)>& use) {
  const size_t n = locations.size();
  std::atomic<size_t> next{0};
  std::atomic<bool> failed{false};
  std::exception_ptr error;
  std::mutex error_mutex;
  auto work = [&] {
    for (;;) {
      const size_t i = next.fetch_add(1);
      if (i >= n || failed) return;
      try {
        const ProfileLocation& l = locations[i];
        Profile p = load_profile(l, n == 1 ? source : l.run_dir);
        if (p.rank < 0) p.rank = static_cast<int>(i);
        use(i, p);
      } catch (...) {
        std::lock_guard<std::mutex> lock(error_mutex);
        if (!error) error = std::current_exception();
        failed = true;
        return;
      }
    }
  };
  const int count = std::clamp(threads, 1, static_cast<int>(std::max<size_t>(n, 1)));
  if (count == 1) {
    work();
  } else {
    std::vector<std::thread> pool;
    for (int t = 0; t < count; ++t) pool.emplace_back(work);
    for (auto& t : pool) t.join();
  }
  if (error) std::rethrow_exception(error);
}

}  // namespace pt
