// analyze on a whole cluster: 16 ranks (Qwen3-32B W8A8, TP4 DP4, 72 tokens), about 1 GB of
// torch_npu text per rank (trace_view.json, kernel_details.csv ...), written by export-profile
// with one rank 10 % slower than the others. Off by default (it writes about 16 GB to /tmp once,
// kept for later runs under /tmp/pt_bench_cluster_16x1GB):
//   PT_BENCH_CLUSTER=1 build-dev/bench/cluster_bench
// The analysis runs in a child process, so peak_rss_MB is its own (ru_maxrss): the cluster is read
// two ranks at a time, each profile freed once audited.
#include <benchmark/benchmark.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include <fmt/format.h>

#include "analyze/cluster_audit.h"
#include "export/profile_export.h"
#include "profile/profile_readers.h"
#include "sim/scenario.h"

namespace {

namespace fs = std::filesystem;

bool env_is_1(const char* name) {
  const char* v = std::getenv(name);
  return v && std::string(v) == "1";
}

pt::Scenario scenario() {
  pt::ScenarioInputs in;  // Qwen3-32B W8A8, 72 tokens, a3-die: the default scenario, on TP4 DP4
  in.deployment.data_parallel = 4;
  in.use_process_env = false;
  return pt::load_scenario(in);
}

uint64_t directory_bytes(const std::string& dir) {
  uint64_t total = 0;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    if (e.is_regular_file()) total += e.file_size();
  }
  return total;
}

// The cluster, generated once: steps chosen so that a rank's files come to about 1 GB.
std::string cluster_dir(const pt::Scenario& s) {
  const std::string dir = "/tmp/pt_bench_cluster_16x1GB";
  if (fs::exists(dir + "/.complete")) return dir;
  fs::remove_all(dir);
  pt::ProfileExportOptions probe;
  probe.steps = 4;
  uint64_t four_steps = 0;
  for (const auto& [rel, content] : pt::export_profile(s, probe)) four_steps += content.size();
  pt::ProfileExportOptions o;
  o.steps = static_cast<int>(std::min<uint64_t>(1000, (1000000000ull * 4 + four_steps - 1) / four_steps));
  o.ranks = 16;
  o.jitter_pct = 2;
  o.slow_rank = 5;
  o.slow_pct = 10;
  pt::export_profile_to_directory(s, o, dir);
  std::ofstream(dir + "/.complete") << o.steps << " steps\n";
  return dir;
}

void BM_AnalyzeCluster16Ranks1GBEach(benchmark::State& state) {
  if (!env_is_1("PT_BENCH_CLUSTER")) {
    state.SkipWithError("set PT_BENCH_CLUSTER=1 to write a 16-rank cluster (about 16 GB) to /tmp and analyze it");
    return;
  }
  const pt::Scenario s = scenario();
  const std::string dir = cluster_dir(s);
  const uint64_t bytes = directory_bytes(dir);
  double peak = 0;
  std::string result;
  for (auto _ : state) {
    int fds[2];
    if (pipe(fds) != 0) {
      state.SkipWithError("pipe failed");
      return;
    }
    const pid_t pid = fork();
    if (pid == 0) {
      close(fds[0]);
      std::string out;
      try {
        const auto locations = pt::find_profiles(dir);
        const pt::ClusterAudit c = pt::audit_cluster(
            locations, dir, [&](const pt::Profile&) { return pt::AuditModel{&s.plan, &s.config}; }, s.cap_reading, {}, 2);
        size_t tasks = 0;
        for (const auto& r : c.ranks) tasks += r.tasks;
        out = fmt::format("{} ranks, {} tasks, slowest rank {} ({} votes), skew {:.3f} %", c.ranks.size(), tasks,
                          c.ranks[static_cast<size_t>(c.slowest)].rank, c.ranks[static_cast<size_t>(c.slowest)].slow_votes,
                          c.step_skew_pct);
      } catch (const std::exception& e) {
        out = std::string("error: ") + e.what();
      }
      if (write(fds[1], out.data(), out.size()) < 0) _exit(2);
      _exit(0);
    }
    close(fds[1]);
    char buf[4096];
    result.clear();
    for (ssize_t n; (n = read(fds[0], buf, sizeof buf)) > 0;) result.append(buf, static_cast<size_t>(n));
    close(fds[0]);
    int status = 0;
    rusage u{};
    wait4(pid, &status, 0, &u);
    peak = std::max(peak, static_cast<double>(u.ru_maxrss) / 1024.0);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * bytes));
  state.counters["peak_rss_MB"] = peak;
  state.counters["cluster_GB"] = static_cast<double>(bytes) / 1e9;
  state.SetLabel(result);
}
BENCHMARK(BM_AnalyzeCluster16Ranks1GBEach)->Iterations(1)->Unit(benchmark::kSecond)->UseRealTime();

}  // namespace
