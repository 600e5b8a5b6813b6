// export-profile's files, checked byte by byte against the Ascend profilers' layouts: which files,
// which columns, which rows, how numbers and timestamps are written. The CSV is split here by a
// small RFC 4180 splitter of the test's own, not by the library's reader.
#include "export/profile_export.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <optional>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "sim/scenario.h"
#include "test_support.h"

namespace pt {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using test::contains;

const Scenario& qwen3_8b_t16() {
  static const Scenario s = [] {
    ScenarioInputs in;
    in.model = "Qwen3-8B";
    in.deployment.num_tokens = 16;
    in.use_process_env = false;
    return load_scenario(in);
  }();
  return s;
}

using Files = std::vector<std::pair<std::string, std::string>>;

Files export_with(const std::string& layout, int steps = 2) {
  ProfileExportOptions o;
  o.layout = layout;
  o.steps = steps;
  o.jitter_pct = 0;
  return export_profile(qwen3_8b_t16(), o);
}

const Files& torch_files() {
  static const Files f = export_with("torch_npu");
  return f;
}
const Files& msprof_files() {
  static const Files f = export_with("msprof");
  return f;
}

std::string file_named(const Files& files, const std::string& suffix) {
  for (const auto& [rel, content] : files) {
    if (rel.size() >= suffix.size() && rel.compare(rel.size() - suffix.size(), suffix.size(), suffix) == 0) return content;
  }
  ADD_FAILURE() << "no file ending in " << suffix;
  return "";
}

// Raw CSV: each field as written (quotes kept) and unquoted.
struct Field {
  std::string raw, value;
};
using Row = std::vector<Field>;

std::vector<Row> split_csv(const std::string& text) {
  std::vector<Row> rows;
  Row row;
  Field f;
  bool quoted = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (quoted) {
      f.raw += c;
      if (c == '"' && i + 1 < text.size() && text[i + 1] == '"') {
        f.raw += '"';
        f.value += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        f.value += c;
      }
    } else if (c == '"') {
      quoted = true;
      f.raw += c;
    } else if (c == ',') {
      row.push_back(f);
      f = {};
    } else if (c == '\n') {
      row.push_back(f);
      f = {};
      rows.push_back(row);
      row.clear();
    } else {
      f.raw += c;
      f.value += c;
    }
  }
  EXPECT_FALSE(quoted) << "unterminated quote";
  EXPECT_TRUE(row.empty() && f.raw.empty()) << "no newline at the end";
  return rows;
}

struct Table {
  std::vector<std::string> header;
  std::vector<Row> rows;
  size_t col(const std::string& name) const {
    auto it = std::find(header.begin(), header.end(), name);
    if (it == header.end()) {
      ADD_FAILURE() << "no column " << name;
      return 0;
    }
    return static_cast<size_t>(it - header.begin());
  }
};

Table table_of(const std::string& text) {
  Table t;
  auto rows = split_csv(text);
  if (rows.empty()) {
    ADD_FAILURE() << "empty CSV";
    return t;
  }
  for (const auto& f : rows[0]) t.header.push_back(f.value);
  t.rows.assign(rows.begin() + 1, rows.end());
  for (const auto& r : t.rows) EXPECT_EQ(r.size(), t.header.size()) << "ragged row";
  return t;
}

// The trace's complete events of the process named `process` ("Ascend Hardware": the device tasks).
std::vector<json> x_events(const std::string& trace, const std::string& process = "Ascend Hardware") {
  const json j = json::parse(trace);
  EXPECT_TRUE(j.is_array());
  std::set<long long> pids;
  for (const auto& e : j) {
    if (e.value("ph", "") == "M" && e.value("name", "") == "process_name" && e.at("args").at("name") == process) {
      pids.insert(e.at("pid").get<long long>());
    }
  }
  EXPECT_EQ(pids.size(), 1u) << process;
  std::vector<json> out;
  for (const auto& e : j) {
    if (e.value("ph", "") == "X" && pids.count(e.at("pid").get<long long>())) out.push_back(e);
  }
  return out;
}

