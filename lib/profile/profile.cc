#include "profile/profile.h"

#include <cmath>
#include <cstdlib>
#include <string>

namespace pt {

bool parse_timestamp_ns(std::string_view text, int64_t& ns) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t' || text.front() == '"')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t' || text.back() == '"')) text.remove_suffix(1);
  if (text.empty()) return false;
  if (text.find_first_of("eE") != std::string_view::npos) {
    const std::string copy(text);
    char* end = nullptr;
    const double v = std::strtod(copy.c_str(), &end);
    if (*end != '\0' || !std::isfinite(v) || std::abs(v) > 9e15) return false;
    ns = std::llround(v * 1000.0);
    return true;
  }
  bool negative = false;
  if (text.front() == '-' || text.front() == '+') {
    negative = text.front() == '-';
    text.remove_prefix(1);
  }
  int64_t whole = 0, frac = 0;
  size_t i = 0, digits = 0;
  for (; i < text.size() && text[i] >= '0' && text[i] <= '9'; ++i, ++digits) {
    if (whole > 9'000'000'000'000'000 / 10) return false;  // beyond int64 nanoseconds
    whole = whole * 10 + (text[i] - '0');
  }
  int scale = 100;  // ns per unit of the first fraction digit
  bool round_up = false;
  if (i < text.size() && text[i] == '.') {
    for (++i; i < text.size() && text[i] >= '0' && text[i] <= '9'; ++i, ++digits) {
      if (scale > 0) frac += (text[i] - '0') * scale;
      else if (scale == 0) round_up = text[i] >= '5';
      scale = scale > 0 ? scale / 10 : -1;
    }
  }
  if (i != text.size() || digits == 0 || whole > 9'000'000'000'000'000) return false;  // ns must fit int64
  ns = whole * 1000 + frac + (round_up ? 1 : 0);
  if (negative) ns = -ns;
  return true;
}

bool ProfileTask::is_compute() const {
  return task_type == "AI_CORE" || task_type == "AI_VECTOR_CORE" || task_type == "MIX_AIC" || task_type == "MIX_AIV" ||
         task_type == "AI_CPU" || task_type == "FFTS_PLUS";
}
bool ProfileTask::is_cube() const { return task_type == "AI_CORE" || task_type == "MIX_AIC"; }
bool ProfileTask::is_vector() const { return task_type == "AI_VECTOR_CORE" || task_type == "MIX_AIV"; }
bool ProfileTask::is_communication() const { return task_type == "HCCL" || task_type == "COMMUNICATION"; }

std::string ProfileTask::kind() const {
  if (!op_type.empty()) return op_type;
  if (name.rfind("hcom_", 0) == 0) {
    std::string type = name;
    size_t end = type.size();
    for (int part = 0; part < 2; ++part) {
      const size_t us = type.rfind('_', end - 1);
      if (us == std::string::npos || us + 1 >= end || type.find_first_not_of("0123456789", us + 1) < end) break;
      end = us;
    }
    type.resize(end);
    return type;
  }
  if (name.rfind("aclnn", 0) == 0) {
    const size_t us = name.rfind('_');
    if (us != std::string::npos && us + 1 < name.size()) return name.substr(us + 1);
  }
  return name;
}

bool Profile::has_cmo() const {
  for (const auto& t : tasks) {
    if (t.is_cmo()) return true;
  }
  return false;
}

}  // namespace pt
