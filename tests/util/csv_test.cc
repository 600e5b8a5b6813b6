#include "util/csv.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "test_support.h"

namespace pt {
namespace {

using test::contains;
using test::error_of;

using Fields = std::vector<std::string>;

TEST(ParseCsv, HeaderAndRowsWithLineNumbers) {
  CsvTable t = parse_csv("a,b,c\n1,2,3\n4,5,6\n", "t.csv");
  EXPECT_EQ(t.source, "t.csv");
  EXPECT_EQ(t.header, (Fields{"a", "b", "c"}));
  ASSERT_EQ(t.rows.size(), 2u);
  EXPECT_EQ(t.rows[0].fields, (Fields{"1", "2", "3"}));
  EXPECT_EQ(t.rows[0].line, 2u);
  EXPECT_EQ(t.rows[1].line, 3u);
}

TEST(ParseCsv, QuotedFieldsWithCommasQuotesAndNewlines) {
  CsvTable t = parse_csv("name,note\n\"a,b\",\"say \"\"hi\"\"\"\n\"multi\nline\",x\nlast,y\n", "q.csv");
  ASSERT_EQ(t.rows.size(), 3u);
  EXPECT_EQ(t.rows[0].fields, (Fields{"a,b", "say \"hi\""}));
  EXPECT_EQ(t.rows[1].fields, (Fields{"multi\nline", "x"}));
  EXPECT_EQ(t.rows[1].line, 3u);
  // The row after a quoted newline starts on line 5.
  EXPECT_EQ(t.rows[2].line, 5u);
  EXPECT_EQ(t.rows[2].fields, (Fields{"last", "y"}));
}

TEST(ParseCsv, CrlfAndMissingFinalNewline) {
  CsvTable t = parse_csv("a,b\r\n1,2\r\n3,4", "crlf.csv");
  EXPECT_EQ(t.header, (Fields{"a", "b"}));
  ASSERT_EQ(t.rows.size(), 2u);
  EXPECT_EQ(t.rows[0].fields, (Fields{"1", "2"}));
  EXPECT_EQ(t.rows[1].fields, (Fields{"3", "4"}));
  EXPECT_EQ(t.rows[1].line, 3u);
}

TEST(ParseCsv, BomBlankLinesEmptyFieldsAndHeaderPadding) {
  CsvTable t = parse_csv("\xEF\xBB\xBFName ,Duration(us)\t\n\nx,\n,,\n", "b.csv");
  EXPECT_EQ(t.header, (Fields{"Name", "Duration(us)"}));  // BOM dropped, trailing space/tab trimmed
  ASSERT_EQ(t.rows.size(), 2u);                           // the blank line is skipped
  EXPECT_EQ(t.rows[0].fields, (Fields{"x", ""}));
  EXPECT_EQ(t.rows[0].line, 3u);
  EXPECT_EQ(t.rows[1].fields, (Fields{"", "", ""}));
}

TEST(ParseCsv, UnterminatedQuoteNamesTheLineItStarts) {
  EXPECT_EQ(error_of([] { parse_csv("a,b\n1,2\n3,\"open\nmore\n", "trunc.csv"); }),
            "trunc.csv: line 3: unterminated quoted field (file truncated?)");
}

TEST(ParseCsv, EmptyInputIsAnError) {
  EXPECT_EQ(error_of([] { parse_csv("", "e.csv"); }), "e.csv: empty file, expected a CSV header line");
  EXPECT_EQ(error_of([] { parse_csv("\n\n", "e.csv"); }), "e.csv: empty file, expected a CSV header line");
}

TEST(CsvTable, ColumnLookup) {
  CsvTable t = parse_csv("Name,Block Dim,Duration(us)\n", "c.csv");
  EXPECT_EQ(t.column("Duration(us)").value(), 2u);
  EXPECT_FALSE(t.column("duration").has_value());
  EXPECT_EQ(t.require_column({"Block Num", "Block Dim"}), 1u);
  EXPECT_EQ(error_of([&] { t.require_column({"Start Time(us)", "Start(us)"}); }),
            "c.csv: line 1: missing column \"Start Time(us)\" or \"Start(us)\" (header has: Name, Block Dim, Duration(us))");
}

TEST(CsvNumber, ToleratesPaddingAndNamesBadCells) {
  CsvTable t = parse_csv("name,dur\nx,12.5\t\ny, 3 \nz,abc\nw,\nv,1e999\n", "n.csv");
  EXPECT_EQ(csv_number(t, t.rows[0], 1), 12.5);
  EXPECT_EQ(csv_number(t, t.rows[1], 1), 3);
  EXPECT_EQ(error_of([&] { csv_number(t, t.rows[2], 1); }), "n.csv: line 4: column \"dur\": expected a number, got \"abc\"");
  EXPECT_EQ(error_of([&] { csv_number(t, t.rows[3], 1); }), "n.csv: line 5: column \"dur\": expected a number, got \"\"");
  EXPECT_PRED2(contains, error_of([&] { csv_number(t, t.rows[4], 1); }), "n.csv: line 6: column \"dur\": expected a number");
  EXPECT_EQ(error_of([&] { csv_number(t, t.rows[0], 5); }),
            "n.csv: line 2: column \"#6\" is missing (row has 2 fields, header 2)");
}

// A field of hundreds of MB in a 1 GiB profile once made an error line as long.
TEST(CsvNumber, ALongBadFieldIsQuotedAsAShortExcerpt) {
  const std::string field = "12x" + std::string(1'000'000, '9');
  CsvTable t = parse_csv("name,dur\nx," + field + "\n", "n.csv");
  const std::string e = error_of([&] { csv_number(t, t.rows[0], 1); });
  EXPECT_LT(e.size(), 200u);
  EXPECT_EQ(e, "n.csv: line 2: column \"dur\": expected a number, got \"12x" + std::string(61, '9') + "... (1000003 bytes)\"");
  std::string header = "Name";
  for (int i = 0; i < 100'000; ++i) header += ",column" + std::to_string(i);
  const std::string missing = error_of([&] { parse_csv(header + "\n", "h.csv").require_column({"Duration(us)"}); });
  EXPECT_LT(missing.size(), 400u);
  EXPECT_PRED2(contains, missing, "h.csv: line 1: missing column \"Duration(us)\" (header has: Name, column0, column1");
}

TEST(CsvEscape, QuotesOnlyWhenNeeded) {
  EXPECT_EQ(csv_escape("plain"), "plain");
  EXPECT_EQ(csv_escape(""), "");
  EXPECT_EQ(csv_escape("a,b"), "\"a,b\"");
  EXPECT_EQ(csv_escape("say \"hi\""), "\"say \"\"hi\"\"\"");
  EXPECT_EQ(csv_escape("two\nlines"), "\"two\nlines\"");
  EXPECT_EQ(csv_escape("cr\r"), "\"cr\r\"");
}

TEST(CsvEscape, RoundTripsThroughParseCsv) {
  const Fields fields = {"a,b", "say \"hi\"", "multi\nline", "plain", ""};
  std::string text = "c1,c2,c3,c4,c5\n";
  for (size_t i = 0; i < fields.size(); ++i) {
    if (i) text += ",";
    text += csv_escape(fields[i]);
  }
  text += "\n";
  CsvTable t = parse_csv(text, "rt.csv");
  ASSERT_EQ(t.rows.size(), 1u);
  EXPECT_EQ(t.rows[0].fields, fields);
}

}  // namespace
}  // namespace pt
