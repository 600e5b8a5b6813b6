#include "export/profile_export.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include <fmt/format.h>
#include <unistd.h>

#include "export/profile_db.h"
#include "util/csv.h"
#include "util/error.h"
#include "util/file_io.h"

namespace pt {

namespace fs = std::filesystem;

namespace {

// ---- names, times, numbers ------------------------------------------------------------------

// Absolute timestamps are ~1.7e15 us: a double resolves only 0.25 us there, so the times are kept
// relative to the start and joined to the integer base when written.
struct Clock {
  int64_t base_ns = 0;
  int64_t ns(double relative_us) const { return base_ns + std::llround(relative_us * 1000.0); }
  std::string operator()(double relative_us) const {
    const int64_t v = ns(relative_us);
    return fmt::format("{}.{:03d}", v / 1000, static_cast<int>(v % 1000));
  }
  // A slice's duration as the difference of its rounded ends, so that ts + dur is the rounded end
  // and slices that nest in the simulation nest in the trace.
  std::string dur(double start_us, double end_us) const {
    const int64_t d = std::max<int64_t>(0, ns(end_us) - ns(start_us));
    std::string out = fmt::format("{}.{:03d}", d / 1000, static_cast<int>(d % 1000));
    while (out.back() == '0') out.pop_back();
    if (out.back() == '.') out.pop_back();
    return out;
  }
};

// YYYYMMDDhhmmss (14 digits) or YYYYMMDDhhmmssmmm (17), UTC, as msprof and torch_npu name their output.
std::string stamp(int64_t base_ns, bool millis) {
  const std::time_t seconds = static_cast<std::time_t>(base_ns / 1'000'000'000);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  std::string s = fmt::format("{:04d}{:02d}{:02d}{:02d}{:02d}{:02d}", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                              tm.tm_min, tm.tm_sec);
  if (millis) s += fmt::format("{:03d}", static_cast<int>(base_ns / 1'000'000 % 1000));
  return s;
}

std::string json_string(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) out += fmt::format("\\u{:04x}", static_cast<unsigned>(c));
        else out += c;
    }
  }
  return out + "\"";
}

// A number as JSON (no exponent for ordinary values, no trailing zeros beyond need).
std::string num(double v) {
  if (!std::isfinite(v)) return "0";
  std::string s = fmt::format("{:.6f}", v);
  while (!s.empty() && s.back() == '0') s.pop_back();
  if (!s.empty() && s.back() == '.') s.pop_back();
  return s == "-0" ? "0" : s;
}

// msprof-analyze's double_hash (cluster_analyse/common_func/utils.py): how a communication group's
// name becomes the "@<group>" suffix of its op keys.
uint64_t double_hash(std::string_view s) {
  uint64_t a = 0, b = 0;
  for (unsigned char c : s) {
    a = (a * 29 + c) & 0xFFFFFFFFULL;
    b = (b * 131 + c) & 0xFFFFFFFFULL;
  }
  return (a << 32) | b;
}

// The op type msprof-analyze's matrix adapter reads from an HCCL op name: the leftmost match of
// its pattern, alternatives tried in order at each position (so reduceScatter reads as "reduce").
std::string hccl_op_type(std::string_view name) {
  std::string lower(name);
  for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  static const char* kAlternatives[] = {"send", "reduce", "invalid", "broadcast", "allreduce", "receive", "allgather",
                                        "reducescatter", "scatter", "alltoall", "alltoallv", "alltoallvc", "batchsendrecv"};
  for (size_t i = 0; i < lower.size(); ++i) {
    for (const char* a : kAlternatives) {
      if (lower.compare(i, std::strlen(a), a) == 0) return a;
    }
  }
  return lower.substr(0, lower.find("__"));
}

// The device: an A3 node holds 16 dies, an A2 node 8 NPUs.
int device_of(int rank, const HardwareProfile& hw) { return rank % (hw.family == "A3" ? 16 : 8); }

// ---- one device task as written ---------------------------------------------------------------

struct Task {
  double start = 0, dur = 0;  // relative to the run's start
  int stream = kComputeStreamId;
  int task_id = 0;
  int64_t global_id = 0;      // unique over the run (the DB's globalTaskId)
  int64_t connection = 0;     // links the host launch, its flow and the task
  EventKind kind = EventKind::kOp;
  const PlannedOp* op = nullptr;
  const StepPlan* plan = nullptr;  // the (jittered) plan of the step
  const CollectiveOp* collective = nullptr;
  std::string name, type, core;  // kernel name, op type, Accelerator Core / Task Type
  std::string host_name;         // the launch on the host, empty for events
  double l2_read_bytes = 0, hbm_bytes = 0, bytes = 0;
  double wait_us = 0;            // collective: waiting for the other ranks
  int collective_seq = -1;
  int block = 0;
  int layer = -1, site_index = -1;  // CMO and events: the layer and the site (index into the layer type's sites)
  std::string site;                 // CMO: its site ("attn.qkv", "mlp.gate_up", ...)
  std::string input_shapes, input_types, input_formats, output_shapes, output_types, output_formats;
  double end() const { return start + dur; }
  bool compute() const { return kind == EventKind::kOp && op && op->core != "HCCL"; }
  bool communication() const { return collective != nullptr; }
};

std::string shapes_of(const StepPlan& plan, const PlannedOp& op, Task& t) {
  const auto tokens = static_cast<long long>(plan.tokens.padded_tokens);
  const auto hidden = static_cast<long long>(plan.model.hidden_size);
  if (op.linear >= 0 && (op.kind == OpKind::kMatmul || op.kind == OpKind::kGroupedMatmul)) {
    const Linear& l = plan.linears[static_cast<size_t>(op.linear)];
    const auto n = static_cast<long long>(l.out_features), k = static_cast<long long>(l.in_features);
    const bool int8 = l.int8_activation();
    t.input_types = int8 ? "INT8;INT8" : "DT_BF16;DT_BF16";
    t.input_formats = int8 ? "ND;FRACTAL_NZ" : "ND;ND";
    t.output_types = "DT_BF16";
    t.output_formats = "ND";
    if (op.kind == OpKind::kGroupedMatmul) {
      const auto e = static_cast<long long>(l.count);
      const auto rows = static_cast<long long>(plan.variables.at("PAIRS"));
      t.output_shapes = fmt::format("{},{}", rows, n);
      return fmt::format("{},{};{},{},{}", rows, k, e, k, n);
    }
    t.output_shapes = fmt::format("{},{}", tokens, n);
    return fmt::format("{},{};{},{}", tokens, k, n, k);
  }
  t.input_types = "DT_BF16";
  t.input_formats = "ND";
  t.output_types = "DT_BF16";
  t.output_formats = "ND";
  t.output_shapes = fmt::format("{},{}", tokens, hidden);
  return fmt::format("{},{}", tokens, hidden);
}

std::string quoted_shape(const std::string& s) { return csv_escape("\"" + s + "\""); }

// What the PMU would count for a compute task: the core's busy time is the task less the fixed
// launch overhead; of it, the compute part (cube or vector at the planned rate), the HBM read
// (MTE2; L2 hits at the L2 speed-up) and the write of the output (fixpipe / MTE3: the output
// shape in bf16), each at most the busy time.
struct Pmu {
  double core_us = 0, compute_us = 0, read_us = 0, write_us = 0;
};

double elements(const std::string& shape) {
  double n = 1;
  size_t i = 0;
  bool any = false;
  while (i < shape.size()) {
    size_t j = shape.find(',', i);
    if (j == std::string::npos) j = shape.size();
    n *= std::strtod(shape.substr(i, j - i).c_str(), nullptr);
    any = true;
    i = j + 1;
  }
  return any ? n : 0;
}

