// tune-ratio, export-profile, analyze and calibrate through the built binary (test::run_cli): exit
// codes, one-line errors naming the problem, files written or left untouched, and outputs that
// other subcommands accept.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <regex>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "test_support.h"
#include "util/file_io.h"

namespace pt {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using test::contains;
using test::run_cli;
using test::shell_quote;

const char* kLegacyVars[] = {"VLLM_ASCEND_ENABLE_PREFETCH_MLP", "VLLM_ASCEND_MLP_GATE_UP_PREFETCH_SIZE",
                             "VLLM_ASCEND_MLP_DOWN_PREFETCH_SIZE"};
const char* kDisabled = R"({"weight_prefetch_config":{"enabled":false}})";

std::string sample(const std::string& name) { return test::source_path("sample_profiles/profiles/" + name); }

class SubcommandCli : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* v : kLegacyVars) unsetenv(v);
    dir_ = test::make_temp_dir();
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string path(const std::string& name) const { return dir_ + "/" + name; }
  std::string q(const std::string& name) const { return shell_quote(path(name)); }
  std::vector<std::string> files() const {
    std::vector<std::string> out;
    for (const auto& e : fs::recursive_directory_iterator(dir_)) out.push_back(fs::relative(e.path(), dir_).string());
    std::sort(out.begin(), out.end());
    return out;
  }
  std::string dir_;
};

// Non-zero exit, nothing on stdout, one line on stderr starting "prefetch-tuner: error:" and
// mentioning `mention`.
void expect_one_line_error(const test::CliResult& r, const std::string& args, const std::string& mention) {
  SCOPED_TRACE(args);
  EXPECT_NE(r.exit_code, 0);
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err.rfind("prefetch-tuner: error: ", 0), 0u) << r.err;
  ASSERT_FALSE(r.err.empty());
  EXPECT_EQ(r.err.find('\n'), r.err.size() - 1) << "not one line:\n" << r.err;
  EXPECT_PRED2(contains, r.err, mention);
  EXPECT_EQ(r.err.find("terminate"), std::string::npos) << r.err;
}

std::string first_line(const std::string& s) { return s.substr(0, s.find('\n')); }

// ---- tune-ratio ------------------------------------------------------------------------------

TEST_F(SubcommandCli, TuneRatioWithNoArgumentsPrintsThePasteReadyArgumentFirst) {
  const test::CliResult r = run_cli("tune-ratio");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err, "");
  const std::string line = first_line(r.out);
  ASSERT_EQ(line.rfind("--additional-config '", 0), 0u) << line;
  ASSERT_EQ(line.back(), '\'');
  const json arg = json::parse(line.substr(21, line.size() - 22));
  EXPECT_TRUE(arg.at("weight_prefetch_config").contains("enabled"));
  EXPECT_PRED2(contains, r.out, "model       Qwen3-32B");
}

