// trace_view.json / msprof_*.json (and prefetch-tuner's --trace-json): the complete ("X") events
// of the "Ascend Hardware" process, parsed as a stream (profile/trace_stream.h). A JSON array or
// an object with "traceEvents"; "ts" as a string or a number; "Physic Stream Id" or "Stream Id".
// The collectives of the "HCCL" / "Communication" process go to Profile::collectives, each with
// its communication group (the thread "Group <id> Communication") in `site`.
#include <algorithm>
#include <deque>
#include <limits>
#include <unordered_map>

#include <fmt/format.h>

#include "profile/readers/readers.h"
#include "profile/trace_stream.h"
#include "util/error.h"
#include "util/printable.h"

namespace pt {

namespace {

// One X event as kept while the file streams past (80 bytes; its strings in the profile's pool).
struct RawTask {
  int64_t ts_ns = 0;
  double dur = 0, bytes = 0;
  int64_t pid = 0, tid = -1, stream = -1, task_id = -1;
  uint32_t name = 0, task_type = 0, site = 0;
  int32_t layer = -1;
};

bool is_hardware_process(std::string_view name) { return name == "Ascend Hardware" || name.starts_with("Ascend Hardware "); }
// As msprof-analyze's compare reads the communication lanes (trace_event_bean.py is_hccl_process_name).
bool is_communication_process(std::string_view name) { return name == "HCCL" || name == "Communication"; }

// "Group tp_0 Communication" -> "tp_0"; another name is the group as it stands.
std::string_view group_of_thread(std::string_view name) {
  if (name.starts_with("Group ") && name.ends_with(" Communication") && name.size() > 20) return name.substr(6, name.size() - 20);
  return name;
}

// Keeps the X events of the "Ascend Hardware" process(es). Process names may come after the
// events (metadata at the end of the file): events of a pid not named yet wait in a queue of
// their own, dropped as soon as the pid turns out to be another process.
class TraceCollector {
 public:
  TraceCollector(std::string source, ReadContext& ctx) : source_(std::move(source)), ctx_(ctx) { ids_.push_back({}); }

  void on_event(const TraceEventFields& e) {
    if (e.ph == 'M') {
      if (e.name == "process_name" && e.has_pid) {
        name_process(e.pid, is_hardware_process(e.arg_name)        ? Kind::kHardware
                            : is_communication_process(e.arg_name) ? Kind::kCommunication
                                                                   : Kind::kOther);
      } else if (e.name == "thread_name" && e.has_pid && e.has_tid && e.arg_name.find("Communication") != std::string_view::npos &&
                 thread_groups_.size() < kMaxGroups) {
        thread_groups_[{e.pid, e.tid}] = intern(group_of_thread(e.arg_name), "name", e);
      }
      return;
    }
    if (e.ph != 'X' || !e.has_pid) return;
    const Kind kind = kind_of(e.pid);
    if (kind == Kind::kOther) return;
    if (!e.has_ts) {
      throw InputError(fmt::format("{}: event at byte {}: a complete (\"ph\": \"X\") event without \"ts\"", source_, e.offset));
    }
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
    r.tid = e.has_tid ? e.tid : -1;
    if (kind == Kind::kHardware) {
      if (hardware_.size() >= kMaxProfileTasks) too_many();
      hardware_.push_back(r);
    } else if (kind == Kind::kCommunication) {
      if (communication_.size() >= kMaxProfileTasks) too_many();
      communication_.push_back(r);
    } else {
      pending_[e.pid].push_back(r);
      if (++pending_count_ > kMaxProfileTasks) too_many();
    }
  }

  // What the parser may skip: events neither complete nor metadata, complete ones of other processes.
  TraceEventFilter filter() {
    TraceEventFilter f;
    f.complete_and_metadata_only = true;
    f.skip_complete = [this](int64_t pid) { return kind_of(pid) == Kind::kOther; };
    return f;
  }