// Merged [start, end) intervals.
using Intervals = std::vector<std::pair<double, double>>;
Intervals merged(Intervals v) {
  std::sort(v.begin(), v.end());
  Intervals out;
  for (const auto& iv : v) {
    if (iv.second <= iv.first) continue;
    if (!out.empty() && iv.first <= out.back().second) out.back().second = std::max(out.back().second, iv.second);
    else out.push_back(iv);
  }
  return out;
}
// a minus b (both merged).
Intervals minus(const Intervals& a, const Intervals& b) {
  Intervals out;
  size_t j = 0;
  for (auto [s, e] : a) {
    while (j < b.size() && b[j].second <= s) ++j;
    size_t k = j;
    double cur = s;
    while (k < b.size() && b[k].first < e) {
      if (b[k].first > cur) out.emplace_back(cur, b[k].first);
      cur = std::max(cur, b[k].second);
      ++k;
    }
    if (cur < e) out.emplace_back(cur, e);
  }
  return out;
}
double total(const Intervals& v) {
  double t = 0;
  for (const auto& [s, e] : v) t += e - s;
  return t;
}

// ---- the files of one rank --------------------------------------------------------------------

constexpr int kHardwarePid = 2045, kHcclPid = 2046, kOverlapPid = 2047;
constexpr double kHostLeadUs = 5.0;     // a kernel is launched this long before it starts
constexpr double kHostLaunchUs = 1.0;   // one launch on the host
constexpr size_t kFlushBytes = size_t{4} << 20;

// PipeUtilization PMU columns the simulation can fill: times (and cycles at the AI-core clock) and
// each time's share of the core's busy time; not the scalar, MTE1 or icache counters it does not model.
constexpr const char* kPmuHeader =
    "aicore_time(us),aic_total_cycles,aic_mac_time(us),aic_mac_ratio,aic_mte2_time(us),aic_mte2_ratio,aic_fixpipe_time(us),"
    "aic_fixpipe_ratio,aiv_time(us),aiv_total_cycles,aiv_vec_time(us),aiv_vec_ratio,aiv_mte2_time(us),aiv_mte2_ratio,"
    "aiv_mte3_time(us),aiv_mte3_ratio";
constexpr const char* kPmuNA = "N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A";

struct OpStat {
  size_t count = 0;
  double total = 0, min = 1e300, max = 0;
};

// One link of a collective's communication matrix.
struct Link {
  std::string op_name;
  double size_mb = 0, time_ms = 0;
  double bandwidth() const { return time_ms > 0 ? size_mb / time_ms : 0; }
};

class RankWriter {
 public:
  RankWriter(const Scenario& s, const ProfileExportOptions& o, ProfileSink& sink, int rank, const Clock& clock)
      : s_(s), o_(o), sink_(sink), rank_(rank), clock_(clock), torch_(o.layout == "torch_npu") {
    device_ = device_of(rank, s.hardware);
    pid_ = 4242 + rank;
    const std::string ms17 = stamp(clock.base_ns, true), s14 = stamp(clock.base_ns, false);
    if (torch_) {
      root_ = fmt::format("localhost.localdomain_{}_{}_ascend_pt/", pid_, ms17);
      out_ = root_ + "ASCEND_PROFILER_OUTPUT/";
      prof_ = root_ + fmt::format("PROF_{:06d}_{}_{}/", 1, ms17, letters(rank));
      trace_ = out_ + "trace_view.json";
      kernel_ = out_ + "kernel_details.csv";
      op_stat_ = out_ + "op_statistic.csv";
      comm_ = out_ + "communication.json";
      matrix_ = out_ + "communication_matrix.json";
    } else {
      root_ = fmt::format("PROF_{:06d}_{}_{}/", rank + 1, ms17, letters(rank));
      prof_ = root_;
      out_ = root_ + "mindstudio_profiler_output/";
      trace_ = out_ + "msprof_" + s14 + ".json";
      kernel_ = out_ + "op_summary_" + s14 + ".csv";
      op_stat_ = out_ + "op_statistic_" + s14 + ".csv";
      task_time_ = out_ + "task_time_" + s14 + ".csv";
      comm_ = root_ + "analyze/communication.json";
      matrix_ = root_ + "analyze/communication_matrix.json";
    }
    compute_groups();
    if (o.format == "db") {
      db_rel_ = torch_ ? out_ + fmt::format("ascend_pytorch_profiler_{}.db", rank) : root_ + "msprof_" + s14 + ".db";
      ProfileDbInfo info;
      info.rank = rank;
      info.device = device_;
      info.pid = pid_;
      info.torch = torch_;
      info.session_start_ns = clock.base_ns;
      info.distributed_args = distributed_args();
      info.parallel_group_info = parallel_group_info();
      info.aic_frequency_mhz = s.hardware.device.aic_frequency_mhz;
      db_ = std::make_unique<ProfileDbWriter>(sink.file_path(db_rel_), info);
      if (torch_) {
        analysis_rel_ = out_ + "analysis.db";
        analysis_ = std::make_unique<AnalysisDbWriter>(sink.file_path(analysis_rel_));
      }
    }
    begin_files();
  }

  void add_step(const RunStep& run, const RankStep& rs);
  void finish(double end_us);

 private:
  static std::string letters(int rank) {
    std::string s(16, 'A');
    for (int i = 15, r = rank; i >= 0 && r > 0; --i, r /= 26) s[static_cast<size_t>(i)] = static_cast<char>('A' + r % 26);
    return s;
  }
  void compute_groups();
  void begin_files();
  void event(const std::string& json) {
    trace_buf_ += first_event_ ? "\n" : ",\n";
    first_event_ = false;
    trace_buf_ += json;
  }
  void flush(bool all = false) {
    auto f = [&](const std::string& rel, std::string& buf) {
      if (rel.empty() || buf.empty() || (!all && buf.size() < kFlushBytes)) return;
      sink_.append(rel, buf);
      buf.clear();
    };
    f(trace_, trace_buf_);
    f(kernel_, kernel_buf_);
    f(task_time_, task_buf_);
    f(comm_, comm_buf_);
  }
  static std::string metadata(const char* name, int pid, int tid, const std::string& args) {
    return fmt::format("{{\"name\": \"{}\", \"pid\": {}, \"tid\": {}, \"args\": {}, \"ph\": \"M\"}}", name, pid, tid, args);
  }
  std::vector<Task> tasks_of(const RunStep& run, const RankStep& rs);
  void write_trace(const std::vector<Task>& tasks, int step, double device_start, double device_end, const Intervals& computing,
                   const Intervals& comm);
  void write_prefetch_flows(const std::vector<Task>& tasks);
  void write_kernels(const std::vector<Task>& tasks, int step);
  void write_comm(const std::vector<Task>& tasks, int step);
  std::string group_id(const CollectiveOp& c) const {
    const std::vector<int> ranks = group_ranks(c, rank_, s_.plan.deployment.tensor_parallel, s_.plan.deployment.data_parallel);
    return fmt::format("{}_{}", c.group, ranks.empty() ? 0 : ranks.front());
  }
  std::string distributed_args() const {
    const auto& d = s_.plan.deployment;
    return fmt::format("{{\"world_size\": {}, \"tensor_model_parallel_size\": {}, \"pipeline_model_parallel_size\": 1, "
                       "\"data_parallel_size\": {}, \"context_parallel_size\": 1, \"expert_model_parallel_size\": 1}}",
                       d.tensor_parallel * d.data_parallel, d.tensor_parallel, d.data_parallel);
  }
  // torch_npu's parallel_group_info: per group id, its name, this rank's place and the global ranks.
  std::string parallel_group_info() const {
    std::string groups;
    for (const auto& [id, ranks] : groups_) {
      std::string list;
      for (int r : ranks) list += (list.empty() ? "" : ", ") + std::to_string(r);
      const auto me = std::find(ranks.begin(), ranks.end(), rank_) - ranks.begin();
      groups += fmt::format("{}{}: {{\"group_name\": {}, \"group_rank\": {}, \"global_ranks\": [{}]}}", groups.empty() ? "" : ", ",
                            json_string(id), json_string(id.substr(0, id.find('_'))), me, list);
    }
    return "{" + groups + "}";
  }