// The time the first task of `step` (1-based) starts, relative to the base: steps follow each
// other with the 150 us host gap, every step taking the simulator's step time.
double step_start_us(int step) {
  SimOptions o;
  o.cap_reading = qwen3_8b_t16().cap_reading;
  const double t = simulate_step(qwen3_8b_t16().plan, qwen3_8b_t16().config, o).step_time_us;
  return (step - 1) * (t + ProfileExportOptions{}.step_gap_us);
}

std::string absolute_ts(double relative_us) {
  const long long ns = 1763856000000000LL * 1000 + std::llround(relative_us * 1000.0);
  return fmt::format("{}.{:03d}", ns / 1000, ns % 1000);
}

TEST(ProfileExportTorchNpu, TheFilesTorchNpuWritesUnderItsRunDirectory) {
  const Files& files = torch_files();
  // <host>_<pid>_<YYYYMMDDhhmmssmmm>_ascend_pt: the 17-digit stamp msprof-analyze's cluster reader
  // splits on (data_preprocessor.py PROFILING_DIR_FORMAT).
  const std::regex run(R"(^localhost\.localdomain_4242_20251123000000000_ascend_pt/(.+)$)");
  std::vector<std::string> names;
  for (const auto& [rel, content] : files) {
    std::smatch m;
    ASSERT_TRUE(std::regex_match(rel, m, run)) << rel;
    names.push_back(m[1]);
  }
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names, (std::vector<std::string>{"ASCEND_PROFILER_OUTPUT/communication.json",
                                             "ASCEND_PROFILER_OUTPUT/communication_matrix.json",
                                             "ASCEND_PROFILER_OUTPUT/kernel_details.csv", "ASCEND_PROFILER_OUTPUT/op_statistic.csv",
                                             "ASCEND_PROFILER_OUTPUT/step_trace_time.csv", "ASCEND_PROFILER_OUTPUT/trace_view.json",
                                             "PROF_000001_20251123000000000_AAAAAAAAAAAAAAAA/device_0/info.json.0",
                                             "profiler_info_0.json", "profiler_metadata.json"}));
  for (const auto& [rel, content] : files) {
    if (rel.ends_with(".json") || rel.find("info.json") != std::string::npos) {
      EXPECT_TRUE(json::accept(content)) << rel;
    }
  }
}

TEST(ProfileExportTorchNpu, InfoJsonCarriesTheAiCoreCountAndClock) {
  const json info = json::parse(file_named(torch_files(), "info.json.0"));
  const json& d = info.at("DeviceInfo").at(0);
  EXPECT_EQ(d.at("id"), 0);
  // Qwen3-8B's default hardware: one A3 die, 24 AIC / 48 AIV at 1850 MHz (CANN platform ini).
  EXPECT_EQ(d.at("ai_core_num"), 24);
  EXPECT_EQ(d.at("aiv_num"), 48);
  EXPECT_EQ(d.at("aic_frequency"), "1850");
  EXPECT_EQ(info.at("rank_id"), 0);
  const json profiler_info = json::parse(file_named(torch_files(), "profiler_info_0.json"));
  EXPECT_EQ(profiler_info.at("rank_id"), 0);
  EXPECT_EQ(profiler_info.at("config").at("experimental_config").at("_profiler_level"), "Level1");
}

