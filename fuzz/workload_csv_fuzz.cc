// Workload CSV for tune-ratio --workload (parse_workload_csv).
#include <cmath>

#include "fuzz_support.h"
#include "search/workload.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text = pt::fuzz::text_of(data, size);
  std::vector<pt::WorkloadPoint> w;
  if (!pt::fuzz::accepts([&] { w = pt::parse_workload_csv(text, "workload.csv"); }, "workload.csv")) return 0;
  if (w.empty()) pt::fuzz::invariant_failed("empty workload accepted");
  for (const auto& p : w) {
    if (p.num_tokens < 1 || !std::isfinite(p.weight) || p.weight < 0) pt::fuzz::invariant_failed("bad point accepted");
  }
  return 0;
}
