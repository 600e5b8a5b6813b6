#pragma once
// A profiler run reduced to what analyze and calibrate need: every device task with its stream,
// core type and time. Filled by the readers in profile_readers.h from any of the formats the
// Ascend profilers write (torch_npu ASCEND_PROFILER_OUTPUT, msprof mindstudio_profiler_output)
// or from prefetch-tuner's own --timeline-csv / --trace-json.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace pt {

struct ProfileTask {
  std::string name;        // op name ("aclnnMatmul_MatMulCommon_MatMulV2"), or "CMO" / "EVENT_WAIT" ...
  std::string op_type;     // kernel_details "Type" ("MatMulV2"); empty when the source has none (trace only)
  std::string task_type;   // "Accelerator Core" / "Task Type": AI_CORE, AI_VECTOR_CORE, MIX_AIC, MIX_AIV, AI_CPU,
                           // HCCL, COMMUNICATION, CMO, EVENT_RECORD, EVENT_WAIT, SDMA_SQE, Other ...
  double start_us = 0;     // absolute, as in the file
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
  bool is_cmo() const { return task_type == "CMO" || name == "CMO"; }
  // AI_CORE, AI_VECTOR_CORE, MIX_AIC, MIX_AIV, AI_CPU, FFTS_PLUS: compute as msprof-analyze counts it.
  bool is_compute() const;
  bool is_cube() const;    // AI_CORE, MIX_AIC
  bool is_vector() const;  // AI_VECTOR_CORE, MIX_AIV
  bool is_communication() const;  // HCCL, COMMUNICATION
};

struct Profile {
  std::string source;                 // what the user named
  std::vector<std::string> files;     // files actually read
  std::vector<ProfileTask> tasks;     // device tasks, sorted by start time
  std::vector<std::string> notes;     // e.g. "no trace: CMO tasks cannot be seen in kernel_details.csv"
  bool from_prefetch_tuner = false;   // read from this tool's own export
  bool has_cmo() const;
};

}  // namespace pt