  const Scenario& s_;
  const ProfileExportOptions& o_;
  ProfileSink& sink_;
  int rank_, device_ = 0, pid_ = 0;
  Clock clock_;
  bool torch_;
  std::string root_, out_, prof_, trace_, kernel_, op_stat_, task_time_, comm_, matrix_, db_rel_, analysis_rel_;
  std::string trace_buf_, kernel_buf_, task_buf_, comm_buf_, matrix_json_;
  bool first_event_ = true, first_comm_ = true, first_matrix_step_ = true;
  int task_counter_ = 0, collective_counter_ = 0;
  int64_t global_counter_ = 0, connection_counter_ = 0;
  double prev_kernel_end_ = -1, prev_step_host_end_ = -1e300, step_host_start_ = 0;
  std::map<std::pair<std::string, std::string>, OpStat> stats_;
  std::vector<std::string> step_rows_;
  CollectiveTable collectives_;
  std::map<std::string, std::vector<int>> groups_;  // group id -> global ranks
  std::vector<std::pair<std::string, std::string>> msprof_matrix_;  // msprof: "<op>@<group>" -> its links (JSON members)
  std::unique_ptr<ProfileDbWriter> db_;
  std::unique_ptr<AnalysisDbWriter> analysis_;
};

void RankWriter::compute_groups() {
  collectives_ = collective_table(s_.plan, s_.layer_template, s_.plan.deployment.tensor_parallel, s_.plan.deployment.data_parallel);
  const CollectiveTable& table = collectives_;
  auto add_group = [&](const CollectiveOp& c) {
    if (c.pattern.empty()) return;
    groups_.emplace(group_id(c), group_ranks(c, rank_, s_.plan.deployment.tensor_parallel, s_.plan.deployment.data_parallel));
  };
  for (const auto& ops : table.by_layer_type) {
    for (const auto& c : ops) add_group(c);
  }
  for (const auto& c : table.step_ops) add_group(c);
}

void RankWriter::begin_files() {
  trace_buf_ = "[";
  event(metadata("process_name", pid_, 0, "{\"name\": \"Python\"}"));
  event(metadata("process_labels", pid_, 0, "{\"labels\": \"CPU\"}"));
  event(metadata("process_sort_index", pid_, 0, "{\"sort_index\": 0}"));
  event(metadata("thread_name", pid_, pid_, fmt::format("{{\"name\": \"Thread {}\"}}", pid_)));
  event(metadata("thread_sort_index", pid_, pid_, fmt::format("{{\"sort_index\": {}}}", pid_)));
  event(metadata("process_name", kHardwarePid, 0, "{\"name\": \"Ascend Hardware\"}"));
  event(metadata("process_labels", kHardwarePid, 0, "{\"labels\": \"NPU\"}"));
  event(metadata("process_sort_index", kHardwarePid, 0, "{\"sort_index\": 8}"));
  for (int stream : {kComputeStreamId, kPrefetchStreamId}) {
    event(metadata("thread_name", kHardwarePid, stream, fmt::format("{{\"name\": \"Stream {}\"}}", stream)));
    event(metadata("thread_sort_index", kHardwarePid, stream, fmt::format("{{\"sort_index\": {}}}", stream)));
  }
  if (!groups_.empty()) {
    // One lane per communication group, named as torch_npu names them ("Group <id> Communication").
    event(metadata("process_name", kHcclPid, 0, "{\"name\": \"HCCL\"}"));
    event(metadata("process_labels", kHcclPid, 0, "{\"labels\": \"NPU\"}"));
    event(metadata("process_sort_index", kHcclPid, 0, "{\"sort_index\": 9}"));
    int tid = 0;
    for (const auto& [id, ranks] : groups_) {
      event(metadata("thread_name", kHcclPid, tid, fmt::format("{{\"name\": \"Group {} Communication\"}}", id)));
      event(metadata("thread_sort_index", kHcclPid, tid, fmt::format("{{\"sort_index\": {}}}", tid)));
      ++tid;
    }
  }
  event(metadata("process_name", kOverlapPid, 0, "{\"name\": \"Overlap Analysis\"}"));
  event(metadata("process_labels", kOverlapPid, 0, "{\"labels\": \"NPU\"}"));
  event(metadata("process_sort_index", kOverlapPid, 0, "{\"sort_index\": 11}"));
  const char* lanes[] = {"Computing", "Communication", "Communication(Not Overlapped)", "Free"};
  for (int i = 0; i < 4; ++i) {
    event(metadata("thread_name", kOverlapPid, i, fmt::format("{{\"name\": \"{}\"}}", lanes[i])));
    event(metadata("thread_sort_index", kOverlapPid, i, fmt::format("{{\"sort_index\": {}}}", i)));
  }

  // PMU columns the simulation can fill: times (and cycles at the AI-core clock), never ratios.
  const std::string pmu = kPmuHeader;
  kernel_buf_ = torch_ ? "Step Id,Device_id,Model ID,Task ID,Stream ID,Name,Type,OP State,Accelerator Core,Start Time(us),"
                         "Duration(us),Wait Time(us),Block Num,Mix Block Num,HF32 Eligible,Input Shapes,Input Data Types,"
                         "Input Formats,Output Shapes,Output Data Types,Output Formats,Context ID," + pmu + "\n"
                       : "Device_id,Model ID,Task ID,Stream ID,Op Name,OP Type,OP State,Task Type,Task Start Time(us),"
                         "Task Duration(us),Task Wait Time(us),Block Num,Mix Block Num,HF32 Eligible,Input Shapes,"
                         "Input Data Types,Input Formats,Output Shapes,Output Data Types,Output Formats,Context ID," + pmu + "\n";
  if (!torch_) task_buf_ = "Device_id,kernel_name,kernel_type,stream_id,task_id,task_time(us),task_start(us),task_stop(us)\n";
  comm_buf_ = "{";
}

