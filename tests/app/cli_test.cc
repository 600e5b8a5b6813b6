// The prefetch-tuner binary, run through the shell (test::run_cli).
#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "export/simulate_report.h"
#include "export/timeline_export.h"
#include "sim/scenario.h"
#include "test_support.h"

namespace pt {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using test::contains;
using test::run_cli;
using test::shell_quote;

const char* kLegacyVars[] = {"VLLM_ASCEND_ENABLE_PREFETCH_MLP", "VLLM_ASCEND_MLP_GATE_UP_PREFETCH_SIZE",
                             "VLLM_ASCEND_MLP_DOWN_PREFETCH_SIZE"};

// The binary reads the legacy variables from its environment: start every test without them.
class Cli : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* v : kLegacyVars) unsetenv(v);
    dir_ = test::make_temp_dir();
  }
  void TearDown() override {
    for (const char* v : kLegacyVars) unsetenv(v);
    fs::remove_all(dir_);
  }
  std::string path(const std::string& name) const { return dir_ + "/" + name; }
  // Every file under the temp dir, relative.
  std::vector<std::string> files() const {
    std::vector<std::string> out;
    for (const auto& e : fs::recursive_directory_iterator(dir_)) out.push_back(fs::relative(e.path(), dir_).string());
    std::sort(out.begin(), out.end());
    return out;
  }
  std::string dir_;
};

// A failed run: non-zero exit, nothing on stdout, exactly one line on stderr starting
// "prefetch-tuner: error:", and no sign of an escaped exception.
void expect_one_line_error(const test::CliResult& r, const std::string& args) {
  SCOPED_TRACE(args);
  EXPECT_NE(r.exit_code, 0);
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err.rfind("prefetch-tuner: error: ", 0), 0u) << r.err;
  ASSERT_FALSE(r.err.empty());
  EXPECT_EQ(r.err.back(), '\n') << r.err;
  EXPECT_EQ(r.err.find('\n'), r.err.size() - 1) << "more than one line:\n" << r.err;
  EXPECT_EQ(r.err.find("terminate"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("what()"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("internal error"), std::string::npos) << r.err;
}

TEST_F(Cli, NoArgumentsRunsTheDefaultSimulation) {
  test::CliResult r = run_cli("");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err, "");
  EXPECT_PRED2(contains, r.out, "step time");
  EXPECT_PRED2(contains, r.out, "model     Qwen3-32B (Qwen3ForCausalLM, 64 layers)");
  // The same as "simulate" with no options.
  EXPECT_EQ(run_cli("simulate").out, r.out);
}

TEST_F(Cli, HelpExitsZero) {
  test::CliResult r = run_cli("--help");
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_PRED2(contains, r.out, "simulate");
  test::CliResult sub = run_cli("simulate --help");
  EXPECT_EQ(sub.exit_code, 0);
  EXPECT_PRED2(contains, sub.out, "--additional-config");
}

