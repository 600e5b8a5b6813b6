// Peak memory of the profile readers at the limits of their input. Off by default (each writes
// about 1 GB to /tmp):
//   PT_BENCH_1GB=1 build-dev/bench/trace_memory_bench
// Every case runs in a child process (fork), so each peak_rss_MB is that case's own (ru_maxrss of
// the child): the bound the README states. Files are deleted afterwards unless PT_BENCH_KEEP=1.
//   BM_TracePeakMemory1GB      a 1.07 GB trace, 833k device tasks, process metadata at the end
//                              (the reader's worst case: every event waits to learn its process)
//   BM_CsvPeakMemoryTinyRows   a 1.07 GB kernel_details.csv of 8-byte rows: read until the task
//                              bound (2^23 tasks) stops it with an error
//   BM_TraceOneHugeString      a 1 GB trace whose one event holds a 1 GB string, and 50 tasks:
//                              refused at the 64 MiB event bound
#include <benchmark/benchmark.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <string>

#include "profile/profile_readers.h"
#include "synthetic_profiles.h"

namespace {

bool env_is_1(const char* name) {
  const char* v = std::getenv(name);
  return v && std::string(v) == "1";
}

// Runs `f` in a child; returns the child's peak RSS in MB and what it wrote to its pipe.
std::pair<double, std::string> in_child(const std::function<std::string()>& f) {
  int fds[2];
  if (pipe(fds) != 0) return {-1, "pipe failed"};
  const pid_t pid = fork();
  if (pid == 0) {
    close(fds[0]);
    std::string out;
    try {
      out = f();
    } catch (const std::exception& e) {
      out = std::string("error: ") + e.what();
    }
    if (write(fds[1], out.data(), out.size()) < 0) _exit(2);
    _exit(0);
  }
  close(fds[1]);
  std::string out;
  char buf[4096];
  for (ssize_t n; (n = read(fds[0], buf, sizeof buf)) > 0;) out.append(buf, static_cast<size_t>(n));
  close(fds[0]);
  int status = 0;
  rusage u{};
  wait4(pid, &status, 0, &u);
  return {static_cast<double>(u.ru_maxrss) / 1024.0, out};
}

void BM_TracePeakMemory1GB(benchmark::State& state) {
  if (!env_is_1("PT_BENCH_1GB")) {
    state.SkipWithError("set PT_BENCH_1GB=1 to write a 1 GB trace to /tmp and measure the peak RSS of reading it");
    return;
  }
  const std::string path = "/tmp/pt_bench_trace_1GB.json";
  const auto trace = pt::bench::synthetic_trace_file(path, 1ull << 30, /*metadata_last=*/true);
  double peak = 0;
  std::string tasks;
  for (auto _ : state) {
    auto [rss, out] = in_child([&] { return std::to_string(pt::read_trace_json_file(path).size()); });
    peak = rss;
    tasks = out;
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * trace.bytes));
  state.counters["peak_rss_MB"] = peak;
  state.counters["tasks"] = std::atof(tasks.c_str());
  state.counters["file_MB"] = static_cast<double>(trace.bytes) / 1e6;
  state.counters["bytes_per_task"] = peak * 1e6 / std::max(1.0, std::atof(tasks.c_str()));
  if (!env_is_1("PT_BENCH_KEEP")) std::filesystem::remove(path);
}
BENCHMARK(BM_TracePeakMemory1GB)->Iterations(1)->Unit(benchmark::kSecond)->UseRealTime();

void BM_CsvPeakMemoryTinyRows(benchmark::State& state) {
  if (!env_is_1("PT_BENCH_1GB")) {
    state.SkipWithError("set PT_BENCH_1GB=1 to write a 1.07 GB CSV to /tmp and measure the peak RSS of reading it");
    return;
  }
  const std::string path = "/tmp/pt_bench_tiny_rows.csv";
  uint64_t bytes = 0;
  {
    std::FILE* f = std::fopen(path.c_str(), "wb");
    const std::string header = "Name,Accelerator Core,Start Time(us),Duration(us)\n";
    std::fputs(header.c_str(), f);
    bytes = header.size();
    std::string block;
    for (int i = 0; i < 1 << 16; ++i) block += "a,A,1,1\n";
    while (bytes < 1070000000ull) {
      std::fwrite(block.data(), 1, block.size(), f);
      bytes += block.size();
    }
    std::fclose(f);
  }
  double peak = 0;
  std::string result;
  for (auto _ : state) {
    auto [rss, out] = in_child([&] { return std::to_string(pt::load_profile(path).tasks.size()) + " tasks"; });
    peak = rss;
    result = out;
  }
  state.counters["peak_rss_MB"] = peak;
  state.counters["file_MB"] = static_cast<double>(bytes) / 1e6;
  state.SetLabel(result.substr(0, 160));
  if (!env_is_1("PT_BENCH_KEEP")) std::filesystem::remove(path);
}
BENCHMARK(BM_CsvPeakMemoryTinyRows)->Iterations(1)->Unit(benchmark::kSecond)->UseRealTime();

void BM_TraceOneHugeString(benchmark::State& state) {
  if (!env_is_1("PT_BENCH_1GB")) {
    state.SkipWithError("set PT_BENCH_1GB=1 to write a 1 GB trace to /tmp and measure the peak RSS of reading it");
    return;
  }
  const std::string path = "/tmp/pt_bench_huge_string.json";
  uint64_t bytes = 0;
  {
    std::FILE* f = std::fopen(path.c_str(), "wb");
    std::string head = "[{\"name\": \"process_name\", \"ph\": \"M\", \"pid\": 1, \"args\": {\"name\": \"Ascend Hardware\"}}";
    for (int i = 0; i < 50; ++i) {
      head += ",\n{\"name\": \"aclnnAdd_Add_Add\", \"ph\": \"X\", \"pid\": 1, \"tid\": 2, \"ts\": \"" + std::to_string(1000 + i) +
              ".000\", \"dur\": 1.0, \"args\": {\"Task Type\": \"AI_VECTOR_CORE\"}}";
    }
    head += ",\n{\"name\": \"huge\", \"ph\": \"X\", \"pid\": 1, \"ts\": \"2000.000\", \"dur\": 1.0, \"args\": {\"note\": \"";
    std::fputs(head.c_str(), f);
    bytes = head.size();
    const std::string block(1 << 20, 'x');
    for (int i = 0; i < 1000; ++i) {
      std::fwrite(block.data(), 1, block.size(), f);
      bytes += block.size();
    }
    std::fputs("\"}}]\n", f);
    bytes += 5;
    std::fclose(f);
  }
  double peak = 0;
  std::string result;
  for (auto _ : state) {
    auto [rss, out] = in_child([&] { return std::to_string(pt::load_profile(path).tasks.size()) + " tasks"; });
    peak = rss;
    result = out;
  }
  state.counters["peak_rss_MB"] = peak;
  state.counters["file_MB"] = static_cast<double>(bytes) / 1e6;
  state.SetLabel(result.substr(0, 160));
  if (!env_is_1("PT_BENCH_KEEP")) std::filesystem::remove(path);
}
BENCHMARK(BM_TraceOneHugeString)->Iterations(1)->Unit(benchmark::kSecond)->UseRealTime();

}  // namespace