std::vector<Task> RankWriter::tasks_of(const RunStep& run, const RankStep& rs) {
  const StepPlan& plan = *rs.plan;
  const CollectiveTable& table = collectives_;  // the jittered plans have the scenario plan's ops
  std::vector<size_t> order(rs.result.timeline.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return rs.result.timeline[a].start_us < rs.result.timeline[b].start_us; });
  std::vector<Task> tasks;
  tasks.reserve(order.size());
  for (size_t i : order) {
    const TimelineEvent& e = rs.result.timeline[i];
    const PlannedLayerType& type = e.layer_type >= 0 ? plan.layer_types[static_cast<size_t>(e.layer_type)] : plan.step_ops;
    Task t;
    t.start = run.start_us + e.start_us;
    t.dur = e.duration_us;
    t.stream = e.stream;
    t.task_id = task_counter_++ % 65536;
    t.global_id = ++global_counter_;
    t.connection = ++connection_counter_;
    t.kind = e.kind;
    t.l2_read_bytes = e.l2_read_bytes;
    t.hbm_bytes = e.hbm_bytes;
    t.bytes = e.bytes;
    t.layer = e.layer;
    t.site_index = e.site;
    if (e.site >= 0 && static_cast<size_t>(e.site) < type.sites.size()) t.site = type.sites[static_cast<size_t>(e.site)].site;
    switch (e.kind) {
      case EventKind::kOp: {
        const PlannedOp& op = type.ops[static_cast<size_t>(e.op)];
        t.op = &op;
        t.plan = &plan;
        t.collective = table.find(e.layer_type, e.op);
        t.type = op.type;
        t.core = op.core;
        t.host_name = op.name;
        if (t.collective) {
          // HCCL names: <type>_<sequence>_<index>_1 ("hcom_allReduce__12_0_1"), the same on every rank.
          t.collective_seq = collective_counter_++;
          t.name = fmt::format("{}_{}_0_1", op.type, t.collective_seq);
          t.wait_us = i < rs.collective_wait_us.size() ? rs.collective_wait_us[i] : 0;
        } else {
          // torch_npu names kernels aclnn<Op>_<Kernel> (the template name kept readable inside it).
          t.name = fmt::format("aclnn{}_{}_{}", op.type, op.name, op.type);
          t.block = op.core == "AI_CORE" ? s_.hardware.device.ai_core_num : s_.hardware.device.aiv_num;
          t.input_shapes = shapes_of(plan, op, t);
        }
        break;
      }
      case EventKind::kCmo:
        t.name = t.type = t.core = "CMO";
        t.host_name = "npu_prefetch";
        break;
      case EventKind::kEventRecord:
        t.name = t.type = t.core = "EVENT_RECORD";
        break;
      case EventKind::kEventWait:
        t.name = t.type = t.core = "EVENT_WAIT";
        break;
    }
    tasks.push_back(std::move(t));
  }
  return tasks;
}

void RankWriter::add_step(const RunStep& run, const RankStep& rs) {
  std::vector<Task> tasks = tasks_of(run, rs);
  double device_start = 1e300, device_end = -1e300;
  Intervals computing, comm;
  for (const Task& t : tasks) {
    if (t.stream == kComputeStreamId) {
      device_start = std::min(device_start, t.start);
      device_end = std::max(device_end, t.end());
    }
    if (t.compute()) computing.emplace_back(t.start, t.end());
    if (t.communication()) comm.emplace_back(t.start, t.end());
  }
  if (tasks.empty()) device_start = device_end = run.start_us;
  // The step is the simulated one: from its start to its end (an end-of-step wait, the last
  // collective's), so compare's E2E time (first to last Overlap Analysis event) is the step time.
  device_start = std::min(device_start, run.start_us);
  device_end = std::max(device_end, run.start_us + rs.step_time_us);
  computing = merged(computing);
  comm = merged(comm);
  write_trace(tasks, run.step, device_start, device_end, computing, comm);
  // The prefetched bytes held in L2 over the step, as a counter under the device.
  for (const auto& sample : rs.result.l2_samples) {
    event(fmt::format("{{\"name\": \"L2 prefetched bytes\", \"ph\": \"C\", \"pid\": {}, \"tid\": {}, \"ts\": \"{}\", "
                      "\"args\": {{\"bytes\": {}}}}}",
                      kHardwarePid, kComputeStreamId, clock_(run.start_us + sample.time_us), std::llround(sample.bytes)));
  }
  write_kernels(tasks, run.step);
  write_comm(tasks, run.step);

  // step_trace_time.csv (torch_npu's header and order; what cluster_step_trace_time.csv reads).
  const Intervals not_overlapped = minus(comm, computing);
  Intervals busy = computing;
  busy.insert(busy.end(), comm.begin(), comm.end());
  busy = merged(busy);
  const double span = device_end - device_start;
  const double c = total(computing), m = total(comm), no = total(not_overlapped), free = span - total(busy);
  const double preparing = device_start - step_host_start_;
  step_rows_.push_back(fmt::format("{},{},{:.3f},{:.3f},{:.3f},{:.3f},{:.3f},{:.3f},{:.3f},{:.3f},{:.3f}\n", device_, run.step, c, no,
                                   m - no, m, free, c + no + free, 0.0, no, preparing));
  if (db_) db_->add_step(run.step, clock_.ns(step_host_start_), clock_.ns(device_end));
  if (analysis_) analysis_->add_step_trace(run.step, c, no, m - no, m, free, c + no + free, 0.0, no, preparing);
  flush();
}

