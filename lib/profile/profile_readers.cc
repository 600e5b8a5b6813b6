#include "profile/profile_readers.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <deque>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <numeric>
#include <optional>
#include <unordered_map>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "util/csv.h"
#include "profile/trace_stream.h"
#include "util/error.h"
#include "util/file_io.h"
#include "util/printable.h"

namespace pt {

namespace fs = std::filesystem;

namespace {

// ---- small helpers ------------------------------------------------------------------------

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

bool is_na(std::string_view s) {
  s = trim(s);
  return s.empty() || s == "N/A" || s == "NA" || s == "n/a";
}

std::string field_of(const CsvRow& row, std::optional<size_t> column) {
  if (!column || *column >= row.fields.size()) return {};
  return std::string(trim(row.fields[*column]));
}

// An integer column: N/A or empty (HCCL rows, step ops) give -1.
int64_t int_field(const CsvTable& table, const CsvRow& row, std::optional<size_t> column) {
  if (!column || *column >= row.fields.size() || is_na(row.fields[*column])) return -1;
  return std::llround(csv_number(table, row, *column));
}

// A start or stop time, parsed exactly (see TimeOrigin); msprof's trailing tab is tolerated.
double timestamp(const CsvTable& table, const CsvRow& row, size_t column, TimeOrigin& origin) {
  int64_t ns = 0;
  if (column < row.fields.size() && parse_timestamp_ns(row.fields[column], ns)) return origin.relative_us(ns);
  csv_number(table, row, column);  // throws, naming file, line and column, when it is no number at all
  throw InputError(fmt::format("{}: line {}: column \"{}\": timestamp {} is out of range (microseconds since the epoch)",
                               table.source, row.line, table.header[column], trim(row.fields[column])));
}

// A duration column, which must not be negative.
double duration(const CsvTable& table, const CsvRow& row, size_t column) {
  const double d = csv_number(table, row, column);
  if (d < 0) {
    throw InputError(fmt::format("{}: line {}: column \"{}\": negative duration {}", table.source, row.line,
                                 table.header[column], d));
  }
  return d;
}

// kernel_details writes shapes as """72,5120;2560,5120""": after CSV unquoting the value still
// carries literal quotes. Shapes never contain quotes themselves, so drop them all.
std::string unquote_shapes(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    if (c != '"') out += c;
  }
  std::string_view t = trim(out);
  if (is_na(t)) return {};
  return std::string(t);
}

bool contains_ci(std::string_view haystack, std::string_view needle) {
  auto lower = [](char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; };
  return std::search(haystack.begin(), haystack.end(), needle.begin(), needle.end(),
                     [&](char a, char b) { return lower(a) == lower(b); }) != haystack.end();
}

bool has_our_columns(const std::vector<ProfileTask>& tasks) {
  return std::any_of(tasks.begin(), tasks.end(),
                     [](const ProfileTask& t) { return t.layer >= 0 || !t.site.empty() || t.prefetch_bytes > 0; });
}

// Stable sort by start time through an index permutation: no second copy of the tasks.
void sort_by_start(std::vector<ProfileTask>& tasks) {
  auto by_start = [](const ProfileTask& a, const ProfileTask& b) { return a.start_us < b.start_us; };
  if (std::is_sorted(tasks.begin(), tasks.end(), by_start)) return;
  std::vector<size_t> order(tasks.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return tasks[a].start_us < tasks[b].start_us; });
  // new[j] = old[order[j]], applied cycle by cycle.
  for (size_t i = 0; i < order.size(); ++i) {
    if (order[i] == i) continue;
    ProfileTask held = std::move(tasks[i]);
    size_t j = i;
    for (;;) {
      const size_t k = order[j];
      order[j] = j;
      if (k == i) {
        tasks[j] = std::move(held);
        break;
      }
      tasks[j] = std::move(tasks[k]);
      j = k;
    }
  }
}

// ---- trace collection ---------------------------------------------------------------------

struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
};

// Interns the repeated strings of a trace (op names, task types, sites).
class StringPool {
 public:
  StringPool() { intern(""); }
  uint32_t intern(std::string_view s) {
    if (auto it = ids_.find(s); it != ids_.end()) return it->second;
    const auto id = static_cast<uint32_t>(strings_.size());
    auto [it, inserted] = ids_.emplace(std::string(s), id);
    strings_.push_back(&it->first);
    return id;
  }
  const std::string& str(uint32_t id) const { return *strings_[id]; }
  size_t size() const { return strings_.size(); }

