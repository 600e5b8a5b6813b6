#pragma once
// RFC 4180 CSV: quoted fields with commas, doubled quotes and newlines; CRLF or LF. Rows keep
// the line they start on so errors can name it.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pt {

struct CsvRow {
  size_t line = 0;  // 1-based line of the file where the row starts
  std::vector<std::string> fields;
};

struct CsvTable {
  std::string source;
  std::vector<std::string> header;
  std::vector<CsvRow> rows;

  // Column index by exact name, or nullopt.
  std::optional<size_t> column(std::string_view name) const;
  // The first of several accepted spellings ("Block Num" | "Block Dim"); InputError naming them.
  size_t require_column(std::initializer_list<std::string_view> names) const;
};

// InputError on an unterminated quote or an empty input.
CsvTable parse_csv(std::string_view text, const std::string& source);

// Number in a field, tolerating the trailing tab msprof writes; InputError naming file, line, column.
double csv_number(const CsvTable& table, const CsvRow& row, size_t column);

// One CSV field, quoted when it needs to be.
std::string csv_escape(std::string_view field);

}  // namespace pt