TEST(ProfileExportTorchNpu, KernelDetailsHasComputeRowsOnlyWrittenAsTorchNpuDoes) {
  const Table t = table_of(file_named(torch_files(), "kernel_details.csv"));
  ASSERT_EQ(t.header.front(), "Step Id");
  const size_t name = t.col("Name"), type = t.col("Type"), core = t.col("Accelerator Core"), start = t.col("Start Time(us)"),
               task = t.col("Task ID"), stream = t.col("Stream ID"), shapes = t.col("Input Shapes"), step = t.col("Step Id");
  ASSERT_FALSE(t.rows.empty());
  size_t hccl = 0, quoted_shapes = 0;
  std::map<std::string, int> steps;
  for (const auto& r : t.rows) {
    SCOPED_TRACE(r[name].raw);
    for (const char* bad : {"CMO", "EVENT_RECORD", "EVENT_WAIT"}) {
      EXPECT_NE(r[core].value, bad);
      EXPECT_NE(r[type].value, bad);
      EXPECT_FALSE(contains(r[name].value, bad));
    }
    // torch_npu ends the start time with a tab (the cell stays text in spreadsheets).
    ASSERT_FALSE(r[start].raw.empty());
    EXPECT_EQ(r[start].raw.back(), '\t');
    EXPECT_TRUE(std::regex_match(r[start].raw, std::regex(R"(^\d{16}\.\d{3}\t$)"))) << r[start].raw;
    ++steps[r[step].value];
    if (r[core].value == "HCCL") {
      ++hccl;
      EXPECT_EQ(r[task].value, "N/A");
      EXPECT_EQ(r[stream].value, "N/A");
      EXPECT_EQ(r[shapes].value, "N/A");
    } else {
      EXPECT_TRUE(std::regex_match(r[task].value, std::regex(R"(^\d+$)"))) << r[task].value;
      EXPECT_EQ(r[stream].value, "2");
      // """16,4096;...""": the CSV field holds the shape inside literal quotes.
      EXPECT_EQ(r[shapes].raw.substr(0, 3), "\"\"\"");
      EXPECT_EQ(r[shapes].raw.substr(r[shapes].raw.size() - 3), "\"\"\"");
      EXPECT_EQ(r[shapes].value.front(), '"');
      EXPECT_EQ(r[shapes].value.back(), '"');
      ++quoted_shapes;
    }
  }
  EXPECT_GT(hccl, 0u) << "TP4: all-reduces expected";
  EXPECT_GT(quoted_shapes, 0u);
  EXPECT_EQ(steps.size(), 2u);
  EXPECT_EQ(steps["1"], steps["2"]);
  // The matmuls' shapes carry the token count as their first dimension.
  bool matmul = false;
  for (const auto& r : t.rows) {
    if (r[core].value == "AI_CORE") {
      matmul = true;
      EXPECT_EQ(r[shapes].value.substr(0, 4), "\"16,") << r[shapes].value;
    }
  }
  EXPECT_TRUE(matmul);
}

TEST(ProfileExportTorchNpu, OpStatisticIsSortedByTotalAndCountsEveryKernelRow) {
  const Table kernels = table_of(file_named(torch_files(), "kernel_details.csv"));
  const Table stats = table_of(file_named(torch_files(), "op_statistic.csv"));
  EXPECT_EQ(stats.header, (std::vector<std::string>{"Device_id", "OP Type", "Core Type", "Count", "Total Time(us)",
                                                    "Min Time(us)", "Avg Time(us)", "Max Time(us)", "Ratio(%)"}));
  const size_t count = stats.col("Count"), total = stats.col("Total Time(us)"), type = stats.col("OP Type"),
               core = stats.col("Core Type"), ratio = stats.col("Ratio(%)");
  ASSERT_FALSE(stats.rows.empty());
  long long sum = 0;
  double prev = 1e300, ratio_sum = 0;
  std::map<std::pair<std::string, std::string>, long long> by_type;
  for (const auto& r : stats.rows) {
    const double t = std::stod(r[total].value);
    EXPECT_LE(t, prev) << r[type].value;
    prev = t;
    sum += std::stoll(r[count].value);
    ratio_sum += std::stod(r[ratio].value);
    by_type[{r[type].value, r[core].value}] = std::stoll(r[count].value);
    EXPECT_NE(r[core].value, "CMO");
  }
  EXPECT_EQ(sum, static_cast<long long>(kernels.rows.size()));
  EXPECT_NEAR(ratio_sum, 100.0, 0.01 * static_cast<double>(stats.rows.size()));
  // And per type: the count of kernel rows of that type and core.
  std::map<std::pair<std::string, std::string>, long long> counted;
  for (const auto& r : kernels.rows) ++counted[{r[kernels.col("Type")].value, r[kernels.col("Accelerator Core")].value}];
  EXPECT_EQ(by_type, counted);
}