TEST_F(Cli, JsonOutputHasTheContractFields) {
  test::CliResult r = run_cli("simulate --format json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const json j = json::parse(r.out);
  ASSERT_TRUE(j.contains("step_time_us"));
  ASSERT_TRUE(j.contains("baseline_step_time_us"));
  EXPECT_GT(j.at("step_time_us").get<double>(), 0);
  EXPECT_GT(j.at("baseline_step_time_us").get<double>(), 0);
  ASSERT_TRUE(j.at("sites").is_array());
  ASSERT_FALSE(j.at("sites").empty());
  for (const auto& s : j.at("sites")) {
    for (const char* key : {"site", "active", "ratio", "weight_bytes", "issued_bytes", "window_us", "prefetch_us",
                            "overlap_pct", "stall_us"}) {
      EXPECT_TRUE(s.contains(key)) << key << " missing in " << s.dump();
    }
  }
  // The numbers are the library's for the same scenario.
  ScenarioInputs in;
  in.use_process_env = false;
  Scenario sc = load_scenario(in);
  SimulateReport rep = run_simulate(sc, false);
  EXPECT_EQ(j.at("step_time_us").get<double>(), rep.with_config.step_time_us);
  EXPECT_EQ(j.at("baseline_step_time_us").get<double>(), rep.baseline.step_time_us);
}

TEST_F(Cli, JsonOfTheSmallCaseMatchesTheLibraryGolden) {
  // Same scenario as tests/export/simulate_report_test.cc (Qwen3-8B TP4 W8A8, 8 tokens, a3-die), W8A8
  // by default as there: an explicit -q would make the report say "--quantization".
  test::CliResult r = run_cli("simulate --model Qwen3-8B --tp 4 --num-tokens 8 --hardware a3-die --format json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  test::expect_matches_golden(r.out, "qwen3_8b_tp4_w8a8_t8.simulate.json");
}

TEST_F(Cli, ImpossibleDeploymentsAreRefusedNamingTheRule) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"simulate --tp 3", "--tensor-parallel-size 3: Qwen3-32B has 64 attention heads"},
      {"simulate --tp 5", "must be divisible by tensor parallel size (5)"},
      {"simulate --tp 128", "TP sizes that work for Qwen3-32B: 1, 2, 4, 8, 16, 32, 64"},
      {"simulate --enable-expert-parallel", "--enable-expert-parallel on Qwen3-32B, a dense model"},
      {"simulate --num-tokens 300 --max-num-seqs 64", "--num-tokens 300 in decode is above --max-num-seqs 64"},
      {"simulate --model DeepSeek-V3 --tp 4", "the weights take 159.3 GiB per rank"},
      {"tune-ratio --tp 3 --num-tokens 8", "--tensor-parallel-size 3"},
      {"tune-ratio --num-tokens 8,100 --max-num-seqs 64", "--num-tokens 100 in decode is above --max-num-seqs 64"},
      {"export-profile --tp 5 --out-dir " + shell_quote(path("out")), "--tensor-parallel-size 5"},
      {"simulate --model " + shell_quote(test::source_path("tests/data/models/deepseek-v3-fp8")) + " --tp 16",
       "vllm-ascend cannot serve an FP8 checkpoint on A2/A3"},
  };
  for (const auto& [args, expected] : cases) {
    const test::CliResult r = run_cli(args);
    expect_one_line_error(r, args);
    EXPECT_EQ(r.exit_code, 2) << args;
    EXPECT_PRED2(contains, r.err, expected) << args;
  }
  EXPECT_FALSE(fs::exists(path("out")));
}

TEST_F(Cli, TheServingLineSaysWhereTheQuantizationCameFrom) {
  const std::string modelslim = shell_quote(test::source_path("tests/data/models/qwen3-32b-w8a8-modelslim"));
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"simulate --num-tokens 8", "TP4 DP1, w8a8 (default), decode"},
      {"simulate --num-tokens 8 -q w8a8", "TP4 DP1, w8a8 (--quantization), decode"},
      {"simulate --num-tokens 8 --model " + modelslim, "TP4 DP1, w8a8 (from quant_model_description.json), decode"},
      {"simulate --num-tokens 8 -q bf16 --model " + modelslim, "TP4 DP1, bf16 (--quantization), decode"},
  };
  for (const auto& [args, expected] : cases) {
    const test::CliResult r = run_cli(args);
    ASSERT_EQ(r.exit_code, 0) << args << r.err;
    EXPECT_PRED2(contains, r.out, "serving   " + expected) << args;
  }
  const test::CliResult j = run_cli("simulate --num-tokens 8 --format json --model " + modelslim);
  ASSERT_EQ(j.exit_code, 0) << j.err;
  EXPECT_EQ(json::parse(j.out).at("deployment").at("quantization_source"), "quant_model_description.json");
}