void RankWriter::write_trace(const std::vector<Task>& tasks, int step, double device_start, double device_end,
                             const Intervals& computing, const Intervals& comm) {
  // Host: one launch per kernel, placed just before it and never two at once.
  std::vector<std::pair<double, size_t>> launches;  // (issue time, task)
  const double setup = s_.hardware.fork_us + s_.hardware.cmo_setup_us;
  for (size_t i = 0; i < tasks.size(); ++i) {
    if (tasks[i].host_name.empty()) continue;
    launches.emplace_back(tasks[i].kind == EventKind::kCmo ? tasks[i].start - setup : tasks[i].start, i);
  }
  std::stable_sort(launches.begin(), launches.end());
  std::vector<double> host(launches.size());
  for (size_t j = launches.size(); j-- > 0;) {
    host[j] = launches[j].first - kHostLeadUs - kHostLaunchUs;
    if (j + 1 < launches.size()) host[j] = std::min(host[j], host[j + 1] - kHostLaunchUs - 0.1);
  }
  step_host_start_ = std::max((launches.empty() ? device_start : host.front()) - 1.0, prev_step_host_end_);
  prev_step_host_end_ = device_end;
  event(fmt::format("{{\"ph\": \"X\", \"name\": \"ProfilerStep#{}\", \"pid\": {}, \"tid\": {}, \"ts\": \"{}\", \"dur\": {}, "
                    "\"cat\": \"cpu_op\", \"args\": {{\"Sequence number\": -1, \"Fwd thread id\": 0}}}}",
                    step, pid_, pid_, clock_(step_host_start_), clock_.dur(step_host_start_, device_end)));
  if (db_) db_->add_pytorch_api(fmt::format("ProfilerStep#{}", step), clock_.ns(step_host_start_), clock_.ns(device_end), 0);
  for (size_t j = 0; j < launches.size(); ++j) {
    const Task& t = tasks[launches[j].second];
    event(fmt::format("{{\"ph\": \"X\", \"name\": {}, \"pid\": {}, \"tid\": {}, \"ts\": \"{}\", \"dur\": {}, \"cat\": \"cpu_op\", "
                      "\"args\": {{\"Sequence number\": -1, \"Fwd thread id\": 0}}}}",
                      json_string(t.host_name), pid_, pid_, clock_(host[j]), clock_.dur(host[j], host[j] + kHostLaunchUs)));
    // torch_npu's flow from the launch to the kernel (async_npu), bound to the enclosing slices.
    event(fmt::format("{{\"ph\": \"s\", \"bp\": \"e\", \"name\": \"torch_to_npu\", \"id\": {}, \"pid\": {}, \"tid\": {}, \"ts\": \"{}\", "
                      "\"cat\": \"async_npu\"}}",
                      t.connection, pid_, pid_, clock_(host[j])));
    event(fmt::format("{{\"ph\": \"f\", \"bp\": \"e\", \"name\": \"torch_to_npu\", \"id\": {}, \"pid\": {}, \"tid\": {}, \"ts\": \"{}\", "
                      "\"cat\": \"async_npu\"}}",
                      t.connection, kHardwarePid, t.stream, clock_(t.start)));
    if (db_) {
      const std::string api = t.communication() ? "HcclAllReduce" : t.kind == EventKind::kCmo ? "aclrtCmoAsync" : "aclnn" + t.type;
      db_->add_launch(t.host_name, api, clock_.ns(host[j]), clock_.ns(host[j] + kHostLaunchUs), t.connection);
    }
  }
  // Device tasks; collectives also on their group's HCCL lane.
  for (const Task& t : tasks) {
    const std::string task_type = t.communication() ? "COMMUNICATION" : t.core;
    // A CMO says what it prefetches: its layer, site and bytes (an integer count), under a key of
    // its own: a real profile has none of them, and analyze reads the export as it reads a real one.
    const std::string cmo_args =
        t.kind == EventKind::kCmo
            ? fmt::format(", \"prefetch_tuner\": {{\"layer\": {}, \"site\": {}, \"bytes\": {}}}", t.layer, json_string(t.site),
                          std::llround(t.bytes))
            : "";
    event(fmt::format("{{\"name\": {}, \"pid\": {}, \"tid\": {}, \"ts\": \"{}\", \"dur\": {}, \"args\": {{\"Model Id\": 4294967295, "
                      "\"Task Type\": \"{}\", \"Physic Stream Id\": {}, \"Task Id\": {}, \"Batch Id\": 0, \"Subtask Id\": 4294967295, "
                      "\"connection_id\": {}{}}}, \"ph\": \"X\"}}",
                      json_string(t.name), kHardwarePid, t.stream, clock_(t.start), clock_.dur(t.start, t.end()), task_type, t.stream,
                      t.task_id, t.connection, cmo_args));
    if (t.communication()) {
      const int tid = static_cast<int>(std::distance(groups_.begin(), groups_.find(group_id(*t.collective))));
      event(fmt::format("{{\"name\": {}, \"pid\": {}, \"tid\": {}, \"ts\": \"{}\", \"dur\": {}, \"args\": {{\"connection_id\": {}, "
                        "\"model id\": 4294967295, \"data_type\": \"BF16\", \"alg_type\": \"MESH\", \"count\": {}}}, \"ph\": \"X\"}}",
                        json_string(t.name), kHcclPid, tid, clock_(t.start), clock_.dur(t.start, t.end()), t.connection,
                        static_cast<long long>(t.collective->bytes / 2)));
    }
  }
  write_prefetch_flows(tasks);
  // Overlap Analysis: the lanes msprof derives from the tasks (compute, communication, the part of
  // communication no compute hides, and idle time within the step).
  auto lane = [&](int tid, const char* name, const Intervals& v) {
    for (const auto& [a, b] : v) {
      event(fmt::format("{{\"name\": \"{}\", \"pid\": {}, \"tid\": {}, \"ts\": \"{}\", \"dur\": {}, \"ph\": \"X\"}}", name,
                        kOverlapPid, tid, clock_(a), clock_.dur(a, b)));
    }
  };
  Intervals busy = computing;
  busy.insert(busy.end(), comm.begin(), comm.end());
  busy = merged(busy);
  lane(0, "Computing", computing);
  lane(1, "Communication", comm);
  lane(2, "Communication(Not Overlapped)", minus(comm, computing));
  lane(3, "Free", minus({{device_start, device_end}}, busy));
}

// Flows fork -> CMO -> join, anchored where the tasks start, as the profiler anchors its own flows
// (torch_to_npu leaves the launch where it starts and reaches the kernel where it starts), never at
// a slice's middle: the fork's flow leaves the EVENT_RECORD and reaches the CMO, the join's leaves
// the CMO and reaches the EVENT_WAIT. A point written as its slice's own ts is read as exactly that
// slice's start, so a viewer binds it to that slice even where it holds epoch microseconds to
// 0.25 us only and the slice before it seems to overlap it (catapult then nests the slice in the
// one before, and still finds it); a point moved inside by less than a slice would not be.
void RankWriter::write_prefetch_flows(const std::vector<Task>& tasks) {
  auto start_point = [](const Task& t) { return t.start; };
  auto flow = [&](const char* name, const Task& from, const Task& to) {
    const int64_t id = ++connection_counter_;
    const double from_ts = start_point(from);
    double to_ts = start_point(to);
    // A wait issued before a queued CMO starts: the flow reaches it where the CMO starts (the wait
    // lasts until the CMO is done), never before it leaves.
    if (to_ts <= from_ts) to_ts = from_ts + 0.5;
    event(fmt::format("{{\"ph\": \"s\", \"name\": \"{}\", \"id\": {}, \"pid\": {}, \"tid\": {}, \"ts\": \"{}\", \"cat\": \"prefetch\"}}",
                      name, id, kHardwarePid, from.stream, clock_(from_ts)));
    event(fmt::format("{{\"ph\": \"f\", \"bp\": \"e\", \"name\": \"{}\", \"id\": {}, \"pid\": {}, \"tid\": {}, \"ts\": \"{}\", "
                      "\"cat\": \"prefetch\"}}",
                      name, id, kHardwarePid, to.stream, clock_(to_ts)));
  };
  // Each CMO by its layer and site, found first: a CMO queued behind another starts after the wait
  // that joins it may have begun.
  std::map<std::pair<int, int>, const Task*> cmo_of;
  for (const Task& t : tasks) {
    if (t.kind == EventKind::kCmo && t.stream == kPrefetchStreamId) cmo_of[{t.layer, t.site_index}] = &t;
  }
  std::vector<const Task*> unjoined;  // CMOs forked since the last wait, in fork order
  for (const Task& t : tasks) {
    if (t.kind == EventKind::kEventRecord) {
      const auto it = cmo_of.find({t.layer, t.site_index});
      if (it == cmo_of.end()) continue;
      flow("fork", t, *it->second);
      unjoined.push_back(it->second);
    } else if (t.kind == EventKind::kEventWait && t.stream == kComputeStreamId) {
      // The wait lets the compute stream through once every CMO queued before it is done
      // (torch_npu wait_stream): one wait after SwiGLU ends the flows of gate_up and down.
      for (const Task* cmo : unjoined) flow("join", *cmo, t);
      unjoined.clear();
    }
  }
}

Pmu pmu_of(const Task& t, const HardwareProfile& hw) {
  Pmu p;
  p.core_us = std::max(0.0, t.dur - t.op->overhead_us);
  p.compute_us = std::min(p.core_us, t.op->compute_us);
  const double rate = hw.hbm_GBps * 1e3;
  const double write_bytes = std::min(t.hbm_bytes, 2.0 * elements(t.output_shapes));
  const double read_bytes = t.hbm_bytes - write_bytes;
  const double speedup = std::max(1.0, hw.l2_read_speedup);
  const double hit = std::min(read_bytes, t.l2_read_bytes);
  p.read_us = std::min(p.core_us, (read_bytes - hit + hit / speedup) / rate);
  p.write_us = std::min(p.core_us, write_bytes / rate);
  return p;
}