 private:
  std::unordered_map<std::string, uint32_t, StringHash, std::equal_to<>> ids_;
  std::vector<const std::string*> strings_;
};

// One X event as kept while the file streams past (64 bytes).
struct RawTask {
  int64_t ts_ns = 0;
  double dur = 0, bytes = 0;
  int64_t pid = 0, stream = -1, task_id = -1;
  uint32_t name = 0, task_type = 0, site = 0;
  int32_t layer = -1;
};

bool is_hardware_process(std::string_view name) {
  return name == "Ascend Hardware" || name.starts_with("Ascend Hardware ");
}

// Keeps the X events of the "Ascend Hardware" process(es). Process names may come after the
// events (metadata at the end of the file): events of a pid not named yet wait in a queue of
// their own, dropped as soon as the pid turns out to be another process.
class TraceCollector {
 public:
  explicit TraceCollector(std::string source) : source_(std::move(source)) {}

  void on_event(const TraceEventFields& e) {
    if (e.ph == 'M') {
      if (e.name == "process_name" && e.has_pid) name_process(e.pid, is_hardware_process(e.arg_name));
      return;
    }
    if (e.ph != 'X' || !e.has_pid) return;
    if (!e.has_ts) {
      throw InputError(fmt::format("{}: event at byte {}: a complete (\"ph\": \"X\") event without \"ts\"", source_,
                                   e.offset));
    }
    const Kind kind = kind_of(e.pid);
    if (kind == Kind::kOther) return;
    if (e.dur < 0) throw InputError(fmt::format("{}: event at byte {}: negative \"dur\" {}", source_, e.offset, e.dur));
    RawTask r;
    r.ts_ns = e.ts_ns;
    r.dur = e.dur;
    r.bytes = e.prefetch_bytes;
    r.pid = e.pid;
    r.stream = e.physic_stream_id >= 0 ? e.physic_stream_id : e.stream_id >= 0 ? e.stream_id : e.has_tid ? e.tid : -1;
    r.task_id = e.task_id;
    r.name = intern(e.name, "name", e);
    r.task_type = intern(e.task_type, "Task Type", e);
    r.site = e.site.empty() ? 0 : intern(e.site, "Site", e);
    r.layer = static_cast<int32_t>(std::clamp<int64_t>(e.layer, -1, std::numeric_limits<int32_t>::max()));
    if (kind == Kind::kHardware) hardware_.push_back(r);
    else pending_[e.pid].push_back(r);
  }

  // The Ascend Hardware tasks, sorted by start; events of pids never named are dropped.
  std::vector<ProfileTask> finish(TimeOrigin& origin) {
    pending_.clear();
    std::vector<ProfileTask> tasks;
    tasks.reserve(hardware_.size());
    while (!hardware_.empty()) {
      const RawTask& r = hardware_.front();
      ProfileTask t;
      t.task_type = pool_.str(r.task_type);
      t.name = r.name ? pool_.str(r.name) : t.task_type;
      t.start_us = origin.relative_us(r.ts_ns);
      t.duration_us = r.dur;
      t.stream_id = r.stream;
      t.task_id = r.task_id;
      t.layer = r.layer;
      if (r.site) t.site = pool_.str(r.site);
      t.prefetch_bytes = r.bytes;
      tasks.push_back(std::move(t));
      hardware_.pop_front();  // frees the queue block by block while the result grows
    }
    sort_by_start(tasks);
    return tasks;
  }

 private:
  enum class Kind : uint8_t { kUnknown, kHardware, kOther };

  // Reports keep these strings (and write them as JSON): each new one must be valid UTF-8.
  uint32_t intern(std::string_view s, const char* key, const TraceEventFields& e) {
    const size_t known = pool_.size();
    const uint32_t id = pool_.intern(s);
    if (pool_.size() != known && invalid_utf8_at(s) != std::string_view::npos) {
      throw InputError(fmt::format("{}: event at byte {}: \"{}\" is not valid UTF-8", source_, e.offset, key));
    }
    return id;
  }

