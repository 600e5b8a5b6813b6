// The profile readers on small hand-written files of every format variant (tests/data/profiles),
// the join of old traces with kernel_details, directory search, bad inputs, and prefetch-tuner's
// own exports read back.
#include "profile/profile_readers.h"

#include <algorithm>
#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "export/profile_export.h"
#include "export/simulate_report.h"
#include "export/timeline_export.h"
#include "sim/scenario.h"
#include "test_support.h"
#include "util/file_io.h"

namespace pt {
namespace {

namespace fs = std::filesystem;
using test::contains;
using test::error_of;

std::string data(const std::string& name) { return test::source_path("tests/data/profiles/" + name); }

TaskList kernel_csv(const std::string& name) { return read_kernel_csv(read_text_file(data(name)), name); }

std::map<std::string, int> count_by_type(const auto& tasks) {
  std::map<std::string, int> c;
  for (const auto& t : tasks) ++c[std::string(t.task_type)];
  return c;
}

const ProfileTask* by_task_id(const std::vector<ProfileTask>& tasks, int64_t id) {
  for (const auto& t : tasks) {
    if (t.task_id == id) return &t;
  }
  return nullptr;
}

// A temporary directory removed at the end of the test.
struct TempDir {
  std::string path = test::make_temp_dir();
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  std::string put(const std::string& rel, const std::string& content) const {
    const fs::path p = fs::path(path) / rel;
    fs::create_directories(p.parent_path());
    return test::write_file(p.string(), content);
  }
  std::string copy(const std::string& data_name, const std::string& rel) const {
    return put(rel, test::read_file(data(data_name)));
  }
};

// ---- kernel_details / op_summary --------------------------------------------------------------

TEST(ProfileKernelCsv, BlockDimTabQuotedShapesAndNA) {
  const auto tasks = kernel_csv("kernel_details_block_dim.csv");
  ASSERT_EQ(tasks.size(), 4u);
  const ProfileTask& mm = tasks[0];
  EXPECT_EQ(mm.name, "aclnnMatmul_MatMulCommon_MatMulV2");
  EXPECT_EQ(mm.op_type, "MatMulV2");
  EXPECT_EQ(mm.task_type, "AI_CORE");
  // 1736413971558972.912 with the tab msprof appends, parsed exactly and kept relative to the
  // profile's whole-second origin (1736413971000000 us).
  EXPECT_NEAR(mm.start_us, 558972.912, 1e-6);
  EXPECT_DOUBLE_EQ(mm.duration_us, 185.504);
  EXPECT_EQ(mm.stream_id, 2);
  EXPECT_EQ(mm.task_id, 101);
  EXPECT_EQ(mm.step_id, 7);
  EXPECT_EQ(mm.input_shapes, "72,5120;2560,5120");  // """72,5120;2560,5120""" in the file
  EXPECT_TRUE(mm.is_cube());

  const ProfileTask& hccl = tasks[1];
  EXPECT_EQ(hccl.task_type, "HCCL");
  EXPECT_EQ(hccl.stream_id, -1);  // N/A
  EXPECT_EQ(hccl.task_id, -1);
  EXPECT_EQ(hccl.input_shapes, "");
  EXPECT_TRUE(hccl.is_communication());

  EXPECT_EQ(tasks[2].input_shapes, "72,2560;72,2560");
  EXPECT_NEAR(tasks[2].start_us, 559300.125, 1e-6);
  EXPECT_EQ(tasks[3].task_type, "AI_CPU");
  EXPECT_EQ(tasks[3].input_shapes, "");  // """""" in the file
  EXPECT_NEAR(tasks[3].start_us, 559310.0, 1e-6);
}

TEST(ProfileKernelCsv, Level0HeaderWithBlockNumAndNoIds) {
  const auto tasks = kernel_csv("kernel_details_level0_block_num.csv");
  ASSERT_EQ(tasks.size(), 2u);
  EXPECT_EQ(tasks[0].task_type, "AI_VECTOR_CORE");
  EXPECT_EQ(tasks[0].stream_id, -1);
  EXPECT_EQ(tasks[0].task_id, -1);
  EXPECT_EQ(tasks[0].step_id, -1);
  EXPECT_NEAR(tasks[0].start_us, 10.0, 1e-6);
  EXPECT_EQ(tasks[1].task_type, "MIX_AIC");
  EXPECT_EQ(tasks[1].op_type, "QuantBatchMatmulV3");
  EXPECT_NEAR(tasks[1].start_us, 16.25, 1e-6);
  EXPECT_DOUBLE_EQ(tasks[1].duration_us, 30.75);
}

TEST(ProfileKernelCsv, OpSummaryHeaderNames) {
  const auto tasks = kernel_csv("op_summary_20251123.csv");
  ASSERT_EQ(tasks.size(), 3u);
  EXPECT_EQ(tasks[0].name, "aclnnGroupedMatmulV4_GroupedMatmul_GroupedMatmul");
  EXPECT_EQ(tasks[0].op_type, "GroupedMatmul");
  EXPECT_EQ(tasks[0].task_type, "AI_CORE");
  EXPECT_EQ(tasks[0].stream_id, 5);
  EXPECT_EQ(tasks[0].task_id, 7);
  EXPECT_EQ(tasks[0].input_shapes, "8,2048;16,2048,768");
  EXPECT_NEAR(tasks[0].start_us, 100.0, 1e-6);
  EXPECT_DOUBLE_EQ(tasks[0].duration_us, 50.5);
  EXPECT_EQ(tasks[1].task_type, "MIX_AIV");
  EXPECT_EQ(tasks[2].task_type, "COMMUNICATION");
  EXPECT_TRUE(tasks[2].is_communication());
  EXPECT_EQ(tasks[2].task_id, -1);
}

TEST(ProfileKernelCsv, RowsComeSortedByStart) {
  const std::string text =
      "Name,Type,Accelerator Core,Start Time(us),Duration(us)\n"
      "b,Add,AI_VECTOR_CORE,20,1\na,Add,AI_VECTOR_CORE,10,1\nc,Add,AI_VECTOR_CORE,20,2\n";
  const auto tasks = read_kernel_csv(text, "s.csv");
  ASSERT_EQ(tasks.size(), 3u);
  EXPECT_EQ(std::string(tasks[0].name) + std::string(tasks[1].name) + std::string(tasks[2].name), "abc");  // stable for equal starts
}

TEST(ProfileKernelCsv, MissingColumnNamesFileLineOneAndBothSpellings) {
  const std::string e = error_of([] { kernel_csv("kernel_details_missing_start.csv"); });
  EXPECT_TRUE(contains(e, "kernel_details_missing_start.csv")) << e;
  EXPECT_TRUE(contains(e, "line 1")) << e;
  EXPECT_TRUE(contains(e, "\"Start Time(us)\" or \"Task Start Time(us)\"")) << e;
}

TEST(ProfileKernelCsv, BadNumberNamesFileLineAndColumn) {
  const std::string e = error_of([] { kernel_csv("kernel_details_bad_number.csv"); });
  EXPECT_TRUE(contains(e, "kernel_details_bad_number.csv: line 3")) << e;
  EXPECT_TRUE(contains(e, "\"Duration(us)\"")) << e;
  EXPECT_TRUE(contains(e, "\"fast\"")) << e;
}

TEST(ProfileKernelCsv, EmptyFileIsAnError) {
  EXPECT_TRUE(contains(error_of([] { read_kernel_csv("", "empty.csv"); }), "empty.csv"));
}

// ---- task_time ------------------------------------------------------------------------------

TEST(ProfileTaskTime, KeepsCmoAndEventTasks) {
  const auto tasks = read_task_time_csv(read_text_file(data("task_time_20251123.csv")), "task_time.csv");
  ASSERT_EQ(tasks.size(), 6u);
  const auto c = count_by_type(tasks);
  EXPECT_EQ(c.at("CMO"), 2);
  EXPECT_EQ(c.at("EVENT_RECORD"), 1);
  EXPECT_EQ(c.at("EVENT_WAIT"), 1);
  EXPECT_EQ(c.at("AI_CORE"), 1);
  EXPECT_EQ(c.at("AI_VECTOR_CORE"), 1);
  // Sorted by start: Add 0, EVENT_RECORD 3.5, EVENT_WAIT 4.0, CMO 4.25, MatMul 17, CMO 17.5.
  EXPECT_EQ(tasks[0].name, "aclnnAdd_AddAiCore_Add");
  EXPECT_EQ(tasks[3].name, "CMO");  // kernel_name N/A: named by its type
  EXPECT_TRUE(tasks[3].is_cmo());
  EXPECT_EQ(tasks[3].stream_id, 3);
  EXPECT_EQ(tasks[3].task_id, 4);
  EXPECT_NEAR(tasks[3].start_us, 4.25, 1e-6);  // the trailing tab is dropped
  EXPECT_DOUBLE_EQ(tasks[3].duration_us, 12.25);
  EXPECT_EQ(tasks[2].name, "EVENT_WAIT");
  EXPECT_EQ(tasks[4].task_type, "AI_CORE");
  EXPECT_TRUE(tasks[5].is_cmo());
}

TEST(ProfileTaskTime, DurationFromStopWhenTimeColumnIsAbsent) {
  const auto tasks = read_task_time_csv(
      "kernel_name,kernel_type,stream_id,task_id,task_start(us),task_stop(us)\nN/A,CMO,3,1,10.5\t,14.0\t\n", "tt.csv");
  ASSERT_EQ(tasks.size(), 1u);
  EXPECT_DOUBLE_EQ(tasks[0].duration_us, 3.5);
}

TEST(ProfileTaskTime, MissingColumn) {
  const std::string e = error_of([] { read_task_time_csv("kernel_name,kernel_type,stream_id\nx,CMO,3\n", "tt.csv"); });
  EXPECT_TRUE(contains(e, "tt.csv: line 1")) << e;
  EXPECT_TRUE(contains(e, "\"task_id\"")) << e;
}

// ---- traces ---------------------------------------------------------------------------------

TEST(ProfileTrace, ArrayWithStringTsAndPhysicStreamId) {
  const auto tasks = read_trace_json_file(data("trace_array_string_ts.json"));
  // Only the Ascend Hardware X events: not the Python op (even with a "Task Type" arg), not the
  // flows, not the X event of a pid that never gets a process_name.
  ASSERT_EQ(tasks.size(), 3u);
  EXPECT_EQ(tasks[0].name, "aclnnAdd_AddAiCore_Add");
  EXPECT_EQ(tasks[0].task_type, "AI_VECTOR_CORE");
  EXPECT_NEAR(tasks[0].start_us, 10.25, 1e-6);
  EXPECT_DOUBLE_EQ(tasks[0].duration_us, 3.5);
  EXPECT_EQ(tasks[0].stream_id, 2);
  EXPECT_EQ(tasks[0].task_id, 11);
  EXPECT_EQ(tasks[0].op_type, "");
  EXPECT_TRUE(tasks[1].is_cmo());
  EXPECT_EQ(tasks[1].stream_id, 3);
  EXPECT_EQ(tasks[1].task_id, 4);
  EXPECT_DOUBLE_EQ(tasks[1].duration_us, 12.25);
  EXPECT_EQ(tasks[2].task_type, "AI_CORE");
}

TEST(ProfileTrace, ObjectWithTraceEventsNumberTsStreamIdAndMetadataAfterEvents) {
  const auto tasks = read_trace_json_file(data("trace_object_number_ts.json"));
  ASSERT_EQ(tasks.size(), 3u);
  EXPECT_EQ(tasks[0].name, "aclnnRmsNorm_RmsNormAiCore_RmsNorm");
  EXPECT_DOUBLE_EQ(tasks[0].start_us, 1000.5);
  EXPECT_EQ(tasks[0].stream_id, 5);  // "Stream Id"
  EXPECT_EQ(tasks[1].name, "aclnnMm_MatMulCommon_MatMulV2");
  EXPECT_DOUBLE_EQ(tasks[1].start_us, 1005.5);  // 1.0055e3
  EXPECT_DOUBLE_EQ(tasks[1].duration_us, 25);   // 2.5e1
  EXPECT_EQ(tasks[1].task_id, 41);
  EXPECT_EQ(tasks[2].task_type, "EVENT_WAIT");
  EXPECT_EQ(tasks[2].stream_id, 6);  // no stream arg: the tid
}

TEST(ProfileTrace, PhysicStreamIdWinsOverStreamIdAndTid) {
  const auto tasks = read_trace_json_text(
      R"([{"ph": "M", "name": "process_name", "pid": 1, "args": {"name": "Ascend Hardware"}},
          {"ph": "X", "name": "k", "pid": 1, "tid": 9, "ts": 1, "dur": 1, "args": {"Stream Id": 8, "Physic Stream Id": 7}}])",
      "t.json");
  ASSERT_EQ(tasks.size(), 1u);
  EXPECT_EQ(tasks[0].stream_id, 7);
}

