#pragma once
// Measured op durations by op name and token count (CSV: name,num_tokens,duration_us[,timing]),
// used in place of the roofline when the user supplies them. Linear interpolation between token
// counts, clamped at the ends. `timing` says how a duration was measured: in_sequence (a profiler's
// task duration inside a run, the default) or alone (the op timed by itself, paying the start and
// tail cost a sequence hides: the hardware's alone_fixed_us is taken off).
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace pt {

class OpTimeTable {
 public:
  void add(const std::string& name, double num_tokens, double duration_us, bool timed_alone = false);
  bool timed_alone(const std::string& name) const { return alone_.count(name) > 0; }
  std::optional<double> lookup(const std::string& name, double num_tokens) const;
  // A fitted model duration = intercept + per_token x tokens, keyed by op type ("SwiGlu") or by
  // op type and linear ("QuantBatchMatmulV3@down_proj"), as calibrate writes it.
  void add_model(const std::string& key, double intercept_us, double per_token_us);
  std::optional<double> lookup_model(const std::string& key, double num_tokens) const;
  bool empty() const { return points_.empty() && models_.empty(); }
  size_t size() const { return points_.size() + models_.size(); }

 private:
  std::map<std::string, std::vector<std::pair<double, double>>> points_;
  std::map<std::string, std::pair<double, double>> models_;
  std::map<std::string, bool> alone_;
};

OpTimeTable parse_op_time_table(const std::string& text, const std::string& source);
OpTimeTable load_op_time_table(const std::string& path);

}  // namespace pt
