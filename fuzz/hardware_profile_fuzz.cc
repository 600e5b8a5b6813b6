// Hardware profile JSON (parse_hardware_profile).
#include "fuzz_support.h"
#include "hardware/hardware_profile.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text = pt::fuzz::text_of(data, size);
  pt::HardwareProfile hw;
  if (!pt::fuzz::accepts([&] { hw = pt::parse_hardware_profile(text, "hardware.json"); }, "hardware.json")) return 0;
  for (const auto& name : pt::hardware_parameter_names()) {
    // Every accepted value is inside its range: setting it again must be accepted.
    if (!pt::fuzz::accepts([&] { hw.set(name, hw.get(name), "round trip"); })) {
      pt::fuzz::invariant_failed("accepted parameter out of range", name);
    }
  }
  return 0;
}