TEST_F(SubcommandCli, TuneRatioJsonParses) {
  const test::CliResult r = run_cli("tune-ratio --model Qwen3-8B --num-tokens 8,16 --weights 1,3 --format json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const json j = json::parse(r.out);
  EXPECT_GT(j.at("step_time_us").get<double>(), 0);
  ASSERT_EQ(j.at("per_tokens").size(), 2u);
  EXPECT_EQ(j.at("per_tokens")[0].at("num_tokens"), 8);
  EXPECT_EQ(j.at("per_tokens")[1].at("num_tokens"), 16);
  EXPECT_EQ(j.at("workload")[1].at("weight"), 3.0);
  EXPECT_EQ(j.at("model"), "Qwen3-8B");
}

TEST_F(SubcommandCli, TuneRatioOutFileGivesTheTunedStepTimeInSimulate) {
  const std::string scenario = "--model Qwen3-8B --num-tokens 16";
  const test::CliResult tune =
      run_cli("tune-ratio " + scenario + " --format json --plot " + q("plot.svg") + " --out " + q("tuned.json"));
  ASSERT_EQ(tune.exit_code, 0) << tune.err;
  EXPECT_EQ(files(), (std::vector<std::string>{"plot.svg", "tuned.json"}));
  const std::string svg = test::read_file(path("plot.svg"));
  EXPECT_EQ(svg.rfind("<svg ", 0), 0u);
  EXPECT_EQ(svg.substr(svg.size() - 7), "</svg>\n");
  const json tuned = json::parse(tune.out);
  const json out = json::parse(test::read_file(path("tuned.json")));
  // --out is what the report recommends, disabling included.
  EXPECT_EQ(out, tuned.at("recommended_additional_config"));

  const test::CliResult sim = run_cli("simulate " + scenario + " --format json --additional-config @" + q("tuned.json"));
  ASSERT_EQ(sim.exit_code, 0) << sim.err;
  const double simulated = json::parse(sim.out).at("step_time_us").get<double>();
  const double reported = tuned.at(tuned.at("recommend_disable").get<bool>() ? "baseline_step_time_us" : "step_time_us").get<double>();
  EXPECT_NEAR(simulated, reported, 1e-9 * reported);
}

TEST_F(SubcommandCli, TuneRatioBadArgumentsFailAndLeaveOutputsUntouched) {
  test::write_file(path("plot.svg"), "old plot\n");
  test::write_file(path("tuned.json"), "old config\n");
  const std::string outputs = " --plot " + q("plot.svg") + " --out " + q("tuned.json");
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"--step 0", "--step 0"},
      {"--step -1", "--step -1"},
      {"--num-tokens ''", "--num-tokens"},
      {"--num-tokens 8,16 --weights 1", "--weights"},
      {"--weights 1", "--weights needs --num-tokens"},
      {"--workload " + q("missing.csv"), "missing.csv"},
  };
  for (const auto& [args, mention] : cases) {
    const test::CliResult r = run_cli("tune-ratio --model Qwen3-8B " + args + outputs);
    expect_one_line_error(r, args, mention);
    EXPECT_EQ(test::read_file(path("plot.svg")), "old plot\n") << args;
    EXPECT_EQ(test::read_file(path("tuned.json")), "old config\n") << args;
    EXPECT_EQ(files(), (std::vector<std::string>{"plot.svg", "tuned.json"})) << args;
  }
}

// --step 0.00001 ended in "internal error: std::bad_alloc" (exit 3); now refused at once with a
// step that runs.
TEST_F(SubcommandCli, TuneRatioRefusesASearchTooLargeBeforeStarting) {
  const auto start = std::chrono::steady_clock::now();
  const test::CliResult r = run_cli("tune-ratio --step 0.00001 --num-tokens 8,16,32,72 --out " + q("tuned.json"));
  EXPECT_LT(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(), 5.0);
  expect_one_line_error(r, "--step 0.00001", "--step 1e-05: this search would take about ");
  EXPECT_PRED2(contains, r.err, "; at most 2 min and 512 MiB: use --step ");
  const size_t at = r.err.find("use --step ");
  ASSERT_NE(at, std::string::npos);
  EXPECT_GT(std::stod(r.err.substr(at + 11)), 0.00001);
  EXPECT_PRED2(contains, r.err, " or larger");
  EXPECT_EQ(files(), std::vector<std::string>{});
}

// On a terminal, a search that takes a while says how big it is before it starts, then shows its
// progress; the report on stdout is the same. (`script` gives the run a terminal.)
TEST_F(SubcommandCli, TuneRatioOnATerminalAnnouncesTheSearchAndItsProgress) {
  if (std::system("command -v script >/dev/null 2>&1") != 0) GTEST_SKIP() << "no `script` (util-linux) to give the run a terminal";
  const test::CliResult r = test::run_script("script -qec " + shell_quote("\"$PT_CLI\" tune-ratio --step 0.001 --num-tokens 8,16,32,72 -o " + q("r.txt")) +
                                             " /dev/null");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  // The announcement counts what the search then does, as its report says.
  const std::smatch m = [&] {
    std::smatch sm;
    std::regex_search(r.out, sm, std::regex("tune-ratio: ([0-9]+) configurations, ([0-9]+) segment simulations, about "));
    return sm;
  }();
  ASSERT_EQ(m.size(), 3u) << r.out.substr(0, 200);
  // The progress line counts them too, and is cleared at the end.
  EXPECT_PRED2(contains, r.out, fmt::format("tune-ratio: searching {} configurations 100.0 %", m[1].str()));
  EXPECT_PRED2(contains, r.out, "100.0 %\r");
  EXPECT_PRED2(contains, test::read_file(path("r.txt")),
               fmt::format("at step 0.001: {} configurations compared, {} segment simulations", m[1].str(), m[2].str()));
  // Not on a terminal nothing shows: HabitsCli.ProgressOnlyOnATerminal (this search is the
  // longest one the suite runs, a minute under the sanitizers: once is enough).
}

