// weight_prefetch_config / --additional-config JSON, strict and lenient (parse_prefetch_config).
// Invariant: a config that parses, written back with to_additional_config(), parses again in
// strict mode to the same ratios.
#include <cmath>

#include "config/prefetch_config.h"
#include "fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text = pt::fuzz::text_of(data, size);
  for (bool lenient : {false, true}) {
    pt::PrefetchConfigParse parsed;
    if (!pt::fuzz::accepts([&] { parsed = pt::parse_prefetch_config(text, "fuzz.json", lenient); }, "fuzz.json")) continue;
    for (double r : parsed.config.ratio) {
      if (!(r >= 0 && r <= 1)) pt::fuzz::invariant_failed("a ratio outside [0, 1] was accepted");
    }
    const std::string again = parsed.config.to_additional_config();
    pt::PrefetchConfigParse reparsed;
    if (!pt::fuzz::accepts([&] { reparsed = pt::parse_prefetch_config(again, "round trip", false); })) {
      pt::fuzz::invariant_failed("to_additional_config() output is refused", again);
    }
    if (reparsed.config.enabled != parsed.config.enabled) pt::fuzz::invariant_failed("enabled changed", again);
    for (int i = 0; i < pt::kNumRatioKeys; ++i) {
      if (std::abs(reparsed.config.ratio[i] - parsed.config.ratio[i]) > 5e-7) {
        pt::fuzz::invariant_failed("a ratio changed in the round trip", again);
      }
    }
  }
  return 0;
}
