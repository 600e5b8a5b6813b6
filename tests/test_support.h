#pragma once
// Helpers shared by the tests: paths into the source tree, golden-file comparison, running the CLI.
#include <string>

namespace pt::test {

std::string source_path(const std::string& relative);  // PT_SOURCE_DIR / relative
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
// Runs the built prefetch-tuner binary with `args` (shell-quoted by the caller).
CliResult run_cli(const std::string& args);

}  // namespace pt::test
