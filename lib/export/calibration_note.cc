#include "export/calibration_note.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

namespace pt {

std::string calibration_suffix(const Scenario& sc) {
  if (!sc.calibration) return "";
  const CalibrationInUse& c = *sc.calibration;
  std::vector<std::string> parts;
  for (const auto& h : c.hardware) parts.push_back(fmt::format("{} {:.4g} -> {:.4g}", h.parameter, h.before, h.calibrated));
  std::string what = fmt::format("{}", fmt::join(parts, ", "));
  if (!c.op_models.empty()) {
    what += fmt::format("{}{} op duration{}", what.empty() ? "" : "; ", c.op_models.size(), c.op_models.size() == 1 ? "" : "s");
  }
  return fmt::format(", calibrated by {} ({})", c.path, what.empty() ? "nothing replaced" : what);
}

nlohmann::json calibration_json(const Scenario& sc) {
  if (!sc.calibration) return nullptr;
  nlohmann::json hw = nlohmann::json::array();
  for (const auto& h : sc.calibration->hardware) {
    hw.push_back({{"parameter", h.parameter}, {"before", h.before}, {"calibrated", h.calibrated}});
  }
  return {{"path", sc.calibration->path}, {"hardware", hw}, {"op_durations", sc.calibration->op_models}};
}

}  // namespace pt
