#include "export/text_table.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace pt {
namespace {

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  size_t start = 0;
  for (size_t nl; (nl = text.find('\n', start)) != std::string::npos; start = nl + 1) lines.push_back(text.substr(start, nl - start));
  return lines;
}

TEST(TextTable, ColumnsSizedToWidestCellNumbersRightAligned) {
  TextTable t({"site", "us", "limit"});
  t.add_row({"attn.qkv", "1.5", "weight"});
  t.add_row({"a", "123.0", "cap (code)"});
  // Widths: site 8, us 5, limit 10; two spaces between columns; trailing spaces trimmed.
  EXPECT_EQ(t.render("  "),
            "  site      us     limit\n"
            "  attn.qkv    1.5  weight\n"
            "  a         123.0  cap (code)\n");
}

TEST(TextTable, ShortRowsAndNoIndent) {
  TextTable t({"a", "b"});
  t.add_row({"x"});
  const auto lines = lines_of(t.render());
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0], "a  b");
  EXPECT_EQ(lines[1], "x");
}

TEST(TextTable, Formatting) {
  EXPECT_EQ(fmt_mib(18874368), "18.00");
  EXPECT_EQ(fmt_mib(13107200), "12.50");
  EXPECT_EQ(fmt_us(12.345), "12.3");
  EXPECT_EQ(fmt_us(-0.04), "0.0");  // no "-0.0"
  EXPECT_EQ(fmt_us(-1.26), "-1.3");
}

}  // namespace
}  // namespace pt