TEST(ProfileTrace, EventsOfANamedOtherProcessAreDroppedEvenIfNamedLater) {
  const auto tasks = read_trace_json_text(
      R"([{"ph": "X", "name": "python", "pid": 2, "tid": 2, "ts": 1, "dur": 5},
          {"ph": "X", "name": "kernel", "pid": 1, "tid": 3, "ts": 2, "dur": 1},
          {"ph": "M", "name": "process_name", "pid": 2, "args": {"name": "Python"}},
          {"ph": "X", "name": "python2", "pid": 2, "tid": 2, "ts": 3, "dur": 5},
          {"ph": "M", "name": "thread_name", "pid": 1, "tid": 3, "args": {"name": "Ascend Hardware"}},
          {"ph": "X", "name": "kernel2", "pid": 1, "tid": 3, "ts": 0.5, "dur": 1},
          {"ph": "M", "name": "process_name", "pid": 1, "args": {"name": "Ascend Hardware"}}])",
      "t.json");
  ASSERT_EQ(tasks.size(), 2u);
  EXPECT_EQ(tasks[0].name, "kernel2");  // sorted by start
  EXPECT_EQ(tasks[1].name, "kernel");
}

TEST(ProfileTrace, CompleteEventWithoutTsIsAnError) {
  const std::string e = error_of([] { read_trace_json_text(R"([{"ph": "X", "name": "k", "pid": 1}])", "nots.json"); });
  EXPECT_TRUE(contains(e, "nots.json")) << e;
  EXPECT_TRUE(contains(e, "byte 1")) << e;
  EXPECT_TRUE(contains(e, "\"ts\"")) << e;
}

