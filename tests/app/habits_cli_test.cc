// What an inference engineer expects of a command-line tool in the first hour (issue 12, "habits of
// the field"), through the built binary: --version, the default subcommand, did-you-mean, help that
// shows only the defaults that apply, what was written, the names people type.
#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <regex>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <unistd.h>
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

class HabitsCli : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* v : {"VLLM_ASCEND_ENABLE_PREFETCH_MLP", "VLLM_ASCEND_MLP_GATE_UP_PREFETCH_SIZE",
                          "VLLM_ASCEND_MLP_DOWN_PREFETCH_SIZE"}) {
      unsetenv(v);
    }
    dir_ = test::make_temp_dir();
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string path(const std::string& name) const { return dir_ + "/" + name; }
  std::string q(const std::string& name) const { return shell_quote(path(name)); }
  // "NAME (412 B)" as the summary gives a file written under the temp dir.
  std::string written(const std::string& name) const {
    return fmt::format("{} ({})", path(name), size_in_words(fs::file_size(path(name))));
  }
  std::string dir_;
};

std::string line_with(const std::string& text, const std::string& start) {
  const size_t at = text.find(start);
  if (at == std::string::npos) return "";
  return text.substr(at, text.find('\n', at) - at);
}

void expect_one_line_error(const test::CliResult& r, const std::string& expected) {
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err, "prefetch-tuner: error: " + expected + "\n");
}

// ---- --version -------------------------------------------------------------------------------

TEST_F(HabitsCli, VersionNamesTheRevisionItWasBuiltFrom) {
  const test::CliResult r = run_cli("--version");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err, "");
  const std::string revision = PT_GIT_REVISION;
  EXPECT_TRUE(std::regex_match(r.out, std::regex("prefetch-tuner [0-9]+\\.[0-9]+\\.[0-9]+ \\(git [^ ]+\\)\n"))) << r.out;
  EXPECT_PRED2(contains, r.out, "(git " + revision + ")");
  // Built from a checkout with git at hand: a real revision, not the fallback.
  if (fs::exists(test::source_path(".git")) && std::system("git --version >/dev/null 2>&1") == 0) {
    EXPECT_NE(revision, "unknown");
    EXPECT_TRUE(std::regex_match(revision, std::regex("[0-9A-Za-z._-]+"))) << revision;
  }
}

// ---- the default subcommand ------------------------------------------------------------------

TEST_F(HabitsCli, OptionsWithoutASubcommandRunSimulate) {
  const test::CliResult bare = run_cli("--model Qwen3-8B --num-tokens 16");
  ASSERT_EQ(bare.exit_code, 0) << bare.err;
  EXPECT_EQ(bare.err, "");
  EXPECT_PRED2(contains, bare.out, "model     Qwen3-8B (Qwen3ForCausalLM, 36 layers)");
  EXPECT_EQ(bare.out, run_cli("simulate --model Qwen3-8B --num-tokens 16").out);
  EXPECT_EQ(run_cli("-q bf16 --tp 2").out, run_cli("simulate -q bf16 --tp 2").out);
  // No arguments at all: the default scenario, as before.
  EXPECT_EQ(run_cli("").out, run_cli("simulate").out);
}

// ---- did you mean ----------------------------------------------------------------------------

TEST_F(HabitsCli, AMistypedOptionGetsTheClosestNameAndIsNamedBeforeItsValue) {
  expect_one_line_error(run_cli("simulate --tensor-paralel-size 4"),
                        "simulate: unknown option --tensor-paralel-size 4; did you mean --tensor-parallel-size?");
  // The same without the subcommand (it goes to simulate).
  expect_one_line_error(run_cli("--tensor-paralel-size 4"),
                        "simulate: unknown option --tensor-paralel-size 4; did you mean --tensor-parallel-size?");
  expect_one_line_error(run_cli("tune-ratio --num-token 8,16"), "tune-ratio: unknown option --num-token 8,16; did you mean --num-tokens?");
  expect_one_line_error(run_cli("calibrate x --modle Qwen3-8B"), "calibrate: unknown option --modle Qwen3-8B; did you mean --model?");
  expect_one_line_error(run_cli("export-profile --out-dri d"), "export-profile: unknown option --out-dri d; did you mean --out-dir?");
  // Only the subcommand's own options: analyze has --compare, simulate has not.
  const test::CliResult other = run_cli("simulate --compare x");
  EXPECT_EQ(other.exit_code, 2);
  EXPECT_EQ(other.err.find("--compare?"), std::string::npos) << other.err;
}

