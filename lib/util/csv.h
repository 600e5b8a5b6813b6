#pragma once
// RFC 4180 CSV: quoted fields with commas, doubled quotes and newlines; CRLF or LF. Rows keep
// the line they start on so errors can name it.
//
// Two ways in: parse_csv() holds the whole table (small files a person writes), and CsvStream
// hands out one row at a time from a file read in fixed-size chunks (profiler CSVs of any size:
// memory stays at one chunk plus the longest row, whatever the file's size).
#include <cstddef>
#include <cstdint>
#include <functional>
#include <initializer_list>
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

// ---- streaming ---------------------------------------------------------------------------------

// One row as the stream sees it: fields unquoted, valid only until the callback returns.
struct CsvRecord {
  size_t line = 0;
  std::vector<std::string_view> fields;
};

// The header of a streamed CSV, with the same lookups as CsvTable.
struct CsvHeader {
  std::string source;
  std::vector<std::string> names;
  std::optional<size_t> column(std::string_view name) const;
  size_t require_column(std::initializer_list<std::string_view> names) const;
  std::optional<size_t> first_of(std::initializer_list<std::string_view> names) const;
  // A number in `field` of `record` (trailing tab and blanks tolerated); InputError naming file, line, column.
  double number(const CsvRecord& record, size_t column) const;
};

using CsvHeaderCallback = std::function<void(const CsvHeader&)>;
using CsvRowCallback = std::function<void(const CsvRecord&)>;

constexpr size_t kDefaultCsvChunkBytes = size_t{4} << 20;

// Calls `on_header` once, then `on_row` for every non-blank row. InputError for a missing or
// unreadable file, an empty one, invalid UTF-8 (naming the line) or an unterminated quote.
void stream_csv_file(const std::string& path, const CsvHeaderCallback& on_header, const CsvRowCallback& on_row,
                     size_t chunk_bytes = kDefaultCsvChunkBytes);
void stream_csv_text(std::string_view text, const std::string& source, const CsvHeaderCallback& on_header,
                     const CsvRowCallback& on_row);

}  // namespace pt