  // The Ascend Hardware tasks, appended; the collectives; events of pids never named are dropped.
  void finish() {
    pending_.clear();
    for (const RawTask& r : communication_) {
      ProfileTask c;
      c.name = ids_[r.name];
      c.task_type = "COMMUNICATION";
      c.start_us = ctx_.origin.relative_us(r.ts_ns);
      c.duration_us = r.dur;
      c.stream_id = r.tid;
      if (auto it = thread_groups_.find({r.pid, r.tid}); it != thread_groups_.end()) c.site = ids_[it->second];
      ctx_.profile.collectives.push_back(c);
    }
    communication_.clear();
    communication_.shrink_to_fit();
    ctx_.tasks.reserve(ctx_.tasks.size() + hardware_.size());
    while (!hardware_.empty()) {
      const RawTask& r = hardware_.front();
      ProfileTask t;
      t.task_type = ids_[r.task_type];
      t.name = r.name ? ids_[r.name] : t.task_type;
      t.start_us = ctx_.origin.relative_us(r.ts_ns);
      t.duration_us = r.dur;
      t.stream_id = r.stream;
      t.task_id = r.task_id;
      t.layer = r.layer;
      if (r.site) {
        t.site = ids_[r.site];
        ctx_.profile.from_prefetch_tuner = true;
      }
      if (r.layer >= 0 || r.bytes > 0) ctx_.profile.from_prefetch_tuner = true;
      t.prefetch_bytes = r.bytes;
      ctx_.add(t, source_);
      hardware_.pop_front();  // frees the queue block by block while the result grows
    }
  }

 private:
  enum class Kind : uint8_t { kUnknown, kHardware, kCommunication, kOther };
  static constexpr size_t kMaxGroups = 4096;  // named communication lanes kept

  [[noreturn]] void too_many() const {
    throw InputError(fmt::format("{}: more than {} device tasks: prefetch-tuner holds at most that many per profile (about {} GB); "
                                 "profile fewer steps",
                                 source_, kMaxProfileTasks, kMaxProfileTasks * 128 >> 30));
  }

  // Reports keep these strings (and write them as JSON): each new one must be valid UTF-8.
  uint32_t intern(std::string_view s, const char* key, const TraceEventFields& e) {
    if (s.empty()) return 0;
    if (auto it = local_.find(s); it != local_.end()) return it->second;
    if (invalid_utf8_at(s) != std::string_view::npos) {
      throw InputError(fmt::format("{}: event at byte {}: \"{}\" is not valid UTF-8", source_, e.offset, key));
    }
    const std::string_view stored = ctx_.profile.strings->intern(s);
    const auto id = static_cast<uint32_t>(ids_.size());
    ids_.push_back(stored);
    local_.emplace(stored, id);
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

  void name_process(int64_t pid, Kind k) {
    kinds_[pid] = k;
    cache_valid_ = false;
    if (auto it = pending_.find(pid); it != pending_.end()) {
      pending_count_ -= it->second.size();
      if (k == Kind::kHardware) hardware_.insert(hardware_.end(), it->second.begin(), it->second.end());
      if (k == Kind::kCommunication) communication_.insert(communication_.end(), it->second.begin(), it->second.end());
      pending_.erase(it);
    }
  }
  struct PairHash {
    size_t operator()(const std::pair<int64_t, int64_t>& p) const noexcept {
      return std::hash<int64_t>{}(p.first) * 31 + std::hash<int64_t>{}(p.second);
    }
  };

  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
  };

  std::string source_;
  ReadContext& ctx_;
  std::vector<std::string_view> ids_;  // id -> string in the profile's pool (0: empty)
  std::unordered_map<std::string_view, uint32_t, Hash> local_;
  std::unordered_map<int64_t, Kind> kinds_;
  std::unordered_map<int64_t, std::deque<RawTask>> pending_;
  size_t pending_count_ = 0;
  std::deque<RawTask> hardware_;
  std::vector<RawTask> communication_;
  std::unordered_map<std::pair<int64_t, int64_t>, uint32_t, PairHash> thread_groups_;  // (pid, tid) -> group id
  bool cache_valid_ = false;
  int64_t cache_pid_ = 0;
  Kind cache_kind_ = Kind::kUnknown;
};

}  // namespace

void read_trace_json_path(const std::string& path, ReadContext& ctx) {
  TraceCollector collector(path, ctx);
  const TraceEventFilter filter = collector.filter();
  parse_trace_file(path, [&](const TraceEventFields& e) { collector.on_event(e); }, kDefaultTraceChunkBytes, &filter);
  collector.finish();
}

void read_trace_json_string(std::string_view text, const std::string& source, ReadContext& ctx) {
  TraceCollector collector(source, ctx);
  const TraceEventFilter filter = collector.filter();
  parse_trace_text(text, source, [&](const TraceEventFields& e) { collector.on_event(e); }, &filter);
  collector.finish();
}

}  // namespace pt
