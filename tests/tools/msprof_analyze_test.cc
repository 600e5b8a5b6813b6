// The Ascend profiler's own analysis tool reads what export-profile writes: msprof-analyze 26.1.0
// (../shared/tools/msprof-analyze.sh beside the source tree, which installs its Python packages
// from Debian on first use). One test does every run, so that the tool starts as few times as it
// must: advisor, compare and cluster on the text exports of both layouts (one rank and --ranks 4),
// and the cluster recipes that read only the SQLite export on the --format db one.
//
// msprof-analyze exits 0 even when it finds nothing, so each run is judged by its log: a file it
// did not parse, "no data", "Failed to", an error or a traceback fails the test. The few warnings
// it always prints for data we do not simulate, or for parts of the msprof layout its advisor does
// not read, are listed below with the line of msprof-analyze that prints them.
//
// Labelled "tools" (tests/CMakeLists.txt) and left out of the sanitizer run: it tests the files,
// not the code's memory safety, and takes about two minutes.
#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <regex>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <sys/wait.h>

#include "test_support.h"

namespace pt {
namespace {

namespace fs = std::filesystem;

struct ShellRun {
  int exit_code = 0;
  std::string log;
};

ShellRun shell(const std::string& cmd, const std::string& log_path) {
  const int status = std::system((cmd + " >" + test::shell_quote(log_path) + " 2>&1 </dev/null").c_str());
  ShellRun r;
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.log = test::read_file(log_path);
  return r;
}

// Lines of a msprof-analyze log that mean something was not read.
std::vector<std::string> problems(const std::string& log, const std::vector<std::string>& allowed) {
  static const std::vector<std::string> bad = {
      "Failed to",        "failed",          "no data",          "No data",      "not containing", "Skip parse",
      "does not exist",   "Can't find",      "Can not find",     "Please ensure", "[ERROR]",       "Traceback",
      "exception",        "Exception",       "not completed",    "not been fully parsed", "Invalid",  "skipped",
      "not supported",    "No valid",        "empty",
  };
  std::vector<std::string> out;
  size_t start = 0;
  while (start < log.size()) {
    const size_t end = std::min(log.find('\n', start), log.size());
    const std::string line = log.substr(start, end - start);
    start = end + 1;
    const bool is_bad = std::any_of(bad.begin(), bad.end(), [&](const std::string& b) { return line.find(b) != std::string::npos; });
    const bool is_allowed =
        std::any_of(allowed.begin(), allowed.end(), [&](const std::string& a) { return line.find(a) != std::string::npos; });
    if (is_bad && !is_allowed) out.push_back(line);
  }
  return out;
}

// What msprof-analyze prints whatever the data, and what export-profile leaves out on purpose.
const std::vector<std::string> kAlways = {
    // entrance.py:155, when run as root (CI runs as root).
    "Do not run this tool as root",
    // The simulation has no memory model: no memory_record.csv / operator_memory.csv
    // (npu_profiling_parser.py:131, base_profiling_parser.py:400 "Can't find any memory event").
    "memory_record.csv does not exist", "operator_memory.csv does not exist", "Can't find any memory event",
    // synchronize_stream_checker.py:47: there is no aclrtSynchronizeStream in a decode step.
    "Skip synchronize stream checker, because no synchronize stream found",
    // cluster_base_info_analysis.py:40 reads only the DB export.
    "ClusterBaseInfoAnalysis skipped, since data type is not db",
    // cluster_dataset.py:55, advisor on a cluster: the cluster step ran just before.
    "Skip Cluster analyze backend",
};

// The msprof layout: msprof-analyze's advisor reads its timeline only from trace_view.json
// (timeline_event_dataset.py:55) and communication.json only under ASCEND_PROFILER_OUTPUT
// (communication_dataset.py:71), knows only the pytorch and mindspore profiling types
// (base_analyzer.py:136), and walks the empty path its ASCEND_PROFILER_OUTPUT pattern leaves
// (utils.py:101). It parses op_summary_*.csv and msprof_*.json (profiling_dataset.py).
const std::vector<std::string> kMsprofAdvisor = {
    "Unknown profiling type", "is inconsistent with the actual profiling type", "Please ensure timeline file in",
    "Please ensure communication.json in", "No such file or directory: ''",
};

class MsprofAnalyze : public ::testing::Test {
 protected:
  void SetUp() override {
    tool_ = fs::weakly_canonical(fs::path(PT_SOURCE_DIR) / ".." / "shared" / "tools" / "msprof-analyze.sh").string();
    if (!fs::exists(tool_)) GTEST_SKIP() << "msprof-analyze not found at " << tool_ << ": the run against the real reader is skipped";
    dir_ = test::make_temp_dir();
  }
  void TearDown() override {
    if (!dir_.empty() && !::testing::Test::HasFailure()) fs::remove_all(dir_);
    if (::testing::Test::HasFailure()) std::cerr << "logs and exports kept in " << dir_ << "\n";
  }
  // export-profile into <dir>/<name>; returns the directory.
  std::string export_profile(const std::string& name, const std::string& args) {
    const std::string out = dir_ + "/" + name;
    const ShellRun r = shell(std::string(PT_CLI_PATH) + " export-profile " + args + " --out-dir " + test::shell_quote(out), dir_ + "/" + name + ".export.log");
    EXPECT_EQ(r.exit_code, 0) << r.log;
    return out;
  }
  // One run of msprof-analyze; its log must show no problem but the allowed ones.
  std::string analyze(const std::string& label, const std::string& args, std::vector<std::string> allowed = {}) {
    allowed.insert(allowed.end(), kAlways.begin(), kAlways.end());
    const ShellRun r = shell(test::shell_quote(tool_) + " " + args, dir_ + "/" + label + ".log");
    EXPECT_EQ(r.exit_code, 0) << label << "\n" << r.log;
    for (const auto& line : problems(r.log, allowed)) ADD_FAILURE() << label << ": " << line;
    return r.log;
  }
  static std::string only_subdir(const std::string& dir) {
    std::vector<std::string> subs;
    for (const auto& e : fs::directory_iterator(dir)) {
      if (e.is_directory()) subs.push_back(e.path().string());
    }
    EXPECT_EQ(subs.size(), 1u) << dir;
    return subs.empty() ? dir : subs.front();
  }
  std::string tool_, dir_;
};

TEST_F(MsprofAnalyze, ReadsEveryExportAndItsE2ETimeIsTheSimulatedStep) {
  // The default scenario (Qwen3-32B W8A8 TP4, 72 tokens), prefetch on and off.
  const std::string on = export_profile("on", "");
  const std::string off = export_profile("off", "--additional-config '{\"weight_prefetch_config\": {\"enabled\": false}}'");
  const std::string msprof = export_profile("msprof", "--layout msprof");
  const std::string cluster = export_profile("cluster", "--ranks 4 --steps 2 --jitter 3");
  const std::string msprof_cluster = export_profile("msprof_cluster", "--layout msprof --ranks 4 --steps 2 --jitter 3");
  const std::string db = export_profile("db", "--ranks 4 --steps 2 --jitter 3 --format db");
  const std::string out = dir_ + "/out";

  // advisor: one rank of each layout, and the cluster.
  std::string log = analyze("advisor-torch_npu", "advisor all -d " + only_subdir(on) + " -o " + out + "/a1");
  EXPECT_PRED2(test::contains, log, "Save suggestion to");
  log = analyze("advisor-msprof", "advisor all -d " + only_subdir(msprof) + " -o " + out + "/a2", kMsprofAdvisor);
  EXPECT_PRED2(test::contains, log, "Save suggestion to");
  log = analyze("advisor-cluster", "advisor all -d " + cluster + " -o " + out + "/a3");
  EXPECT_PRED2(test::contains, log, "Finish allocate profiling data: 4 ranks, data type: text, profiling type: pytorch");

  // compare, prefetch on against off: its E2E time is the simulated step, within 1 %.
  log = analyze("compare", "compare -d " + only_subdir(on) + " -bp " + only_subdir(off) + " -o " + out + "/c");
  const std::string xlsx_dir = out + "/c";
  const std::string script = fmt::format(
      "import glob, openpyxl; wb = openpyxl.load_workbook(glob.glob('{}/*.xlsx')[0]); ws = wb['OverallMetrics']\n"
      "for row in ws.iter_rows(values_only=True):\n"
      "    if row[0] == 'E2E Time': print(row[1], row[4])\n",
      xlsx_dir);
  const ShellRun e2e = shell("/usr/bin/python3 -c " + test::shell_quote(script), dir_ + "/e2e.log");
  ASSERT_EQ(e2e.exit_code, 0) << e2e.log;
  double base_ms = 0, comparison_ms = 0;
  ASSERT_EQ(std::sscanf(e2e.log.c_str(), "%lf %lf", &base_ms, &comparison_ms), 2) << e2e.log;
  auto simulated_us = [&](const std::string& args) {
    const ShellRun r = shell(std::string(PT_CLI_PATH) + " simulate --format json " + args, dir_ + "/simulate.log");
    return nlohmann::json::parse(r.log).at("step_time_us").get<double>();
  };
  const double step_on = simulated_us(""), step_off = simulated_us("--additional-config '{\"weight_prefetch_config\": {\"enabled\": false}}'");
  EXPECT_NEAR(comparison_ms * 1000, step_on, 0.01 * step_on) << "compare's E2E time of the prefetch-on export";
  EXPECT_NEAR(base_ms * 1000, step_off, 0.01 * step_off) << "compare's E2E time of the prefetch-off export";

  // cluster -m all on the text exports of both layouts.
  log = analyze("cluster-torch_npu", "cluster -m all -d " + cluster + " -o " + out + "/k1");
  EXPECT_PRED2(test::contains, log, "Finish allocate profiling data: 4 ranks, data type: text, profiling type: pytorch");
  EXPECT_TRUE(fs::exists(out + "/k1/cluster_analysis_output/cluster_step_trace_time.csv"));
  EXPECT_TRUE(fs::exists(out + "/k1/cluster_analysis_output/cluster_communication_matrix.json"));
  log = analyze("cluster-msprof", "cluster -m all -d " + msprof_cluster + " -o " + out + "/k2");
  EXPECT_PRED2(test::contains, log, "Finish allocate profiling data: 4 ranks, data type: text, profiling type: msprof");
  EXPECT_TRUE(fs::exists(out + "/k2/cluster_analysis_output/cluster_step_trace_time.csv"));

  // The recipes that read only the SQLite export (cluster_analysis.py: "The current analysis node
  // only supports DB as input data"). Left out: cluster_time_summary and slow_link, which fail in
  // msprof-analyze itself on a cluster with no MEMCPY_ASYNC task or no slow link
  // (cluster_time_summary.py:268, slow_link.py:194; docs/profile-formats.md), the recipes for
  // data a decode step does not have (mstx_*, pp_chart, p2p_pairing, module_statistic,
  // ep_load_balance) and export_summary, which writes into its input.
  for (const char* recipe : {"slow_rank", "compute_op_sum", "hccl_sum", "cann_api_sum", "free_analysis", "communication_time_sum",
                             "communication_matrix_sum", "communication_group_map", "freq_analysis", "computational_op_masking",
                             "communication_bottleneck"}) {
    log = analyze(std::string("recipe-") + recipe, fmt::format("cluster -m {} -d {} -o {}/r_{}", recipe, db, out, recipe),
                  {// freq_analysis.py:30 takes 1800 MHz as the only normal clock; the A3 die runs at 1850 MHz.
                   "ranks with abnormal aicore frequency",
                   // slow_rank.py:125: the jitter leaves no rank an outlier, which is the right answer.
                   "No slow rank found"});
    EXPECT_PRED2(test::contains, log, "Finish allocate profiling data: 4 ranks, data type: db, profiling type: pytorch") << recipe;
    EXPECT_PRED2(test::contains, log, "analysis finished") << recipe;
  }
}

}  // namespace
}  // namespace pt