TEST_F(HabitsCli, AMistypedSubcommandGetsTheClosestName) {
  expect_one_line_error(run_cli("simulat --tp 2"),
                        "simulat: not a subcommand; did you mean simulate? (subcommands: simulate, tune-ratio, "
                        "export-profile, analyze, calibrate; options alone run simulate)");
  const test::CliResult r = run_cli("tune-ration");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_PRED2(contains, r.err, "tune-ration: not a subcommand; did you mean tune-ratio?");
}

// ---- --help ----------------------------------------------------------------------------------

// The lines of `help` that describe `option` (the option's line and its wrapped description).
std::string option_line(const std::string& help, const std::string& option) {
  const size_t at = help.find("  " + option);
  if (at == std::string::npos) return "";
  return help.substr(at, help.find('\n', at) - at);
}

TEST_F(HabitsCli, HelpShowsOnlyTheDefaultsThatApplyAndEndsWithExamples) {
  const std::string simulate = run_cli("simulate --help").out;
  EXPECT_PRED2(contains, option_line(simulate, "--model"), "=Qwen3-32B");
  // analyze uses no model unless one is given; calibrate needs one.
  const std::string analyze = run_cli("analyze --help").out;
  EXPECT_EQ(option_line(analyze, "--model").find("=Qwen3-32B"), std::string::npos) << option_line(analyze, "--model");
  EXPECT_PRED2(contains, analyze, "used only with --model");
  const std::string calibrate = run_cli("calibrate --help").out;
  EXPECT_EQ(option_line(calibrate, "--model").find("=Qwen3-32B"), std::string::npos) << option_line(calibrate, "--model");
  // A negated flag shows no default of its own ({false} read as "off by default").
  EXPECT_EQ(simulate.find("{false}"), std::string::npos);
  EXPECT_PRED2(contains, option_line(calibrate, "--model"), "REQUIRED");
  for (const char* sub : {"", "simulate", "tune-ratio", "export-profile", "analyze", "calibrate"}) {
    SCOPED_TRACE(sub);
    const test::CliResult r = run_cli(std::string(sub) + " --help");
    EXPECT_EQ(r.exit_code, 0);
    const size_t examples = r.out.rfind("\nExamples:\n");
    ASSERT_NE(examples, std::string::npos) << r.out;
    std::vector<std::string> lines;
    for (size_t at = examples + 11; at < r.out.size();) {
      const size_t end = r.out.find('\n', at);
      lines.push_back(r.out.substr(at, end - at));
      at = end == std::string::npos ? r.out.size() : end + 1;
    }
    const size_t commands = std::count_if(lines.begin(), lines.end(), [](const std::string& l) { return l.rfind("  prefetch-tuner", 0) == 0; });
    EXPECT_GE(commands, 2u) << r.out.substr(examples);
    EXPECT_LE(commands, 4u) << r.out.substr(examples);
  }
}

// ---- what was written ------------------------------------------------------------------------

TEST_F(HabitsCli, EveryFileWrittenIsNamedWithItsSizeOnStderr) {
  const test::CliResult tune = run_cli("tune-ratio --model Qwen3-8B --num-tokens 8,16 --step 0.05 --plot " + q("tune.svg") +
                                       " --out " + q("tuned.json") + " --sweep-csv " + q("sweep.csv"));
  ASSERT_EQ(tune.exit_code, 0) << tune.err;
  EXPECT_EQ(tune.err, "wrote " + written("tune.svg") + ", " + written("sweep.csv") + ", " + written("tuned.json") + "\n");
  EXPECT_PRED2(contains, tune.out, "--additional-config");  // the report still on stdout

  const test::CliResult sim = run_cli("simulate --model Qwen3-8B --timeline-csv " + q("t.csv") + " -o " + q("r.txt"));
  ASSERT_EQ(sim.exit_code, 0) << sim.err;
  EXPECT_EQ(sim.out, "");
  EXPECT_EQ(sim.err, "wrote " + written("t.csv") + ", " + written("r.txt") + "\n");

  const test::CliResult exp = run_cli("export-profile --model Qwen3-8B --num-tokens 8 --out-dir " + q("run1"));
  ASSERT_EQ(exp.exit_code, 0) << exp.err;
  EXPECT_TRUE(std::regex_match(exp.err, std::regex("wrote " + path("run1") + "/ \\([0-9]+ files, [0-9.]+ (KiB|MiB)\\)\n"))) << exp.err;

  // Standard output is not a file: nothing said.
  EXPECT_EQ(run_cli("simulate --model Qwen3-8B").err, "");
}

