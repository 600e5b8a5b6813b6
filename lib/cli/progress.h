#pragma once
// Progress of long work on stderr, only when stderr is a terminal: one line, rewritten in place,
// shown once the work has run about a second (or at once when it is known to be long), and
// cleared when it ends, so that a report or a pipe never sees it.
#include <chrono>
#include <memory>
#include <string>

#include "util/file_io.h"

namespace pt {

bool stderr_is_terminal();

class TerminalProgress {
 public:
  explicit TerminalProgress(bool enabled = stderr_is_terminal(), double show_after_s = 1.0);
  ~TerminalProgress();
  TerminalProgress(const TerminalProgress&) = delete;
  TerminalProgress& operator=(const TerminalProgress&) = delete;

  bool enabled() const { return enabled_; }
  // A line printed at once and kept (the size of the work, up front); later updates show at once.
  void announce(const std::string& line);
  // "<what> 42.0 %", rewritten at most ten times a second once shown.
  void update(const std::string& what, double fraction);
  // Clears the progress line (the announcement stays).
  void finish();

 private:
  bool enabled_;
  double show_after_s_;
  bool shown_ = false;
  size_t width_ = 0;
  std::chrono::steady_clock::time_point start_, last_;
};

// For set_read_progress: "reading trace_view.json (1.00 GiB)  42.0 %" on a terminal, once a file
// has taken a second to read; nothing otherwise.
ReadProgress terminal_read_progress();

}  // namespace pt
