#include "util/csv.h"

#include <cmath>
#include <cstdlib>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "util/error.h"
#include "util/printable.h"

namespace pt {

std::optional<size_t> CsvTable::column(std::string_view name) const {
  for (size_t i = 0; i < header.size(); ++i) {
    if (header[i] == name) return i;
  }
  return std::nullopt;
}

size_t CsvTable::require_column(std::initializer_list<std::string_view> names) const {
  for (auto n : names) {
    if (auto c = column(n)) return *c;
  }
  std::vector<std::string> quoted;
  for (auto n : names) quoted.push_back(fmt::format("\"{}\"", n));
  throw InputError(fmt::format("{}: line 1: missing column {} (header has: {})", source, fmt::join(quoted, " or "),
                               excerpt(fmt::format("{}", fmt::join(header, ", ")), 256)));
}

CsvTable parse_csv(std::string_view text, const std::string& source) {
  CsvTable table;
  table.source = source;
  if (text.starts_with("\xEF\xBB\xBF")) text.remove_prefix(3);  // UTF-8 BOM written by Excel and some tools
  if (const size_t bad = invalid_utf8_at(text); bad != std::string_view::npos) {
    size_t bad_line = 1;
    for (size_t i = 0; i < bad; ++i) {
      if (text[i] == '\n' || (text[i] == '\r' && (i + 1 >= text.size() || text[i + 1] != '\n'))) ++bad_line;
    }
    throw InputError(fmt::format("{}: line {}: not valid UTF-8 (byte 0x{:02x}); save the file as UTF-8", source, bad_line,
                                 static_cast<unsigned char>(text[bad])));
  }
  std::vector<CsvRow> rows;
  CsvRow row;
  std::string field;
  size_t line = 1;
  row.line = 1;
  bool in_quotes = false, field_started = false, quote_line_set = false;
  size_t quote_line = 0;
  auto end_field = [&] {
    row.fields.push_back(std::move(field));
    field.clear();
    field_started = false;
  };
  auto end_row = [&] {
    end_field();
    bool blank = row.fields.size() == 1 && row.fields[0].empty();
    if (!blank) rows.push_back(std::move(row));
    row = CsvRow{};
    row.line = line;
  };
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (in_quotes) {
      if (c == '"') {
        if (i + 1 < text.size() && text[i + 1] == '"') {
          field += '"';
          ++i;
        } else {
          in_quotes = false;
        }
      } else {
        if (c == '\n') ++line;
        field += c;
      }
      continue;
    }
    if (c == '"' && !field_started) {
      in_quotes = true;
      field_started = true;
      quote_line = line;
      quote_line_set = true;
    } else if (c == ',') {
      end_field();
    } else if (c == '\r') {
      // part of CRLF; a lone CR is treated the same way
      if (i + 1 < text.size() && text[i + 1] == '\n') continue;
      ++line;
      end_row();
    } else if (c == '\n') {
      ++line;
      end_row();
    } else {
      field += c;
      field_started = true;
    }
  }
  if (in_quotes) {
    throw InputError(fmt::format("{}: line {}: unterminated quoted field (file truncated?)", source,
                                 quote_line_set ? quote_line : line));
  }
  if (!field.empty() || !row.fields.empty()) end_row();
  if (rows.empty()) throw InputError(fmt::format("{}: empty file, expected a CSV header line", source));
  table.header = std::move(rows.front().fields);
  for (auto& h : table.header) {
    while (!h.empty() && (h.back() == ' ' || h.back() == '\t')) h.pop_back();
  }
  rows.erase(rows.begin());
  table.rows = std::move(rows);
  return table;
}

double csv_number(const CsvTable& table, const CsvRow& row, size_t column) {
  const std::string name = column < table.header.size() ? table.header[column] : fmt::format("#{}", column + 1);
  if (column >= row.fields.size()) {
    throw InputError(fmt::format("{}: line {}: column \"{}\" is missing (row has {} fields, header {})", table.source,
                                 row.line, excerpt(name), row.fields.size(), table.header.size()));
  }
  std::string text = row.fields[column];
  while (!text.empty() && (text.back() == '\t' || text.back() == ' ')) text.pop_back();
  size_t start = text.find_first_not_of(" \t");
  if (start == std::string::npos) text.clear();
  else text = text.substr(start);
  char* end = nullptr;
  double v = std::strtod(text.c_str(), &end);
  if (text.empty() || *end != '\0' || !std::isfinite(v)) {
    throw InputError(fmt::format("{}: line {}: column \"{}\": expected a number, got \"{}\"", table.source, row.line,
                                 excerpt(name), excerpt(row.fields[column])));
  }
  return v;
}

std::string csv_escape(std::string_view field) {
  if (field.find_first_of(",\"\n\r") == std::string_view::npos) return std::string(field);
  std::string out = "\"";
  for (char c : field) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
  return out;
}

}  // namespace pt