  Kind kind_of(int64_t pid) {
    if (cache_valid_ && pid == cache_pid_) return cache_kind_;
    auto it = kinds_.find(pid);
    const Kind k = it == kinds_.end() ? Kind::kUnknown : it->second;
    cache_valid_ = true;
    cache_pid_ = pid;
    cache_kind_ = k;
    return k;
  }

  void name_process(int64_t pid, bool hardware) {
    const Kind k = hardware ? Kind::kHardware : Kind::kOther;
    kinds_[pid] = k;
    cache_valid_ = false;
    if (auto it = pending_.find(pid); it != pending_.end()) {
      if (hardware) hardware_.insert(hardware_.end(), it->second.begin(), it->second.end());
      pending_.erase(it);
    }
  }

  std::string source_;
  StringPool pool_;
  std::unordered_map<int64_t, Kind> kinds_;
  std::unordered_map<int64_t, std::deque<RawTask>> pending_;
  std::deque<RawTask> hardware_;
  bool cache_valid_ = false;
  int64_t cache_pid_ = 0;
  Kind cache_kind_ = Kind::kUnknown;
};

// ---- join ---------------------------------------------------------------------------------

struct JoinStats {
  size_t other = 0;          // trace tasks typed "Other"
  size_t matched = 0;        // trace tasks that found their kernel_details row
  size_t other_by_name = 0;  // "Other" tasks typed from their name
};

// MatMul, Matmul, BatchMatMul, GroupedMatmul, QuantBatchMatmul... An aclnn kernel name is
// aclnn<Api>_<Impl>_<Kernel>: only the kernel part counts, since aclnnMm_MatMulCommon_MemSet is
// the MemSet (AI_VECTOR_CORE in kernel_details) that a MatMul API launches, not a MatMul.
bool is_matmul_name(std::string_view name) {
  if (name.starts_with("aclnn")) {
    const size_t last = name.rfind('_');
    if (last != std::string_view::npos && name.find('_') != last) name = name.substr(last + 1);
  }
  return contains_ci(name, "matmul");
}

