// `export-profile`: the simulated run written as a profiler output directory (torch_npu or msprof
// layout, exact formats, CMO tasks on the prefetch stream), for analyze, calibrate and other tools.
#include <iostream>
#include <memory>

#include <fmt/format.h>

#include "export/profile_export.h"
#include "scenario_options.h"
#include "subcommand.h"

namespace pt::app {

namespace {

struct ExportOptions {
  ScenarioOptions scenario;
  ProfileExportOptions profile;
  std::string out_dir;
};

int run(ExportOptions& o) {
  Scenario scenario = o.scenario.load();
  const auto files = export_profile_to_directory(scenario, o.profile, o.out_dir);
  uint64_t bytes = 0;
  for (const auto& [rel, size] : files) bytes += size;
  std::cout << fmt::format("wrote {} files ({:.1f} KB) under {}:\n", files.size(), static_cast<double>(bytes) / 1024.0, o.out_dir);
  for (const auto& [rel, size] : files) std::cout << "  " << rel << "\n";
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
            sub.add_option("--steps", o->profile.steps, "decode steps to write")->capture_default_str();
            sub.add_option("--jitter", o->profile.jitter_pct,
                           "per-step (and per-rank) spread of the hardware rates, in %; on a cluster each collective then waits "
                           "for its slowest rank")
                ->capture_default_str();
            sub.add_option("--seed", o->profile.seed, "seed of the jitter")->capture_default_str();
            return [o] { return run(*o); };
          }};
}

}  // namespace pt::app
