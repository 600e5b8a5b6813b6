#pragma once
// Field parsing shared by the CSV readers (kernel_details, op_summary, task_time).
#include <cmath>
#include <optional>
#include <string>
#include <string_view>

#include <fmt/format.h>

#include "profile/profile.h"
#include "util/csv.h"
#include "util/error.h"
#include "util/printable.h"

namespace pt::fields {

inline std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

inline bool is_na(std::string_view s) {
  s = trim(s);
  return s.empty() || s == "N/A" || s == "NA" || s == "n/a";
}

inline std::string_view field(const CsvRecord& r, std::optional<size_t> column) {
  if (!column || *column >= r.fields.size()) return {};
  return trim(r.fields[*column]);
}

// An integer column: N/A or empty (HCCL rows, step ops) give -1.
inline int64_t integer(const CsvHeader& h, const CsvRecord& r, std::optional<size_t> column) {
  if (!column || *column >= r.fields.size() || is_na(r.fields[*column])) return -1;
  const double v = h.number(r, *column);
  if (!(v > -9.2e18 && v < 9.2e18)) {
    throw InputError(fmt::format("{}: line {}: column \"{}\": {} is out of range", h.source, r.line, h.names[*column], v));
  }
  return std::llround(v);
}

inline int32_t small_integer(const CsvHeader& h, const CsvRecord& r, std::optional<size_t> column) {
  const int64_t v = integer(h, r, column);
  return v < -1 || v > 2'000'000'000 ? -1 : static_cast<int32_t>(v);
}

// A start or stop time, parsed exactly (see TimeOrigin); msprof's trailing tab is tolerated.
inline double timestamp(const CsvHeader& h, const CsvRecord& r, size_t column, TimeOrigin& origin) {
  int64_t ns = 0;
  if (column < r.fields.size() && parse_timestamp_ns(r.fields[column], ns)) return origin.relative_us(ns);
  h.number(r, column);  // throws, naming file, line and column, when it is no number at all
  throw InputError(fmt::format("{}: line {}: column \"{}\": timestamp {} is out of range (microseconds since the epoch)",
                               h.source, r.line, h.names[column], printable(trim(r.fields[column]))));
}

// A duration column, which must not be negative.
inline double duration(const CsvHeader& h, const CsvRecord& r, size_t column) {
  const double d = h.number(r, column);
  if (d < 0) throw InputError(fmt::format("{}: line {}: column \"{}\": negative duration {}", h.source, r.line, h.names[column], d));
  return d;
}

// kernel_details writes shapes as """72,5120;2560,5120""": after CSV unquoting the value still
// carries literal quotes. Shapes never contain quotes themselves, so drop them all.
inline std::string_view unquote_shapes(std::string_view s, std::string& scratch) {
  if (s.find('"') == std::string_view::npos) {
    s = trim(s);
    return is_na(s) ? std::string_view() : s;
  }
  scratch.clear();
  for (char c : s) {
    if (c != '"') scratch += c;
  }
  std::string_view t = trim(scratch);
  return is_na(t) ? std::string_view() : t;
}

}  // namespace pt::fields
