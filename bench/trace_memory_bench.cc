// Peak memory of read_trace_json_file on a 1 GB trace. Off by default (it writes 1 GB to /tmp):
//   PT_BENCH_1GB=1 ./build-prof/bench/trace_memory_bench
// The trace has the process_name metadata after all events, the reader's worst case: every X
// event waits until the end to learn its process. The file is deleted afterwards unless
// PT_BENCH_KEEP=1. Counters: peak_rss_MB (getrusage ru_maxrss of the whole process),
// rss_before_MB (before parsing), tasks, file_MB.
#include <benchmark/benchmark.h>
#include <sys/resource.h>

#include <cstdlib>
#include <filesystem>
#include <string>

#include "profile/profile_readers.h"
#include "synthetic_profiles.h"

namespace {

bool env_is_1(const char* name) {
  const char* v = std::getenv(name);
  return v && std::string(v) == "1";
}

double max_rss_mb() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_maxrss) / 1024.0;  // ru_maxrss is in KiB on Linux
}

void BM_TracePeakMemory1GB(benchmark::State& state) {
  if (!env_is_1("PT_BENCH_1GB")) {
    state.SkipWithError("set PT_BENCH_1GB=1 to write a 1 GB trace to /tmp and measure the peak RSS of reading it");
    return;
  }
  const std::string path = "/tmp/pt_bench_trace_1GB.json";
  const auto trace = pt::bench::synthetic_trace_file(path, 1ull << 30, /*metadata_last=*/true);
  const double before = max_rss_mb();
  size_t tasks = 0;
  for (auto _ : state) {
    auto result = pt::read_trace_json_file(path);
    tasks = result.size();
    benchmark::DoNotOptimize(result.tasks.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * trace.bytes));
  state.counters["peak_rss_MB"] = max_rss_mb();
  state.counters["rss_before_MB"] = before;
  state.counters["tasks"] = static_cast<double>(tasks);
  state.counters["file_MB"] = static_cast<double>(trace.bytes) / 1e6;
  if (!env_is_1("PT_BENCH_KEEP")) std::filesystem::remove(path);
}
BENCHMARK(BM_TracePeakMemory1GB)->Iterations(1)->Unit(benchmark::kSecond)->UseRealTime();

}  // namespace