void RankWriter::write_kernels(const std::vector<Task>& tasks, int step) {
  const double freq_mhz = s_.hardware.device.aic_frequency_mhz;
  for (const Task& t : tasks) {
    if (!torch_) {
      // task_time lists every task, CMO and events included; kernel_name is N/A for non-compute tasks.
      task_buf_ += fmt::format("{},{},{},{},{},{:.3f},{},{}\n", device_, t.kind == EventKind::kOp ? csv_escape(t.name) : "N/A",
                               t.communication() ? "COMMUNICATION" : t.core, t.stream, t.task_id, t.dur, clock_(t.start),
                               clock_(t.end()));
    }
    if (db_) {
      db_->add_task(t.global_id, clock_.ns(t.start), clock_.ns(t.end()), t.connection, t.communication() ? "COMMUNICATION" : t.core,
                    t.stream, t.task_id);
    }
    if (t.kind != EventKind::kOp) continue;
    // msprof's Wait Time: gap to the previous task of the device, all streams together.
    const double wait = prev_kernel_end_ < 0 ? 0 : std::max(0.0, t.start - prev_kernel_end_);
    prev_kernel_end_ = std::max(prev_kernel_end_, t.end());
    const bool comm = t.communication();
    std::string pmu = kPmuNA;
    Pmu p;
    if (!comm && t.op) {
      p = pmu_of(t, t.plan->hardware);
      const auto cycles = static_cast<long long>(std::llround(p.core_us * freq_mhz));
      auto r = [&](double v) { return p.core_us > 0 ? v / p.core_us : 0.0; };
      pmu = t.core == "AI_CORE"
                ? fmt::format("{:.3f},{},{:.3f},{:.4f},{:.3f},{:.4f},{:.3f},{:.4f},0,0,0,0,0,0,0,0", p.core_us, cycles, p.compute_us,
                              r(p.compute_us), p.read_us, r(p.read_us), p.write_us, r(p.write_us))
                : fmt::format("0,0,0,0,0,0,0,0,{:.3f},{},{:.3f},{:.4f},{:.3f},{:.4f},{:.3f},{:.4f}", p.core_us, cycles, p.compute_us,
                              r(p.compute_us), p.read_us, r(p.read_us), p.write_us, r(p.write_us));
    }
    const std::string na = "N/A";
    const std::string common = fmt::format(
        "{},{},dynamic,{},{}\t,{:.3f},{:.3f},{},0,NO,{},{},{},{},{},{},N/A,{}", csv_escape(t.name), t.type, comm ? "HCCL" : t.core,
        clock_(t.start), t.dur, wait, comm ? 0 : t.block, comm ? na : quoted_shape(t.input_shapes), comm ? na : t.input_types,
        comm ? na : t.input_formats, comm ? na : quoted_shape(t.output_shapes), comm ? na : t.output_types,
        comm ? na : t.output_formats, pmu);
    const std::string id = comm ? na : std::to_string(t.task_id), stream = comm ? na : std::to_string(t.stream);
    kernel_buf_ += torch_ ? fmt::format("{},{},4294967295,{},{},{}\n", step, device_, id, stream, common)
                          : fmt::format("{},4294967295,{},{},{}\n", device_, id, stream, common);
    OpStat& st = stats_[{t.type, comm ? "HCCL" : t.core}];
    ++st.count;
    st.total += t.dur;
    st.min = std::min(st.min, t.dur);
    st.max = std::max(st.max, t.dur);
    if (db_ && !comm) {
      db_->add_compute(t.global_id, t.name, t.type, t.core, t.block, t.input_shapes, t.input_types, t.input_formats, t.output_shapes,
                       t.output_types, t.output_formats);
      db_->add_pmu(t.global_id, t.core == "AI_CORE", p.core_us, p.compute_us, p.read_us, p.write_us, freq_mhz);
    }
  }
}

void RankWriter::write_comm(const std::vector<Task>& tasks, int step) {
  // communication.json: per op, its time (the wait for the other ranks, the transfer) and its bytes;
  // torch_npu nests the ops in "step<N>" / "collective", msprof keeps them flat.
  double elapse_sum = 0, transit_sum = 0, wait_sum = 0, size_sum = 0;
  std::string ops;
  std::map<std::tuple<std::string, std::string, std::string>, std::vector<Link>> links;  // (op type, group hash, link)
  for (const Task& t : tasks) {
    if (!t.communication()) continue;
    const CollectiveOp& c = *t.collective;
    const std::string gid = group_id(c);
    const std::string hash = std::to_string(double_hash(gid));
    const double elapse = t.dur / 1000.0, wait = t.wait_us / 1000.0, transit = elapse - wait;
    const double size_mb = c.transit_bytes / 1e6;
    const double bw = transit > 0 ? size_mb / transit : 0;
    const double ratio = wait + transit > 0 ? wait / (wait + transit) : 0;
    elapse_sum += elapse;
    transit_sum += transit;
    wait_sum += wait;
    size_sum += size_mb;
    const std::string band = fmt::format("{{\"Transit Time(ms)\": {}, \"Transit Size(MB)\": {}, \"Bandwidth(GB/s)\": {}, "
                                         "\"Large Packet Ratio\": 0, \"Size Distribution\": {{\"{}\": [1, {}]}}}}",
                                         num(transit), num(size_mb), num(bw), num(size_mb), num(transit));
    ops += fmt::format(
        "{}{}: {{\"Communication Time Info\": {{\"Start Timestamp(us)\": {}, \"Elapse Time(ms)\": {}, \"Transit Time(ms)\": {}, "
        "\"Wait Time(ms)\": {}, \"Synchronization Time(ms)\": {}, \"Idle Time(ms)\": 0, \"Wait Time Ratio\": {}, "
        "\"Synchronization Time Ratio\": {}}}, \"Communication Bandwidth Info\": {{\"RDMA\": {{\"Transit Time(ms)\": 0, "
        "\"Transit Size(MB)\": 0, \"Bandwidth(GB/s)\": 0, \"Large Packet Ratio\": 0, \"Size Distribution\": {{}}}}, "
        "\"HCCS\": {}, \"SDMA\": {}}}}}",
        ops.empty() ? "" : ", ", json_string(t.name + "@" + hash), clock_(t.start), num(elapse), num(transit), num(wait), num(wait),
        num(ratio), num(ratio), band, band);
    if (db_) {
      db_->add_communication(t.name, gid, clock_.ns(t.start), clock_.ns(t.end()), t.connection, c.pattern,
                             static_cast<int64_t>(std::llround(t.wait_us * 1000)), c.bytes);
    }
    if (analysis_) analysis_->add_communication(step, t.name, hash, clock_(t.start), elapse, transit, wait, size_mb, rank_);
    // This rank sends its share to every other rank of the group (the in-node mesh), and holds
    // the "i-i" entry that maps the group's local rank to this global rank.
    const auto& ranks = groups_[gid];
    const int n = static_cast<int>(ranks.size());
    const int me = static_cast<int>(std::find(ranks.begin(), ranks.end(), rank_) - ranks.begin());
    std::string inner;
    for (int j = 0; j < n; ++j) {
      Link l;
      l.op_name = t.name;
      if (j != me) {
        l.size_mb = size_mb / std::max(1, n - 1);
        l.time_ms = transit;
      }
      const std::string link = fmt::format("{}-{}", me, j);
      links[{hccl_op_type(t.name), hash, link}].push_back(l);
      inner += fmt::format("{}{}: {{\"Transport Type\": \"{}\", \"Transit Size(MB)\": {}, \"Transit Time(ms)\": {}, "
                           "\"Bandwidth(GB/s)\": {}}}",
                           inner.empty() ? "" : ", ", json_string(link), j == me ? "LOCAL" : "HCCS", num(l.size_mb), num(l.time_ms),
                           num(l.bandwidth()));
    }
    if (!torch_) msprof_matrix_.emplace_back(t.name + "@" + hash, inner);
  }
  if (!torch_) {
    if (!ops.empty()) comm_buf_ += (first_comm_ ? "" : ", ") + ops;
    first_comm_ = first_comm_ && ops.empty();
    return;
  }
  const double ratio = wait_sum + transit_sum > 0 ? wait_sum / (wait_sum + transit_sum) : 0;
  const double bw = transit_sum > 0 ? size_sum / transit_sum : 0;
  const std::string band = fmt::format("{{\"Transit Time(ms)\": {}, \"Transit Size(MB)\": {}, \"Bandwidth(GB/s)\": {}}}", num(transit_sum),
                                       num(size_sum), num(bw));
  const std::string total = fmt::format(
      "\"Total Op Info\": {{\"Communication Time Info\": {{\"Elapse Time(ms)\": {}, \"Transit Time(ms)\": {}, \"Wait Time(ms)\": {}, "
      "\"Synchronization Time(ms)\": {}, \"Idle Time(ms)\": 0, \"Wait Time Ratio\": {}, \"Synchronization Time Ratio\": {}}}, "
      "\"Communication Bandwidth Info\": {{\"HCCS\": {}, \"SDMA\": {}}}}}",
      num(elapse_sum), num(transit_sum), num(wait_sum), num(wait_sum), num(ratio), num(ratio), band, band);
  comm_buf_ += fmt::format("{}\"step{}\": {{\"collective\": {{{}{}{}}}, \"p2p\": {{}}}}", first_comm_ ? "" : ", ", step, ops,
                           ops.empty() ? "" : ", ", total);
  first_comm_ = false;
  // The matrix as torch_npu aggregates it: per op type and link, the fastest, middle and slowest ops
  // of the step, and their total (msprof-analyze's MsprofCommunicationMatrixAdapter does the same).
  std::map<std::string, std::string> by_key;  // "<type>-<which>@<group>" -> its links
  for (auto& [key, list] : links) {
    const auto& [type, hash, link] = key;
    std::stable_sort(list.begin(), list.end(), [](const Link& a, const Link& b) { return a.bandwidth() > b.bandwidth(); });
    Link sum;
    sum.op_name = list.front().op_name;
    for (const Link& l : list) {
      sum.size_mb += l.size_mb;
      sum.time_ms += l.time_ms;
    }
    std::vector<std::pair<std::string, const Link*>> picks = {{"top1", &list.front()}, {"middle", &list[list.size() / 2]},
                                                               {"bottom1", &list.back()}};
    if (list.size() >= 2) picks.emplace_back("bottom2", &list[list.size() - 2]);
    if (list.size() >= 3) picks.emplace_back("bottom3", &list[list.size() - 3]);
    picks.emplace_back("total", &sum);
    const size_t dash = link.find('-');
    for (const auto& [which, l] : picks) {
      const std::string transport = l->size_mb > 0 ? "HCCS" : "LOCAL";
      std::string& inner = by_key[type + "-" + which + "@" + hash];
      inner += fmt::format("{}{}: {{\"Transport Type\": \"{}\", \"Transit Size(MB)\": {}, \"Transit Time(ms)\": {}, "
                           "\"Bandwidth(GB/s)\": {}, \"Op Name\": {}}}",
                           inner.empty() ? "" : ", ", json_string(link), transport, num(l->size_mb), num(l->time_ms),
                           num(l->bandwidth()), json_string(l->op_name));
      if (analysis_) {
        analysis_->add_matrix(step, type + "-" + which, hash, std::stoi(link.substr(0, dash)), std::stoi(link.substr(dash + 1)),
                              transport, l->size_mb, l->time_ms, l->op_name);
      }
    }
  }
  std::string m;
  for (const auto& [key, inner] : by_key) m += fmt::format("{}{}: {{{}}}", m.empty() ? "" : ", ", json_string(key), inner);
  matrix_json_ += fmt::format("{}\"step{}\": {{\"collective\": {{{}}}, \"p2p\": {{}}}}", first_matrix_step_ ? "" : ", ", step, m);
  first_matrix_step_ = false;
}