TEST(ProfileTrace, TruncatedTraceNamesFileAndByte) {
  TempDir dir;
  const std::string text = test::read_file(data("trace_array_string_ts.json"));
  const size_t cut = text.size() / 2;
  const std::string path = dir.put("trace_view.json", text.substr(0, cut));
  const std::string want = fmt::format("{}: invalid JSON at byte {}: unexpected end of input", path, cut);
  EXPECT_TRUE(contains(error_of([&] { read_trace_json_file(path); }), want));
  EXPECT_TRUE(contains(error_of([&] { load_profile(path); }), want));
  EXPECT_TRUE(contains(error_of([&] { load_profile(dir.path); }), want));
}

// ---- join -----------------------------------------------------------------------------------

ProfileTask task(std::string name, std::string type, double start, int64_t task_id, std::string op_type = "") {
  ProfileTask t;
  t.name = test::keep(name);
  t.task_type = test::keep(type);
  t.start_us = start;
  t.duration_us = 1;
  t.task_id = task_id;
  t.op_type = test::keep(op_type);
  return t;
}

TEST(ProfileJoin, ByTaskIdAndStartWithinOneMicrosecond) {
  std::vector<ProfileTask> trace = {
      task("aclnnAdd_AddAiCore_Add", "Other", 100.0, 5),   // row at 100.9: joined
      task("aclnnMul_MulAiCore_Mul", "Other", 200.0, 6),   // row at 201.2: too far, typed by name
      task("MatMul91", "Other", 300.0, 7),                 // no row: by name, cube
      task("CMO", "CMO", 100.0, 5),                        // same task id and time, but a CMO: untouched
      task("aclnnMatmul_MatMulCommon_MatMulV2", "AI_CORE", 400.0, 8),  // typed, op type from the row
  };
  trace[0].stream_id = 3;
  std::vector<ProfileTask> kernel = {
      task("aclnnAdd_AddAiCore_Add", "AI_VECTOR_CORE", 100.9, 5, "Add"),
      task("aclnnAdd_AddAiCore_Add", "MIX_AIV", 150.0, 5, "Add"),
      task("aclnnMul_MulAiCore_Mul", "MIX_AIV", 201.2, 6, "Mul"),
      task("aclnnMatmul_MatMulCommon_MatMulV2", "MIX_AIC", 400.3, 8, "MatMulV2"),
  };
  kernel[0].stream_id = 2;  // logical id: differs from the trace's physical one
  kernel[0].input_shapes = "8,16";
  join_kernel_details(trace, kernel);
  EXPECT_EQ(trace[0].task_type, "AI_VECTOR_CORE");
  EXPECT_EQ(trace[0].op_type, "Add");
  EXPECT_EQ(trace[0].input_shapes, "8,16");
  EXPECT_EQ(trace[0].stream_id, 3);
  EXPECT_EQ(trace[1].task_type, "AI_VECTOR_CORE");
  EXPECT_EQ(trace[1].op_type, "");
  EXPECT_EQ(trace[2].task_type, "AI_CORE");
  EXPECT_EQ(trace[2].op_type, "");
  EXPECT_EQ(trace[3].task_type, "CMO");
  EXPECT_EQ(trace[3].op_type, "");
  EXPECT_EQ(trace[4].task_type, "AI_CORE");  // kept: only "Other" takes the row's type
  EXPECT_EQ(trace[4].op_type, "MatMulV2");
}