TEST(ProfileExportTorchNpu, TraceIsAnArrayWithStringTimestampsAndExactAbsoluteTimes) {
  const std::vector<json> xs = x_events(file_named(torch_files(), "trace_view.json"));
  ASSERT_FALSE(xs.empty());
  const std::regex ts_format(R"(^\d+\.\d{3}$)");
  size_t cmo = 0;
  for (const auto& e : xs) {
    ASSERT_TRUE(e.at("ts").is_string()) << e.dump();
    EXPECT_TRUE(std::regex_match(e.at("ts").get<std::string>(), ts_format)) << e.at("ts");
    cmo += e.at("args").at("Task Type") == "CMO";
    if (e.at("args").at("Task Type") == "CMO") {
      EXPECT_EQ(e.at("tid"), 3);
    }
  }
  EXPECT_GT(cmo, 0u);
  // The first task starts at the base time exactly; the first of step 2 one step time plus the
  // host gap later, to the nanosecond.
  EXPECT_EQ(xs.front().at("ts").get<std::string>(), "1763856000000000.000");
  EXPECT_EQ(absolute_ts(0), "1763856000000000.000");
  const std::string second = absolute_ts(step_start_us(2));
  EXPECT_TRUE(std::any_of(xs.begin(), xs.end(), [&](const json& e) { return e.at("ts") == second; })) << second;
  // Nothing starts between the end of step 1 and that time (the host gap).
  std::vector<std::string> ts;
  for (const auto& e : xs) ts.push_back(e.at("ts").get<std::string>());
  EXPECT_TRUE(std::is_sorted(ts.begin(), ts.end()));
  // The same start in kernel_details, with its tab.
  const std::string kernels = file_named(torch_files(), "kernel_details.csv");
  EXPECT_PRED2(contains, kernels, ",1763856000000000.000\t,");
  EXPECT_PRED2(contains, kernels, "," + second + "\t,");
  // The metadata names the hardware process and the two streams.
  const json all = json::parse(file_named(torch_files(), "trace_view.json"));
  bool hardware = false;
  for (const auto& e : all) {
    if (e.value("ph", "") == "M" && e.value("name", "") == "process_name") hardware |= e.at("args").at("name") == "Ascend Hardware";
  }
  EXPECT_TRUE(hardware);
}

TEST(ProfileExportMsprof, FileNamesAndHeaders) {
  const Files& files = msprof_files();
  // The names msprof-analyze matches: PROF_\d{6}_\d{17}_\w+ and <name>_\d{14}.<ext>
  // (advisor/config/profiling_data_version_config.yaml), device_N/info.json.N
  // (msprof_data_preprocessor.py), and the analyze/ directory of msprof --analyze=on.
  std::vector<std::string> names;
  for (const auto& [rel, content] : files) {
    std::smatch m;
    ASSERT_TRUE(std::regex_match(rel, m, std::regex(R"(^PROF_000001_20251123000000000_[A-Z]{16}/(.+)$)"))) << rel;
    names.push_back(m[1]);
  }
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names, (std::vector<std::string>{"analyze/.keep", "analyze/communication.json", "analyze/communication_matrix.json",
                                             "device_0/info.json.0", "mindstudio_profiler_output/msprof_20251123000000.json",
                                             "mindstudio_profiler_output/op_statistic_20251123000000.csv",
                                             "mindstudio_profiler_output/op_summary_20251123000000.csv",
                                             "mindstudio_profiler_output/task_time_20251123000000.csv"}));

  std::string op_summary;
  for (const auto& [rel, content] : files) {
    if (contains(rel, "/op_summary_")) op_summary = content;
  }
  const Table t = table_of(op_summary);
  for (const char* h : {"Op Name", "OP Type", "Task Type", "Task Start Time(us)", "Task Duration(us)", "Stream ID", "Task ID"}) {
    EXPECT_NE(std::find(t.header.begin(), t.header.end(), h), t.header.end()) << h;
  }
  // torch_npu's names are not msprof's.
  for (const char* h : {"Name", "Type", "Accelerator Core", "Start Time(us)", "Step Id"}) {
    EXPECT_EQ(std::find(t.header.begin(), t.header.end(), h), t.header.end()) << h;
  }
  for (const auto& r : t.rows) EXPECT_NE(r[t.col("Task Type")].value, "CMO");
  // The same trace as torch_npu's.
  EXPECT_EQ(file_named(files, "msprof_20251123000000.json"), file_named(torch_files(), "trace_view.json"));
}

