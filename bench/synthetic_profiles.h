#pragma once
// Synthetic profiler output for the parse benchmarks: a torch_npu-style trace_view.json and a
// kernel_details.csv of any size, with the event mix and field formats of real captures
// (Python cpu_op events with shapes and call stacks, CANN AscendCL events, torch_to_npu flows,
// Ascend Hardware tasks with ts as strings, a CMO every 8 kernels on a prefetch stream).
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <stdexcept>
#include <string>

#include <fmt/format.h>

namespace pt::bench {

struct SyntheticTrace {
  std::string path;
  uint64_t bytes = 0;
  uint64_t hardware_tasks = 0;  // X events of the Ascend Hardware process (CMO included)
  uint64_t cmo_tasks = 0;
};

inline const char* const kOps[][4] = {
    // name, Task Type, Python op, aclnn API
    {"aclnnAddRmsNorm_AddRmsNorm_AddRmsNorm", "AI_VECTOR_CORE", "npu::npu_add_rms_norm", "aclnnAddRmsNorm"},
    {"aclnnQuantMatmulV4_QuantBatchMatmulV3_QuantBatchMatmulV3", "AI_CORE", "npu::npu_quant_matmul", "aclnnQuantMatmulV4"},
    {"aclnnRotaryPositionEmbedding_RotaryMul_RotaryMul", "AI_VECTOR_CORE", "npu::npu_rotary_mul", "aclnnRotaryPositionEmbedding"},
    {"aclnnFusedInferAttentionScore_FusedInferAttentionScore_FusedInferAttentionScore", "MIX_AIC",
     "npu::npu_fused_infer_attention_score", "aclnnFusedInferAttentionScore"},
    {"aclnnMatmul_MatMulCommon_MatMulV2", "AI_CORE", "aten::mm", "aclnnMatmul"},
    {"aclnnSwiGlu_SwiGlu_SwiGlu", "AI_VECTOR_CORE", "npu::npu_swiglu", "aclnnSwiGlu"},
    {"aclnnDynamicQuant_DynamicQuant_DynamicQuant", "MIX_AIV", "npu::npu_dynamic_quant", "aclnnDynamicQuant"},
    {"hcom_allReduce__512_0_1", "COMMUNICATION", "c10d::allreduce_", "HcclAllReduce"},
};
constexpr size_t kOpCount = sizeof(kOps) / sizeof(kOps[0]);

// Writes about `target_bytes` of trace to `path` (streamed: memory stays small). With
// `metadata_last`, the process_name events come after all the events (the reader's worst case).
inline SyntheticTrace write_synthetic_trace(const std::string& path, uint64_t target_bytes, bool metadata_last) {
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) throw std::runtime_error("cannot write " + path);
  SyntheticTrace info;
  info.path = path;
  fmt::memory_buffer buf;
  auto flush = [&](bool force) {
    if (!force && buf.size() < (1u << 20)) return;
    if (std::fwrite(buf.data(), 1, buf.size(), f) != buf.size()) throw std::runtime_error("write failed: " + path);
    info.bytes += buf.size();
    buf.clear();
  };
  const int64_t hw_pid = 800, python_pid = 437675, cann_pid = 43767502, overlap_pid = 4376751100;
  auto metadata = [&] {
    for (auto [pid, name, label] : {std::tuple{hw_pid, "Ascend Hardware", "NPU"}, std::tuple{python_pid, "Python", "CPU"},
                                    std::tuple{cann_pid, "CANN", "CPU"}, std::tuple{overlap_pid, "Overlap Analysis", "NPU"}}) {
      fmt::format_to(std::back_inserter(buf),
                     ",\n{{\"name\": \"process_name\", \"pid\": {}, \"tid\": 0, \"args\": {{\"name\": \"{}\"}}, \"ph\": \"M\"}}"
                     ",\n{{\"name\": \"process_labels\", \"pid\": {}, \"tid\": 0, \"args\": {{\"labels\": \"{}\"}}, \"ph\": \"M\"}}",
                     pid, name, pid, label);
    }
    for (int stream : {2, 5}) {
      fmt::format_to(std::back_inserter(buf),
                     ",\n{{\"name\": \"thread_name\", \"pid\": {}, \"tid\": {}, \"args\": {{\"name\": \"Stream {}\"}}, \"ph\": \"M\"}}",
                     hw_pid, stream, stream);
    }
  };
  fmt::format_to(std::back_inserter(buf),
                 "[{{\"name\": \"process_sort_index\", \"pid\": {}, \"tid\": 0, \"args\": {{\"sort_index\": 8}}, \"ph\": \"M\"}}",
                 hw_pid);
  if (!metadata_last) metadata();
  // Times in ns, written as microseconds with 3 decimals, as msprof writes them.
  uint64_t t_ns = 1704161511422904204ull;
  auto us = [](uint64_t ns) { return fmt::format("{}.{:03d}", ns / 1000, static_cast<int>(ns % 1000)); };
  uint64_t task_id = 0, seq = 0;
  while (info.bytes + buf.size() < target_bytes) {
    for (size_t k = 0; k < kOpCount; ++k) {
      const auto& op = kOps[k];
      const uint64_t host = t_ns - 35000;
      const uint64_t id = t_ns;  // flow id: the device start in ns, as torch_npu does
      ++seq;
      fmt::format_to(
          std::back_inserter(buf),
          ",\n{{\"ph\": \"X\", \"name\": \"{}\", \"pid\": {}, \"tid\": {}, \"ts\": \"{}\", \"dur\": {}, \"cat\": \"cpu_op\", "
          "\"args\": {{\"Sequence number\": {}, \"Fwd thread id\": 0, \"Input Dims\": [[8, 4096], [4096, 1536], []], "
          "\"Input type\": [\"c10::BFloat16\", \"c10::BFloat16\", \"\"], \"Call stack\": "
          "\"vllm_ascend/ops/linear.py(212): forward;torch/nn/modules/module.py(1747): _call_impl;"
          "vllm/model_executor/models/qwen3.py(118): forward\"}}}}",
          op[2], python_pid, python_pid, us(host), 21.735 + static_cast<double>(k), seq);
      fmt::format_to(std::back_inserter(buf),
                     ",\n{{\"name\": \"AscendCL@{}\", \"pid\": {}, \"tid\": {}, \"ts\": \"{}\", \"dur\": {}, \"args\": "
                     "{{\"Thread Id\": {}, \"Mode\": \"ACL_OP\", \"level\": \"acl\", \"id\": \"{}\", \"item_id\": \"0\", "
                     "\"connection_id\": {}}}, \"ph\": \"X\"}}",
                     op[3], cann_pid, python_pid, us(host + 4000), 12.51, python_pid, op[3], task_id);
      fmt::format_to(std::back_inserter(buf),
                     ",\n{{\"ph\": \"s\", \"bp\": \"e\", \"name\": \"torch_to_npu\", \"id\": {}, \"pid\": {}, \"tid\": {}, "
                     "\"ts\": \"{}\", \"cat\": \"async_npu\"}}"
                     ",\n{{\"ph\": \"f\", \"bp\": \"e\", \"name\": \"torch_to_npu\", \"id\": {}, \"pid\": {}, \"tid\": {}, "
                     "\"ts\": \"{}\", \"cat\": \"async_npu\"}}",
                     id, python_pid, python_pid, us(host), id, hw_pid, 2, us(t_ns));
      const double dur = 3.125 + 7.0 * static_cast<double>(k % 4) + static_cast<double>(seq % 7) * 0.013;
      fmt::format_to(std::back_inserter(buf),
                     ",\n{{\"name\": \"{}\", \"pid\": {}, \"tid\": 2, \"ts\": \"{}\", \"dur\": {}, \"args\": {{\"Model Id\": "
                     "4294967295, \"Task Type\": \"{}\", \"Physic Stream Id\": 2, \"Task Id\": {}, \"Batch Id\": 0, "
                     "\"Subtask Id\": 4294967295, \"connection_id\": {}}}, \"ph\": \"X\"}}",
                     op[0], hw_pid, us(t_ns), dur, op[1], task_id % 65536, task_id);
      ++info.hardware_tasks;
      ++task_id;
      if (k == 1) {  // a prefetch of the next weight on the prefetch stream
        fmt::format_to(std::back_inserter(buf),
                       ",\n{{\"name\": \"CMO\", \"pid\": {}, \"tid\": 5, \"ts\": \"{}\", \"dur\": {}, \"args\": {{\"Model Id\": "
                       "4294967295, \"Task Type\": \"CMO\", \"Physic Stream Id\": 5, \"Task Id\": {}, \"Batch Id\": 0, "
                       "\"Subtask Id\": 4294967295, \"connection_id\": {}}}, \"ph\": \"X\"}}",
                       hw_pid, us(t_ns + 500), 14.872, task_id % 65536, task_id);
        ++info.hardware_tasks;
        ++info.cmo_tasks;
        ++task_id;
      }
      fmt::format_to(std::back_inserter(buf),
                     ",\n{{\"name\": \"Computing\", \"pid\": {}, \"tid\": 0, \"ts\": \"{}\", \"dur\": {}, \"ph\": \"X\"}}",
                     overlap_pid, us(t_ns), dur);
      t_ns += static_cast<uint64_t>(dur * 1000) + 1250;
    }
    flush(false);
  }
  if (metadata_last) metadata();
  fmt::format_to(std::back_inserter(buf), "\n]\n");
  flush(true);
  if (std::fclose(f) != 0) throw std::runtime_error("write failed: " + path);
  return info;
}