TEST(ProfileJoin, NameFallbackLooksAtTheKernelPartOfAclnnNames) {
  std::vector<ProfileTask> trace;
  for (const char* n : {"aclnnMm_MatMulCommon_MatMulV2", "aclnnMm_MatMulCommon_MemSet", "BatchMatMul3",
                        "aclnnGroupedMatmulV4_GroupedMatmul_GroupedMatmul",
                        "aclnnQuantMatmulV4_QuantBatchMatmulV3_QuantBatchMatmulV3", "aclnnMm_TransData_TransData",
                        "ZerosLike46"}) {
    trace.push_back(task(n, "Other", 1, -1));
  }
  join_kernel_details(trace, {});
  std::vector<std::string> types;
  for (const auto& t : trace) types.push_back(std::string(t.task_type));
  EXPECT_EQ(types, (std::vector<std::string>{"AI_CORE", "AI_VECTOR_CORE", "AI_CORE", "AI_CORE", "AI_CORE",
                                             "AI_VECTOR_CORE", "AI_VECTOR_CORE"}));
}

TEST(ProfileJoin, OldTraceWithOtherJoinedWithKernelDetails) {
  const Profile p = load_profile(data("old_torch_npu"));
  ASSERT_EQ(p.tasks.size(), 6u);
  ASSERT_EQ(p.files.size(), 2u);  // trace_view.json and kernel_details.csv; op_statistic.csv is not needed
  EXPECT_TRUE(p.files[0].ends_with("ASCEND_PROFILER_OUTPUT/trace_view.json"));
  EXPECT_TRUE(p.files[1].ends_with("ASCEND_PROFILER_OUTPUT/kernel_details.csv"));
  struct Want {
    int64_t id;
    const char* type;
    const char* op;
    const char* shapes;
  };
  for (const Want& w : {Want{279, "AI_VECTOR_CORE", "ZerosLike", "4,1025"},
                        Want{280, "AI_CORE", "MatMulV2", "4096,12288;4608,12288"},
                        Want{281, "AI_VECTOR_CORE", "MemSet", "8"},  // kernel_details start 0.6 us later
                        Want{282, "AI_CPU", "Cast", ""},             // typed in the trace; op type joined
                        Want{283, "AI_CORE", "", ""},                // no row: typed by name (BatchMatMul)
                        Want{284, "MIX_AIV", "Muls", "16"}}) {
    const ProfileTask* t = by_task_id(p.tasks, w.id);
    ASSERT_NE(t, nullptr) << w.id;
    EXPECT_EQ(t->task_type, w.type) << w.id;
    EXPECT_EQ(t->op_type, w.op) << w.id;
    EXPECT_EQ(t->input_shapes, w.shapes) << w.id;
    EXPECT_EQ(t->stream_id, 3) << w.id;  // the trace's physical stream, not kernel_details' 2
  }
  ASSERT_EQ(p.notes.size(), 1u);
  EXPECT_TRUE(contains(p.notes[0], "1 of 5 tasks with Task Type \"Other\"")) << p.notes[0];
  EXPECT_FALSE(p.has_cmo());
}

