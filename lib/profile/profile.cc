#include "profile/profile.h"

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <algorithm>
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

namespace {

size_t recent_slot(std::string_view s) {
  uint64_t head = 0, tail = 0;
  const size_t n = std::min<size_t>(s.size(), 8);
  if (n > 0) {
    std::memcpy(&head, s.data(), n);
    std::memcpy(&tail, s.data() + s.size() - n, n);
  }
  const uint64_t h = (head * 0x9e3779b97f4a7c15ULL) ^ (tail * 0xc2b2ae3d27d4eb4fULL) ^ (s.size() * 0x165667b19e3779f9ULL);
  return static_cast<size_t>(h >> 54);  // 10 bits: kRecent slots
}

}  // namespace

std::string_view StringPool::intern(std::string_view s) {
  std::string_view& recent = recent_[recent_slot(s)];
  // (memcmp of an empty view: its data may be null, which memcmp may not be given)
  if (recent.size() == s.size() && recent.data() && (s.empty() || std::memcmp(recent.data(), s.data(), s.size()) == 0)) return recent;
  if (auto it = index_.find(s); it != index_.end()) return recent = *it;
  constexpr size_t kBlock = 64 * 1024;
  char* dst = nullptr;
  if (s.size() > kBlock / 4) {
    blocks_.push_back(std::make_unique_for_overwrite<char[]>(std::max<size_t>(s.size(), 1)));
    dst = blocks_.back().get();
  } else {
    if (used_ + s.size() > capacity_ || blocks_.empty()) {
      blocks_.push_back(std::make_unique_for_overwrite<char[]>(kBlock));
      used_ = 0;
      capacity_ = kBlock;
    }
    dst = blocks_.back().get() + used_;
    used_ += s.size();
  }
  if (!s.empty()) std::memcpy(dst, s.data(), s.size());
  bytes_ += s.size();
  const std::string_view stored(dst, s.size());
  index_.insert(stored);
  return recent = stored;
}

bool ProfileTask::is_compute() const {
  return task_type == "AI_CORE" || task_type == "AI_VECTOR_CORE" || task_type == "MIX_AIC" || task_type == "MIX_AIV" ||
         task_type == "AI_CPU" || task_type == "FFTS_PLUS";
}
bool ProfileTask::is_cube() const { return task_type == "AI_CORE" || task_type == "MIX_AIC"; }
bool ProfileTask::is_vector() const { return task_type == "AI_VECTOR_CORE" || task_type == "MIX_AIV"; }
bool ProfileTask::is_communication() const { return task_type == "HCCL" || task_type == "COMMUNICATION"; }
bool ProfileTask::is_event_record() const {
  return task_type.starts_with("EVENT_RECORD") || task_type.starts_with("CAPTURE_RECORD");
}
bool ProfileTask::is_event_wait() const { return task_type.starts_with("EVENT_WAIT") || task_type.starts_with("CAPTURE_WAIT"); }
bool ProfileTask::is_event() const {
  return is_event_record() || is_event_wait() || task_type == "NOTIFY_WAIT_SQE" || task_type == "NOTIFY_RECORD_SQE";
}

std::string_view ProfileTask::kind() const {
  if (!op_type.empty()) return op_type;
  if (name.starts_with("hcom_")) {
    // Up to three numeric suffixes: hcom_allReduce__445_0 or hcom_allReduce__445_0_1.
    size_t end = name.size();
    for (int part = 0; part < 3; ++part) {
      const size_t us = name.rfind('_', end - 1);
      if (us == std::string_view::npos || us + 1 >= end || name.substr(us + 1, end - us - 1).find_first_not_of("0123456789") !=
                                                               std::string_view::npos) {
        break;
      }
      end = us;
    }
    return name.substr(0, end);
  }
  if (name.starts_with("aclnn")) {
    const size_t us = name.rfind('_');
    if (us != std::string_view::npos && us + 1 < name.size()) return name.substr(us + 1);
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