void RankWriter::finish(double end_us) {
  trace_buf_ += "\n]\n";
  comm_buf_ += "}\n";
  flush(true);
  // op_statistic: rows sorted by total time; Min before Avg, as the code writes it.
  std::vector<std::pair<std::pair<std::string, std::string>, OpStat>> list(stats_.begin(), stats_.end());
  double grand = 0;
  for (const auto& [k, st] : list) grand += st.total;
  std::stable_sort(list.begin(), list.end(), [](const auto& a, const auto& b) { return a.second.total > b.second.total; });
  std::string op_stat = "Device_id,OP Type,Core Type,Count,Total Time(us),Min Time(us),Avg Time(us),Max Time(us),Ratio(%)\n";
  for (const auto& [k, st] : list) {
    op_stat += fmt::format("{},{},{},{},{:.3f},{:.3f},{:.3f},{:.3f},{:.2f}\n", device_, k.first, k.second, st.count, st.total, st.min,
                           st.total / static_cast<double>(st.count), st.max, grand > 0 ? 100.0 * st.total / grand : 0);
  }
  sink_.append(op_stat_, op_stat);
  if (torch_) {
    sink_.append(matrix_, "{" + matrix_json_ + "}\n");
  } else {
    std::string m;  // msprof: flat, per op, per link
    for (const auto& [op, inner] : msprof_matrix_) m += fmt::format("{}{}: {{{}}}", m.empty() ? "" : ", ", json_string(op), inner);
    sink_.append(matrix_, "{" + m + "}\n");
  }
  if (torch_) {
    std::string st = "Device_id,Step,Computing,Communication(Not Overlapped),Overlapped,Communication,Free,Stage,Bubble,"
                     "Communication(Not Overlapped and Exclude Receive),Preparing\n";
    for (const auto& r : step_rows_) st += r;
    sink_.append(out_ + "step_trace_time.csv", st);
  }
  // The device's info.json: msprof-analyze reads the AI-core count and clock from it.
  const auto& dev = s_.hardware.device;
  sink_.append(prof_ + fmt::format("device_{}/info.json.{}", device_, device_),
               fmt::format("{{\"DeviceInfo\": [{{\"id\": {}, \"ai_core_num\": {}, \"aiv_num\": {}, \"aic_frequency\": \"{}\", "
                           "\"aiv_frequency\": \"{}\", \"hwts_frequency\": \"50\"}}], \"platform_version\": {}, \"rank_id\": {}, "
                           "\"hostUid\": \"0\", \"hostname\": \"localhost.localdomain\", \"pid\": \"{}\", \"devices\": \"{}\", "
                           "\"prefetch_tuner\": {{\"simulated\": true, \"vllm_ascend_version\": {}}}}}\n",
                           device_, dev.ai_core_num, dev.aiv_num, num(dev.aic_frequency_mhz), num(dev.aic_frequency_mhz),
                           json_string(dev.soc_version), rank_, pid_, device_, json_string(s_.vllm_ascend_version)));
  if (torch_) {
    sink_.append(root_ + fmt::format("profiler_info_{}.json", rank_),
                 fmt::format("{{\"config\": {{\"common_config\": {{\"activities\": [\"ProfilerActivity.CPU\", \"ProfilerActivity.NPU\"], "
                             "\"record_shapes\": true, \"profile_memory\": false, \"with_stack\": false, \"with_flops\": false, "
                             "\"with_modules\": false}}, \"experimental_config\": {{\"_profiler_level\": \"Level1\", "
                             "\"_aic_metrics\": \"PipeUtilization\", \"_l2_cache\": false, \"_data_simplification\": true, "
                             "\"_export_type\": [{}]}}}}, \"start_info\": {{\"start_time_ns\": {}}}, \"end_info\": {{\"end_time_ns\": {}}}, "
                             "\"rank_id\": {}, \"prefetch_tuner\": {{\"simulated\": true, \"vllm_ascend_version\": {}, \"model\": {}}}}}\n",
                             o_.format == "db" ? "\"text\", \"db\"" : "\"text\"", clock_.base_ns, clock_.ns(end_us), rank_,
                             json_string(s_.vllm_ascend_version), json_string(s_.model.name)));
    sink_.append(root_ + "profiler_metadata.json", fmt::format("{{\"distributed_args\": {}, \"parallel_group_info\": {}}}\n",
                                                               distributed_args(), parallel_group_info()));
  } else {
    sink_.append(root_ + "analyze/.keep", "");
  }
  if (db_) {
    db_->finish(clock_.base_ns, clock_.ns(end_us));
    db_.reset();
    sink_.close_file(db_rel_);
  }
  if (analysis_) {
    analysis_->finish();
    analysis_.reset();
    sink_.close_file(analysis_rel_);
  }
}