// ---- load_profile -----------------------------------------------------------------------------

TEST(ProfileLoad, SingleFilesByNameAndContent) {
  const Profile trace = load_profile(data("trace_array_string_ts.json"));
  EXPECT_EQ(trace.tasks.size(), 3u);
  EXPECT_TRUE(trace.has_cmo());
  EXPECT_TRUE(trace.notes.empty());
  EXPECT_FALSE(trace.from_prefetch_tuner);

  const Profile tt = load_profile(data("task_time_20251123.csv"));
  EXPECT_EQ(tt.tasks.size(), 6u);
  EXPECT_TRUE(tt.has_cmo());

  const Profile k = load_profile(data("kernel_details_block_dim.csv"));
  EXPECT_EQ(k.tasks.size(), 4u);
  EXPECT_FALSE(k.has_cmo());
  ASSERT_EQ(k.notes.size(), 1u);
  EXPECT_TRUE(contains(k.notes[0], "CMO tasks cannot be seen")) << k.notes[0];
  EXPECT_EQ(k.files, std::vector<std::string>{data("kernel_details_block_dim.csv")});
  const Profile ops = load_profile(data("op_summary_20251123.csv"));
  ASSERT_EQ(ops.notes.size(), 1u);
  EXPECT_TRUE(contains(ops.notes[0], "op_summary never lists them")) << ops.notes[0];

  // Content decides when the name does not: a trace and a task_time table under other names.
  TempDir dir;
  const std::string t = dir.copy("trace_object_number_ts.json", "export.txt");
  EXPECT_EQ(load_profile(t).tasks.size(), 3u);
  const std::string tt2 = dir.copy("task_time_20251123.csv", "tasks.csv");
  EXPECT_EQ(load_profile(tt2).tasks.size(), 6u);
}