TEST_F(Cli, InputErrorsGiveOneErrorLine) {
  const std::string bad_template = test::write_file(path("bad_layers.json"), R"({"layer_types": {"blk": {"ops": [
      {"name": "x", "kind": "vectr"}]}}})");
  fs::create_directories(path("no_config"));
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"simulate --model nope", "--model nope"},
      {"simulate --model " + shell_quote(path("no_config")), "directory holds no config.json"},
      {"simulate --hardware 910Z", "--hardware 910Z"},
      {"simulate --tp 0", "--tensor-parallel-size 0"},
      {"simulate --dp 0", "--data-parallel-size 0"},
      {"simulate --num-tokens 0", "--num-tokens 0"},
      {"simulate --context-len 0", "--context-len 0"},
      {"simulate --num-speculative-tokens 100", "--num-speculative-tokens 100"},
      {"simulate --phase mixed", "--phase mixed"},
      {"simulate -q int4", "--quantization int4"},
      {"simulate --cap both", "--cap both"},
      {"simulate --hw-set foo", "--hw-set foo"},
      {"simulate --hw-set hbm_GBps=fast", "the value is not a number"},
      {"simulate --hw-set nope=1", "unknown hardware parameter"},
      {"simulate --additional-config " + shell_quote(R"({"weight_prefetch_config": {"enable": true}})"),
       "$.weight_prefetch_config.enable"},
      {"simulate --additional-config " +
           shell_quote(R"({"weight_prefetch_config": {"enabled": true, "prefetch_ratio": {"mlp": {"down": 1.5}}}})"),
       "$.weight_prefetch_config.prefetch_ratio.mlp.down"},
      {"simulate --lenient --additional-config " + shell_quote(R"({"prefetch_ratio": {"attn": {"qkv": "0.5"}}})"),
       "$.prefetch_ratio.attn.qkv"},
      {"simulate --additional-config " + shell_quote("{"), "invalid JSON"},
      {"simulate --additional-config @" + shell_quote(path("missing.json")), "missing.json"},
      {"simulate --env FOO=1", "--env FOO"},
      {"simulate --vllm-ascend v0.13.0 --env VLLM_ASCEND_ENABLE_PREFETCH_MLP=true", "reads it with int()"},
      {"simulate --vllm-ascend v0.24.0rc1", "removed weight prefetch in v0.24.0rc1 (PR #11949"},
      {"simulate --vllm-ascend 0.12", "v0.11 and v0.12 have weight prefetch"},
      {"simulate --vllm-ascend 0.9.1", "not a vllm-ascend release with weight prefetch"},
      {"simulate --layer " + shell_quote(path("missing_layers.json")), "missing_layers.json"},
      {"simulate --layer " + shell_quote(bad_template), "$.layer_types.blk.ops[0]"},
      {"simulate --op-times " + shell_quote(path("missing.csv")), "missing.csv"},
  };
  for (const auto& [args, mention] : cases) {
    test::CliResult r = run_cli(args);
    expect_one_line_error(r, args);
    EXPECT_EQ(r.exit_code, 2) << args;
    EXPECT_PRED2(contains, r.err, mention) << args;
  }
}

TEST_F(Cli, CommandLineSyntaxErrorsGiveOneErrorLine) {
  for (const std::string args : {"simulate --tp x", "simulate --bogus", "simulate --format xml", "bogus", "simulate --tp"}) {
    test::CliResult r = run_cli(args);
    expect_one_line_error(r, args);
  }
}

TEST_F(Cli, LenientTurnsTheStrictErrorIntoAWarning) {
  test::CliResult r =
      run_cli("simulate --lenient --additional-config " + shell_quote(R"({"weight_prefetch_config": {"enable": true}})"));
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_PRED2(contains, r.out, "warning: --additional-config: $.weight_prefetch_config.enable");
  EXPECT_PRED2(contains, r.out, "no change");  // prefetch stays disabled: same as the baseline
}

TEST_F(Cli, AdditionalConfigFromFile) {
  const std::string cfg = test::write_file(
      path("cfg.json"), R"({"weight_prefetch_config": {"enabled": true, "prefetch_ratio": {"mlp": {"gate_up": 0.5, "down": 0.25}}}})");
  test::CliResult r = run_cli("simulate --format json --additional-config @" + shell_quote(cfg));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const json j = json::parse(r.out);
  EXPECT_EQ(j.at("weight_prefetch_config").at("prefetch_ratio").at("mlp").at("down"), 0.25);
  EXPECT_EQ(j.at("weight_prefetch_config").at("prefetch_ratio").at("mlp").at("gate_up"), 0.5);
}

TEST_F(Cli, LegacyEnvFromOptionAndFromTheEnvironment) {
  // v0.15 - v0.17 still read the legacy variables; they override the mlp sizes.
  test::CliResult opt = run_cli("simulate --vllm-ascend v0.16.0rc1 --format json --env VLLM_ASCEND_ENABLE_PREFETCH_MLP=1");
  ASSERT_EQ(opt.exit_code, 0) << opt.err;
  const json j = json::parse(opt.out);
  ASSERT_TRUE(j.contains("legacy_equivalent_additional_config"));
  ASSERT_EQ(setenv("VLLM_ASCEND_ENABLE_PREFETCH_MLP", "1", 1), 0);
  test::CliResult env = run_cli("simulate --vllm-ascend v0.16.0rc1 --format json");
  ASSERT_EQ(env.exit_code, 0) << env.err;
  EXPECT_EQ(json::parse(env.out).at("legacy_equivalent_additional_config"), j.at("legacy_equivalent_additional_config"));
  // v0.13 / v0.14: the MLP prefetch runs only from them, and they are echoed as an env line.
  test::CliResult old = run_cli("simulate --vllm-ascend v0.14.0rc1");
  ASSERT_EQ(old.exit_code, 0) << old.err;
  EXPECT_PRED2(contains, old.out, "env       VLLM_ASCEND_ENABLE_PREFETCH_MLP=1 VLLM_ASCEND_MLP_GATE_UP_PREFETCH_SIZE=18874368");
  // A bad value in the environment is refused like a bad --env, where the release reads it ...
  ASSERT_EQ(setenv("VLLM_ASCEND_ENABLE_PREFETCH_MLP", "yes", 1), 0);
  expect_one_line_error(run_cli("simulate --vllm-ascend v0.13.0"), "VLLM_ASCEND_ENABLE_PREFETCH_MLP=yes");
  // ... and ignored, with a note, where it does not.
  test::CliResult now = run_cli("simulate");
  EXPECT_EQ(now.exit_code, 0) << now.err;
  EXPECT_PRED2(contains, now.out, "no longer reads VLLM_ASCEND_ENABLE_PREFETCH_MLP");
}

