#pragma once
// Measured op durations by op name and token count (CSV: name,num_tokens,duration_us), used in
// place of the roofline when the user supplies them. Linear interpolation between token counts,
// clamped at the ends.
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace pt {

class OpTimeTable {
 public:
  void add(const std::string& name, double num_tokens, double duration_us);
  std::optional<double> lookup(const std::string& name, double num_tokens) const;
  bool empty() const { return points_.empty(); }
  size_t size() const { return points_.size(); }

 private:
  std::map<std::string, std::vector<std::pair<double, double>>> points_;
};

OpTimeTable parse_op_time_table(const std::string& text, const std::string& source);
OpTimeTable load_op_time_table(const std::string& path);

}  // namespace pt