TEST(ProfileExportMsprof, TaskTimeListsEveryTaskWithCmoAsNA) {
  std::string text;
  for (const auto& [rel, content] : msprof_files()) {
    if (contains(rel, "/task_time_")) text = content;
  }
  const Table t = table_of(text);
  EXPECT_EQ(t.header, (std::vector<std::string>{"Device_id", "kernel_name", "kernel_type", "stream_id", "task_id",
                                                "task_time(us)", "task_start(us)", "task_stop(us)"}));
  const size_t name = t.col("kernel_name"), type = t.col("kernel_type"), stream = t.col("stream_id");
  std::map<std::string, size_t> by_type;
  for (const auto& r : t.rows) {
    ++by_type[r[type].value];
    if (r[type].value == "CMO" || r[type].value == "EVENT_RECORD" || r[type].value == "EVENT_WAIT") {
      EXPECT_EQ(r[name].value, "N/A") << r[type].value;
    } else {
      EXPECT_NE(r[name].value, "N/A") << r[type].value;
    }
    if (r[type].value == "CMO") {
      EXPECT_EQ(r[stream].value, "3");
    }
  }
  // Every trace task, one row each.
  const std::vector<json> xs = x_events(file_named(msprof_files(), "msprof_20251123000000.json"));
  EXPECT_EQ(t.rows.size(), xs.size());
  size_t trace_cmo = 0;
  for (const auto& e : xs) trace_cmo += e.at("args").at("Task Type") == "CMO";
  EXPECT_EQ(by_type["CMO"], trace_cmo);
  EXPECT_GT(by_type["CMO"], 0u);
  EXPECT_EQ(by_type["EVENT_RECORD"], by_type["CMO"]);
  // Five CMOs a layer, four waits: gate_up and down share the wait after SwiGLU
  // (v0.23.0:vllm_ascend/ops/activation.py:42).
  EXPECT_EQ(by_type["EVENT_WAIT"] * 5, by_type["CMO"] * 4);
}

TEST(ProfileExportOptionsTest, RefusesBadStepsJitterAndLayout) {
  ProfileExportOptions o;
  o.steps = 0;
  EXPECT_PRED2(contains, test::error_of([&] { export_profile(qwen3_8b_t16(), o); }), "--steps 0");
  o.steps = 1;
  o.jitter_pct = 60;
  EXPECT_PRED2(contains, test::error_of([&] { export_profile(qwen3_8b_t16(), o); }), "--jitter 60");
  o.jitter_pct = 0;
  o.layout = "nsys";
  EXPECT_PRED2(contains, test::error_of([&] { export_profile(qwen3_8b_t16(), o); }), "--layout nsys");
}