// Tasks kernel_details has no row for (CMO, events, HCCL) take the step of the task before them.
void propagate_steps(std::vector<ProfileTask>& tasks) {
  sort_by_start(tasks);
  int64_t current = -1;
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

JoinStats join(std::vector<ProfileTask>& trace_tasks, const std::vector<ProfileTask>& kernel_tasks) {
  constexpr double kToleranceUs = 1.0 + 1e-6;
  std::unordered_map<int64_t, std::vector<uint32_t>> by_task_id;
  by_task_id.reserve(kernel_tasks.size());
  for (size_t i = 0; i < kernel_tasks.size(); ++i) {
    if (kernel_tasks[i].task_id >= 0) by_task_id[kernel_tasks[i].task_id].push_back(static_cast<uint32_t>(i));
  }
  for (auto& [id, rows] : by_task_id) {
    std::sort(rows.begin(), rows.end(),
              [&](uint32_t a, uint32_t b) { return kernel_tasks[a].start_us < kernel_tasks[b].start_us; });
  }
  JoinStats stats;
  for (ProfileTask& t : trace_tasks) {
    const bool other = t.task_type == "Other";
    const bool untyped = other || t.task_type.empty();
    if (other) ++stats.other;
    // CMO, EVENT_* and other runtime tasks never have a kernel_details row: a task id reused on
    // another stream must not give them an op type.
    if (!untyped && (!t.op_type.empty() || !(t.is_compute() || t.is_communication()))) continue;
    const ProfileTask* best = nullptr;
    if (t.task_id >= 0) {
      if (auto it = by_task_id.find(t.task_id); it != by_task_id.end()) {
        const auto& rows = it->second;
        auto lo = std::lower_bound(rows.begin(), rows.end(), t.start_us - kToleranceUs,
                                   [&](uint32_t r, double v) { return kernel_tasks[r].start_us < v; });
        double best_gap = 0;
        bool best_same_name = false;
        for (; lo != rows.end() && kernel_tasks[*lo].start_us <= t.start_us + kToleranceUs; ++lo) {
          const ProfileTask& k = kernel_tasks[*lo];
          const double gap = std::abs(k.start_us - t.start_us);
          const bool same_name = k.name == t.name;
          if (!best || (same_name && !best_same_name) || (same_name == best_same_name && gap < best_gap)) {
            best = &k;
            best_gap = gap;
            best_same_name = same_name;
          }
        }
      }
    }
    if (best) {
      ++stats.matched;
      if (untyped) t.task_type = best->task_type;
      if (t.op_type.empty()) t.op_type = best->op_type;
      if (t.input_shapes.empty()) t.input_shapes = best->input_shapes;
      if (t.step_id < 0) t.step_id = best->step_id;
    } else if (other) {
      t.task_type = is_matmul_name(t.name) ? "AI_CORE" : "AI_VECTOR_CORE";
      ++stats.other_by_name;
    }
  }
  return stats;
}

// ---- files and directories ------------------------------------------------------------------

enum class FileKind { kTrace, kKernelCsv, kTaskTimeCsv };

bool ends_with_ci(std::string_view s, std::string_view suffix) {
  if (s.size() < suffix.size()) return false;
  return contains_ci(s.substr(s.size() - suffix.size()), suffix);
}

// The first bytes of a file (content sniffing).
std::string file_head(const std::string& path, size_t bytes) {
  std::ifstream in(path, std::ios::binary);
  std::string head(bytes, '\0');
  in.read(head.data(), static_cast<std::streamsize>(bytes));
  head.resize(static_cast<size_t>(in.gcount()));
  return head;
}

FileKind classify_file(const std::string& path) {
  const std::string name = fs::path(path).filename().string();
  if (ends_with_ci(name, ".json")) return FileKind::kTrace;
  if (name.find("task_time") != std::string::npos) return FileKind::kTaskTimeCsv;
  const std::string head = file_head(path, 64 * 1024);
  const size_t first = head.find_first_not_of(" \t\r\n");
  if (first != std::string::npos && (head[first] == '[' || head[first] == '{')) return FileKind::kTrace;
  const std::string header = head.substr(0, head.find('\n'));
  if (header.find("task_start(us)") != std::string::npos && header.find("kernel_type") != std::string::npos) {
    return FileKind::kTaskTimeCsv;
  }
  return FileKind::kKernelCsv;
}

bool csv_header_has(std::string_view text, std::string_view column) {
  const std::string_view header = text.substr(0, text.find('\n'));
  return header.find(column) != std::string_view::npos;
}

// The profiler files directly inside one directory.
struct OutputDir {
  fs::path dir;
  std::vector<std::string> traces;      // trace_view.json, msprof_*.json
  std::vector<std::string> kernels;     // kernel_details.csv, op_summary_*.csv
  std::vector<std::string> task_times;  // task_time*.csv
  bool usable() const { return !traces.empty() || !kernels.empty() || !task_times.empty(); }
};

OutputDir scan_output_dir(const fs::path& dir) {
  OutputDir out;
  out.dir = dir;
  std::error_code ec;
  for (fs::directory_iterator it(dir, fs::directory_options::skip_permission_denied, ec), end; !ec && it != end;
       it.increment(ec)) {
    std::error_code type_ec;
    if (!it->is_regular_file(type_ec)) continue;
    const std::string name = it->path().filename().string();
    const std::string path = it->path().string();
    if (name == "trace_view.json" || (name.starts_with("msprof_") && name.ends_with(".json"))) {
      out.traces.push_back(path);
    } else if (name == "kernel_details.csv" || (name.starts_with("op_summary") && name.ends_with(".csv"))) {
      out.kernels.push_back(path);
    } else if (name.starts_with("task_time") && name.ends_with(".csv")) {
      out.task_times.push_back(path);
    }
  }
  std::sort(out.traces.begin(), out.traces.end());
  std::sort(out.kernels.begin(), out.kernels.end());
  std::sort(out.task_times.begin(), out.task_times.end());
  return out;
}

constexpr int kMaxSearchDepth = 6;

const char* kLookedFor =
    "looked for ASCEND_PROFILER_OUTPUT/trace_view.json or kernel_details.csv (torch_npu) and "
    "mindstudio_profiler_output/msprof_*.json, op_summary_*.csv or task_time_*.csv (msprof), in the directory and "
    "up to 6 levels below it";

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
  // files beside mindstudio_profiler_output. The named output directory stands for its run.
  auto under = [](const fs::path& dir, const fs::path& root) {
    const fs::path rel = dir.lexically_relative(root);
    return !rel.empty() && *rel.begin() != ".." && rel != ".";
  };
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
      if (under(d.dir, run)) return true;
    }
    return false;
  };
  found.erase(std::remove_if(found.begin(), found.end(), same_run_as_another), found.end());
  std::sort(found.begin(), found.end(), [](const OutputDir& a, const OutputDir& b) { return a.dir < b.dir; });
  return found;
}

