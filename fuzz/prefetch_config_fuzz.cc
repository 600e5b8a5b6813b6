// weight_prefetch_config / --additional-config JSON, strict and lenient, on every code version
// (parse_prefetch_config). Invariant: a config that parses, written back with
// to_additional_config(), parses again in strict mode to the same settings on the same release.
// The one exception: a state only lenient input reaches (a module kept on by a linear name
// vllm-ascend does not know, every known ratio 0) is written the same way, and needs lenient
// mode again; a strictly parsed config never needs it.
#include <cmath>
#include <set>

#include "config/prefetch_config.h"
#include "fuzz_support.h"
#include "vllm_ascend/release.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text = pt::fuzz::text_of(data, size);
  std::set<int> seen;  // one release per code version: the parse rules are per code version
  for (const pt::Release& release : pt::releases()) {
    if (!seen.insert(static_cast<int>(release.semantics.code)).second) continue;
    for (bool lenient : {false, true}) {
      pt::PrefetchConfigParse parsed;
      if (!pt::fuzz::accepts([&] { parsed = pt::parse_prefetch_config(text, "fuzz.json", lenient, release); }, "fuzz.json")) {
        continue;
      }
      for (const pt::KeySetting& k : parsed.config.keys) {
        if (!(k.ratio >= 0 && k.ratio <= 1)) pt::fuzz::invariant_failed("a ratio outside [0, 1] was accepted");
      }
      const std::string again = parsed.config.to_additional_config(release.semantics);
      pt::PrefetchConfigParse reparsed;
      const bool keeps_module_on = again.find(pt::kKeepModuleOnName) != std::string::npos;
      if (keeps_module_on && !lenient) pt::fuzz::invariant_failed("a strictly parsed config needed the keep-on name", again);
      if (!pt::fuzz::accepts([&] { reparsed = pt::parse_prefetch_config(again, "round trip", keeps_module_on, release); })) {
        pt::fuzz::invariant_failed("to_additional_config() output is refused", again);
      }
      if (reparsed.config.enabled != parsed.config.enabled) pt::fuzz::invariant_failed("enabled changed", again);
      for (size_t i = 0; i < parsed.config.keys.size(); ++i) {
        const pt::KeySetting &a = parsed.config.keys[i], &b = reparsed.config.keys[i];
        // Legacy byte sizes come from the environment, not the JSON: compare what the JSON says.
        if (a.legacy_bytes) continue;
        if (a.on != b.on || std::abs(a.ratio - b.ratio) > 5e-7) pt::fuzz::invariant_failed("a setting changed in the round trip", again);
      }
    }
  }
  return 0;
}
