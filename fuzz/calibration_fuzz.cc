// Calibration file (parse_calibration); a file that parses is applied to a hardware profile and
// an op time table, and the table is looked up, as simulate --calibration does.
#include <cmath>

#include "config/calibration_file.h"
#include "sim/scenario.h"
#include "fuzz_support.h"
#include "hardware/hardware_profile.h"
#include "sim/op_time_table.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const pt::HardwareProfile base = pt::load_hardware("910B4");
  const std::string text = pt::fuzz::text_of(data, size);
  pt::Calibration c;
  if (!pt::fuzz::accepts([&] { c = pt::parse_calibration(text, "calibration.json"); }, "calibration.json")) return 0;
  pt::HardwareProfile hw = base;
  pt::OpTimeTable table;
  pt::fuzz::accepts([&] { pt::apply_calibration(c, hw, table); });
  for (const auto& f : c.ops) {
    for (double tokens : {1.0, 72.0, 16777216.0}) {
      const auto v = table.lookup_model(f.key, tokens);
      if (!v || !std::isfinite(*v) || *v < 0) pt::fuzz::invariant_failed("bad model lookup", f.key);
    }
  }
  return 0;
}
