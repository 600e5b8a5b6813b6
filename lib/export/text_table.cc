#include "export/text_table.h"

#include <algorithm>
#include <cctype>
#include <cmath>

#include <fmt/format.h>

namespace pt {

namespace {
bool looks_numeric(const std::string& s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!(std::isdigit(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '+' || c == '%')) return false;
  }
  return true;
}
}  // namespace

std::string TextTable::render(const std::string& indent) const {
  std::vector<size_t> width(header_.size(), 0);
  for (size_t c = 0; c < header_.size(); ++c) width[c] = header_[c].size();
  for (const auto& row : rows_) {
    for (size_t c = 0; c < row.size() && c < width.size(); ++c) width[c] = std::max(width[c], row[c].size());
  }
  std::string out;
  auto line = [&](const std::vector<std::string>& cells, bool is_header) {
    std::string l = indent;
    for (size_t c = 0; c < width.size(); ++c) {
      const std::string cell = c < cells.size() ? cells[c] : "";
      const bool right = !is_header && looks_numeric(cell);
      if (c) l += "  ";
      l += right ? fmt::format("{:>{}}", cell, width[c]) : fmt::format("{:<{}}", cell, width[c]);
    }
    while (!l.empty() && l.back() == ' ') l.pop_back();
    out += l + "\n";
  };
  line(header_, true);
  for (const auto& row : rows_) line(row, false);
  return out;
}

std::string fmt_mib(double bytes) { return fmt::format("{:.2f}", bytes / 1048576.0); }
std::string fmt_us(double us) { return fmt::format("{:.1f}", std::abs(us) < 0.05 ? 0.0 : us); }

}  // namespace pt
