// `export-profile`: the simulated run written as a profiler output directory (torch_npu or msprof
// layout, exact formats, CMO tasks on the prefetch stream), for analyze, calibrate and other tools.
#include <memory>

#include <fmt/format.h>

#include "export/profile_export.h"
#include "scenario_options.h"
#include "subcommand.h"
#include "util/error.h"
#include "util/file_io.h"

namespace pt::app {

namespace {

struct ExportOptions {
  ScenarioOptions scenario;
  ProfileExportOptions profile;
  std::string out_dir;
  std::string slow_rank;
};

int run(ExportOptions& o) {
  if (!o.slow_rank.empty()) {
    const size_t colon = o.slow_rank.find(':');
    char* end = nullptr;
    const long rank = std::strtol(o.slow_rank.c_str(), &end, 10);
    const bool ok_rank = colon != std::string::npos && end == o.slow_rank.c_str() + colon && rank >= 0;
    const std::string pct_text = colon == std::string::npos ? "" : o.slow_rank.substr(colon + 1);
    const double pct = std::strtod(pct_text.c_str(), &end);
    if (!ok_rank || pct_text.empty() || *end != '\0') {
      throw InputError(fmt::format("--slow-rank {}: expected RANK:PCT, e.g. 2:10 (rank 2 with 10 % lower rates)", o.slow_rank));
    }
    o.profile.slow_rank = static_cast<int>(rank);
    o.profile.slow_pct = pct;
  }
  Scenario scenario = o.scenario.load();
  std::vector<std::pair<std::string, uint64_t>> files;
  // One set: the directory streamed into its staging place, then the summary on stdout, which
  // fails the run before the directory is committed, not after.
  OutputSet out;
  add_profile_export(out, scenario, o.profile, o.out_dir, files);
  out.add_file("-", [&] {
    uint64_t bytes = 0;
    for (const auto& [rel, size] : files) bytes += size;
    std::string summary = fmt::format("wrote {} files ({:.1f} KB) under {}:\n", files.size(), static_cast<double>(bytes) / 1024.0, o.out_dir);
    for (const auto& [rel, size] : files) summary += "  " + rel + "\n";
    return summary;
  });
  out.commit();
  return 0;
}

}  // namespace

Subcommand export_profile_subcommand() {
  return {"export-profile", "write the simulated run as an Ascend profiler output directory (with CMO tasks)",
          [](CLI::App& sub) -> std::function<int()> {
            auto o = std::make_shared<ExportOptions>();
            o->scenario.add_to(sub);
            sub.add_option("--out-dir", o->out_dir, "directory to create (must be new or empty)")->required();
            sub.add_option("--layout", o->profile.layout, "torch_npu (ASCEND_PROFILER_OUTPUT) or msprof (mindstudio_profiler_output)")
                ->capture_default_str();
            sub.add_option("--format", o->profile.format,
                           "text (the CSV and JSON files), or db: also the SQLite export (ascend_pytorch_profiler_<rank>.db and "
                           "analysis.db, or msprof_<stamp>.db) that msprof-analyze's cluster recipes read")
                ->check(CLI::IsMember({"text", "db"}))
                ->capture_default_str();
            sub.add_option("--ranks", o->profile.ranks, "1 (rank 0), or every TP x DP rank: one profiler directory per rank")
                ->capture_default_str();
            sub.add_option("--slow-rank", o->slow_rank,
                           "RANK:PCT: one rank with PCT % lower HBM bandwidth and efficiencies; the others wait for it at every "
                           "collective (as a throttled die makes them)");
            sub.add_option("--steps", o->profile.steps, "decode steps to write")->capture_default_str();
            sub.add_option("--jitter", o->profile.jitter_pct,
                           "per-step (and per-rank) spread of the hardware rates, in %; on a cluster each collective then waits "
                           "for its slowest rank")
                ->capture_default_str();
            sub.add_option("--seed", o->profile.seed, "seed of the jitter")->capture_default_str();
            sub.footer(
                "Examples:\n"
                "  prefetch-tuner export-profile --model Qwen3-8B --num-tokens 16 --out-dir run1\n"
                "  prefetch-tuner export-profile --layout msprof --steps 4 --jitter 2 --out-dir run2\n");
            return [o] { return run(*o); };
          }};
}

}  // namespace pt::app