TEST_F(Cli, WritesTimelineTraceAndReportFiles) {
  const std::string args = "simulate --model Qwen3-8B --num-tokens 8 --format json";
  test::CliResult r = run_cli(args + " --timeline-csv " + shell_quote(path("t.csv")) + " --trace-json " +
                              shell_quote(path("t.json")) + " -o " + shell_quote(path("report.json")));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "");  // the report went to the file
  EXPECT_EQ(files(), (std::vector<std::string>{"report.json", "t.csv", "t.json"}));  // no temp files left
  EXPECT_EQ(test::read_file(path("report.json")), run_cli(args).out);
  const std::string csv = test::read_file(path("t.csv"));
  EXPECT_EQ(csv.substr(0, csv.find('\n')), timeline_csv_header());
  EXPECT_TRUE(json::parse(test::read_file(path("t.json"))).is_array());
  // The same files as the library produces (see tests/export/timeline_export_test.cc).
  test::expect_matches_golden(csv, "qwen3_8b_tp4_w8a8_t8.timeline.csv");
}

TEST_F(Cli, OutputDashMeansStdout) {
  test::CliResult r = run_cli("simulate -o -");
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_PRED2(contains, r.out, "step time");
}

TEST_F(Cli, TimelineCsvIntoAMissingDirectoryFailsAndCreatesNothing) {
  const std::string target = path("missing/t.csv");
  test::CliResult r = run_cli("simulate --timeline-csv " + shell_quote(target));
  expect_one_line_error(r, "--timeline-csv " + target);
  EXPECT_PRED2(contains, r.err, "does not exist");
  EXPECT_TRUE(files().empty());
  EXPECT_FALSE(fs::exists(path("missing")));
}

TEST_F(Cli, TimelineCsvThatIsADirectoryFails) {
  fs::create_directories(path("adir"));
  test::CliResult r = run_cli("simulate --timeline-csv " + shell_quote(path("adir")));
  expect_one_line_error(r, "--timeline-csv adir");
  EXPECT_EQ(files(), (std::vector<std::string>{"adir"}));
}

TEST_F(Cli, FailedRunLeavesExistingOutputFilesUntouched) {
  test::write_file(path("t.csv"), "keep me\n");
  test::write_file(path("t.json"), "[]\n");
  test::write_file(path("o.txt"), "old report\n");
  test::CliResult r = run_cli("simulate --additional-config " + shell_quote(R"({"weight_prefetch_config": {"enable": true}})") +
                              " --timeline-csv " + shell_quote(path("t.csv")) + " --trace-json " + shell_quote(path("t.json")) +
                              " -o " + shell_quote(path("o.txt")));
  expect_one_line_error(r, "bad --additional-config");
  EXPECT_EQ(test::read_file(path("t.csv")), "keep me\n");
  EXPECT_EQ(test::read_file(path("t.json")), "[]\n");
  EXPECT_EQ(test::read_file(path("o.txt")), "old report\n");
  EXPECT_EQ(files(), (std::vector<std::string>{"o.txt", "t.csv", "t.json"}));
}

TEST_F(Cli, FailedWriteOfOneOutputLeavesTheOthersUntouched) {
  test::write_file(path("t.csv"), "keep me\n");
  test::CliResult r = run_cli("simulate --timeline-csv " + shell_quote(path("t.csv")) + " --trace-json " +
                              shell_quote(path("missing/t.json")));
  expect_one_line_error(r, "--trace-json into a missing directory");
  EXPECT_EQ(test::read_file(path("t.csv")), "keep me\n");
  EXPECT_EQ(files(), (std::vector<std::string>{"t.csv"}));
}

}  // namespace
}  // namespace pt
