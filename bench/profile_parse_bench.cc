// Parse throughput of the profile readers (bytes of input per second of CPU time; Google
// Benchmark's "M/s" is MiB/s), single-threaded:
//   BM_ReadTraceJsonFile   read_trace_json_file on a ~80 MB synthetic trace_view.json in /tmp
//                          (written on the first run, reused after; page cache warm)
//   BM_TokenizeTraceFile   the streaming tokenizer alone (no-op callback), same file
//   BM_NlohmannSaxInMemory nlohmann::json::sax_parse over the same bytes already in memory, a
//                          null handler: the best the library's parser does, for comparison
//   BM_ReadKernelCsv       read_kernel_csv on a ~30 MB kernel_details.csv held in memory
// Run: ./build-prof/bench/profile_parse_bench --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
// Delete /tmp/pt_bench_trace_80MB.json afterwards.
#include <benchmark/benchmark.h>

#include <string>

#include <nlohmann/json.hpp>

#include "profile/profile_readers.h"
#include "profile/trace_stream.h"
#include "synthetic_profiles.h"
#include "util/file_io.h"

namespace {

constexpr uint64_t kTraceBytes = 80ull << 20;
constexpr uint64_t kCsvBytes = 30ull << 20;

const pt::bench::SyntheticTrace& trace_file() {
  static const pt::bench::SyntheticTrace t =
      pt::bench::synthetic_trace_file("/tmp/pt_bench_trace_80MB.json", kTraceBytes, /*metadata_last=*/false);
  return t;
}

void BM_ReadTraceJsonFile(benchmark::State& state) {
  const auto& t = trace_file();
  size_t tasks = 0;
  for (auto _ : state) {
    auto result = pt::read_trace_json_file(t.path);
    tasks = result.size();
    benchmark::DoNotOptimize(result.tasks.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * t.bytes));
  state.counters["tasks"] = static_cast<double>(tasks);
  state.counters["file_MB"] = static_cast<double>(t.bytes) / 1e6;
}
BENCHMARK(BM_ReadTraceJsonFile)->Unit(benchmark::kMillisecond);

void BM_TokenizeTraceFile(benchmark::State& state) {
  const auto& t = trace_file();
  size_t events = 0;
  for (auto _ : state) {
    events = 0;
    pt::parse_trace_file(t.path, [&](const pt::TraceEventFields&) { ++events; });
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * t.bytes));
  state.counters["events"] = static_cast<double>(events);
}
BENCHMARK(BM_TokenizeTraceFile)->Unit(benchmark::kMillisecond);

// Counts events, keeps nothing.
struct NullSax : nlohmann::json::json_sax_t {
  size_t objects = 0;
  bool null() override { return true; }
  bool boolean(bool) override { return true; }
  bool number_integer(number_integer_t) override { return true; }
  bool number_unsigned(number_unsigned_t) override { return true; }
  bool number_float(number_float_t, const string_t&) override { return true; }
  bool string(string_t&) override { return true; }
  bool binary(binary_t&) override { return true; }
  bool start_object(std::size_t) override {
    ++objects;
    return true;
  }
  bool key(string_t&) override { return true; }
  bool end_object() override { return true; }
  bool start_array(std::size_t) override { return true; }
  bool end_array() override { return true; }
  bool parse_error(std::size_t, const std::string&, const nlohmann::json::exception&) override { return false; }
};

void BM_NlohmannSaxInMemory(benchmark::State& state) {
  const std::string text = pt::read_text_file(trace_file().path, pt::kMaxProfileFileBytes);
  size_t objects = 0;
  for (auto _ : state) {
    NullSax sax;
    nlohmann::json::sax_parse(text, &sax);
    objects = sax.objects;
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * text.size()));
  state.counters["objects"] = static_cast<double>(objects);
}
BENCHMARK(BM_NlohmannSaxInMemory)->Unit(benchmark::kMillisecond);

void BM_ReadKernelCsv(benchmark::State& state) {
  static uint64_t rows = 0;
  static const std::string text = pt::bench::synthetic_kernel_details(kCsvBytes, &rows);
  size_t tasks = 0;
  for (auto _ : state) {
    auto result = pt::read_kernel_csv(text, "kernel_details.csv");
    tasks = result.size();
    benchmark::DoNotOptimize(result.tasks.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * text.size()));
  state.counters["tasks"] = static_cast<double>(tasks);
  state.counters["file_MB"] = static_cast<double>(text.size()) / 1e6;
}
BENCHMARK(BM_ReadKernelCsv)->Unit(benchmark::kMillisecond);

}  // namespace
