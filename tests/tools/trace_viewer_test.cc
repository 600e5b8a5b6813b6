// simulate --trace-json in a real trace viewer: the catapult viewer chrome://tracing used
// (../shared/tools/trace-viewer.sh beside the source tree: headless Chromium, prints what it
// imported and writes model.json and a PNG). The default scenario's trace must import with no
// warning, every flow bound to a slice at both ends, and counters that move.
//
// Labelled "tools" (tests/CMakeLists.txt) and left out of the sanitizer run: it tests the file a
// viewer reads, not the code's memory safety. One render of one step, a few seconds.
#include <cstdlib>
#include <filesystem>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <sys/wait.h>

#include "test_support.h"

namespace pt {
namespace {

namespace fs = std::filesystem;

TEST(TraceViewer, DefaultTraceImportsCleanlyWithBoundFlowsAndMovingCounters) {
  const std::string tool = test::source_path("../shared/tools/trace-viewer.sh");
  if (!fs::exists(tool)) GTEST_SKIP() << "trace viewer not found at " << tool << ": the render in a real viewer is skipped";
  const std::string dir = test::make_temp_dir();
  const std::string trace = dir + "/trace.json";
  const auto sim = test::run_cli("simulate --trace-json " + test::shell_quote(trace));
  ASSERT_EQ(sim.exit_code, 0) << sim.err;
  const std::string log = dir + "/viewer.log";
  const int status = std::system((test::shell_quote(tool) + " " + test::shell_quote(trace) + " " +
                                  test::shell_quote(dir + "/view") + " >" + test::shell_quote(log) + " 2>&1 </dev/null")
                                     .c_str());
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << test::read_file(log);
  const nlohmann::json model = nlohmann::json::parse(test::read_file(dir + "/view/model.json"));
  EXPECT_EQ(model.at("importWarnings").size(), 0u) << model.at("importWarnings").dump(1);
  EXPECT_GT(model.at("flows").get<int>(), 0);
  EXPECT_EQ(model.at("flowsBound"), model.at("flows")) << test::read_file(log);
  int moving = 0;
  bool l2 = false, queue = false;
  for (const auto& p : model.at("processes")) {
    for (const auto& c : p.at("counters")) {
      const bool moves = c.at("max").get<double>() > c.at("min").get<double>();
      moving += moves ? 1 : 0;
      const std::string name = c.at("name");
      if (name.find("L2 prefetched bytes") != std::string::npos) l2 = moves;
      if (name.find("prefetch stream CMOs") != std::string::npos) queue = moves;
    }
  }
  EXPECT_TRUE(l2) << "the L2 counter is flat: " << test::read_file(log);
  EXPECT_TRUE(queue) << "the prefetch-stream counter is flat: " << test::read_file(log);
  EXPECT_GE(moving, 2);
  EXPECT_TRUE(fs::exists(dir + "/view/view.png"));
}

}  // namespace
}  // namespace pt
