#include "cli/progress.h"

#include <algorithm>
#include <cstdio>

#include <fmt/format.h>
#include <unistd.h>

namespace pt {

bool stderr_is_terminal() { return ::isatty(STDERR_FILENO) == 1; }

TerminalProgress::TerminalProgress(bool enabled, double show_after_s)
    : enabled_(enabled), show_after_s_(show_after_s), start_(std::chrono::steady_clock::now()), last_(start_) {}

TerminalProgress::~TerminalProgress() { finish(); }

void TerminalProgress::announce(const std::string& line) {
  if (!enabled_) return;
  std::fprintf(stderr, "%s\n", line.c_str());
  show_after_s_ = 0;
}

void TerminalProgress::update(const std::string& what, double fraction) {
  if (!enabled_) return;
  const auto now = std::chrono::steady_clock::now();
  const double since_start = std::chrono::duration<double>(now - start_).count();
  if (since_start < show_after_s_) return;
  if (shown_ && std::chrono::duration<double>(now - last_).count() < 0.1 && fraction < 1) return;
  last_ = now;
  const std::string line = fmt::format("{} {:5.1f} %", what, 100.0 * std::clamp(fraction, 0.0, 1.0));
  std::fprintf(stderr, "\r%s%*s", line.c_str(), static_cast<int>(width_ > line.size() ? width_ - line.size() : 0), "");
  std::fflush(stderr);
  width_ = std::max(width_, line.size());
  shown_ = true;
}

void TerminalProgress::finish() {
  if (!shown_) return;
  std::fprintf(stderr, "\r%*s\r", static_cast<int>(width_), "");
  std::fflush(stderr);
  shown_ = false;
  width_ = 0;
}

ReadProgress terminal_read_progress() {
  if (!stderr_is_terminal()) return {};
  struct State {
    std::string path;
    std::unique_ptr<TerminalProgress> line;
  };
  auto state = std::make_shared<State>();
  return [state](const std::string& path, unsigned long long done, unsigned long long total) {
    if (total == 0) return;
    if (!state->line || state->path != path) {
      state->line = std::make_unique<TerminalProgress>(true);
      state->path = path;
    }
    state->line->update(fmt::format("reading {} ({})", path, size_in_words(total)), static_cast<double>(done) / total);
    if (done >= total) state->line->finish();
  };
}

}  // namespace pt