TEST(ProfileLoad, OldTraceAloneIsTypedByNameWithANote) {
  const Profile p =
      load_profile(data("old_torch_npu/worker0_20240102_ascend_pt/ASCEND_PROFILER_OUTPUT/trace_view.json"));
  const auto c = count_by_type(p.tasks);
  EXPECT_EQ(c.at("AI_CORE"), 2);  // MatMulV2, BatchMatMulV2 (not the MemSet of aclnnMm)
  EXPECT_EQ(c.at("AI_VECTOR_CORE"), 3);
  EXPECT_EQ(c.at("AI_CPU"), 1);
  ASSERT_EQ(p.notes.size(), 1u);
  EXPECT_TRUE(contains(p.notes[0], "5 tasks have Task Type \"Other\"")) << p.notes[0];
}

TEST(ProfileLoad, MsprofWithoutTraceUsesTaskTimeJoinedWithOpSummary) {
  const Profile p = load_profile(data("msprof_csv_only"));
  ASSERT_EQ(p.tasks.size(), 3u);
  EXPECT_TRUE(p.has_cmo());
  EXPECT_TRUE(p.notes.empty());
  ASSERT_EQ(p.files.size(), 2u);
  EXPECT_TRUE(contains(p.files[0], "mindstudio_profiler_output/task_time_"));
  EXPECT_TRUE(contains(p.files[1], "mindstudio_profiler_output/op_summary_"));
  // Sorted by start: Add (0), CMO (5.5), MatMul (17).
  EXPECT_EQ(p.tasks[0].op_type, "Add");
  EXPECT_EQ(p.tasks[0].input_shapes, "8,4096;8,4096");
  EXPECT_TRUE(p.tasks[1].is_cmo());
  EXPECT_EQ(p.tasks[1].op_type, "");
  EXPECT_EQ(p.tasks[2].op_type, "MatMulV2");
}

TEST(ProfileLoad, KernelDetailsOnlyCannotSeeCmo) {
  const Profile p = load_profile(data("kernel_only"));
  ASSERT_EQ(p.tasks.size(), 1u);
  ASSERT_EQ(p.notes.size(), 1u);
  EXPECT_EQ(p.notes[0], "no trace_view.json, task_time or database: CMO tasks cannot be seen, kernel_details.csv never lists them");
}

TEST(ProfileLoad, MsprofDirectoryPrefersTheTrace) {
  TempDir dir;
  const std::string out = "PROF_000001_20251123_ABC/mindstudio_profiler_output/";
  dir.copy("trace_array_string_ts.json", out + "msprof_20251123.json");
  dir.copy("op_summary_20251123.csv", out + "op_summary_20251123.csv");
  dir.copy("task_time_20251123.csv", out + "task_time_20251123.csv");
  dir.put(out + "op_statistic_20251123.csv", "Device_id,OP Type\n");
  const Profile p = load_profile(dir.path);
  EXPECT_EQ(p.tasks.size(), 3u);  // the trace's tasks, not task_time's 6
  ASSERT_EQ(p.files.size(), 2u);
  EXPECT_TRUE(p.files[0].ends_with("msprof_20251123.json"));
  EXPECT_TRUE(p.files[1].ends_with("op_summary_20251123.csv"));
  EXPECT_TRUE(p.has_cmo());
}

TEST(ProfileLoad, TorchRunWithMsprofOutputInsideIsOneRun) {
  TempDir dir;
  const std::string run = "deep/host_123_20251123_ascend_pt/";
  dir.copy("trace_array_string_ts.json", run + "ASCEND_PROFILER_OUTPUT/trace_view.json");
  dir.copy("kernel_details_block_dim.csv", run + "ASCEND_PROFILER_OUTPUT/kernel_details.csv");
  dir.copy("trace_object_number_ts.json", run + "PROF_000001_X/mindstudio_profiler_output/msprof_1.json");
  const Profile p = load_profile(dir.path);
  ASSERT_EQ(p.files.size(), 2u);
  EXPECT_TRUE(contains(p.files[0], "ASCEND_PROFILER_OUTPUT/trace_view.json")) << p.files[0];
  EXPECT_EQ(p.tasks.size(), 3u);
  EXPECT_EQ(p.source, dir.path);
}