TEST_F(HabitsCli, ACalibrationInUseIsOnTheHardwareLineAndInTheJson) {
  test::write_file(path("cal.json"), R"({"schema": "prefetch-tuner/calibration/1", "hardware": {"hbm_GBps": {"value": 1250}},
                                        "op_durations": []})");
  const test::CliResult text = run_cli("simulate --calibration " + q("cal.json"));
  ASSERT_EQ(text.exit_code, 0) << text.err;
  EXPECT_PRED2(contains, line_with(text.out, "hardware  "), ", calibrated by " + path("cal.json") + " (hbm_GBps 1600 -> 1250)");
  const test::CliResult js = run_cli("simulate --format json --calibration " + q("cal.json"));
  ASSERT_EQ(js.exit_code, 0) << js.err;
  const json c = json::parse(js.out).at("calibration");
  EXPECT_EQ(c.at("path"), path("cal.json"));
  EXPECT_EQ(c.at("hardware"), json::parse(R"([{"parameter": "hbm_GBps", "before": 1600.0, "calibrated": 1250.0}])"));
  EXPECT_FALSE(json::parse(run_cli("simulate --format json").out).contains("calibration"));
  const test::CliResult tune = run_cli("tune-ratio --step 0.1 --calibration " + q("cal.json"));
  ASSERT_EQ(tune.exit_code, 0) << tune.err;
  EXPECT_PRED2(contains, line_with(tune.out, "model       "), ", calibrated by " + path("cal.json") + " (hbm_GBps 1600 -> 1250)");
}

// ---- padding ---------------------------------------------------------------------------------

TEST_F(HabitsCli, TheServingLineSaysWhenCaptureSizesAreImplicitAndWhenABatchRunsEager) {
  EXPECT_PRED2(contains, line_with(run_cli("--num-tokens 70").out, "serving"),
               "72 tokens per step (70 scheduled, padded to capture size 72 of sizes up to 512, without --max-num-seqs)");
  EXPECT_PRED2(contains, line_with(run_cli("--num-tokens 70 --max-num-seqs 128").out, "serving"),
               "72 tokens per step (70 scheduled, padded to capture size 72)");
  // Unpadded: above the largest capture size, or no graphs at all.
  EXPECT_PRED2(contains, line_with(run_cli("--num-tokens 600").out, "serving"), "600 tokens per step, ");
  EXPECT_PRED2(contains, line_with(run_cli("--num-tokens 600").out, "serving"), ", eager");
  EXPECT_PRED2(contains, line_with(run_cli("--num-tokens 70 --eager").out, "serving"), ", eager");
  EXPECT_EQ(line_with(run_cli("--num-tokens 70").out, "serving").find("eager"), std::string::npos);
}

// ---- names people type -----------------------------------------------------------------------

TEST_F(HabitsCli, HardwareByTheNamesPeopleUse) {
  const std::string a3 = run_cli("--hardware a3-die").out;
  ASSERT_PRED2(contains, a3, "hardware  a3-die (A3)");
  for (const char* name : {"A3", "a3", "910C", "910c"}) EXPECT_EQ(run_cli(std::string("--hardware ") + name).out, a3) << name;
  const std::string b1 = run_cli("--hardware 910B1").out;
  for (const char* name : {"A2", "910B", "910b"}) EXPECT_EQ(run_cli(std::string("--hardware ") + name).out, b1) << name;
  EXPECT_PRED2(contains, run_cli("--hardware 910b2").out, "hardware  910B2 (A2)");
  EXPECT_PRED2(contains, run_cli("--hardware Ascend910B3").out, "hardware  910B3 (A2)");
  expect_one_line_error(run_cli("--hardware 910B5"),
                        "--hardware 910B5: no such file, and not a bundled profile; did you mean 910B1, 910B2 or 910B3? "
                        "(bundled: 910B1, 910B2, 910B3, 910B4, a3-die; A3 and 910C name a3-die, A2 and 910B name 910B1)");
}

TEST_F(HabitsCli, PhaseInAnyCase) {
  const std::string prefill = run_cli("--phase prefill --num-tokens 512").out;
  ASSERT_PRED2(contains, prefill, ", prefill, ");
  EXPECT_EQ(run_cli("--phase Prefill --num-tokens 512").out, prefill);
  EXPECT_EQ(run_cli("--phase DECODE").out, run_cli("--phase decode").out);
}

