// Faults while writing, through the real binary: a full disk, a failing stdout, special files as
// outputs, signals in the middle of a write. Each run must end with one error line and a non-zero
// exit (or by the signal it got), and leave no output half-written, no output replaced, and no
// staging file behind.
//
// The disk-full cases mount a small tmpfs in a private mount namespace (unshare -m); where the
// machine does not allow one they are skipped, and the skip says why.
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "test_support.h"

namespace pt {
namespace {

namespace fs = std::filesystem;
using test::contains;
using test::shell_quote;

class OutputFaults : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = test::make_temp_dir(); }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  // Names in `dir` other than `expected`: staging files, half-written outputs.
  static std::vector<std::string> others(const std::string& dir, const std::vector<std::string>& expected = {}) {
    std::vector<std::string> out;
    for (const auto& e : fs::directory_iterator(dir)) {
      const std::string name = e.path().filename().string();
      if (std::find(expected.begin(), expected.end(), name) == expected.end()) out.push_back(name);
    }
    return out;
  }
  std::string dir_;
};

// One line, "prefetch-tuner: error: ...".
void expect_one_error_line(const test::CliResult& r, const std::string& expected) {
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_EQ(r.err.rfind("prefetch-tuner: error: ", 0), 0u) << r.err;
  EXPECT_EQ(r.err.find('\n'), r.err.size() - 1) << "not one line:\n" << r.err;
  EXPECT_PRED2(contains, r.err, expected);
}

// ---- standard output ------------------------------------------------------------------------

// `> /dev/full` exited 0 with the report lost; so did `>&-`.
TEST_F(OutputFaults, AFullStdoutIsAnErrorAndCommitsNothing) {
  const std::string csv = dir_ + "/timeline.csv";
  const test::CliResult r = test::run_script("\"$PT_CLI\" simulate --timeline-csv " + shell_quote(csv) + " >/dev/full");
  expect_one_error_line(r, "standard output: write failed (No space left on device)");
  EXPECT_TRUE(others(dir_).empty()) << "committed or left: " << others(dir_).front();
  // The same for a report that only leaves the buffer at exit (--help).
  expect_one_error_line(test::run_script("\"$PT_CLI\" --help >/dev/full"), "standard output: write failed (No space left on device)");
}

TEST_F(OutputFaults, AClosedStdoutIsAnErrorAndTheReportLandsInNoOutputFile) {
  const std::string csv = dir_ + "/timeline.csv";
  // With fd 1 closed, the first file opened gets fd 1: the report once went into the timeline.
  const test::CliResult r = test::run_script("\"$PT_CLI\" simulate --timeline-csv " + shell_quote(csv) + " >&-");
  expect_one_error_line(r, "standard output is closed");
  EXPECT_TRUE(others(dir_).empty()) << "committed or left: " << others(dir_).front();
  const test::CliResult ok =
      test::run_script("\"$PT_CLI\" simulate --timeline-csv " + shell_quote(csv) + " -o " + shell_quote(dir_ + "/r.txt") + " >&-");
  EXPECT_EQ(ok.exit_code, 0) << ok.err;  // nothing for stdout: a closed one is no error
  EXPECT_EQ(test::read_file(csv).find("step time"), std::string::npos);
  EXPECT_PRED2(contains, test::read_file(dir_ + "/r.txt"), "step time");
}

// ---- special files as outputs ---------------------------------------------------------------

// `-o /dev/stdout` replaced the symlink with a regular file (as root). A link to /proc/self/fd/1
// here, so the test never touches the machine's /dev.
TEST_F(OutputFaults, ALinkToADescriptorIsWrittenThroughNotReplaced) {
  const std::string link = dir_ + "/stdout";
  fs::create_symlink("/proc/self/fd/1", link);
  const test::CliResult r = test::run_cli("simulate -o " + shell_quote(link));
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_PRED2(contains, r.out, "step time");
  EXPECT_TRUE(fs::is_symlink(link));
  EXPECT_EQ(others(dir_, {"stdout"}), std::vector<std::string>{});
  // A descriptor named directly works the same way (/proc, where a regression cannot create a file).
  const test::CliResult dev = test::run_cli("simulate -o /proc/self/fd/1");
  EXPECT_EQ(dev.exit_code, 0) << dev.err;
  EXPECT_PRED2(contains, dev.out, "step time");
}