TEST(ProfileExportOptionsTest, JitterIsDeterministicFromTheSeed) {
  ProfileExportOptions o;
  o.jitter_pct = 3;
  o.seed = 7;
  const Files a = export_profile(qwen3_8b_t16(), o), b = export_profile(qwen3_8b_t16(), o);
  EXPECT_EQ(a, b);
  o.seed = 8;
  EXPECT_NE(export_profile(qwen3_8b_t16(), o), a);
}

// ---- write_profile_directory ----------------------------------------------------------------

struct TempDir {
  std::string path = test::make_temp_dir();
  ~TempDir() { fs::remove_all(path); }
  std::vector<std::string> entries() const {
    std::vector<std::string> out;
    for (const auto& e : fs::recursive_directory_iterator(path)) out.push_back(fs::relative(e.path(), path).string());
    std::sort(out.begin(), out.end());
    return out;
  }
};

TEST(WriteProfileDirectory, WritesEveryFileIntoANewOrEmptyDirectory) {
  TempDir tmp;
  const Files files = {{"a/b/one.csv", "1\n"}, {"a/two.json", "[]\n"}};
  write_profile_directory(tmp.path + "/new", files);
  EXPECT_EQ(test::read_file(tmp.path + "/new/a/b/one.csv"), "1\n");
  EXPECT_EQ(test::read_file(tmp.path + "/new/a/two.json"), "[]\n");
  fs::create_directories(tmp.path + "/empty");
  write_profile_directory(tmp.path + "/empty", files);
  EXPECT_EQ(test::read_file(tmp.path + "/empty/a/two.json"), "[]\n");
  EXPECT_EQ(tmp.entries(), (std::vector<std::string>{"empty", "empty/a", "empty/a/b", "empty/a/b/one.csv", "empty/a/two.json",
                                                      "new", "new/a", "new/a/b", "new/a/b/one.csv", "new/a/two.json"}));
}

TEST(WriteProfileDirectory, RefusesANonEmptyDirectoryAndLeavesNothingBehind) {
  TempDir tmp;
  fs::create_directories(tmp.path + "/full");
  test::write_file(tmp.path + "/full/keep.txt", "keep\n");
  const std::string e = test::error_of([&] { write_profile_directory(tmp.path + "/full", torch_files()); });
  EXPECT_PRED2(contains, e, tmp.path + "/full");
  EXPECT_PRED2(contains, e, "not empty");
  EXPECT_EQ(tmp.entries(), (std::vector<std::string>{"full", "full/keep.txt"}));
  EXPECT_EQ(test::read_file(tmp.path + "/full/keep.txt"), "keep\n");
}

TEST(WriteProfileDirectory, RefusesAMissingParentAndLeavesNothingBehind) {
  TempDir tmp;
  const std::string e = test::error_of([&] { write_profile_directory(tmp.path + "/missing/out", torch_files()); });
  EXPECT_PRED2(contains, e, "parent directory");
  EXPECT_PRED2(contains, e, "does not exist");
  EXPECT_TRUE(tmp.entries().empty());
}

TEST(WriteProfileDirectory, AFailedWriteRemovesItsTemporaryDirectory) {
  TempDir tmp;
  // "a" is written as a file, then needed as a directory: the second file cannot be created.
  const Files files = {{"a", "x"}, {"a/b", "y"}};
  const std::string e = test::error_of([&] { write_profile_directory(tmp.path + "/out", files); });
  EXPECT_PRED2(contains, e, tmp.path + "/out");
  EXPECT_PRED2(contains, e, "cannot write the profile");
  EXPECT_TRUE(tmp.entries().empty()) << tmp.entries().front();
}

TEST(WriteProfileDirectory, RefusesAFileInTheWay) {
  TempDir tmp;
  test::write_file(tmp.path + "/file", "x");
  const std::string e = test::error_of([&] { write_profile_directory(tmp.path + "/file", torch_files()); });
  EXPECT_PRED2(contains, e, "not a directory");
  EXPECT_EQ(tmp.entries(), (std::vector<std::string>{"file"}));
}

}  // namespace
}  // namespace pt
