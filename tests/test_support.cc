#include "test_support.h"

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include <gtest/gtest.h>
#include <sys/wait.h>

namespace pt::test {

std::string source_path(const std::string& relative) { return std::string(PT_SOURCE_DIR) + "/" + relative; }

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

}  // namespace pt::test
