// `export-profile`: the simulated run written as a profiler output directory (torch_npu or msprof
// layout, exact formats, CMO tasks on the prefetch stream), for analyze, calibrate and other tools.
#include <memory>

#include <fmt/format.h>

#include "export/profile_export.h"
#include "scenario_options.h"
#include "subcommand.h"
#include "util/file_io.h"

namespace pt::app {

namespace {

struct ExportOptions {
  ScenarioOptions scenario;
  ProfileExportOptions profile;
  std::string out_dir;
};

int run(ExportOptions& o) {
  Scenario scenario = o.scenario.load();
  const auto files = export_profile(scenario, o.profile);
  size_t bytes = 0;
  for (const auto& [rel, content] : files) bytes += content.size();
  std::string summary = fmt::format("wrote {} files ({:.1f} KB) under {}:\n", files.size(), bytes / 1024.0, o.out_dir);
  for (const auto& [rel, content] : files) summary += "  " + rel + "\n";
  // One set: the summary on stdout fails the run before the directory is committed, not after.
  OutputSet out;
  out.add_directory(o.out_dir, files, "the profile");
  out.add_file("-", summary);
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
            sub.add_option("--steps", o->profile.steps, "decode steps to write")->capture_default_str();
            sub.add_option("--jitter", o->profile.jitter_pct, "per-step spread of the hardware rates, in %")->capture_default_str();
            sub.add_option("--seed", o->profile.seed, "seed of the jitter")->capture_default_str();
            sub.footer(
                "Examples:\n"
                "  prefetch-tuner export-profile --model Qwen3-8B --num-tokens 16 --out-dir run1\n"
                "  prefetch-tuner export-profile --layout msprof --steps 4 --jitter 2 --out-dir run2\n");
            return [o] { return run(*o); };
          }};
}

}  // namespace pt::app