// The trace at `path` if it exists with the size asked for, else a fresh one.
// (Reused files report 0 tasks: the counts are only known when writing.)
inline SyntheticTrace synthetic_trace_file(const std::string& path, uint64_t target_bytes, bool metadata_last) {
  std::error_code ec;
  const auto size = std::filesystem::file_size(path, ec);
  if (!ec && size >= target_bytes && size < target_bytes + (8u << 20)) return SyntheticTrace{path, size, 0, 0};
  const std::string tmp = path + ".partial";
  SyntheticTrace info = write_synthetic_trace(tmp, target_bytes, metadata_last);
  std::filesystem::rename(tmp, path);
  info.path = path;
  return info;
}

// A kernel_details.csv of about `target_bytes` with the full PipeUtilization header, quoted
// shapes, the tab msprof appends to start times, and HCCL rows with N/A ids.
inline std::string synthetic_kernel_details(uint64_t target_bytes, uint64_t* rows_out = nullptr) {
  std::string out =
      "Step Id,Device_id,Model ID,Task ID,Stream ID,Name,Type,OP State,Accelerator Core,Start Time(us),Duration(us),"
      "Wait Time(us),Block Num,Mix Block Num,HF32 Eligible,Input Shapes,Input Data Types,Input Formats,Output Shapes,"
      "Output Data Types,Output Formats,Context ID,aicore_time(us),aic_total_cycles,aic_mac_time(us),aic_mac_ratio,"
      "aic_scalar_time(us),aic_scalar_ratio,aic_mte1_time(us),aic_mte1_ratio,aic_mte2_time(us),aic_mte2_ratio,"
      "aic_fixpipe_time(us),aic_fixpipe_ratio,aic_icache_miss_rate,aiv_time(us),aiv_total_cycles,aiv_vec_time(us),"
      "aiv_vec_ratio,aiv_scalar_time(us),aiv_scalar_ratio,aiv_mte2_time(us),aiv_mte2_ratio,aiv_mte3_time(us),"
      "aiv_mte3_ratio,aiv_icache_miss_rate,cube_utilization(%)\n";
  out.reserve(target_bytes + 4096);
  uint64_t t_ns = 1736413971558972912ull, rows = 0;
  while (out.size() < target_bytes) {
    const auto& op = kOps[rows % kOpCount];
    const bool comm = std::string_view(op[1]) == "COMMUNICATION";
    const double dur = 3.125 + static_cast<double>(rows % 13) * 1.75;
    const std::string start = fmt::format("{}.{:03d}", t_ns / 1000, static_cast<int>(t_ns % 1000));
    if (comm) {
      fmt::format_to(std::back_inserter(out),
                     "19,0,4294967295,N/A,N/A,{},hcom_allReduce_,N/A,HCCL,\"{}\t\",{:.3f},1.087,0,N/A,N/A,N/A,N/A,N/A,N/A,"
                     "N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A,"
                     "N/A,N/A,N/A\n",
                     op[0], start, dur);
    } else {
      fmt::format_to(std::back_inserter(out),
                     "19,0,4294967295,{},2,{},{},dynamic,{},\"{}\t\",{:.3f},1.087,24,0,NO,\"\"\"8,4096;4096,1536\"\"\","
                     "DT_BF16;DT_BF16,ND;ND,\"\"\"8,1536\"\"\",DT_BF16,ND,N/A,183.87,5295467,151.425,0.824,88.03,0.479,"
                     "119.148,0.648,177.314,0.964,5.736,0.031,0.001,0,0,0,0,0,0,0,0,0,0,0,79.295\n",
                     rows % 65536, op[0], op[2], op[1], start, dur);
    }
    t_ns += static_cast<uint64_t>(dur * 1000) + 1250;
    ++rows;
  }
  if (rows_out) *rows_out = rows;
  return out;
}

}  // namespace pt::bench
