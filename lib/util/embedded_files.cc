#include "util/embedded_files.h"

namespace pt {

std::optional<std::string_view> find_embedded(std::string_view relative_path) {
  for (const auto& file : embedded_files()) {
    if (file.path == relative_path) return file.content;
  }
  return std::nullopt;
}

std::vector<std::string> embedded_stems(std::string_view folder) {
  std::vector<std::string> stems;
  const std::string prefix = std::string(folder) + "/";
  for (const auto& file : embedded_files()) {
    if (!file.path.starts_with(prefix)) continue;
    std::string_view rest = file.path.substr(prefix.size());
    if (rest.find('/') != std::string_view::npos || !rest.ends_with(".json")) continue;
    stems.emplace_back(rest.substr(0, rest.size() - 5));
  }
  return stems;
}

}  // namespace pt