TEST_F(SubcommandCli, TuneRatioRefusesAnEmptyEntryInTheTokenList) {
  const test::CliResult r = run_cli("tune-ratio --model Qwen3-8B --num-tokens 8,,16");
  expect_one_line_error(r, "--num-tokens 8,,16", "--num-tokens");
}

// ---- export-profile --------------------------------------------------------------------------

TEST_F(SubcommandCli, ExportProfileWritesAReadableProfileButNotIntoANonEmptyDirectory) {
  const std::string args = "export-profile --model Qwen3-8B --num-tokens 16 --out-dir ";
  const test::CliResult ok = run_cli(args + q("p"));
  ASSERT_EQ(ok.exit_code, 0) << ok.err;
  EXPECT_PRED2(contains, ok.out, "wrote 9 files");
  EXPECT_TRUE(fs::is_directory(path("p")));
  const test::CliResult again = run_cli(args + q("p"));
  expect_one_line_error(again, "export-profile into p again", path("p"));
  EXPECT_PRED2(contains, again.err, "not empty");
  // Nothing changed, and no temporary directory was left beside it.
  std::vector<std::string> top;
  for (const auto& e : fs::directory_iterator(dir_)) top.push_back(e.path().filename().string());
  EXPECT_EQ(top, std::vector<std::string>{"p"});
  for (const auto& [bad, mention] : std::vector<std::pair<std::string, std::string>>{
           {"--steps 0", "--steps 0"}, {"--jitter 60", "--jitter 60"}, {"--ranks 3", "--ranks 3"}, {"--format parquet", "parquet"}}) {
    const test::CliResult r = run_cli(args + q("q") + " " + bad);
    expect_one_line_error(r, bad, mention);
    EXPECT_FALSE(fs::exists(path("q"))) << bad;
  }
}

// ---- analyze ---------------------------------------------------------------------------------

TEST_F(SubcommandCli, AnalyzeSampleWithModelNamesTheFiveSites) {
  const test::CliResult r = run_cli("analyze " + shell_quote(sample("qwen3-8b-tp4-t16-prefetch-on")) + " --model Qwen3-8B");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_PRED2(contains, r.out, "2 steps, 360 CMO tasks, compute stream 2");
  for (const char* site : {"attn.qkv", "attn.o", "mlp.gate_up", "mlp.down", "attn.o/down_proj"}) {
    // One table row per site, 36 layers x 2 steps each.
    EXPECT_PRED2(contains, r.out, fmt::format("\n  {:<16}    72 ", site));
  }
  EXPECT_EQ(r.out.find("? (behind"), std::string::npos) << "a CMO was not matched to a site";
  EXPECT_PRED2(contains, r.out, "sites matched against Qwen3-8B at 16 tokens");
}

TEST_F(SubcommandCli, AnalyzeCompareWithThePrefetchOffSample) {
  const test::CliResult r = run_cli("analyze " + shell_quote(sample("qwen3-8b-tp4-t16-prefetch-on")) + " --compare " +
                                    shell_quote(sample("qwen3-8b-tp4-t16-prefetch-off")));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_PRED2(contains, r.out, "compared with " + sample("qwen3-8b-tp4-t16-prefetch-off") + ": 2 steps, 0 CMO tasks");
}