TEST_F(HabitsCli, ModelsByHuggingFaceIdAndByQuantizedCheckpointName) {
  const std::string base = run_cli("--model Qwen3-32B").out;
  EXPECT_EQ(run_cli("--model Qwen/Qwen3-32B").out, base);
  EXPECT_EQ(run_cli("--model qwen/qwen3-32b").out, base);
  // A quantized checkpoint's name: the base model, with the scheme its name gives, said so.
  const test::CliResult w8a8 = run_cli("--model Qwen3-32B-W8A8");
  ASSERT_EQ(w8a8.exit_code, 0) << w8a8.err;
  EXPECT_PRED2(contains, line_with(w8a8.out, "model     "), "model     Qwen3-32B (");
  EXPECT_PRED2(contains, line_with(w8a8.out, "serving"), ", w8a8 (from the name Qwen3-32B-W8A8), ");
  EXPECT_PRED2(contains, line_with(run_cli("--model Eco-Tech/Qwen3-8B-w8a8-dynamic").out, "serving"),
               ", w8a8_dynamic (from the name Qwen3-8B-w8a8-dynamic), ");
  // -q still wins, and says what it overrode.
  const std::string bf16 = run_cli("--model Qwen3-32B-W8A8 -q bf16").out;
  EXPECT_PRED2(contains, line_with(bf16, "serving"), ", bf16 (--quantization), ");
  EXPECT_PRED2(contains, bf16, "note: --quantization bf16 overrides the checkpoint's W8A8 (the name Qwen3-32B-W8A8)");
}

TEST_F(HabitsCli, AnUnknownOrAmbiguousModelListsTheBundledOnes) {
  const test::CliResult typo = run_cli("--model Qwen3-33B");
  EXPECT_EQ(typo.exit_code, 2);
  EXPECT_PRED2(contains, typo.err, "--model Qwen3-33B: no such file or directory, and not a bundled model; did you mean Qwen3-32B?");
  EXPECT_PRED2(contains, typo.err, "(bundled: DeepSeek-V3, GLM-4.5-Air, ");
  const test::CliResult ambiguous = run_cli("--model Qwen3");
  EXPECT_EQ(ambiguous.exit_code, 2);
  EXPECT_PRED2(contains, ambiguous.err, "ambiguous: Qwen3-235B-A22B, Qwen3-30B-A3B, Qwen3-32B, Qwen3-8B, Qwen3-Next-80B-A3B start so");
  EXPECT_EQ(std::count(typo.err.begin(), typo.err.end(), '\n'), 1);
}

// ---- progress --------------------------------------------------------------------------------

TEST_F(HabitsCli, ProgressOnlyOnATerminal) {
  // Not a terminal: no progress line, however long the search; only what was written.
  const test::CliResult plain = run_cli("tune-ratio --step 0.002 --num-tokens 8,16,32,72 --out " + q("t.json"));
  ASSERT_EQ(plain.exit_code, 0) << plain.err;
  EXPECT_EQ(plain.err, "wrote " + written("t.json") + "\n");
  if (std::system("command -v script >/dev/null 2>&1") != 0) GTEST_SKIP() << "no `script` (util-linux) to give the run a terminal";
  // On a terminal, a quick run shows nothing but what it wrote.
  const test::CliResult quick = test::run_script("script -qec " + shell_quote("\"$PT_CLI\" tune-ratio --step 0.1 -o " + q("r.txt")) + " /dev/null");
  ASSERT_EQ(quick.exit_code, 0) << quick.err;
  EXPECT_EQ(quick.out.find("%"), std::string::npos) << quick.out;
  EXPECT_PRED2(contains, quick.out, "wrote " + path("r.txt"));
}

// ---- tests that never ran --------------------------------------------------------------------

// The catalogue's unreadable files run as root by dropping to nobody in the child: that must work
// here, or those cases skip.
TEST(RunAsNobody, RootCanDropToNobodyToRunTheBinary) {
  std::string skip;
  const test::CliResult r = test::run_cli_as_nobody("--version", skip);
  if (geteuid() != 0) {
    EXPECT_NE(skip, "");
    return;
  }
  EXPECT_EQ(skip, "");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out.rfind("prefetch-tuner ", 0), 0u) << r.out;
}

}  // namespace
}  // namespace pt