TEST_F(OutputFaults, DeviceNodesAreWrittenInPlace) {
  const std::string null = dir_ + "/null", full = dir_ + "/full";
  if (::mknod(null.c_str(), S_IFCHR | 0666, makedev(1, 3)) != 0 || ::mknod(full.c_str(), S_IFCHR | 0666, makedev(1, 7)) != 0) {
    GTEST_SKIP() << "mknod is not permitted here (" << std::strerror(errno) << "): no device node to write to";
  }
  const test::CliResult r = test::run_cli("simulate -o " + shell_quote(null));
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(fs::is_character_file(null));
  const std::string csv = test::write_file(dir_ + "/timeline.csv", "keep\n");
  expect_one_error_line(test::run_cli("simulate -o " + shell_quote(full) + " --timeline-csv " + shell_quote(csv)),
                        "full: write failed (No space left on device)");
  EXPECT_TRUE(fs::is_character_file(full));
  EXPECT_EQ(test::read_file(csv), "keep\n");
  EXPECT_EQ(others(dir_, {"null", "full", "timeline.csv"}), std::vector<std::string>{});
}

TEST_F(OutputFaults, AFifoIsWrittenInPlace) {
  const std::string fifo = dir_ + "/report.fifo";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0644), 0);
  const test::CliResult r = test::run_script("\"$PT_CLI\" simulate -o " + shell_quote(fifo) + " & cat " + shell_quote(fifo) + "; wait $!");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_PRED2(contains, r.out, "step time");
  EXPECT_TRUE(fs::is_fifo(fifo));
}

// ---- a full disk ----------------------------------------------------------------------------

// export-profile exited 0 with a 0-byte op_statistic.csv: its one buffered write, at close, failed
// unseen. A tmpfs that holds the other files exactly, so that op_statistic.csv (written last, under
// 1 KB) is the one that does not fit.
TEST_F(OutputFaults, ExportProfileOnAFullDiskFailsAndCommitsNothing) {
  const std::string args = "export-profile --model Qwen3-8B --num-tokens 16 --steps 2 --out-dir";
  const test::CliResult whole = test::run_cli(args + " " + shell_quote(dir_ + "/whole"));
  ASSERT_EQ(whole.exit_code, 0) << whole.err;
  const uintmax_t page = static_cast<uintmax_t>(::sysconf(_SC_PAGESIZE));
  uintmax_t pages = 0;
  for (const auto& e : fs::recursive_directory_iterator(dir_ + "/whole")) {
    if (e.is_regular_file() && e.path().filename() != "op_statistic.csv") pages += (e.file_size() + page - 1) / page;
  }
  const uintmax_t size_kb = pages * page / 1024;
  const std::string disk = dir_ + "/disk";
  fs::create_directories(disk);
  std::string skip;
  const test::CliResult r = test::run_in_mount_namespace(
      "mount -t tmpfs -o size=" + std::to_string(size_kb) + "k tmpfs " + shell_quote(disk) + " && \"$PT_CLI\" " + args + " " +
          shell_quote(disk + "/run1") + "; status=$?; ls -A " + shell_quote(disk) + " >&2; exit $status",
      skip);
  if (!skip.empty()) GTEST_SKIP() << skip;
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_PRED2(contains, r.err, "prefetch-tuner: error: " + disk + "/run1/");
  // Streamed: the file whose buffer meets the full disk first is named (under the directory given,
  // never the staging one).
  EXPECT_PRED2(contains, r.err, "write failed (No space left on device)");
  EXPECT_EQ(r.err.find(".tmp"), std::string::npos) << r.err;
  // `ls -A` of the tmpfs after the run printed nothing: no profile, no staging directory.
  EXPECT_EQ(r.err.find('\n'), r.err.size() - 1) << "left on the disk:\n" << r.err;
  EXPECT_EQ(r.out, "");
}

TEST_F(OutputFaults, SimulateOnAFullDiskReplacesNothing) {
  const std::string disk = dir_ + "/disk";
  fs::create_directories(disk);
  std::string skip;
  const std::string d = shell_quote(disk);
  const test::CliResult r = test::run_in_mount_namespace(
      "mount -t tmpfs -o size=64k tmpfs " + d + " && echo old report > " + d + "/report.txt && echo old csv > " + d +
          "/timeline.csv && \"$PT_CLI\" simulate --model Qwen3-235B-A22B -o " + d + "/report.txt --timeline-csv " + d +
          "/timeline.csv; status=$?; cat " + d + "/report.txt " + d + "/timeline.csv; ls -A " + d + "; exit $status",
      skip);
  if (!skip.empty()) GTEST_SKIP() << skip;
  expect_one_error_line(r, "timeline.csv: write failed (No space left on device)");
  EXPECT_EQ(r.out, "old report\nold csv\nreport.txt\ntimeline.csv\n");
}

// ---- a rename that fails after another one succeeded ----------------------------------------

