#include "util/json_output.h"

#include <cmath>

namespace pt {

namespace {

constexpr double kNoise = 1e-9;

bool names_bytes(const std::string& key) {
  constexpr const char* kSuffixes[] = {"bytes", "Bytes"};
  for (const char* suffix : kSuffixes) {
    const std::string s = suffix;
    if (key.size() >= s.size() && key.compare(key.size() - s.size(), s.size(), s) == 0) return true;
  }
  return false;
}

enum class Kind { kPlain, kBytes, kRatio };

Kind kind_of(const std::string& key) {
  if (names_bytes(key)) return Kind::kBytes;
  if (key.find("ratio") != std::string::npos) return Kind::kRatio;
  return Kind::kPlain;
}

void tidy(nlohmann::json& j, Kind kind) {
  if (j.is_object()) {
    for (auto it = j.begin(); it != j.end(); ++it) tidy(it.value(), kind_of(it.key()));
  } else if (j.is_array()) {
    for (auto& v : j) tidy(v, kind);  // an array takes the kind of the key it sits under
  } else if (j.is_number_float()) {
    const double x = j.get<double>();
    if (!std::isfinite(x)) return;
    if (kind == Kind::kBytes && std::abs(x) < 9.0e18) {
      j = static_cast<long long>(std::llround(x));
    } else if (kind != Kind::kRatio && std::abs(x) < kNoise) {
      j = 0.0;
    }
  }
}

}  // namespace

nlohmann::json tidy_json(nlohmann::json j) {
  tidy(j, Kind::kPlain);
  return j;
}

std::string json_output(const nlohmann::json& j) {
  return tidy_json(j).dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

}  // namespace pt
