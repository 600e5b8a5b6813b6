// `analyze`: audit the prefetch (CMO) tasks of a real profile: overlap, lateness, stall, site,
// and the ratio that would make each prefetch end with its window. A directory of several runs is
// a cluster: every rank audited, compared, and the slowest one reported.
#include <memory>
#include <mutex>
#include <optional>

#include <fmt/format.h>

#include "analyze/cluster_audit.h"
#include "analyze/model_check.h"
#include "analyze/prefetch_audit.h"
#include "export/analyze_report.h"
#include "profile/profile_readers.h"
#include "scenario_options.h"
#include "subcommand.h"
#include "util/error.h"
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
  int threads = 2;
};

// The scenario to match a profile against: the token count read from its matmuls unless given,
// and its shapes checked against the model (InputError naming the first linear that does not fit).
Scenario scenario_for(AnalyzeOptions& o, const Profile& profile, std::vector<std::string>& notes) {
  if (!o.scenario.num_tokens) {
    if (auto inferred = infer_num_tokens(profile)) o.scenario.num_tokens = *inferred;
  }
  Scenario s = o.scenario.load();
  if (auto note = check_model_fits(profile, s.plan)) notes.push_back(*note);
  return s;
}

int run_cluster(AnalyzeOptions& o, const std::vector<ProfileLocation>& locations) {
  if (!o.compare_path.empty()) throw InputError(fmt::format("--compare: {} is a cluster; compare single profiles", o.profile_path));
  std::optional<Scenario> scenario;
  std::once_flag once;
  std::vector<std::string> notes;
  PlanOf plan_of;
  if (o.scenario.model_given()) {
    plan_of = [&](const Profile& p) {
      std::call_once(once, [&] { scenario = scenario_for(o, p, notes); });
      check_model_fits(p, scenario->plan);  // every rank: the same model
      return AuditModel{&scenario->plan, &scenario->config};
    };
  }
  AuditOptions options;
  options.idle_gap_threshold_us = o.idle_gap_us;
  const CapReading cap = o.scenario.model_given() ? parse_cap_reading(o.scenario.inputs.cap_reading) : CapReading::kCode;
  ClusterAudit cluster = audit_cluster(locations, o.profile_path, plan_of, cap, options, o.threads);
  cluster.notes.insert(cluster.notes.end(), notes.begin(), notes.end());
  if (scenario) {
    cluster.notes.push_back(fmt::format("sites matched against {} at {} tokens per step, vllm-ascend {}, with {}",
                                        scenario->model.name, scenario->plan.tokens.padded_tokens, scenario->release->tag,
                                        scenario->config.to_additional_config(scenario->release->semantics)));
    for (const auto& w : scenario->warnings) cluster.notes.push_back("warning: " + w);
  }
  std::string csv;
  if (!o.cmo_csv_path.empty() && cluster.slowest >= 0) {
    // The slowest rank's CMO rows: read it once more (the cluster pass keeps no rows).
    const ProfileLocation& l = locations[static_cast<size_t>(cluster.slowest)];
    const Profile p = load_profile(l, l.run_dir);
    csv = cmo_csv(audit_profile(p, scenario ? &scenario->plan : nullptr, scenario ? &scenario->config : nullptr, cap, options));
  }
  std::string main_output;
  if (o.output.format == "json") {
    nlohmann::json j = cluster_json(cluster);
    j["vllm_ascend_version"] = scenario ? nlohmann::json(scenario->vllm_ascend_version) : nlohmann::json(nullptr);
    main_output = json_output(j);
  } else {
    main_output = cluster_text(cluster);
  }
  write_outputs_atomically({{o.cmo_csv_path, csv}, {output_path(o.out_path), main_output}});
  return 0;
}

int run(AnalyzeOptions& o) {
  if (o.threads < 1 || o.threads > 64) throw InputError(fmt::format("--threads {}: expected 1..64", o.threads));
  const std::vector<ProfileLocation> locations = find_profiles(o.profile_path);
  if (locations.size() > 1) return run_cluster(o, locations);
  const Profile profile = load_profile(locations.front(), o.profile_path);
  std::optional<Profile> other;
  if (!o.compare_path.empty()) other = load_profile(o.compare_path);
  // With a model, sites are matched to its layer template and ratios suggested from its weights.
  std::optional<Scenario> scenario;
  std::vector<std::string> notes;
  if (o.scenario.model_given()) scenario = scenario_for(o, profile, notes);
  AuditOptions options;
  options.idle_gap_threshold_us = o.idle_gap_us;
  const StepPlan* plan = scenario ? &scenario->plan : nullptr;
  const WeightPrefetchConfig* config = scenario ? &scenario->config : nullptr;
  const CapReading cap = scenario ? scenario->cap_reading : CapReading::kCode;
  Audit audit = audit_profile(profile, plan, config, cap, options);
  audit.notes.insert(audit.notes.begin(), profile.notes.begin(), profile.notes.end());
  audit.notes.insert(audit.notes.end(), notes.begin(), notes.end());
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
    j["vllm_ascend_version"] = scenario ? nlohmann::json(scenario->vllm_ascend_version) : nlohmann::json(nullptr);
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
                           "profiler output: a directory (*_ascend_pt, PROF_*, or any parent; one holding a run per rank is a "
                           "cluster) or one file (trace_view.json, msprof_*.json, kernel_details.csv, op_summary_*.csv, "
                           "task_time_*.csv, ascend_pytorch_profiler_*.db, msprof_*.db, or prefetch-tuner's --timeline-csv / "
                           "--trace-json)")
                ->required();
            sub.add_option("--compare", o->compare_path, "a second profile to show side by side (simulated vs real, on vs off)");
            sub.add_option("--cmo-csv", o->cmo_csv_path, "write one row per CMO task (a cluster: of its slowest rank)");
            sub.add_option("--idle-gap-us", o->idle_gap_us, "gaps longer than this count as idle")->capture_default_str();
            sub.add_option("--threads", o->threads, "ranks of a cluster read at once (memory holds this many profiles)")
                ->capture_default_str();
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