TEST(ProfileLoad, MsprofRunWithPerDeviceSummariesIsOneRun) {
  TempDir dir;
  dir.copy("task_time_20251123.csv", "PROF_000001_X/mindstudio_profiler_output/task_time_1.csv");
  dir.copy("op_summary_20251123.csv", "PROF_000001_X/device_0/summary/op_summary_0_1.csv");
  const Profile p = load_profile(dir.path);
  ASSERT_EQ(p.files.size(), 1u);
  EXPECT_TRUE(contains(p.files[0], "mindstudio_profiler_output/task_time_1.csv")) << p.files[0];
  EXPECT_EQ(p.tasks.size(), 6u);
}

TEST(ProfileLoad, SeveralRunsAskToNameOne) {
  const std::string e = error_of([] { load_profile(data("two_runs")); });
  EXPECT_TRUE(contains(e, "2 profiler output directories")) << e;
  EXPECT_TRUE(contains(e, "name one")) << e;
  EXPECT_TRUE(contains(e, "rank0_ascend_pt/ASCEND_PROFILER_OUTPUT")) << e;
  EXPECT_TRUE(contains(e, "rank1_ascend_pt/ASCEND_PROFILER_OUTPUT")) << e;
  // Naming one of them works.
  EXPECT_EQ(load_profile(data("two_runs/rank1_ascend_pt")).tasks.size(), 1u);
}

TEST(ProfileLoad, SearchGoesSixLevelsDown) {
  TempDir dir;
  dir.copy("task_time_20251123.csv", "a/b/c/d/e/mindstudio_profiler_output/task_time_1.csv");  // level 6
  EXPECT_EQ(load_profile(dir.path).tasks.size(), 6u);
  TempDir deeper;
  deeper.copy("task_time_20251123.csv", "a/b/c/d/e/f/mindstudio_profiler_output/task_time_1.csv");  // level 7
  EXPECT_TRUE(contains(error_of([&] { load_profile(deeper.path); }), "no profile found"));
}

TEST(ProfileLoad, DirectoryWithoutProfileSaysWhatWasLookedFor) {
  const std::string e = error_of([] { load_profile(data("no_profile")); });
  EXPECT_TRUE(contains(e, data("no_profile") + ": no profile found")) << e;
  EXPECT_TRUE(contains(e, "ASCEND_PROFILER_OUTPUT/trace_view.json")) << e;
  EXPECT_TRUE(contains(e, "mindstudio_profiler_output")) << e;
  TempDir empty;
  EXPECT_TRUE(contains(error_of([&] { load_profile(empty.path); }), "no profile found"));
}

TEST(ProfileLoad, NonexistentPath) {
  const std::string e = error_of([] { load_profile("/nonexistent/profile/dir"); });
  EXPECT_TRUE(contains(e, "/nonexistent/profile/dir: no such file or directory")) << e;
}

TEST(ProfileLoad, TraceWithoutAscendHardwareIsAnError) {
  TempDir dir;
  const std::string path = dir.put("trace_view.json", R"([{"ph": "X", "name": "aten::mm", "pid": 1, "ts": 1, "dur": 2}])");
  EXPECT_TRUE(contains(error_of([&] { load_profile(path); }), "\"Ascend Hardware\""));
}

// ---- prefetch-tuner's own exports -----------------------------------------------------------

struct Simulated {
  Scenario scenario;
  StepResult result;
  int cmo = 0, compute = 0, events = 0, communication = 0;
  std::multiset<std::tuple<int, std::string, double>> cmo_sites;  // layer, site, bytes
};

const Simulated& qwen3_8b() {
  static const Simulated s = [] {
    Simulated x;
    ScenarioInputs in;
    in.model = "Qwen3-8B";
    in.hardware = "a3-die";
    in.deployment.num_tokens = 8;
    in.use_process_env = false;
    x.scenario = load_scenario(in);
    x.result = simulate_with_baseline(x.scenario, true).with_config;
    for (const TimelineEvent& e : x.result.timeline) {
      const PlannedLayerType& lt =
          e.layer_type >= 0 ? x.scenario.plan.layer_types[static_cast<size_t>(e.layer_type)] : x.scenario.plan.step_ops;
      if (e.kind == EventKind::kCmo) {
        ++x.cmo;
        x.cmo_sites.insert({e.layer, lt.sites[static_cast<size_t>(e.site)].site, e.bytes});
      } else if (e.kind == EventKind::kOp) {
        const std::string& core = lt.ops[static_cast<size_t>(e.op)].core;
        if (core == "HCCL") ++x.communication;
        else ++x.compute;
      } else {
        ++x.events;
      }
    }
    return x;
  }();
  return s;
}

