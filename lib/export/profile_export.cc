#include "export/profile_export.h"

#include <algorithm>
#include <cmath>
#include <map>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "util/csv.h"
#include "util/error.h"
#include "util/file_io.h"

namespace pt {

namespace {

struct Row {
  int step = 1;
  std::string name, type, core;
  double start_us = 0, duration_us = 0;
  int stream = 0;
  int task_id = 0;
  std::string input_shapes, input_types, input_formats, output_shapes, output_types, output_formats;
  int block = 0;
  double prefetch_bytes = 0;
  double end_us() const { return start_us + duration_us; }
};

// splitmix64: a deterministic jitter that needs no library.
double unit_random(uint64_t& state) {
  uint64_t z = (state += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  z ^= z >> 31;
  return static_cast<double>(z >> 11) / static_cast<double>(1ULL << 53);
}

std::string shapes_of(const StepPlan& plan, const PlannedOp& op, std::string& in_types, std::string& in_formats,
                      std::string& out_shapes, std::string& out_types, std::string& out_formats) {
  const auto tokens = static_cast<long long>(plan.tokens.padded_tokens);
  const auto hidden = static_cast<long long>(plan.model.hidden_size);
  if (op.linear >= 0 && (op.kind == OpKind::kMatmul || op.kind == OpKind::kGroupedMatmul)) {
    const Linear& l = plan.linears[static_cast<size_t>(op.linear)];
    const auto n = static_cast<long long>(l.out_features), k = static_cast<long long>(l.in_features);
    const bool int8 = l.int8_activation();
    in_types = int8 ? "INT8;INT8" : "DT_BF16;DT_BF16";
    in_formats = int8 ? "ND;FRACTAL_NZ" : "ND;ND";
    out_types = "DT_BF16";
    out_formats = "ND";
    if (op.kind == OpKind::kGroupedMatmul) {
      const auto e = static_cast<long long>(l.count);
      const auto rows = static_cast<long long>(plan.variables.at("PAIRS"));
      out_shapes = fmt::format("{},{}", rows, n);
      return fmt::format("{},{};{},{},{}", rows, k, e, k, n);
    }
    out_shapes = fmt::format("{},{}", tokens, n);
    return fmt::format("{},{};{},{}", tokens, k, n, k);
  }
  in_types = "DT_BF16";
  in_formats = "ND";
  out_types = "DT_BF16";
  out_formats = "ND";
  out_shapes = fmt::format("{},{}", tokens, hidden);
  return fmt::format("{},{}", tokens, hidden);
}

std::string quoted_shape(const std::string& s) { return csv_escape("\"" + s + "\""); }

// Absolute timestamps are ~1.7e15 us: a double resolves only 0.25 us there, so the times are kept
// relative to the start and joined to the integer base when written.
struct Clock {
  long long base_ns = 0;
  std::string operator()(double relative_us) const {
    const long long ns = base_ns + std::llround(relative_us * 1000.0);
    return fmt::format("{}.{:03d}", ns / 1000, static_cast<int>(ns % 1000));
  }
};

}  // namespace

std::vector<std::pair<std::string, std::string>> export_profile(const Scenario& scenario, const ProfileExportOptions& o) {
  if (o.layout != "torch_npu" && o.layout != "msprof") {
    throw InputError(fmt::format("--layout {}: expected torch_npu or msprof", o.layout));
  }
  if (o.steps < 1 || o.steps > 1000) throw InputError(fmt::format("--steps {}: expected 1..1000", o.steps));
  if (!(o.jitter_pct >= 0 && o.jitter_pct < 50)) throw InputError(fmt::format("--jitter {}: expected 0..50 (%)", o.jitter_pct));

  std::vector<Row> rows;
  uint64_t rng = o.seed;
  const Clock ts{std::llround(o.base_time_us * 1000.0)};
  double t0 = 0;  // relative to base_time_us
  int task_id = 1;
  SimOptions sim;
  sim.cap_reading = scenario.cap_reading;
  sim.record_timeline = true;
  for (int step = 1; step <= o.steps; ++step) {
    // Each step is internally consistent; steps differ by a small spread of the hardware rates.
    HardwareProfile hw = scenario.hardware;
    auto jitter = [&](double v) { return v * (1.0 + o.jitter_pct / 100.0 * (2.0 * unit_random(rng) - 1.0)); };
    hw.matmul_efficiency = std::min(1.0, jitter(hw.matmul_efficiency));
    hw.vector_efficiency = std::min(1.0, jitter(hw.vector_efficiency));
    hw.hbm_GBps = jitter(hw.hbm_GBps);
    hw.cmo_GBps = jitter(hw.cmo_GBps);
    const StepPlan plan = o.jitter_pct > 0 ? build_step_plan(scenario.model, scenario.plan.deployment, hw, scenario.layer_template,
                                                             *scenario.release, scenario.op_times.empty() ? nullptr : &scenario.op_times)
                                           : scenario.plan;
    const StepResult r = simulate_step(plan, scenario.config, sim);
    for (const auto& e : r.timeline) {
      const PlannedLayerType& type = e.layer_type >= 0 ? plan.layer_types[static_cast<size_t>(e.layer_type)] : plan.step_ops;
      Row row;
      row.step = step;
      row.start_us = t0 + e.start_us;
      row.duration_us = e.duration_us;
      row.stream = e.stream;
      row.task_id = task_id++;
      switch (e.kind) {
        case EventKind::kOp: {
          const PlannedOp& op = type.ops[static_cast<size_t>(e.op)];
          // torch_npu names kernels aclnn<Op>_<Kernel> (the template name kept readable inside it);
          // HCCL tasks are named <type>_<sequence>_0 ("hcom_allReduce__445_0").
          row.name = op.core == "HCCL" ? fmt::format("{}_{}_0", op.type, task_id)
                                       : fmt::format("aclnn{}_{}_{}", op.type, op.name, op.type);
          row.type = op.type;
          row.core = op.core;
          row.block = op.core == "HCCL" ? 0 : (op.core == "AI_CORE" ? 24 : 48);
          row.input_shapes = shapes_of(plan, op, row.input_types, row.input_formats, row.output_shapes, row.output_types,
                                       row.output_formats);
          break;
        }
        case EventKind::kCmo:
          row.name = row.type = row.core = "CMO";
          row.prefetch_bytes = e.bytes;
          break;
        case EventKind::kEventRecord:
          row.name = row.type = row.core = "EVENT_RECORD";
          break;
        case EventKind::kEventWait:
          row.name = row.type = row.core = "EVENT_WAIT";
          break;
      }
      rows.push_back(std::move(row));
    }
    t0 += r.step_time_us + o.step_gap_us;
  }
  std::stable_sort(rows.begin(), rows.end(), [](const Row& a, const Row& b) { return a.start_us < b.start_us; });

  // The trace: Ascend Hardware with one thread per stream, ts as strings, args as msprof writes them.
  using nlohmann::json;
  const int pid = 2045;
  json events = json::array();
  events.push_back({{"name", "process_name"}, {"pid", pid}, {"tid", 0}, {"args", {{"name", "Ascend Hardware"}}}, {"ph", "M"}});
  events.push_back({{"name", "process_labels"}, {"pid", pid}, {"tid", 0}, {"args", {{"labels", "NPU"}}}, {"ph", "M"}});
  events.push_back({{"name", "process_sort_index"}, {"pid", pid}, {"tid", 0}, {"args", {{"sort_index", 8}}}, {"ph", "M"}});
  for (int stream : {kComputeStreamId, kPrefetchStreamId}) {
    events.push_back({{"name", "thread_name"}, {"pid", pid}, {"tid", stream}, {"args", {{"name", fmt::format("Stream {}", stream)}}}, {"ph", "M"}});
    events.push_back({{"name", "thread_sort_index"}, {"pid", pid}, {"tid", stream}, {"args", {{"sort_index", stream}}}, {"ph", "M"}});
  }
  for (const auto& r : rows) {
    const std::string task_type = r.core == "HCCL" ? "COMMUNICATION" : r.core;
    events.push_back({{"name", r.name},
                      {"pid", pid},
                      {"tid", r.stream},
                      {"ts", ts(r.start_us)},
                      {"dur", r.duration_us},
                      {"args",
                       {{"Model Id", 4294967295LL},
                        {"Task Type", task_type},
                        {"Physic Stream Id", r.stream},
                        {"Task Id", r.task_id},
                        {"Batch Id", 0},
                        {"Subtask Id", 4294967295LL},
                        {"connection_id", r.task_id}}},
                      {"ph", "X"}});
  }
  const std::string trace = events.dump() + "\n";

  // kernel_details / op_summary: compute and communication tasks only (never CMO or events).
  const bool torch = o.layout == "torch_npu";
  std::string kernel = torch ? "Step Id,Device_id,Model ID,Task ID,Stream ID,Name,Type,OP State,Accelerator Core,Start Time(us),"
                               "Duration(us),Wait Time(us),Block Num,Mix Block Num,HF32 Eligible,Input Shapes,Input Data Types,"
                               "Input Formats,Output Shapes,Output Data Types,Output Formats,Context ID,aicore_time(us),aiv_time(us)\n"
                             : "Device_id,Model ID,Task ID,Stream ID,Op Name,OP Type,OP State,Task Type,Task Start Time(us),"
                               "Task Duration(us),Task Wait Time(us),Block Num,Mix Block Num,HF32 Eligible,Input Shapes,"
                               "Input Data Types,Input Formats,Output Shapes,Output Data Types,Output Formats,Context ID,"
                               "aicore_time(us),aiv_time(us)\n";
  std::map<std::pair<std::string, std::string>, std::vector<double>> stats;
  double prev_end = -1;
  for (const auto& r : rows) {
    if (r.core == "CMO" || r.core == "EVENT_RECORD" || r.core == "EVENT_WAIT") continue;
    // msprof's Wait Time: gap to the previous task of the device, all streams together.
    const double wait = prev_end < 0 ? 0 : std::max(0.0, r.start_us - prev_end);
    prev_end = std::max(prev_end, r.end_us());
    const bool comm = r.core == "HCCL";
    const std::string id = comm ? "N/A" : std::to_string(r.task_id);
    const std::string stream = comm ? "N/A" : std::to_string(r.stream);
    const std::string aicore = r.core == "AI_CORE" ? fmt::format("{:.3f}", r.duration_us * 0.97) : comm ? "N/A" : "0";
    const std::string aiv = r.core == "AI_VECTOR_CORE" ? fmt::format("{:.3f}", r.duration_us * 0.95) : comm ? "N/A" : "0";
    const std::string shapes = comm ? "N/A" : quoted_shape(r.input_shapes);
    const std::string out_shapes = comm ? "N/A" : quoted_shape(r.output_shapes);
    const std::string common = fmt::format(
        "{},{},dynamic,{},{}\t,{:.3f},{:.3f},{},0,NO,{},{},{},{},{},{},N/A,{},{}", csv_escape(r.name), r.type, r.core,
        ts(r.start_us), r.duration_us, wait, r.block, shapes, comm ? "N/A" : r.input_types, comm ? "N/A" : r.input_formats,
        out_shapes, comm ? "N/A" : r.output_types, comm ? "N/A" : r.output_formats, aicore, aiv);
    kernel += torch ? fmt::format("{},0,4294967295,{},{},{}\n", r.step, id, stream, common)
                    : fmt::format("0,4294967295,{},{},{}\n", id, stream, common);
    stats[{r.type, r.core}].push_back(r.duration_us);
  }

  // op_statistic: rows sorted by total time; Min before Avg, as the code writes it.
  struct Stat {
    std::string type, core;
    size_t count;
    double total, min, avg, max;
  };
  std::vector<Stat> list;
  double grand = 0;
  for (const auto& [key, v] : stats) {
    Stat s{key.first, key.second, v.size(), 0, *std::min_element(v.begin(), v.end()), 0, *std::max_element(v.begin(), v.end())};
    for (double d : v) s.total += d;
    s.avg = s.total / static_cast<double>(s.count);
    grand += s.total;
    list.push_back(s);
  }
  std::sort(list.begin(), list.end(), [](const Stat& a, const Stat& b) { return a.total > b.total; });
  std::string op_stat = "Device_id,OP Type,Core Type,Count,Total Time(us),Min Time(us),Avg Time(us),Max Time(us),Ratio(%)\n";
  for (const auto& s : list) {
    op_stat += fmt::format("0,{},{},{},{:.3f},{:.3f},{:.3f},{:.3f},{:.2f}\n", s.type, s.core, s.count, s.total, s.min, s.avg,
                           s.max, grand > 0 ? 100.0 * s.total / grand : 0);
  }

  const long long stamp = static_cast<long long>(o.base_time_us / 1e6);
  std::vector<std::pair<std::string, std::string>> files;
  if (torch) {
    const std::string dir = fmt::format("localhost.localdomain_{}_{}_ascend_pt/ASCEND_PROFILER_OUTPUT/", 4242, stamp * 1000);
    files.emplace_back(dir + "trace_view.json", trace);
    files.emplace_back(dir + "kernel_details.csv", kernel);
    files.emplace_back(dir + "op_statistic.csv", op_stat);
  } else {
    // task_time lists every task, CMO and events included; kernel_name is N/A for non-compute tasks.
    std::string task_time = "Device_id,kernel_name,kernel_type,stream_id,task_id,task_time(us),task_start(us),task_stop(us)\n";
    for (const auto& r : rows) {
      const bool compute = r.core != "CMO" && r.core != "EVENT_RECORD" && r.core != "EVENT_WAIT";
      task_time += fmt::format("0,{},{},{},{},{:.3f},{},{}\n", compute ? csv_escape(r.name) : "N/A",
                               r.core == "HCCL" ? "COMMUNICATION" : r.core, r.stream, r.task_id, r.duration_us,
                               ts(r.start_us), ts(r.end_us()));
    }
    const std::string dir = fmt::format("PROF_000001_{}_AAAAAAAA/mindstudio_profiler_output/", stamp);
    const std::string suffix = fmt::format("{}", stamp);
    files.emplace_back(dir + "msprof_" + suffix + ".json", trace);
    files.emplace_back(dir + "op_summary_" + suffix + ".csv", kernel);
    files.emplace_back(dir + "op_statistic_" + suffix + ".csv", op_stat);
    files.emplace_back(dir + "task_time_" + suffix + ".csv", task_time);
  }
  return files;
}

void write_profile_directory(const std::string& dir, const std::vector<std::pair<std::string, std::string>>& files) {
  // Staged as a whole directory beside `dir`, every file checked and synced, then renamed.
  OutputSet out;
  out.add_directory(dir, files, "the profile");
  out.commit();
}

}  // namespace pt
