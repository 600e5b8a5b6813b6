#include "util/file_io.h"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/error.h"

namespace pt {

namespace fs = std::filesystem;

namespace {

std::string errno_text(int e) { return std::strerror(e); }

const char* kind_of(mode_t mode) {
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISSOCK(mode)) return "a socket";
  return "not a regular file";
}

}  // namespace

// ---- reading ----------------------------------------------------------------------------------

InputFile::InputFile(const std::string& path, const char* expected) {
  // O_NONBLOCK: opening a FIFO for reading waits for a writer otherwise.
  fd_ = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
  if (fd_ < 0) throw InputError(fmt::format("{}: cannot open for reading ({})", path, errno_text(errno)));
  struct stat st {};
  if (::fstat(fd_, &st) != 0) {
    const int e = errno;
    ::close(fd_);
    throw InputError(fmt::format("{}: cannot open for reading ({})", path, errno_text(e)));
  }
  if (S_ISDIR(st.st_mode)) {
    ::close(fd_);
    throw InputError(fmt::format("{}: is a directory, expected {}", path, expected));
  }
  regular_ = S_ISREG(st.st_mode);
  if (!regular_ && !S_ISFIFO(st.st_mode)) {
    ::close(fd_);
    throw InputError(fmt::format("{}: is {}, expected a regular file or a pipe", path, kind_of(st.st_mode)));
  }
  if (regular_) size_ = static_cast<unsigned long long>(st.st_size);
  // Reads then wait for data as usual; with no writer left a pipe reads as at its end.
  const int flags = ::fcntl(fd_, F_GETFL);
  if (flags >= 0) ::fcntl(fd_, F_SETFL, flags & ~O_NONBLOCK);
}

InputFile::~InputFile() {
  if (fd_ >= 0) ::close(fd_);
}

int InputFile::release() {
  const int fd = fd_;
  fd_ = -1;
  return fd;
}

std::string read_text_file(const std::string& path, unsigned long long max_bytes) {
  InputFile in(path);
  auto too_large = [&](const std::string& size) {
    return InputError(fmt::format("{}: {} bytes; at most {} MiB for this input", path, size, max_bytes >> 20));
  };
  if (in.regular() && in.size() > max_bytes) throw too_large(std::to_string(in.size()));
  std::string text;
  // A regular file is read in one piece; a pipe (or a file that grows) in chunks, up to one byte
  // past the limit, so that an endless source stops at the limit.
  text.resize(in.regular() ? static_cast<size_t>(in.size()) + 1 : size_t{64} << 10);
  size_t used = 0;
  while (true) {
    if (used == text.size()) {
      if (used > max_bytes) break;
      text.resize(std::min<size_t>(text.size() * 2, static_cast<size_t>(max_bytes) + 1));
    }
    const ssize_t n = ::read(in.fd(), text.data() + used, text.size() - used);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw InputError(fmt::format("{}: read error ({})", path, errno_text(errno)));
    }
    if (n == 0) break;
    used += static_cast<size_t>(n);
  }
  if (used > max_bytes) throw too_large(in.regular() ? std::to_string(used) : fmt::format("more than {}", max_bytes));
  text.resize(used);
  return text;
}

namespace {

// Checks the target and writes `content` to a temporary beside it; returns the temporary's path.
std::filesystem::path stage(const std::string& path, const std::string& content) {
  namespace fs = std::filesystem;
  const fs::path target(path);
  std::error_code ec;
  if (fs::is_directory(target, ec)) {
    throw InputError(fmt::format("{}: is a directory, expected a file path to write", path));
  }
  const fs::path dir = target.has_parent_path() ? target.parent_path() : fs::path(".");
  if (!fs::is_directory(dir, ec)) {
    throw InputError(fmt::format("{}: output directory '{}' does not exist", path, dir.string()));
  }
  const fs::path temp = dir / fmt::format(".{}.tmp.{}", target.filename().string(), ::getpid());
  std::ofstream out(temp, std::ios::binary | std::ios::trunc);
  if (!out) {
    throw InputError(fmt::format("{}: cannot create output file ({})", path, std::strerror(errno)));
  }
  out.write(content.data(), static_cast<std::streamsize>(content.size()));
  out.flush();
  if (!out) {
    out.close();
    fs::remove(temp, ec);
    throw InputError(fmt::format("{}: write failed ({})", path, std::strerror(errno)));
  }
  return temp;
}

}  // namespace

void write_file_atomically(const std::string& path, const std::string& content) {
  write_outputs_atomically({{path, content}});
}

void write_outputs_atomically(const std::vector<std::pair<std::string, std::string>>& outputs) {
  namespace fs = std::filesystem;
  std::vector<std::pair<fs::path, fs::path>> staged;  // temporary, target
  std::error_code ec;
  const std::string* to_stdout = nullptr;
  try {
    for (const auto& [path, content] : outputs) {
      if (path.empty()) continue;
      if (path == "-") {
        to_stdout = &content;
        continue;
      }
      staged.emplace_back(stage(path, content), fs::path(path));
    }
  } catch (...) {
    for (const auto& [temp, target] : staged) fs::remove(temp, ec);
    throw;
  }
  for (size_t i = 0; i < staged.size(); ++i) {
    fs::rename(staged[i].first, staged[i].second, ec);
    if (ec) {
      for (size_t j = i; j < staged.size(); ++j) fs::remove(staged[j].first, ec);
      throw InputError(fmt::format("{}: cannot move the finished file into place", staged[i].second.string()));
    }
  }
  if (to_stdout) {
    std::fwrite(to_stdout->data(), 1, to_stdout->size(), stdout);
    std::fflush(stdout);
  }
}

}  // namespace pt
