#pragma once
// A profiler run reduced to what analyze and calibrate need: every device task with its stream,
// core type and time. Filled by the readers in profile_readers.h from any of the formats the
// Ascend profilers write (torch_npu ASCEND_PROFILER_OUTPUT, msprof mindstudio_profiler_output,
// their SQLite exports) or from prefetch-tuner's own --timeline-csv / --trace-json.
//
// Memory is a stated bound of the input: a task is 128 bytes, its strings are interned once per
// profile (op names, types and shapes repeat every layer), and the readers stream their files.
#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

namespace pt {

// Interned strings with stable addresses: a view handed out stays valid as long as the pool.
class StringPool {
 public:
  StringPool() = default;
  StringPool(const StringPool&) = delete;
  StringPool& operator=(const StringPool&) = delete;
  std::string_view intern(std::string_view s);
  size_t size() const { return index_.size(); }
  size_t bytes() const { return bytes_; }

 private:
  struct Hash {
    size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
  };
  std::unordered_set<std::string_view, Hash> index_;
  // The strings met last, by a cheap hash of their length and ends: profiles repeat a few hundred
  // names row after row, and a hit skips the full hash and the set's bucket walk.
  static constexpr size_t kRecent = 1024;
  std::array<std::string_view, kRecent> recent_{};
  std::vector<std::unique_ptr<char[]>> blocks_;
  size_t used_ = 0, capacity_ = 0, bytes_ = 0;
};

struct ProfileTask {
  // Views into the profile's StringPool (or string literals).
  std::string_view name;          // op name ("aclnnMatmul_MatMulCommon_MatMulV2"), or "CMO" / "EVENT_WAIT" ...
  std::string_view op_type;       // kernel_details "Type" ("MatMulV2"); empty when the source has none (trace only)
  std::string_view task_type;     // "Accelerator Core" / "Task Type": AI_CORE, AI_VECTOR_CORE, MIX_AIC, MIX_AIV, AI_CPU,
                                  // HCCL, COMMUNICATION, CMO, EVENT_RECORD, EVENT_WAIT, CAPTURE_WAIT, SDMA_SQE, Other ...
  std::string_view input_shapes;  // kernel_details "Input Shapes", unquoted ("72,5120;2560,5120")
  std::string_view site;          // prefetch-tuner's own exports only
  double start_us = 0;            // relative to the profile's time origin
  double duration_us = 0;
  double prefetch_bytes = 0;      // prefetch-tuner's own exports only
  int64_t stream_id = -1;         // physical stream id when the source has one (trace tid), else logical
  int64_t task_id = -1;
  int32_t step_id = -1;           // kernel_details "Step Id"
  int32_t layer = -1;             // prefetch-tuner's own exports only

  double end_us() const { return start_us + duration_us; }
  // The op type, or when the source gives none (a trace alone), read from the name: torch_npu
  // kernel names end in the op type ("aclnnMatmul_MatMulCommon_MatMulV2"), HCCL names carry
  // sequence suffixes ("hcom_allReduce__445_0", "hcom_allReduce__445_0_1").
  std::string_view kind() const;
  bool is_cmo() const { return task_type == "CMO" || name == "CMO"; }
  // AI_CORE, AI_VECTOR_CORE, MIX_AIC, MIX_AIV, AI_CPU, FFTS_PLUS: compute as msprof-analyze counts it.
  bool is_compute() const;
  bool is_cube() const;    // AI_CORE, MIX_AIC
  bool is_vector() const;  // AI_VECTOR_CORE, MIX_AIV
  bool is_communication() const;  // HCCL, COMMUNICATION
  // The fork and join of a prefetch: EVENT_RECORD / EVENT_WAIT as the runtime names them, their
  // STARS spellings EVENT_RECORD_SQE / EVENT_WAIT_SQE, and CAPTURE_RECORD / CAPTURE_WAIT, the
  // event tasks of a captured ACL graph (vllm-ascend decode runs in graph mode).
  bool is_event_record() const;
  bool is_event_wait() const;
  bool is_event() const;   // the two above, and NOTIFY_RECORD/WAIT_SQE
};
static_assert(sizeof(ProfileTask) <= 128, "ProfileTask is a stated memory bound: keep it at 128 bytes");

// Profile timestamps are epoch microseconds (about 1.7e15), where a double resolves only
// 0.25 us. Readers parse them exactly into integer nanoseconds and keep them relative to one
// whole-second origin per profile, shared by every file read for it.
bool parse_timestamp_ns(std::string_view text, int64_t& ns);

class TimeOrigin {
 public:
  // Microseconds since the origin; the first timestamp seen sets the origin (floored to a second).
  double relative_us(int64_t ns) {
    if (!set_) {
      origin_ns_ = ns >= 0 ? ns / 1'000'000'000 * 1'000'000'000 : -((-ns + 999'999'999) / 1'000'000'000) * 1'000'000'000;
      set_ = true;
    }
    int64_t since = 0;
    if (__builtin_sub_overflow(ns, origin_ns_, &since)) {
      // Timestamps further apart than int64 nanoseconds hold (absurd input): no exactness to keep.
      return (static_cast<double>(ns) - static_cast<double>(origin_ns_)) / 1000.0;
    }
    return static_cast<double>(since) / 1000.0;
  }
  int64_t origin_ns() const { return set_ ? origin_ns_ : 0; }

 private:
  int64_t origin_ns_ = 0;
  bool set_ = false;
};

// Device tasks and the strings they point into. Copies share the strings.
struct TaskList {
  std::shared_ptr<StringPool> strings = std::make_shared<StringPool>();
  std::vector<ProfileTask> tasks;

  size_t size() const { return tasks.size(); }
  bool empty() const { return tasks.empty(); }
  ProfileTask& operator[](size_t i) { return tasks[i]; }
  const ProfileTask& operator[](size_t i) const { return tasks[i]; }
  auto begin() { return tasks.begin(); }
  auto end() { return tasks.end(); }
  auto begin() const { return tasks.begin(); }
  auto end() const { return tasks.end(); }
  const ProfileTask& front() const { return tasks.front(); }
  const ProfileTask& back() const { return tasks.back(); }
};

// The largest profile the readers hold: 2^23 tasks of 128 bytes, 1 GiB (the 1 GB traces seen in
// practice hold one to three million; export-profile's 1 GB rank about 1.1 million). Beyond it a
// reader stops with an error naming the file. The peak is half as much again, when the task
// vector grows the last time.
constexpr size_t kMaxProfileTasks = size_t{1} << 23;

struct Profile {
  std::string source;                 // what the user named
  std::string run_dir;                // the run's directory (*_ascend_pt, PROF_*), when read from one
  int rank = -1;                      // profiler_info_<rank>.json, info.json's rank_id, the DB's name; -1 unknown
  int64_t time_origin_ns = 0;         // start_us values are relative to this (epoch ns in real profiles)
  std::vector<std::string> files;     // files actually read
  std::shared_ptr<StringPool> strings = std::make_shared<StringPool>();
  std::vector<ProfileTask> tasks;     // device tasks, sorted by start time
  // Collective ops by name ("hcom_allReduce__445_0_1"), when a file lists them apart from the device
  // tasks (the trace's HCCL lanes, else kernel_details' HCCL rows; the database's COMMUNICATION_OP),
  // with their communication group in `site` where the file names it: how ranks are compared.
  std::vector<ProfileTask> collectives;
  std::vector<std::string> notes;     // e.g. "no trace: CMO tasks cannot be seen in kernel_details.csv"
  bool from_prefetch_tuner = false;   // read from this tool's own export
  bool has_cmo() const;
};

}  // namespace pt