std::vector<ProfileTask> read_kernel_files(const std::vector<std::string>& paths, Profile& profile, TimeOrigin& origin) {
  std::vector<ProfileTask> tasks;
  for (const auto& path : paths) {
    auto part = read_kernel_csv(read_text_file(path, kMaxProfileFileBytes), path, &origin);
    tasks.insert(tasks.end(), std::make_move_iterator(part.begin()), std::make_move_iterator(part.end()));
    profile.files.push_back(path);
  }
  return tasks;
}

void note_join(Profile& profile, const JoinStats& stats, bool had_kernels) {
  if (stats.other == 0) return;
  if (!had_kernels) {
    profile.notes.push_back(fmt::format(
        "{} tasks have Task Type \"Other\" (an older trace) and there is no kernel_details.csv to take their core "
        "type from: typed by name (MatMul kernels AI_CORE, the rest AI_VECTOR_CORE)",
        stats.other));
  } else if (stats.other_by_name > 0) {
    profile.notes.push_back(fmt::format(
        "{} of {} tasks with Task Type \"Other\" have no kernel_details row with the same task id and start: typed by "
        "name (MatMul kernels AI_CORE, the rest AI_VECTOR_CORE)",
        stats.other_by_name, stats.other));
  }
}

std::string cmo_note(bool msprof) {
  return msprof ? "no msprof_*.json or task_time_*.csv: CMO tasks cannot be seen, op_summary never lists them"
                : "no trace_view.json or task_time: CMO tasks cannot be seen, kernel_details.csv never lists them";
}

void load_output_dir(const OutputDir& d, Profile& profile, TimeOrigin& origin) {
  const bool msprof = d.dir.filename() == "mindstudio_profiler_output" ||
                      (d.kernels.size() > 0 && fs::path(d.kernels.front()).filename().string().starts_with("op_summary"));
  if (!d.traces.empty()) {
    std::vector<ProfileTask> tasks;
    for (const auto& path : d.traces) {
      auto part = read_trace_json_file(path, &origin);
      tasks.insert(tasks.end(), std::make_move_iterator(part.begin()), std::make_move_iterator(part.end()));
      profile.files.push_back(path);
    }
    if (!tasks.empty()) {
      const auto kernels = read_kernel_files(d.kernels, profile, origin);
      note_join(profile, join(tasks, kernels), !d.kernels.empty());
      propagate_steps(tasks);
      profile.from_prefetch_tuner = has_our_columns(tasks);
      profile.tasks = std::move(tasks);
      return;
    }
    profile.notes.push_back(fmt::format("{}: no \"Ascend Hardware\" tasks in the trace; read the CSV files instead",
                                        fmt::join(d.traces, ", ")));
  }
  if (!d.task_times.empty()) {
    std::vector<ProfileTask> tasks;
    for (const auto& path : d.task_times) {
      auto part = read_task_time_csv(read_text_file(path, kMaxProfileFileBytes), path, &origin);
      tasks.insert(tasks.end(), std::make_move_iterator(part.begin()), std::make_move_iterator(part.end()));
      profile.files.push_back(path);
    }
    const auto kernels = read_kernel_files(d.kernels, profile, origin);
    join(tasks, kernels);  // op types, shapes and steps for the compute tasks
    propagate_steps(tasks);
    profile.tasks = std::move(tasks);
    return;
  }
  profile.tasks = read_kernel_files(d.kernels, profile, origin);
  profile.notes.push_back(cmo_note(msprof));
}