void validate(const ProfileExportOptions& o, const Scenario& s) {
  if (o.layout != "torch_npu" && o.layout != "msprof") {
    throw InputError(fmt::format("--layout {}: expected torch_npu or msprof", o.layout));
  }
  if (o.format != "text" && o.format != "db") throw InputError(fmt::format("--format {}: expected text or db", o.format));
  RunOptions r;
  r.steps = o.steps;
  r.jitter_pct = o.jitter_pct;
  r.ranks = o.ranks;
  r.slow_rank = o.slow_rank;
  r.slow_pct = o.slow_pct;
  validate_run_options(r, s.plan.deployment);
}

// ---- sinks ------------------------------------------------------------------------------------

class MemorySink : public ProfileSink {
 public:
  ~MemorySink() override {
    std::error_code ec;
    if (!temp_.empty()) fs::remove_all(temp_, ec);
  }
  void append(const std::string& rel, std::string_view data) override {
    auto [it, fresh] = index_.emplace(rel, files_.size());
    if (fresh) files_.emplace_back(rel, std::string());
    files_[it->second].second.append(data);
  }
  std::string file_path(const std::string& rel) override {
    if (temp_.empty()) temp_ = (fs::temp_directory_path() / fmt::format("prefetch-tuner-export.{}.{}", ::getpid(), ++serial_)).string();
    const fs::path p = fs::path(temp_) / rel;
    fs::create_directories(p.parent_path());
    return p.string();
  }
  void close_file(const std::string& rel) override {
    const fs::path p = fs::path(temp_) / rel;
    std::ifstream in(p, std::ios::binary);
    std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    append(rel, content);
  }
  std::vector<std::pair<std::string, std::string>> take() { return std::move(files_); }

 private:
  static inline int serial_ = 0;
  std::vector<std::pair<std::string, std::string>> files_;
  std::map<std::string, size_t> index_;
  std::string temp_;
};

// Files written under a directory as they come (an OutputSet's staging directory); `shown` is
// the directory named by the user, for messages.
class DirectorySink : public ProfileSink {
 public:
  DirectorySink(const std::string& dir, const std::string& shown) : dir_(dir), shown_(shown) {}
  ~DirectorySink() override { close_all(false); }
  void append(const std::string& rel, std::string_view data) override {
    auto it = open_.find(rel);
    if (it == open_.end()) {
      const fs::path p = dir_ / rel;
      fs::create_directories(p.parent_path());
      std::FILE* f = std::fopen(p.c_str(), "wb");
      if (!f) {
        throw InputError(fmt::format("{}: cannot write the profile ({})", (shown_ / rel).string(), std::strerror(errno)));
      }
      it = open_.emplace(rel, f).first;
      order_.push_back(rel);
      sizes_[rel] = 0;
    }
    if (!data.empty() && std::fwrite(data.data(), 1, data.size(), it->second) != data.size()) {
      throw InputError(fmt::format("{}: write failed ({})", (shown_ / rel).string(), std::strerror(errno)));
    }
    sizes_[rel] += data.size();
  }
  std::string file_path(const std::string& rel) override {
    const fs::path p = dir_ / rel;
    fs::create_directories(p.parent_path());
    return p.string();
  }
  void close_file(const std::string& rel) override {
    std::error_code ec;
    order_.push_back(rel);
    sizes_[rel] = fs::file_size(dir_ / rel, ec);
  }
  // Every file flushed and synced: what the OutputSet renames is complete on disk.
  void close() { close_all(true); }
  std::vector<std::pair<std::string, uint64_t>> written() const {
    std::vector<std::pair<std::string, uint64_t>> out;
    for (const auto& rel : order_) out.emplace_back(rel, sizes_.at(rel));
    return out;
  }

 private:
  void close_all(bool report) {
    std::string failed;
    for (auto& [rel, f] : open_) {
      if (!f) continue;
      if (report && (std::fflush(f) != 0 || ::fsync(::fileno(f)) != 0) && failed.empty()) failed = rel;
      if (std::fclose(f) != 0 && failed.empty()) failed = rel;
      f = nullptr;
    }
    open_.clear();
    if (!failed.empty() && report) {
      throw InputError(fmt::format("{}: write failed ({})", (shown_ / failed).string(), std::strerror(errno)));
    }
  }
  fs::path dir_, shown_;
  std::map<std::string, std::FILE*> open_;
  std::vector<std::string> order_;
  std::map<std::string, uint64_t> sizes_;
};

}  // namespace

void export_profile(const Scenario& scenario, const ProfileExportOptions& o, ProfileSink& sink) {
  validate(o, scenario);
  const Clock clock{std::llround(o.base_time_us * 1000.0)};
  std::vector<std::unique_ptr<RankWriter>> writers;
  for (int r = 0; r < o.ranks; ++r) writers.push_back(std::make_unique<RankWriter>(scenario, o, sink, r, clock));
  RunOptions run;
  run.steps = o.steps;
  run.jitter_pct = o.jitter_pct;
  run.seed = o.seed;
  run.step_gap_us = o.step_gap_us;
  run.ranks = o.ranks;
  run.slow_rank = o.slow_rank;
  run.slow_pct = o.slow_pct;
  double end = 0;
  simulate_run(scenario, run, [&](const RunStep& step) {
    for (const auto& rs : step.ranks) {
      writers[static_cast<size_t>(rs.rank)]->add_step(step, rs);
      end = std::max(end, step.start_us + rs.step_time_us);
    }
  });
  for (auto& w : writers) w->finish(end);
}

std::vector<std::pair<std::string, std::string>> export_profile(const Scenario& scenario, const ProfileExportOptions& o) {
  MemorySink sink;
  export_profile(scenario, o, sink);
  return sink.take();
}

void add_profile_export(OutputSet& out, const Scenario& scenario, const ProfileExportOptions& o, const std::string& dir,
                        std::vector<std::pair<std::string, uint64_t>>& written) {
  validate(o, scenario);  // bad options refused before the set writes anything
  out.add_directory(
      dir,
      [&scenario, o, dir, &written](const std::string& staged) {
        DirectorySink sink(staged, dir);
        export_profile(scenario, o, sink);
        sink.close();
        written = sink.written();
      },
      "the profile");
}

std::vector<std::pair<std::string, uint64_t>> export_profile_to_directory(const Scenario& scenario, const ProfileExportOptions& o,
                                                                          const std::string& dir) {
  std::vector<std::pair<std::string, uint64_t>> written;
  OutputSet out;
  add_profile_export(out, scenario, o, dir, written);
  out.commit();
  return written;
}

void write_profile_directory(const std::string& dir, const std::vector<std::pair<std::string, std::string>>& files) {
  // Staged as a whole directory beside `dir`, every file checked and synced, then renamed.
  OutputSet out;
  out.add_directory(dir, files, "the profile");
  out.commit();
}

}  // namespace pt