void expect_matches_simulation(const Profile& p, const Simulated& s) {
  ASSERT_GT(s.cmo, 0) << "the default config should prefetch";
  int cmo = 0, compute = 0, comm = 0, events = 0;
  std::multiset<std::tuple<int, std::string, double>> sites;
  for (const auto& t : p.tasks) {
    if (t.is_cmo()) {
      ++cmo;
      sites.insert({t.layer, std::string(t.site), t.prefetch_bytes});
    } else if (t.is_compute()) {
      ++compute;
    } else if (t.is_communication()) {
      ++comm;
    } else {
      ++events;
      EXPECT_TRUE(t.task_type == "EVENT_RECORD" || t.task_type == "EVENT_WAIT") << t.task_type;
    }
  }
  EXPECT_EQ(cmo, s.cmo);
  EXPECT_EQ(compute, s.compute);
  EXPECT_EQ(comm, s.communication);
  EXPECT_EQ(events, s.events);
  EXPECT_EQ(sites, s.cmo_sites);
  EXPECT_TRUE(p.from_prefetch_tuner);
  EXPECT_TRUE(std::is_sorted(p.tasks.begin(), p.tasks.end(),
                             [](const ProfileTask& a, const ProfileTask& b) { return a.start_us < b.start_us; }));
  EXPECT_TRUE(p.notes.empty()) << p.notes.front();
}

TEST(ProfileRoundTrip, OwnTimelineCsvAndTrace) {
  const Simulated& s = qwen3_8b();
  TempDir dir;
  const std::string csv = dir.put("timeline.csv", timeline_csv(s.scenario.plan, s.result));
  const std::string trace = dir.put("trace.json", chrome_trace_json(s.scenario.plan, s.result));
  const Profile from_csv = load_profile(csv);
  const Profile from_trace = load_profile(trace);
  expect_matches_simulation(from_csv, s);
  expect_matches_simulation(from_trace, s);
  ASSERT_EQ(from_csv.tasks.size(), from_trace.tasks.size());
  ASSERT_EQ(from_csv.tasks.size(), s.result.timeline.size());
  // Both carry the same tasks; the CSV rounds times to 1 ns, the trace both ends of a slice (its
  // duration may differ from the CSV's by up to 1 ns).
  for (size_t i = 0; i < from_csv.tasks.size(); ++i) {
    EXPECT_NEAR(from_csv.tasks[i].start_us, from_trace.tasks[i].start_us, 1e-3) << i;
    EXPECT_NEAR(from_csv.tasks[i].duration_us, from_trace.tasks[i].duration_us, 1.001e-3) << i;
    EXPECT_EQ(from_csv.tasks[i].stream_id, from_trace.tasks[i].stream_id) << i;
  }
}

TEST(ProfileRoundTrip, CliExportsReadBack) {
  TempDir dir;
  const std::string csv = dir.path + "/t.csv", trace = dir.path + "/t.json";
  const auto r = test::run_cli(fmt::format("simulate --model Qwen3-8B --num-tokens 8 --timeline-csv {} --trace-json {}",
                                           csv, trace));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const Simulated& s = qwen3_8b();
  expect_matches_simulation(load_profile(csv), s);
  expect_matches_simulation(load_profile(trace), s);
}

// export-profile writes the profilers' own layouts: they must be found and read like real ones.
TEST(ProfileRoundTrip, ExportProfileLayouts) {
  const Simulated& s = qwen3_8b();
  for (const char* layout : {"torch_npu", "msprof"}) {
    TempDir dir;
    ProfileExportOptions o;
    o.layout = layout;
    o.steps = 2;
    write_profile_directory(dir.path + "/out", export_profile(s.scenario, o));
    const Profile p = load_profile(dir.path);
    int cmo = 0, compute = 0;
    for (const auto& t : p.tasks) {
      if (t.is_cmo()) ++cmo;
      if (t.is_compute()) {
        ++compute;
        EXPECT_FALSE(t.op_type.empty()) << layout << ": " << t.name << " not joined with its kernel row";
      }
    }
    EXPECT_EQ(cmo, 2 * s.cmo) << layout;
    EXPECT_EQ(compute, 2 * s.compute) << layout;
    ASSERT_EQ(p.files.size(), 2u) << layout;
    EXPECT_TRUE(contains(p.files[0], std::string(layout) == "msprof" ? "/msprof_" : "/trace_view.json")) << p.files[0];
    EXPECT_FALSE(p.from_prefetch_tuner) << layout;  // it looks like a real profile
  }
}

}  // namespace
}  // namespace pt
