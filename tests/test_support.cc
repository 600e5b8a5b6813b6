#include "test_support.h"

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include <fcntl.h>
#include <grp.h>
#include <gtest/gtest.h>
#include <pwd.h>
#include <mutex>

#include "profile/profile.h"
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <functional>

namespace pt::test {

std::string source_path(const std::string& relative) { return std::string(PT_SOURCE_DIR) + "/" + relative; }

std::string_view keep(std::string_view s) {
  static StringPool pool;
  static std::mutex mutex;
  std::lock_guard<std::mutex> lock(mutex);
  return pool.intern(s);
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string make_temp_dir() {
  std::random_device rd;
  auto dir = std::filesystem::temp_directory_path() / ("pt_test_" + std::to_string(rd()) + std::to_string(rd()));
  std::filesystem::create_directories(dir);
  return dir.string();
}

void expect_matches_golden(const std::string& actual, const std::string& name) {
  const std::string path = source_path("tests/golden/" + name);
  const char* update = std::getenv("PT_UPDATE_GOLDEN");
  if (update && std::string(update) == "1") {
    std::ofstream(path, std::ios::binary) << actual;
    return;
  }
  ASSERT_TRUE(std::filesystem::exists(path)) << "missing golden file " << path
                                             << " (run the tests with PT_UPDATE_GOLDEN=1 to create it)";
  const std::string expected = read_file(path);
  if (expected == actual) return;
  // Report the first differing line, not two huge strings.
  std::istringstream a(actual), e(expected);
  std::string la, le;
  int line = 1;
  while (true) {
    bool ga = static_cast<bool>(std::getline(a, la)), ge = static_cast<bool>(std::getline(e, le));
    if (!ga && !ge) break;
    if (la != le || ga != ge) {
      ADD_FAILURE() << name << " differs from its golden file at line " << line << "\n  expected: " << le
                    << "\n  actual:   " << la << "\n(PT_UPDATE_GOLDEN=1 rewrites it after a deliberate change)";
      return;
    }
    ++line;
  }
}

CliResult run_cli(const std::string& args, int timeout_s) {
  const std::string dir = make_temp_dir();
  const std::string out_path = dir + "/out", err_path = dir + "/err";
  const std::string cmd = "timeout -k 5 " + std::to_string(timeout_s) + " " + std::string(PT_CLI_PATH) + " " + args + " >" +
                          out_path + " 2>" + err_path + " </dev/null";
  int status = std::system(cmd.c_str());
  CliResult r;
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.out = read_file(out_path);
  r.err = read_file(err_path);
  std::filesystem::remove_all(dir);
  return r;
}

namespace {

// Runs /bin/sh -c `script` in a child, stdout and stderr to files opened before `become` runs in
// the child (as the caller, who may then give up its rights); `become` returns false to give up.
CliResult run_shell(const std::string& script, const std::function<bool()>& become) {
  const std::string dir = make_temp_dir();
  const std::string out_path = dir + "/out", err_path = dir + "/err";
  const int out = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  const int err = ::open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  const pid_t pid = ::fork();
  if (pid == 0) {
    const int in = ::open("/dev/null", O_RDONLY);
    ::dup2(in, 0);
    ::dup2(out, 1);
    ::dup2(err, 2);
    if (!become()) ::_exit(125);
    ::setenv("PT_CLI", PT_CLI_PATH, 1);
    ::execl("/bin/sh", "sh", "-c", script.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  ::close(out);
  ::close(err);
  CliResult r;
  const int status = wait_for(pid);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.out = read_file(out_path);
  r.err = read_file(err_path);
  std::filesystem::remove_all(dir);
  return r;
}

}  // namespace

CliResult run_script(const std::string& script) {
  return run_shell(script, [] { return true; });
}

CliResult run_cli_as_nobody(const std::string& args, std::string& skip_reason) {
  if (::geteuid() != 0) {
    skip_reason = "not root: cannot switch to the user nobody";
    return {};
  }
  // A minimal image may have no passwd entry for nobody: its ids are 65534 all the same (the
  // kernel's overflow ids), and setuid needs no entry.
  const struct passwd* nobody = ::getpwnam("nobody");
  const uid_t uid = nobody ? nobody->pw_uid : 65534;
  const gid_t gid = nobody ? nobody->pw_gid : 65534;
  const CliResult r = run_shell("timeout -k 5 300 \"$PT_CLI\" " + args, [uid, gid] {
    return ::setgroups(0, nullptr) == 0 && ::setgid(gid) == 0 && ::setuid(uid) == 0;
  });
  if (r.exit_code == 125) skip_reason = "could not switch to the user nobody (setgid/setuid refused)";
  return r;
}

CliResult run_in_mount_namespace(const std::string& script, std::string& skip_reason) {
  static const std::string why = [] {
    if (::geteuid() != 0) return std::string("not root: cannot mount a tmpfs in a private mount namespace");
    const int status = std::system("unshare -m --propagation private sh -c 'd=$(mktemp -d) && mount -t tmpfs -o size=64k "
                                   "tmpfs \"$d\" && umount \"$d\" && rmdir \"$d\"' >/dev/null 2>&1");
    if (status != 0) return std::string("unshare -m / mount -t tmpfs is not permitted here (a container without CAP_SYS_ADMIN?)");
    return std::string();
  }();
  if (!why.empty()) {
    skip_reason = why;
    return {};
  }
  return run_shell("exec unshare -m --propagation private sh -c " + shell_quote(script), [] { return true; });
}

int spawn_cli(const std::vector<std::string>& args, const std::string& out_path, const std::string& err_path) {
  std::vector<std::string> argv_storage{PT_CLI_PATH};
  argv_storage.insert(argv_storage.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : argv_storage) argv.push_back(a.data());
  argv.push_back(nullptr);
  const pid_t pid = ::fork();
  if (pid == 0) {
    const int in = ::open("/dev/null", O_RDONLY);
    const int out = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    const int err = ::open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ::dup2(in, 0);
    ::dup2(out, 1);
    ::dup2(err, 2);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  return pid;
}

int wait_for(int pid) {
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return status;
}

std::string shell_quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') out += "'\\''";
    else out += c;
  }
  return out + "'";
}

std::string write_file(const std::string& path, const std::string& content) {
  std::ofstream(path, std::ios::binary) << content;
  return path;
}

std::string round_hardware_json() {
  return R"({
  "schema": "prefetch-tuner/hardware/1",
  "name": "round",
  "description": "round numbers for closed-form tests",
  "family": "A3",
  "parameters": {
    "cube_TFLOPS_bf16": {"value": 100, "source": "test"},
    "cube_TOPS_int8": {"value": 200, "source": "test"},
    "vector_TFLOPS_fp16": {"value": 10, "source": "test"},
    "vector_TFLOPS_fp32": {"value": 5, "source": "test"},
    "matmul_efficiency": {"value": 1, "source": "test"},
    "vector_efficiency": {"value": 1, "source": "test"},
    "hbm_GBps": {"value": 1000, "source": "test"},
    "l2_size_bytes": {"value": 1000000000, "source": "test"},
    "l2_GBps": {"value": 4000, "source": "test"},
    "l2_read_speedup": {"value": 2, "source": "test"},
    "cmo_GBps": {"value": 500, "source": "test"},
    "cmo_qos_weight": {"value": 1, "source": "test"},
    "cmo_setup_us": {"value": 0, "source": "test"},
    "op_overhead_us": {"value": 0, "source": "test"},
    "fork_us": {"value": 0, "source": "test"},
    "join_us": {"value": 0, "source": "test"},
    "comm_GBps": {"value": 100, "source": "test"},
    "comm_latency_us": {"value": 0, "source": "test", "estimate": true}
  }
})";
}

}  // namespace pt::test
