// `analyze`: audit the prefetch (CMO) tasks of a real profile: overlap, lateness, stall, site,
// and the ratio that would make each prefetch end with its window.
#include <memory>
#include <optional>

#include <fmt/format.h>

#include "analyze/prefetch_audit.h"
#include "export/analyze_report.h"
#include "profile/profile_readers.h"
#include "scenario_options.h"
#include "subcommand.h"
#include "util/file_io.h"

namespace pt::app {

namespace {

struct AnalyzeOptions {
  ScenarioOptions scenario;
  OutputOptions output;
  std::string profile_path;
  std::string compare_path;
  std::string cmo_csv_path;
  std::string out_path;
  double idle_gap_us = 1.0;
};

int run(AnalyzeOptions& o) {
  const Profile profile = load_profile(o.profile_path);
  std::optional<Profile> other;
  if (!o.compare_path.empty()) other = load_profile(o.compare_path);
  // With a model, sites are matched to its layer template and ratios suggested from its weights.
  std::optional<Scenario> scenario;
  if (o.scenario.model_given()) {
    if (!o.scenario.num_tokens) {
      if (auto inferred = infer_num_tokens(profile)) o.scenario.num_tokens = *inferred;
    }
    scenario = o.scenario.load();
  }
  AuditOptions options;
  options.idle_gap_threshold_us = o.idle_gap_us;
  const StepPlan* plan = scenario ? &scenario->plan : nullptr;
  const WeightPrefetchConfig* config = scenario ? &scenario->config : nullptr;
  const CapReading cap = scenario ? scenario->cap_reading : CapReading::kCode;
  Audit audit = audit_profile(profile, plan, config, cap, options);
  audit.notes.insert(audit.notes.begin(), profile.notes.begin(), profile.notes.end());
  std::optional<Audit> compared;
  if (other) compared = audit_profile(*other, plan, config, cap, options);
  if (scenario) {
    audit.notes.push_back(fmt::format("sites matched against {} at {} tokens per step, vllm-ascend {}, with {}",
                                      scenario->model.name, scenario->plan.tokens.padded_tokens, scenario->release->tag,
                                      scenario->config.to_additional_config(scenario->release->semantics)));
    for (const auto& w : scenario->warnings) audit.notes.push_back("warning: " + w);
  }
  std::string main_output;
  if (o.output.format == "json") {
    nlohmann::json j = analyze_json(audit, compared ? &*compared : nullptr);
    if (scenario) {  // the config the sites were matched with: an object, and the string to paste
      const Semantics& sem = scenario->release->semantics;
      j["additional_config"] = nlohmann::json{{"weight_prefetch_config", scenario->config.to_inner_json(sem)}};
      j["additional_config_arg"] = scenario->config.to_additional_config(sem);
    }
    main_output = json_output(j);
  } else {
    main_output = analyze_text(audit, compared ? &*compared : nullptr);
  }
  write_outputs_atomically({{o.cmo_csv_path, o.cmo_csv_path.empty() ? "" : cmo_csv(audit)}, {output_path(o.out_path), main_output}});
  return 0;
}

}  // namespace

Subcommand analyze_subcommand() {
  return {"analyze", "audit a real profile: does each CMO (prefetch) task hide behind its vector op, or stall the matmul?",
          [](CLI::App& sub) -> std::function<int()> {
            auto o = std::make_shared<AnalyzeOptions>();
            sub.add_option("profile", o->profile_path,
                           "profiler output: a directory (*_ascend_pt, PROF_*, or any parent) or one file "
                           "(trace_view.json, msprof_*.json, kernel_details.csv, op_summary_*.csv, task_time_*.csv, "
                           "or prefetch-tuner's --timeline-csv / --trace-json)")
                ->required();
            sub.add_option("--compare", o->compare_path, "a second profile to show side by side (simulated vs real, on vs off)");
            sub.add_option("--cmo-csv", o->cmo_csv_path, "write one row per CMO task");
            sub.add_option("--idle-gap-us", o->idle_gap_us, "gaps longer than this count as idle")->capture_default_str();
            sub.add_option("-o,--output", o->out_path, "write the report to a file instead of stdout");
            o->scenario.add_to(sub, /*token_list=*/false, ModelOption::kOptional,
                               "Model and deployment (used only with --model: sites matched, ratios suggested)");
            o->output.add_format(sub);
            sub.footer(
                "Examples:\n"
                "  prefetch-tuner analyze sample_profiles/profiles/qwen3-8b-tp4-t16-prefetch-on\n"
                "  prefetch-tuner analyze run1 --model Qwen3-8B --compare run2 --cmo-csv cmos.csv\n"
                "  prefetch-tuner analyze PROF_000001/mindstudio_profiler_output --model Qwen3-32B --format json\n");
            return [o] { return run(*o); };
          }};
}

}  // namespace pt::app
