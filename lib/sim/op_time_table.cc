#include "sim/op_time_table.h"

#include <algorithm>
#include <tuple>

#include <fmt/format.h>

#include "util/csv.h"
#include "util/error.h"
#include "util/file_io.h"

namespace pt {

void OpTimeTable::add(const std::string& name, double num_tokens, double duration_us, bool timed_alone) {
  if (timed_alone) alone_[name] = true;
  auto& pts = points_[name];
  const std::pair<double, double> point(num_tokens, duration_us);
  pts.insert(std::upper_bound(pts.begin(), pts.end(), point), point);  // kept sorted; in order, an append
}

std::optional<double> OpTimeTable::lookup(const std::string& name, double num_tokens) const {
  auto it = points_.find(name);
  if (it == points_.end() || it->second.empty()) return std::nullopt;
  const auto& pts = it->second;
  if (num_tokens <= pts.front().first) return pts.front().second;
  if (num_tokens >= pts.back().first) return pts.back().second;
  for (size_t i = 1; i < pts.size(); ++i) {
    if (num_tokens <= pts[i].first) {
      const auto& [x0, y0] = pts[i - 1];
      const auto& [x1, y1] = pts[i];
      if (x1 == x0) return y1;
      return y0 + (y1 - y0) * (num_tokens - x0) / (x1 - x0);
    }
  }
  return pts.back().second;
}

void OpTimeTable::add_model(const std::string& key, double intercept_us, double per_token_us) {
  models_[key] = {intercept_us, per_token_us};
}

std::optional<double> OpTimeTable::lookup_model(const std::string& key, double num_tokens) const {
  auto it = models_.find(key);
  if (it == models_.end()) return std::nullopt;
  return std::max(0.0, it->second.first + it->second.second * num_tokens);
}

OpTimeTable parse_op_time_table(const std::string& text, const std::string& source) {
  CsvTable csv = parse_csv(text, source);
  size_t name_col = csv.require_column({"name", "Name"});
  size_t tokens_col = csv.require_column({"num_tokens"});
  size_t dur_col = csv.require_column({"duration_us", "Duration(us)"});
  const std::optional<size_t> timing_col = csv.column("timing");
  constexpr double kMaxTokens = 1 << 24;     // as --num-tokens
  constexpr double kMaxDurationUs = 1e9;     // as a template's measured op
  struct Point {
    const std::string* name;
    double tokens, duration;
    bool alone;
    size_t line;
  };
  std::vector<Point> points;
  points.reserve(csv.rows.size());
  for (const auto& row : csv.rows) {
    if (name_col >= row.fields.size() || row.fields[name_col].empty()) {
      throw InputError(fmt::format("{}: line {}: empty op name", source, row.line));
    }
    double tokens = csv_number(csv, row, tokens_col);
    double dur = csv_number(csv, row, dur_col);
    if (tokens < 1) throw InputError(fmt::format("{}: line {}: num_tokens must be >= 1", source, row.line));
    if (tokens > kMaxTokens) {
      throw InputError(fmt::format("{}: line {}: num_tokens {} is above {}", source, row.line, tokens, kMaxTokens));
    }
    if (dur < 0) throw InputError(fmt::format("{}: line {}: duration_us must be >= 0", source, row.line));
    if (dur > kMaxDurationUs) {
      throw InputError(fmt::format("{}: line {}: duration_us {} is above {} (1000 s)", source, row.line, dur, kMaxDurationUs));
    }
    bool alone = false;
    if (timing_col && *timing_col < row.fields.size() && !row.fields[*timing_col].empty()) {
      const std::string& timing = row.fields[*timing_col];
      if (timing == "alone") {
        alone = true;
      } else if (timing != "in_sequence") {
        throw InputError(fmt::format("{}: line {}: timing \"{}\": expected in_sequence or alone", source, row.line, timing));
      }
    }
    points.push_back({&row.fields[name_col], tokens, dur, alone, row.line});
  }
  // Sorted once (adding each point in order is an append), and a point given twice is ambiguous.
  std::stable_sort(points.begin(), points.end(), [](const Point& a, const Point& b) {
    return std::tie(*a.name, a.tokens) < std::tie(*b.name, b.tokens);
  });
  OpTimeTable table;
  for (size_t i = 0; i < points.size(); ++i) {
    const Point& p = points[i];
    if (i > 0 && *points[i - 1].name == *p.name && points[i - 1].tokens == p.tokens) {
      throw InputError(fmt::format("{}: line {}: \"{}\" at {} tokens is already given on line {}", source, p.line,
                                   *p.name, p.tokens, points[i - 1].line));
    }
    if (i > 0 && *points[i - 1].name == *p.name && points[i - 1].alone != p.alone) {
      throw InputError(fmt::format("{}: line {}: \"{}\" is timed {} here but {} on line {}: one timing per op", source,
                                   p.line, *p.name, p.alone ? "alone" : "in_sequence",
                                   points[i - 1].alone ? "alone" : "in_sequence", points[i - 1].line));
    }
    table.add(*p.name, p.tokens, p.duration, p.alone);
  }
  return table;
}

OpTimeTable load_op_time_table(const std::string& path) { return parse_op_time_table(read_text_file(path), path); }

}  // namespace pt