TEST_F(OutputFaults, AFailedCommitPutsBackTheOutputsAlreadyReplaced) {
  std::string skip;
  const std::string d = shell_quote(dir_);
  // The report is renamed last (simulate's order: timeline, trace, report); a file mounted over
  // it makes that rename fail (EBUSY) after the timeline's succeeded.
  const test::CliResult r = test::run_in_mount_namespace(
      "echo old csv > " + d + "/timeline.csv && echo old report > " + d + "/report.txt && echo mounted > " + d +
          "/over && mount --bind " + d + "/over " + d + "/report.txt && \"$PT_CLI\" simulate --timeline-csv " + d +
          "/timeline.csv -o " + d + "/report.txt; status=$?; umount " + d + "/report.txt; cat " + d + "/timeline.csv " + d +
          "/report.txt; ls -A " + d + "; exit $status",
      skip);
  if (!skip.empty()) GTEST_SKIP() << skip;
  expect_one_error_line(r, "report.txt: cannot move the finished file into place (Device or resource busy); no output was changed");
  EXPECT_EQ(r.out, "old csv\nold report\nover\nreport.txt\ntimeline.csv\n");
}

// ---- signals in the middle of a write -------------------------------------------------------

// The staging entries (".NAME.prefetch-tuner.HOST.PID.tmp" and the like) in `dir`.
std::vector<std::string> staging(const std::string& dir) {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(dir)) {
    const std::string name = e.path().filename().string();
    if (name.starts_with(".")) out.push_back(name);
  }
  return out;
}

// Starts a large export-profile (about 45 MB, staged as a directory) into dir/run and waits until
// its staging entry appears; returns the pid, or -1 when the run finished first.
int start_large_export(const std::string& dir) {
  const int pid = test::spawn_cli({"export-profile", "--model", "Qwen3-235B-A22B", "--steps", "40", "--out-dir", dir + "/run"},
                                  dir + "/../out.txt", dir + "/../err.txt");
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  while (std::chrono::steady_clock::now() < deadline) {
    if (!staging(dir).empty()) return pid;
    int status = 0;
    if (::waitpid(pid, &status, WNOHANG) == pid) return -1;
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
  ::kill(pid, SIGKILL);
  test::wait_for(pid);
  return -1;
}

class SignalDuringWrite : public OutputFaults, public ::testing::WithParamInterface<int> {};

// SIGINT and SIGTERM left a staging directory of tens of MB behind: the handler removes it and
// the process still ends by the signal (so a shell sees it was interrupted).
TEST_P(SignalDuringWrite, LeavesNoStagingBehindAndEndsByTheSignal) {
  const int sig = GetParam();
  const std::string out = dir_ + "/out";
  fs::create_directories(out);
  const int pid = start_large_export(out);
  ASSERT_GT(pid, 0) << "the export finished before its staging directory was seen";
  ASSERT_EQ(::kill(pid, sig), 0);
  const int status = test::wait_for(pid);
  ASSERT_TRUE(WIFSIGNALED(status)) << "exit status " << WEXITSTATUS(status) << ": " << test::read_file(dir_ + "/err.txt");
  EXPECT_EQ(WTERMSIG(status), sig);
  EXPECT_EQ(staging(out), std::vector<std::string>{}) << "left behind after signal " << sig;
}

INSTANTIATE_TEST_SUITE_P(Signals, SignalDuringWrite, ::testing::Values(SIGINT, SIGTERM),
                         [](const ::testing::TestParamInfo<int>& info) { return info.param == SIGINT ? "SIGINT" : "SIGTERM"; });

// SIGKILL cannot be caught: its staging directory stays, named with the pid, and the next run that
// writes into that directory removes it because no process has that pid any more.
TEST_F(OutputFaults, AfterSigkillTheNextRunRemovesTheStaleStaging) {
  const std::string out = dir_ + "/out";
  fs::create_directories(out);
  std::vector<std::string> left;
  int pid = -1;
  for (int attempt = 0; attempt < 3 && left.empty(); ++attempt) {  // the kill may land just after the commit
    pid = start_large_export(out);
    ASSERT_GT(pid, 0) << "the export finished before its staging directory was seen";
    ::kill(pid, SIGKILL);
    test::wait_for(pid);
    left = staging(out);
    fs::remove_all(out + "/run");
  }
  ASSERT_EQ(left.size(), 1u);
  EXPECT_PRED2(contains, left.front(), "." + std::to_string(pid) + ".tmp");
  const test::CliResult r = test::run_cli("simulate -o " + shell_quote(out + "/report.txt"));
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(staging(out), std::vector<std::string>{}) << "the stale staging of dead process " << pid << " is still there";
  EXPECT_TRUE(fs::exists(out + "/report.txt"));
}

}  // namespace
}  // namespace pt
