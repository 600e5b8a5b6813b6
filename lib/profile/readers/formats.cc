// The table of profile formats (readers.h).
#include <algorithm>
#include <fstream>
#include <numeric>

#include <fmt/format.h>

#include "profile/readers/readers.h"
#include "util/error.h"

namespace pt {

namespace {

bool ends_with_ci(std::string_view s, std::string_view suffix) {
  if (s.size() < suffix.size()) return false;
  return std::equal(suffix.begin(), suffix.end(), s.end() - static_cast<long>(suffix.size()),
                    [](char a, char b) { return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b)); });
}

std::string_view first_line(std::string_view head) { return head.substr(0, head.find('\n')); }

bool trace_named(std::string_view f) { return f == "trace_view.json" || (f.starts_with("msprof_") && f.ends_with(".json")); }
bool trace_sniff(std::string_view path, std::string_view head) {
  if (ends_with_ci(path, ".json")) return true;
  const size_t first = head.find_first_not_of(" \t\r\n\xEF\xBB\xBF");
  return first != std::string_view::npos && (head[first] == '[' || head[first] == '{');
}
bool kernel_named(std::string_view f) { return f == "kernel_details.csv" || (f.starts_with("op_summary") && f.ends_with(".csv")); }
bool kernel_sniff(std::string_view, std::string_view) { return true; }  // the fallback: a CSV
bool task_time_named(std::string_view f) { return f.starts_with("task_time") && f.ends_with(".csv"); }
bool task_time_sniff(std::string_view path, std::string_view head) {
  const std::string_view header = first_line(head);
  return path.find("task_time") != std::string_view::npos ||
         (header.find("task_start(us)") != std::string_view::npos && header.find("kernel_type") != std::string_view::npos);
}
bool db_named(std::string_view f) {
  return f.ends_with(".db") && (f.starts_with("ascend_pytorch_profiler") || f.starts_with("msprof_"));
}
bool db_sniff(std::string_view path, std::string_view head) {
  return head.starts_with(std::string_view("SQLite format 3\0", 16)) || ends_with_ci(path, ".db");
}

std::string file_head(const std::string& path, size_t bytes) {
  std::ifstream in(path, std::ios::binary);
  std::string head(bytes, '\0');
  in.read(head.data(), static_cast<std::streamsize>(bytes));
  head.resize(static_cast<size_t>(in.gcount()));
  return head;
}

}  // namespace

void ReadContext::add(ProfileTask t, const std::string& source) {
  if (tasks.size() >= kMaxProfileTasks) {
    throw InputError(fmt::format("{}: more than {} device tasks: prefetch-tuner holds at most that many per profile (about {} GB); "
                                 "profile fewer steps",
                                 source, kMaxProfileTasks, kMaxProfileTasks * sizeof(ProfileTask) >> 30));
  }
  tasks.push_back(t);
}

const std::vector<ProfileReader>& profile_readers() {
  // Sniffed in this order for a file the user names: the database and the task_time header are
  // unmistakable, JSON starts with [ or {, and anything else is read as kernel_details.
  static const std::vector<ProfileReader> readers = {
      {ProfileFormat::kMsprofDb, "msprof_db", db_named, db_sniff, read_msprof_db_path},
      {ProfileFormat::kTaskTimeCsv, "task_time_csv", task_time_named, task_time_sniff, read_task_time_csv_path},
      {ProfileFormat::kTraceJson, "trace_json", trace_named, trace_sniff, read_trace_json_path},
      {ProfileFormat::kKernelCsv, "kernel_csv", kernel_named, kernel_sniff, read_kernel_csv_path},
  };
  return readers;
}

const ProfileReader& reader_for(ProfileFormat f) {
  for (const auto& r : profile_readers()) {
    if (r.format == f) return r;
  }
  return profile_readers().back();
}

const ProfileReader& reader_for_file(const std::string& path) {
  const std::string name = path.substr(path.find_last_of('/') == std::string::npos ? 0 : path.find_last_of('/') + 1);
  for (const auto& r : profile_readers()) {
    if (r.named(name)) return r;
  }
  const std::string head = file_head(path, 64 * 1024);
  for (const auto& r : profile_readers()) {
    if (r.sniff(path, head)) return r;
  }
  return profile_readers().back();
}

void sort_by_start(std::vector<ProfileTask>& tasks) {
  auto by_start = [](const ProfileTask& a, const ProfileTask& b) { return a.start_us < b.start_us; };
  if (std::is_sorted(tasks.begin(), tasks.end(), by_start)) return;
  std::vector<uint32_t> order(tasks.size());
  std::iota(order.begin(), order.end(), 0u);
  std::stable_sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) { return tasks[a].start_us < tasks[b].start_us; });
  // new[j] = old[order[j]], applied cycle by cycle.
  for (size_t i = 0; i < order.size(); ++i) {
    if (order[i] == i) continue;
    ProfileTask held = tasks[i];
    size_t j = i;
    for (;;) {
      const size_t k = order[j];
      order[j] = static_cast<uint32_t>(j);
      if (k == i) {
        tasks[j] = held;
        break;
      }
      tasks[j] = tasks[k];
      j = k;
    }
  }
}

}  // namespace pt
