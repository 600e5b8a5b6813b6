#include "util/printable.h"

#include <string>

#include <gtest/gtest.h>

namespace pt {
namespace {

TEST(Printable, EscapesControlBytesAndInvalidUtf8) {
  EXPECT_EQ(printable("a\tb\nc\x01\xff"), "a\\tb\\nc\\x01\\xff");
  EXPECT_EQ(printable("caf\xc3\xa9"), "caf\xc3\xa9");
}

TEST(Excerpt, ShortTextIsQuotedWhole) {
  EXPECT_EQ(excerpt("abc"), "abc");
  EXPECT_EQ(excerpt(std::string(kMaxQuoteBytes, 'x')), std::string(kMaxQuoteBytes, 'x'));
}

// A 500 MB field must not become a 500 MB error line: its start and its size are enough.
TEST(Excerpt, LongTextShowsItsStartAndItsSize) {
  const std::string big = "start" + std::string(10'000'000, 'x');
  const std::string e = excerpt(big);
  EXPECT_LE(e.size(), kMaxQuoteBytes + 32);
  EXPECT_EQ(e.rfind("startxxx", 0), 0u);
  EXPECT_NE(e.find("... (10000005 bytes)"), std::string::npos) << e;
  EXPECT_EQ(excerpt(big, 8), "startxxx... (10000005 bytes)");
}

TEST(Excerpt, NeverSplitsAUtf8Sequence) {
  // "é" is two bytes; a cut after 6 bytes would fall inside the fourth one.
  const std::string text = "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9";
  EXPECT_EQ(excerpt(text, 7), "\xc3\xa9\xc3\xa9\xc3\xa9... (10 bytes)");
  EXPECT_EQ(excerpt("ab\x01" + std::string(100, 'z'), 3), "ab\\x01... (103 bytes)");
}

}  // namespace
}  // namespace pt
