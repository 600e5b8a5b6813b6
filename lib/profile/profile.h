#pragma once
// A profiler run reduced to what analyze and calibrate need: every device task with its stream,
// core type and time. Filled by the readers in profile_readers.h from any of the formats the
// Ascend profilers write (torch_npu ASCEND_PROFILER_OUTPUT, msprof mindstudio_profiler_output)
// or from prefetch-tuner's own --timeline-csv / --trace-json.
#include <cstdint>
#include <optional>
#include <string_view>
#include <string>
#include <vector>

namespace pt {

struct ProfileTask {
  std::string name;        // op name ("aclnnMatmul_MatMulCommon_MatMulV2"), or "CMO" / "EVENT_WAIT" ...
  std::string op_type;     // kernel_details "Type" ("MatMulV2"); empty when the source has none (trace only)
  std::string task_type;   // "Accelerator Core" / "Task Type": AI_CORE, AI_VECTOR_CORE, MIX_AIC, MIX_AIV, AI_CPU,
                           // HCCL, COMMUNICATION, CMO, EVENT_RECORD, EVENT_WAIT, SDMA_SQE, Other ...
  double start_us = 0;     // relative to the profile's time origin
  double duration_us = 0;
  int64_t stream_id = -1;  // physical stream id when the source has one (trace tid), else logical
  int64_t task_id = -1;
  int64_t step_id = -1;    // kernel_details "Step Id"
  std::string input_shapes;  // kernel_details "Input Shapes", unquoted ("72,5120;2560,5120")
  // Columns only prefetch-tuner's own exports carry.
  int layer = -1;
  std::string site;
  double prefetch_bytes = 0;

  double end_us() const { return start_us + duration_us; }
  // The op type, or when the source gives none (a trace alone), read from the name: torch_npu
  // kernel names end in the op type ("aclnnMatmul_MatMulCommon_MatMulV2"), HCCL names carry a
  // sequence suffix ("hcom_allReduce__445_0").
  std::string kind() const;
  bool is_cmo() const { return task_type == "CMO" || name == "CMO"; }
  // AI_CORE, AI_VECTOR_CORE, MIX_AIC, MIX_AIV, AI_CPU, FFTS_PLUS: compute as msprof-analyze counts it.
  bool is_compute() const;
  bool is_cube() const;    // AI_CORE, MIX_AIC
  bool is_vector() const;  // AI_VECTOR_CORE, MIX_AIV
  bool is_communication() const;  // HCCL, COMMUNICATION
};

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

struct Profile {
  std::string source;                 // what the user named
  int64_t time_origin_ns = 0;         // start_us values are relative to this (epoch ns in real profiles)
  std::vector<std::string> files;     // files actually read
  std::vector<ProfileTask> tasks;     // device tasks, sorted by start time
  std::vector<std::string> notes;     // e.g. "no trace: CMO tasks cannot be seen in kernel_details.csv"
  bool from_prefetch_tuner = false;   // read from this tool's own export
  bool has_cmo() const;
};

}  // namespace pt
