#pragma once
// Plain-text tables for the human output: columns sized to their widest cell, numbers right-aligned.
#include <string>
#include <vector>

namespace pt {

class TextTable {
 public:
  explicit TextTable(std::vector<std::string> header) : header_(std::move(header)) {}
  void add_row(std::vector<std::string> row) { rows_.push_back(std::move(row)); }
  std::string render(const std::string& indent = "") const;

 private:
  std::vector<std::string> header_;
  std::vector<std::vector<std::string>> rows_;
};

std::string fmt_mib(double bytes);  // "18.00"
std::string fmt_us(double us);      // "12.3"

}  // namespace pt