void load_file(const std::string& path, Profile& profile, TimeOrigin& origin) {
  switch (classify_file(path)) {
    case FileKind::kTrace: {
      profile.tasks = read_trace_json_file(path, &origin);
      profile.files.push_back(path);
      if (profile.tasks.empty()) {
        throw InputError(fmt::format(
            "{}: no tasks of an \"Ascend Hardware\" process (complete \"X\" events of the process whose process_name "
            "metadata is \"Ascend Hardware\"): not a trace of an Ascend device?",
            path));
      }
      note_join(profile, join(profile.tasks, {}), false);
      profile.from_prefetch_tuner = has_our_columns(profile.tasks);
      return;
    }
    case FileKind::kTaskTimeCsv:
      profile.tasks = read_task_time_csv(read_text_file(path, kMaxProfileFileBytes), path, &origin);
      profile.files.push_back(path);
      return;
    case FileKind::kKernelCsv: {
      const std::string text = read_text_file(path, kMaxProfileFileBytes);
      profile.tasks = read_kernel_csv(text, path, &origin);
      profile.files.push_back(path);
      profile.from_prefetch_tuner = csv_header_has(text, "Prefetch Bytes");
      if (!profile.from_prefetch_tuner) profile.notes.push_back(cmo_note(csv_header_has(text, "Op Name")));
      return;
    }
  }
}

}  // namespace

// ---- public API ---------------------------------------------------------------------------

std::vector<ProfileTask> read_kernel_csv(std::string_view text, const std::string& source, TimeOrigin* shared_origin) {
  TimeOrigin own;
  TimeOrigin& origin = shared_origin ? *shared_origin : own;
  const CsvTable table = parse_csv(text, source);
  const size_t c_name = table.require_column({"Name", "Op Name"});
  const size_t c_core = table.require_column({"Accelerator Core", "Task Type"});
  const size_t c_start = table.require_column({"Start Time(us)", "Task Start Time(us)"});
  const size_t c_dur = table.require_column({"Duration(us)", "Task Duration(us)"});
  auto optional_column = [&](std::initializer_list<std::string_view> names) -> std::optional<size_t> {
    for (auto n : names) {
      if (auto c = table.column(n)) return c;
    }
    return std::nullopt;
  };
  const auto c_type = optional_column({"Type", "OP Type"});
  const auto c_stream = optional_column({"Stream ID", "Stream Id"});
  const auto c_task = optional_column({"Task ID", "Task Id"});
  const auto c_step = optional_column({"Step Id", "Step ID"});
  const auto c_shapes = optional_column({"Input Shapes"});
  // prefetch-tuner's --timeline-csv: the kernel_details names plus its own columns.
  const bool ours = table.column("Prefetch Bytes").has_value();
  const auto c_layer = ours ? table.column("Layer") : std::nullopt;
  const auto c_site = ours ? table.column("Site") : std::nullopt;
  const auto c_bytes = table.column("Prefetch Bytes");

  std::vector<ProfileTask> tasks;
  tasks.reserve(table.rows.size());
  for (const CsvRow& row : table.rows) {
    ProfileTask t;
    t.name = field_of(row, c_name);
    t.op_type = field_of(row, c_type);
    if (is_na(t.op_type)) t.op_type.clear();
    t.task_type = field_of(row, c_core);
    if (ours && t.task_type == "EVENT") t.task_type = t.op_type;  // EVENT_RECORD / EVENT_WAIT, as in the trace
    t.start_us = timestamp(table, row, c_start, origin);
    t.duration_us = duration(table, row, c_dur);
    t.stream_id = int_field(table, row, c_stream);
    t.task_id = int_field(table, row, c_task);
    t.step_id = int_field(table, row, c_step);
    if (c_shapes) t.input_shapes = unquote_shapes(field_of(row, c_shapes));
    if (ours) {
      t.layer = static_cast<int>(int_field(table, row, c_layer));
      t.site = field_of(row, c_site);
      if (c_bytes && *c_bytes < row.fields.size() && !is_na(row.fields[*c_bytes])) {
        t.prefetch_bytes = csv_number(table, row, *c_bytes);
      }
    }
    tasks.push_back(std::move(t));
  }
  sort_by_start(tasks);
  return tasks;
}

