#include "util/embedded_files.h"

#include <algorithm>
#include <string>

#include <gtest/gtest.h>

#include "test_support.h"

namespace pt {
namespace {

TEST(EmbeddedFiles, HoldTheSampleProfilesByteForByte) {
  for (const char* rel : {"models/Qwen3-32B.json", "hardware/a3-die.json", "layers/dense.json"}) {
    auto content = find_embedded(rel);
    ASSERT_TRUE(content.has_value()) << rel;
    EXPECT_EQ(std::string(*content), test::read_file(test::source_path(std::string("sample_profiles/") + rel))) << rel;
  }
  EXPECT_FALSE(find_embedded("models/Qwen4.json").has_value());
  EXPECT_FALSE(find_embedded("Qwen3-32B.json").has_value());  // paths are relative to sample_profiles/
}

TEST(EmbeddedFiles, StemsPerFolderSorted) {
  const auto models = embedded_stems("models");
  EXPECT_EQ(models.size(), 9u);
  EXPECT_TRUE(std::is_sorted(models.begin(), models.end()));
  EXPECT_NE(std::find(models.begin(), models.end(), "DeepSeek-V3"), models.end());
  EXPECT_EQ(embedded_stems("hardware"), (std::vector<std::string>{"910B1", "910B2", "910B3", "910B4", "a3-die"}));
  EXPECT_TRUE(embedded_stems("no_such_folder").empty());
  for (const auto& f : embedded_files()) EXPECT_FALSE(f.content.empty()) << f.path;
}

}  // namespace
}  // namespace pt
