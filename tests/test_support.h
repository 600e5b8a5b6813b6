#pragma once
// Helpers shared by the tests: paths into the source tree, golden-file comparison, running the CLI.
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

#include "util/error.h"

namespace pt::test {

// Message of the pt::InputError that `f` throws; adds a failure (and returns "") when it throws
// nothing or something else.
template <typename F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const InputError& e) {
    return e.what();
  } catch (const std::exception& e) {
    ADD_FAILURE() << "expected an InputError, got another exception: " << e.what();
    return "";
  }
  ADD_FAILURE() << "expected an InputError, nothing was thrown";
  return "";
}

// True when `haystack` contains `needle` (for EXPECT_PRED2, which prints both on failure).
inline bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

std::string source_path(const std::string& relative);  // PT_SOURCE_DIR / relative

// `s` kept for the whole test run (ProfileTask holds views into a profile's strings; a task a test
// builds by hand points here).
std::string_view keep(std::string_view s);
std::string read_file(const std::string& path);
// A fresh empty directory under the system temp dir.
std::string make_temp_dir();

// Compares `actual` with tests/golden/<name>. With PT_UPDATE_GOLDEN=1 in the environment it
// rewrites the golden file instead (and the test passes).
void expect_matches_golden(const std::string& actual, const std::string& name);

struct CliResult {
  int exit_code = 0;
  std::string out;  // stdout
  std::string err;  // stderr
};
// Runs the built prefetch-tuner binary with `args` (shell-quoted by the caller), killed after
// `timeout_s` seconds (exit code 124: it hung).
CliResult run_cli(const std::string& args, int timeout_s = 300);

// Runs `script` with /bin/sh, stdin from /dev/null, stdout and stderr captured; the binary is
// "$PT_CLI" in it. For what run_cli cannot say: redirections of the binary's own stdout (>/dev/full,
// >&-), a reader beside it.
CliResult run_script(const std::string& script);

// The same as the unprivileged user "nobody" (the command runs with its uid and gid, 65534 where
// the machine has no such user), dropped to in the forked child before it runs the binary, so
// that a file of mode 000 is unreadable even when the suite runs as root. Needs root;
// `skip_reason` is set when the ids cannot be switched.
CliResult run_cli_as_nobody(const std::string& args, std::string& skip_reason);

// Runs `script` with /bin/sh in a private mount namespace (unshare -m), where it may mount a small
// tmpfs or bind-mount a file without touching the machine's mounts. PT_CLI in its environment is
// the binary. `skip_reason` is set when this machine cannot make one (no root, no unshare).
CliResult run_in_mount_namespace(const std::string& script, std::string& skip_reason);

// The binary started in the background with `args` (no shell), stdout and stderr to the files
// given; returns its pid. wait_for() returns waitpid's status.
int spawn_cli(const std::vector<std::string>& args, const std::string& out_path, const std::string& err_path);
int wait_for(int pid);

// `s` quoted for /bin/sh: 'it'\''s' for it's.
std::string shell_quote(const std::string& s);

// Writes `content` to `path` (binary), creating nothing else; returns `path`.
std::string write_file(const std::string& path, const std::string& content);

// A complete hardware profile (schema prefetch-tuner/hardware/1) with round numbers, so simulator
// results can be computed by hand: hbm 1000 GB/s (1e6 B/us), cmo 500 GB/s (5e5 B/us), qos weight 1,
// L2 read speed-up 2, L2 1e9 B, every fixed cost (setup, overhead, fork, join, comm latency) 0,
// efficiencies 1, caps 18 MiB / 16 MiB.
std::string round_hardware_json();

}  // namespace pt::test
