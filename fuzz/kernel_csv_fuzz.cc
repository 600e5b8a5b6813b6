// kernel_details.csv (torch_npu), op_summary_*.csv (msprof) and prefetch-tuner's --timeline-csv
// (read_kernel_csv). Accepted tasks come back sorted by start with finite times.
#include <cmath>

#include "fuzz_support.h"
#include "profile/profile_readers.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  pt::TaskList tasks;
  if (!pt::fuzz::accepts([&] { tasks = pt::read_kernel_csv(text, "kernel_details.csv"); }, "kernel_details.csv")) return 0;
  for (size_t i = 0; i < tasks.size(); ++i) {
    if (!std::isfinite(tasks[i].start_us) || !std::isfinite(tasks[i].duration_us)) {
      pt::fuzz::invariant_failed("non-finite time accepted");
    }
    if (i > 0 && tasks[i].start_us < tasks[i - 1].start_us) pt::fuzz::invariant_failed("tasks not sorted by start");
  }
  return 0;
}