TEST_F(SubcommandCli, AnalyzeJsonAndCmoCsv) {
  const test::CliResult r = run_cli("analyze " + shell_quote(sample("qwen3-8b-tp4-t16-prefetch-on")) +
                                    " --model Qwen3-8B --format json --cmo-csv " + q("cmo.csv"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const json j = json::parse(r.out);
  ASSERT_TRUE(j.at("sites").is_array());
  ASSERT_TRUE(j.at("streams").is_array());
  EXPECT_EQ(j.at("sites").size(), 5u);
  EXPECT_EQ(j.at("streams").size(), 2u);
  EXPECT_EQ(j.at("cmo_count"), 360);
  EXPECT_EQ(j.at("steps"), 2);
  size_t total = 0;
  for (const auto& s : j.at("sites")) total += s.at("cmo_count").get<size_t>();
  EXPECT_EQ(total, 360u);
  // One header and one row per CMO: 5 sites x 36 layers x 2 steps.
  const std::string csv = test::read_file(path("cmo.csv"));
  ASSERT_FALSE(csv.empty());
  EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), 361);
  EXPECT_EQ(csv.back(), '\n');
  EXPECT_EQ(csv.rfind("Index,", 0), 0u) << first_line(csv);
  EXPECT_PRED2(contains, first_line(csv), "Site");
  EXPECT_PRED2(contains, first_line(csv), "Late(us)");
}

TEST_F(SubcommandCli, AnalyzeBadProfilesGiveOneLineNamingTheFile) {
  fs::create_directories(path("empty"));
  // A trace cut in half.
  const std::string trace = test::read_file(fs::path(sample("qwen3-8b-tp4-t16-prefetch-on")) /
                                            "localhost.localdomain_4242_20251123000000000_ascend_pt/ASCEND_PROFILER_OUTPUT/trace_view.json");
  ASSERT_GT(trace.size(), 1000u);
  test::write_file(path("trace_view.json"), trace.substr(0, trace.size() / 2));
  // kernel_details without its Duration(us) column.
  test::write_file(path("kernel_details.csv"),
                   "Step Id,Name,Type,Accelerator Core,Start Time(us)\n1,aclnnAdd_Add_Add,Add,AI_VECTOR_CORE,1763856000000000.000\t\n");
  const std::vector<std::pair<std::string, std::string>> cases = {
      {q("empty"), path("empty") + ": no profile found"},
      {q("trace_view.json"), path("trace_view.json")},
      {q("kernel_details.csv"), path("kernel_details.csv")},
      {q("missing"), path("missing")},
  };
  for (const auto& [arg, mention] : cases) expect_one_line_error(run_cli("analyze " + arg), arg, mention);
  const test::CliResult cut = run_cli("analyze " + q("trace_view.json"));
  EXPECT_PRED2(contains, cut.err, "truncated");
  const test::CliResult column = run_cli("analyze " + q("kernel_details.csv"));
  EXPECT_PRED2(contains, column.err, "Duration(us)");
}

// ---- calibrate -------------------------------------------------------------------------------

TEST_F(SubcommandCli, CalibrateNeedsModel) {
  const test::CliResult r = run_cli("calibrate " + shell_quote(sample("calibration-qwen3-8b-tp4-off-t8")));
  expect_one_line_error(r, "calibrate without --model", "--model");
}

