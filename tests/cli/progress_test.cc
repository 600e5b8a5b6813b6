#include "cli/progress.h"

#include <filesystem>
#include <vector>

#include <gtest/gtest.h>
#include <unistd.h>

#include "profile/trace_stream.h"
#include "test_support.h"
#include "util/file_io.h"

namespace pt {
namespace {

TEST(TerminalProgress, DisabledPrintsNothing) {
  testing::internal::CaptureStderr();
  {
    TerminalProgress p(/*enabled=*/false, 0);
    p.announce("tune-ratio: 100 configurations");
    p.update("searching", 0.5);
    p.finish();
  }
  EXPECT_EQ(testing::internal::GetCapturedStderr(), "");
}

TEST(TerminalProgress, NothingBeforeTheFirstSecondUnlessAnnounced) {
  testing::internal::CaptureStderr();
  {
    TerminalProgress p(/*enabled=*/true, /*show_after_s=*/60);
    p.update("searching", 0.5);
    p.update("searching", 1.0);
  }
  EXPECT_EQ(testing::internal::GetCapturedStderr(), "");
}

TEST(TerminalProgress, AnnouncesThenRewritesOneLineAndClearsIt) {
  testing::internal::CaptureStderr();
  {
    TerminalProgress p(/*enabled=*/true, /*show_after_s=*/60);
    p.announce("tune-ratio: 100 configurations");
    p.update("searching", 0.25);
    p.update("searching", 1.0);  // the end always shows
  }  // cleared by the destructor
  EXPECT_EQ(testing::internal::GetCapturedStderr(),
            "tune-ratio: 100 configurations\n\rsearching  25.0 %\rsearching 100.0 %\r                 \r");
}

TEST(TerminalProgress, ReadProgressOnlyForATerminal) {
  // The suite's stderr is a file or a pipe under ctest: no progress function at all.
  if (isatty(STDERR_FILENO)) GTEST_SKIP() << "stderr is a terminal here";
  EXPECT_FALSE(static_cast<bool>(terminal_read_progress()));
}

// A large trace is read in chunks, and says how far it got (the progress line's input).
TEST(ReadProgress, TheTraceReaderReportsHowFarItGot) {
  const std::string dir = test::make_temp_dir();
  std::string trace = "[";
  for (int i = 0; i < 200; ++i) {
    trace += (i ? "," : "") + std::string(R"({"name":"op","ph":"X","ts":"1.000","dur":1,"pid":1,"tid":2})");
  }
  trace += "]";
  const std::string path = test::write_file(dir + "/trace_view.json", trace);
  std::vector<std::pair<unsigned long long, unsigned long long>> seen;
  set_read_progress([&](const std::string& p, unsigned long long done, unsigned long long total) {
    EXPECT_EQ(p, path);
    seen.emplace_back(done, total);
  });
  parse_trace_file(path, [](const TraceEventFields&) {}, 1024);
  set_read_progress({});
  std::filesystem::remove_all(dir);
  ASSERT_GT(seen.size(), 3u);
  for (size_t i = 1; i < seen.size(); ++i) EXPECT_GE(seen[i].first, seen[i - 1].first);
  EXPECT_EQ(seen.back().first, trace.size());
  EXPECT_EQ(seen.back().second, trace.size());
}

}  // namespace
}  // namespace pt
