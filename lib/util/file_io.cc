#include "util/file_io.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <fmt/format.h>
#include <unistd.h>

#include "util/error.h"

namespace pt {

std::string read_text_file(const std::string& path, unsigned long long max_bytes) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    throw InputError(fmt::format("{}: is a directory, expected a file", path));
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    throw InputError(fmt::format("{}: cannot open for reading ({})", path, std::strerror(errno)));
  }
  if (const auto size = std::filesystem::file_size(path, ec); !ec && size > max_bytes) {
    throw InputError(fmt::format("{}: {} bytes; at most {} MiB for this input", path, size, max_bytes >> 20));
  }
  std::ostringstream buffer;
  buffer << in.rdbuf();
  if (in.bad()) throw InputError(fmt::format("{}: read error", path));
  return buffer.str();
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