TEST_F(SubcommandCli, CalibrateWritesAFileThatSimulateAccepts) {
  std::string profiles;
  for (const char* name : {"calibration-qwen3-8b-tp4-off-t8", "calibration-qwen3-8b-tp4-off-t32", "calibration-qwen3-8b-tp4-off-t72"}) {
    profiles += " ";
    profiles += shell_quote(sample(name));
  }
  const test::CliResult r = run_cli("calibrate" + profiles + " --model Qwen3-8B --additional-config " + shell_quote(kDisabled) +
                                    " --calibration-out " + q("cal.json"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_PRED2(contains, r.out, "calibrated Qwen3-8B from 3 profiles");
  for (const char* n : {"8", "32", "72"}) EXPECT_PRED2(contains, r.out, fmt::format("reproduction at {} tokens", n));
  ASSERT_TRUE(fs::exists(path("cal.json")));
  const json cal = json::parse(test::read_file(path("cal.json")));
  EXPECT_EQ(cal.at("schema"), "prefetch-tuner/calibration/1");
  EXPECT_EQ(cal.at("sources").size(), 3u);
  const double eff = cal.at("hardware").at("matmul_stream_efficiency").at("value").get<double>();
  // The samples stream at 0.8 x 1600 GB/s with a 3 % jitter of the rates.
  EXPECT_NEAR(eff, 0.8, 0.024);

  const test::CliResult sim = run_cli("simulate --model Qwen3-8B --calibration " + q("cal.json"));
  ASSERT_EQ(sim.exit_code, 0) << sim.err;
  EXPECT_PRED2(contains, sim.out, fmt::format("HBM 1600 GB/s (a matmul streams {:.0f})", 1600 * eff));
}

TEST_F(SubcommandCli, ACalibrationKnowsItsModelAndIsRefusedForAnother) {
  const test::CliResult r = run_cli("calibrate " + shell_quote(sample("calibration-qwen3-8b-tp4-off-t8")) +
                                    " --model Qwen3-8B --additional-config " + shell_quote(kDisabled) + " --calibration-out " +
                                    q("cal.json"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const json cal = json::parse(test::read_file(path("cal.json")));
  const json& on = cal.at("fitted_on");
  EXPECT_EQ(on.at("model"), "Qwen3-8B");
  EXPECT_EQ(on.at("model_shape_hash").get<std::string>().size(), 16u);
  EXPECT_EQ(on.at("tensor_parallel_size"), 4);
  EXPECT_EQ(on.at("quantization"), "w8a8");
  EXPECT_EQ(on.at("vllm_ascend_version"), "v0.23.0");
  EXPECT_EQ(on.at("hardware"), "a3-die");
  // Another model, another deployment: refused, naming both; with the override, a warning.
  for (const std::string other : {"--model Qwen3-32B", "--model Qwen3-8B --tp 2", "--model Qwen3-8B --quantization bf16"}) {
    for (const char* cmd : {"simulate", "tune-ratio"}) {
      const test::CliResult bad = run_cli(std::string(cmd) + " " + other + " --calibration " + q("cal.json"));
      expect_one_line_error(bad, std::string(cmd) + " " + other, "fitted on Qwen3-8B");
      EXPECT_PRED2(contains, bad.err, "--allow-calibration-mismatch");
    }
    const test::CliResult forced = run_cli("simulate " + other + " --calibration " + q("cal.json") + " --allow-calibration-mismatch");
    ASSERT_EQ(forced.exit_code, 0) << forced.err;
    EXPECT_PRED2(contains, forced.out, "warning: --calibration");
  }
  // The same model and deployment: accepted without a word.
  const test::CliResult same = run_cli("simulate --model Qwen3-8B --calibration " + q("cal.json"));
  ASSERT_EQ(same.exit_code, 0) << same.err;
  EXPECT_EQ(same.out.find("warning: --calibration"), std::string::npos) << same.out;
}

TEST_F(SubcommandCli, AnalyzeAndCalibrateRefuseAProfileOfAnotherModel) {
  const std::string p = shell_quote(sample("calibration-qwen3-8b-tp4-off-t8"));
  for (const std::string& cmd : {"analyze " + p + " --model Qwen3-32B", "calibrate " + p + " --model Qwen3-32B"}) {
    const test::CliResult r = run_cli(cmd);
    expect_one_line_error(r, cmd, "does not fit Qwen3-32B at TP4: no matmul has the weight of qkv_proj");
  }
}

TEST_F(SubcommandCli, AnalyzeAndCalibrateReadAClusterDirectory) {
  const test::CliResult e = run_cli("export-profile --model Qwen3-8B --num-tokens 16 --ranks 4 --steps 2 --jitter 1 --slow-rank 3:15 "
                                    "--out-dir " + q("cluster"));
  ASSERT_EQ(e.exit_code, 0) << e.err;
  const test::CliResult a = run_cli("analyze " + q("cluster") + " --model Qwen3-8B --format json");
  ASSERT_EQ(a.exit_code, 0) << a.err;
  const json j = json::parse(a.out);
  EXPECT_EQ(j.at("ranks").size(), 4u);
  EXPECT_EQ(j.at("slowest").at("rank"), 3);
  EXPECT_EQ(j.at("slowest").at("audit").at("sites").size(), 5u);
  EXPECT_EQ(j.at("vllm_ascend_version"), "v0.23.0");
  const test::CliResult text = run_cli("analyze " + q("cluster") + " --model Qwen3-8B --cmo-csv " + q("cmos.csv"));
  ASSERT_EQ(text.exit_code, 0) << text.err;
  EXPECT_PRED2(contains, text.out, "slowest rank 3: the others waited for it in");
  EXPECT_TRUE(fs::exists(path("cmos.csv")));
  const test::CliResult c = run_cli("calibrate " + q("cluster") + " --model Qwen3-8B --calibration-out " + q("cal.json"));
  ASSERT_EQ(c.exit_code, 0) << c.err;
  EXPECT_PRED2(contains, c.out, "calibrated Qwen3-8B from 1 profile (4 ranks)");
  EXPECT_EQ(json::parse(test::read_file(path("cal.json"))).at("sources").size(), 4u);
  expect_one_line_error(run_cli("analyze " + q("cluster") + " --compare " + q("cluster")), "--compare a cluster", "--compare");
}

TEST_F(SubcommandCli, SimulateWithABrokenCalibrationFails) {
  test::write_file(path("broken.json"), "{\"schema\": \"prefetch-tuner/calibration/1\",");
  expect_one_line_error(run_cli("simulate --calibration " + q("broken.json")), "broken calibration", path("broken.json"));
  test::write_file(path("wrong.json"), R"({"schema": "prefetch-tuner/calibration/1", "hardware": {"hbm_GBps": {"value": 0}}, "op_durations": []})");
  const test::CliResult r = run_cli("simulate --calibration " + q("wrong.json"));
  expect_one_line_error(r, "calibration out of range", path("wrong.json"));
  EXPECT_PRED2(contains, r.err, "$.hardware.hbm_GBps");
  expect_one_line_error(run_cli("simulate --calibration " + q("missing.json")), "missing calibration", path("missing.json"));
}


// ---- JSON of every subcommand (issue 12) ----------------------------------------------------

// Every float that should not be one, or that is rounding noise, with its path.
void find_untidy(const json& j, const std::string& path, const std::string& key, std::vector<std::string>& out) {
  if (j.is_object()) {
    for (auto it = j.begin(); it != j.end(); ++it) find_untidy(it.value(), path + "." + it.key(), it.key(), out);
  } else if (j.is_array()) {
    for (size_t i = 0; i < j.size(); ++i) find_untidy(j[i], fmt::format("{}[{}]", path, i), key, out);
  } else if (j.is_number_float()) {
    const double x = j.get<double>();
    const bool bytes = key.size() >= 5 && (key.compare(key.size() - 5, 5, "bytes") == 0 || key.compare(key.size() - 5, 5, "Bytes") == 0);
    if (bytes) out.push_back(path + " is a float: " + j.dump());
    if (x != 0 && std::abs(x) < 1e-9 && key.find("ratio") == std::string::npos) out.push_back(path + " is rounding noise: " + j.dump());
    if (std::signbit(x) && x == 0) out.push_back(path + " is -0");
  }
}

void expect_tidy(const json& j, const std::string& what) {
  std::vector<std::string> bad;
  find_untidy(j, "$", "", bad);
  EXPECT_TRUE(bad.empty()) << what << ":\n  " << fmt::format("{}", fmt::join(bad, "\n  "));
  // The config as an object, and the string to paste beside it.
  ASSERT_TRUE(j.contains("additional_config")) << what;
  EXPECT_TRUE(j.at("additional_config").is_object()) << what;
  ASSERT_TRUE(j.contains("additional_config_arg")) << what;
  EXPECT_EQ(json::parse(j.at("additional_config_arg").get<std::string>()), j.at("additional_config")) << what;
}

TEST_F(SubcommandCli, EveryJsonOutputHasIntegerBytesNoNoiseAndTheConfigAsAnObject) {
  const test::CliResult sim = run_cli("simulate --format json --trace-json " + q("t.json") + " --timeline-csv " + q("t.csv"));
  ASSERT_EQ(sim.exit_code, 0) << sim.err;
  expect_tidy(json::parse(sim.out), "simulate");
  const test::CliResult tune = run_cli("tune-ratio --model Qwen3-8B --num-tokens 16 --step 0.05 --format json");
  ASSERT_EQ(tune.exit_code, 0) << tune.err;
  expect_tidy(json::parse(tune.out), "tune-ratio");
  const test::CliResult analyze = run_cli("analyze " + q("t.csv") + " --model Qwen3-32B --format json");
  ASSERT_EQ(analyze.exit_code, 0) << analyze.err;
  expect_tidy(json::parse(analyze.out), "analyze");
  const test::CliResult cal = run_cli("calibrate " + shell_quote(sample("calibration-qwen3-8b-tp4-off-t8")) +
                                      " --model Qwen3-8B --additional-config " + shell_quote(kDisabled) + " --format json");
  ASSERT_EQ(cal.exit_code, 0) << cal.err;
  expect_tidy(json::parse(cal.out), "calibrate");
}

// ---- simulate --compare-config (issue 12) -----------------------------------------------------

TEST_F(SubcommandCli, CompareConfigShowsTwoConfigsOnOneScenario) {
  const std::string b = R"({"weight_prefetch_config":{"enabled":true,"prefetch_ratio":{"mlp":{"gate_up":0.5,"down":0.5}}}})";
  const test::CliResult both = run_cli("simulate --format json --compare-config " + shell_quote(b));
  ASSERT_EQ(both.exit_code, 0) << both.err;
  const test::CliResult alone = run_cli("simulate --format json --additional-config " + shell_quote(b));
  ASSERT_EQ(alone.exit_code, 0) << alone.err;
  const test::CliResult a = run_cli("simulate --format json");
  const json j = json::parse(both.out), jb = json::parse(alone.out), ja = json::parse(a.out);
  // A as simulate alone gives it, B as simulate alone gives it, on the same scenario.
  EXPECT_EQ(j.at("step_time_us"), ja.at("step_time_us"));
  ASSERT_TRUE(j.contains("compare"));
  const json& c = j.at("compare");
  EXPECT_DOUBLE_EQ(c.at("step_time_us").get<double>(), jb.at("step_time_us").get<double>());
  EXPECT_EQ(c.at("additional_config"), jb.at("additional_config"));
  EXPECT_EQ(c.at("sites"), jb.at("sites"));
  EXPECT_NEAR(c.at("step_time_difference_us").get<double>(),
              jb.at("step_time_us").get<double>() - ja.at("step_time_us").get<double>(), 1e-9);
  ASSERT_EQ(c.at("per_site").size(), j.at("sites").size());
  for (size_t i = 0; i < c.at("per_site").size(); ++i) {
    const json& row = c.at("per_site")[i];
    EXPECT_EQ(row.at("site"), j.at("sites")[i].at("site"));
    EXPECT_EQ(row.at("net_gain_us")[0], j.at("sites")[i].at("net_gain_us"));
    EXPECT_EQ(row.at("net_gain_us")[1], jb.at("sites")[i].at("net_gain_us"));
  }
  const test::CliResult text = run_cli("simulate --compare-config " + shell_quote(b));
  ASSERT_EQ(text.exit_code, 0) << text.err;
  EXPECT_PRED2(contains, text.out, "compared on the same scenario");
  EXPECT_PRED2(contains, text.out, "B - A net us");
  const std::regex step_row(fmt::format(R"(\n  step time us +{:.1f} +{:.1f} +[-+][0-9.]+\n)", ja.at("step_time_us").get<double>(),
                                         jb.at("step_time_us").get<double>()));
  EXPECT_TRUE(std::regex_search(text.out, step_row)) << text.out;
  // A bad second config is refused like a bad first one.
  expect_one_line_error(run_cli("simulate --compare-config '{'"), "bad --compare-config", "");
}

}  // namespace
}  // namespace pt
