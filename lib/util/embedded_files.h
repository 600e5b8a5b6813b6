#pragma once
// The sample_profiles/ tree compiled into the binary, so bundled models, hardware profiles and
// layer templates work without the source tree.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pt {

struct EmbeddedFile {
  std::string_view path;  // relative to sample_profiles/, e.g. "models/Qwen3-32B.json"
  std::string_view content;
};

const std::vector<EmbeddedFile>& embedded_files();

// Content of a bundled file, or nullopt.
std::optional<std::string_view> find_embedded(std::string_view relative_path);

// Stems (file name without .json) of the bundled files in one folder, e.g. "models".
std::vector<std::string> embedded_stems(std::string_view folder);

}  // namespace pt
