#include "test_support.h"

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include <mutex>

#include <gtest/gtest.h>

#include "profile/profile.h"
#include <sys/wait.h>

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

CliResult run_cli(const std::string& args) {
  const std::string dir = make_temp_dir();
  const std::string out_path = dir + "/out", err_path = dir + "/err";
  const std::string cmd = std::string(PT_CLI_PATH) + " " + args + " >" + out_path + " 2>" + err_path + " </dev/null";
  int status = std::system(cmd.c_str());
  CliResult r;
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.out = read_file(out_path);
  r.err = read_file(err_path);
  std::filesystem::remove_all(dir);
  return r;
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
    "comm_latency_us": {"value": 0, "source": "test"},
    "prefetch_cap_bytes": {"value": 18874368, "source": "test", "estimate": false},
    "mla_o_proj_cap_bytes": {"value": 16777216, "source": "test", "estimate": true}
  }
})";
}

}  // namespace pt::test