std::vector<ProfileTask> read_task_time_csv(std::string_view text, const std::string& source, TimeOrigin* shared_origin) {
  TimeOrigin own;
  TimeOrigin& origin = shared_origin ? *shared_origin : own;
  const CsvTable table = parse_csv(text, source);
  const size_t c_name = table.require_column({"kernel_name"});
  const size_t c_type = table.require_column({"kernel_type"});
  const size_t c_stream = table.require_column({"stream_id"});
  const size_t c_task = table.require_column({"task_id"});
  const size_t c_start = table.require_column({"task_start(us)"});
  const auto c_time = table.column("task_time(us)");
  const auto c_stop = table.column("task_stop(us)");
  if (!c_time && !c_stop) table.require_column({"task_time(us)", "task_stop(us)"});  // throws, naming both

  std::vector<ProfileTask> tasks;
  tasks.reserve(table.rows.size());
  for (const CsvRow& row : table.rows) {
    ProfileTask t;
    t.task_type = field_of(row, c_type);
    t.name = field_of(row, c_name);
    if (is_na(t.name)) t.name = t.task_type;  // CMO, EVENT_RECORD ... have no kernel name
    t.start_us = timestamp(table, row, c_start, origin);
    t.duration_us = c_time ? duration(table, row, *c_time) : timestamp(table, row, *c_stop, origin) - t.start_us;
    if (t.duration_us < 0) {
      throw InputError(fmt::format("{}: line {}: task_stop(us) is before task_start(us)", source, row.line));
    }
    t.stream_id = int_field(table, row, c_stream);
    t.task_id = int_field(table, row, c_task);
    tasks.push_back(std::move(t));
  }
  sort_by_start(tasks);
  return tasks;
}

std::vector<ProfileTask> read_trace_json_file(const std::string& path, TimeOrigin* shared_origin) {
  TimeOrigin own;
  TraceCollector collector(path);
  parse_trace_file(path, [&](const TraceEventFields& e) { collector.on_event(e); });
  return collector.finish(shared_origin ? *shared_origin : own);
}

std::vector<ProfileTask> read_trace_json_text(std::string_view text, const std::string& source, TimeOrigin* shared_origin) {
  TimeOrigin own;
  TraceCollector collector(source);
  parse_trace_text(text, source, [&](const TraceEventFields& e) { collector.on_event(e); });
  return collector.finish(shared_origin ? *shared_origin : own);
}

void join_kernel_details(std::vector<ProfileTask>& trace_tasks, const std::vector<ProfileTask>& kernel_tasks) {
  join(trace_tasks, kernel_tasks);
}

Profile load_profile(const std::string& path) {
  Profile profile;
  TimeOrigin origin;  // one for every file of this profile, so their times line up
  profile.source = path;
  std::error_code ec;
  const fs::file_status status = fs::status(path, ec);
  if (path.empty() || !fs::exists(status)) {
    throw InputError(fmt::format("{}: no such file or directory (expected a profiler output directory, "
                                 "trace_view.json, kernel_details.csv, op_summary_*.csv or task_time_*.csv)",
                                 path));
  }
  if (!fs::is_directory(status) && !fs::is_regular_file(status)) {
    // A FIFO would hang the content sniffing (and be read twice); a device never ends.
    throw InputError(fmt::format("{}: is {}, expected a profiler output directory or a regular file", path,
                                 fs::is_fifo(status) ? "a FIFO" : fs::is_character_file(status) ? "a character device"
                                 : fs::is_block_file(status)                                    ? "a block device"
                                                                                                : "not a regular file"));
  }
  if (fs::is_directory(status)) {
    const auto dirs = find_output_dirs(path);
    if (dirs.empty()) throw InputError(fmt::format("{}: no profile found: {}", path, kLookedFor));
    if (dirs.size() > 1) {
      std::string list;
      for (const auto& d : dirs) list += (list.empty() ? " " : ", ") + d.dir.string();
      throw InputError(fmt::format("{}: holds {} profiler output directories; name one of them:{}", path, dirs.size(),
                                   list));
    }
    load_output_dir(dirs.front(), profile, origin);
  } else {
    load_file(path, profile, origin);
  }
  if (profile.tasks.empty()) {
    throw InputError(fmt::format("{}: no device tasks in {}", path, fmt::join(profile.files, ", ")));
  }
  sort_by_start(profile.tasks);
  profile.time_origin_ns = origin.origin_ns();
  return profile;
}

}  // namespace pt
