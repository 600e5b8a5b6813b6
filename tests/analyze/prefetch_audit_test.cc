// analyze's audit against ground truth: a run the simulator made, written by export-profile in the
// Ascend layouts and read back, must give back the simulator's own per-site figures (count, CMO
// duration, window, stall). Hand-made tiny profiles check the closed forms of late / stall.
#include "analyze/prefetch_audit.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "export/profile_export.h"
#include "profile/profile_readers.h"
#include "sim/scenario.h"
#include "test_support.h"

namespace pt {
namespace {

namespace fs = std::filesystem;
using test::contains;

Scenario qwen3_8b(int num_tokens, std::optional<std::string> additional_config = std::nullopt) {
  ScenarioInputs in;
  in.model = "Qwen3-8B";
  in.deployment.num_tokens = num_tokens;
  in.use_process_env = false;
  in.additional_config = std::move(additional_config);
  return load_scenario(in);
}

// A temp directory removed at the end of the test.
struct TempDir {
  std::string path = test::make_temp_dir();
  ~TempDir() { fs::remove_all(path); }
};

// Exports `scenario` (jitter 0) into a fresh directory under `tmp` and reads it back.
Profile export_and_load(const Scenario& scenario, const TempDir& tmp, const std::string& name, int steps,
                        const std::string& layout = "torch_npu") {
  ProfileExportOptions o;
  o.layout = layout;
  o.steps = steps;
  o.jitter_pct = 0;
  const std::string dir = tmp.path + "/" + name;
  write_profile_directory(dir, export_profile(scenario, o));
  return load_profile(dir);
}

StepResult simulate(const Scenario& scenario) {
  SimOptions o;
  o.cap_reading = scenario.cap_reading;
  o.record_timeline = true;
  return simulate_step(scenario.plan, scenario.config, o);
}

const SiteAudit* find_site(const Audit& a, const std::string& site) {
  for (const auto& s : a.sites) {
    if (s.site == site) return &s;
  }
  return nullptr;
}

const StreamSummary* find_stream(const Audit& a, int64_t id) {
  for (const auto& s : a.streams) {
    if (s.stream_id == id) return &s;
  }
  return nullptr;
}

// The simulator's per-site figures must come back out of the profile.
void expect_audit_matches_simulation(const Audit& audit, const StepResult& sim, size_t steps) {
  size_t sim_cmos = 0;
  for (const auto& e : sim.timeline) sim_cmos += e.kind == EventKind::kCmo;
  ASSERT_GT(sim_cmos, 0u) << "the scenario runs no prefetch: nothing to check";
  EXPECT_EQ(audit.cmos.size(), sim_cmos * steps);
  EXPECT_EQ(audit.steps, steps);

  size_t active = 0;
  for (const auto& s : sim.sites) {
    if (!s.active) continue;
    ++active;
    SCOPED_TRACE(s.site);
    const SiteAudit* a = find_site(audit, s.site);
    ASSERT_NE(a, nullptr) << "site missing from the audit";
    EXPECT_EQ(a->count, static_cast<size_t>(s.layers) * steps);
    // late = CMO end - EVENT_WAIT start; the stall is the CMO's part of the wait: a wait that
    // covers two CMOs (gate_up and down after SwiGLU) is split between them in FIFO order, as the
    // simulator charges it. So a CMO's stall never exceeds its lateness.
    EXPECT_GE(std::max(0.0, a->late_median_us) + 0.01, s.stall_us);
    EXPECT_NEAR(a->duration_median_us, s.prefetch_us, 0.01);
    EXPECT_NEAR(a->window_median_us, s.window_us, 0.01);
    EXPECT_NEAR(a->stall_per_step_us, s.stall_us * s.layers, 0.1);
  }
  EXPECT_EQ(audit.sites.size(), active) << "the audit has sites the simulation does not";
  EXPECT_GE(active, 4u);
}

class AuditGroundTruth : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    scenario_ = new Scenario(qwen3_8b(16));
    sim_ = new StepResult(simulate(*scenario_));
    tmp_ = new TempDir;
    profile_ = new Profile(export_and_load(*scenario_, *tmp_, "torch", 2));
  }
  static void TearDownTestSuite() {
    delete profile_;
    delete tmp_;
    delete sim_;
    delete scenario_;
  }
  static Scenario* scenario_;
  static StepResult* sim_;
  static TempDir* tmp_;
  static Profile* profile_;
};
Scenario* AuditGroundTruth::scenario_ = nullptr;
StepResult* AuditGroundTruth::sim_ = nullptr;
TempDir* AuditGroundTruth::tmp_ = nullptr;
Profile* AuditGroundTruth::profile_ = nullptr;

TEST_F(AuditGroundTruth, TorchNpuProfileGivesTheSimulatorsSiteFigures) {
  const Audit audit = audit_profile(*profile_, &scenario_->plan, &scenario_->config, scenario_->cap_reading);
  expect_audit_matches_simulation(audit, *sim_, 2);
  // Every CMO was matched to a site from the plan (the export carries no site column).
  for (const auto& c : audit.cmos) {
    EXPECT_NE(c.site_source, "none") << "CMO " << c.index << " behind " << c.window_op;
    EXPECT_NE(c.site_source, "profile");
  }
}

TEST_F(AuditGroundTruth, StreamsComputeIsTwoAndPrefetchIsThree) {
  const Audit audit = audit_profile(*profile_, &scenario_->plan, &scenario_->config, scenario_->cap_reading);
  EXPECT_EQ(audit.compute_stream, kComputeStreamId);
  EXPECT_EQ(audit.compute_stream, 2);
  const StreamSummary* compute = find_stream(audit, 2);
  const StreamSummary* prefetch = find_stream(audit, 3);
  ASSERT_NE(compute, nullptr);
  ASSERT_NE(prefetch, nullptr);
  EXPECT_EQ(compute->role, "compute");
  EXPECT_EQ(prefetch->role, "prefetch");
  EXPECT_EQ(prefetch->tasks, audit.cmos.size());
  EXPECT_EQ(prefetch->tasks_by_core.at("CMO"), audit.cmos.size());
  // One EVENT_RECORD per CMO (all sites fork off the compute stream) and one EVENT_WAIT per wait:
  // mlp.gate_up and mlp.down share the wait after SwiGLU, so 4 waits for 5 CMOs per layer.
  EXPECT_EQ(compute->tasks_by_core.at("EVENT_RECORD"), audit.cmos.size());
  EXPECT_EQ(compute->tasks_by_core.at("EVENT_WAIT"), audit.cmos.size() / 5 * 4);
  // Busy time is a union of intervals: never more than the span.
  for (const auto& s : audit.streams) EXPECT_LE(s.busy_us, s.span_us + 1e-6) << s.stream_id;
}

TEST_F(AuditGroundTruth, SuggestedRatioIsSpeedTimesHideWindowOverWeightBytes) {
  const Audit audit = audit_profile(*profile_, &scenario_->plan, &scenario_->config, scenario_->cap_reading);
  const SiteSummary* truth = nullptr;
  for (const auto& s : sim_->sites) {
    if (s.active && s.site == "mlp.gate_up") truth = &s;
  }
  ASSERT_NE(truth, nullptr);
  const SiteAudit* a = find_site(audit, "mlp.gate_up");
  ASSERT_NE(a, nullptr);
  EXPECT_DOUBLE_EQ(a->weight_bytes, truth->weight_bytes);
  ASSERT_TRUE(a->current_ratio.has_value());
  EXPECT_EQ(*a->current_ratio, scenario_->config[RatioKey::kMlpGateUp].ratio);
  EXPECT_NEAR(a->bytes, truth->issued_bytes, 1e-6 * truth->issued_bytes);
  // Speed of the transfer in bytes per us, from the simulation's bytes and duration.
  const double speed = truth->issued_bytes / truth->prefetch_us;
  EXPECT_NEAR(a->GBps_median, speed / 1e3, 1e-3 * speed / 1e3);
  const double by_hand = std::clamp(speed * a->hide_median_us / truth->weight_bytes, 0.0, 1.0);
  ASSERT_TRUE(a->suggested_ratio.has_value());
  // Floored to a hundredth.
  EXPECT_LE(*a->suggested_ratio, by_hand + 1e-9);
  EXPECT_GT(*a->suggested_ratio, by_hand - 0.01 - 1e-9);
  EXPECT_GT(*a->suggested_ratio, 0.0);  // the window is long enough for part of gate_up
  EXPECT_LT(*a->suggested_ratio, 1.0);  // but not all of it: it ends late
  EXPECT_GT(a->late_median_us, 0);
  EXPECT_PRED2(contains, a->suggestion, "mlp.gate_up = ");
  // The hide window is the window less the time the CMO waited to start after its fork.
  EXPECT_LE(a->hide_median_us, a->window_median_us + 1e-9);
  EXPECT_GT(a->hide_median_us, 0);
}

TEST_F(AuditGroundTruth, WithoutAPlanSitesAreNamedByTheirWindowOp) {
  const Audit audit = audit_profile(*profile_, nullptr, nullptr, CapReading::kCode);
  ASSERT_FALSE(audit.cmos.empty());
  size_t total = 0;
  for (const auto& s : audit.sites) {
    SCOPED_TRACE(s.site);
    EXPECT_EQ(s.site.rfind("? (behind ", 0), 0u);
    EXPECT_EQ(s.site.back(), ')');
    EXPECT_FALSE(s.suggested_ratio.has_value());
    EXPECT_FALSE(s.current_ratio.has_value());
    EXPECT_EQ(s.weight_bytes, 0);
    // Every CMO of this run ends late: the suggestion asks for the model to give a ratio.
    ASSERT_GT(s.late_median_us, 0);
    EXPECT_PRED2(contains, s.suggestion, "--model");
    total += s.count;
  }
  EXPECT_EQ(total, audit.cmos.size());
  for (const auto& c : audit.cmos) {
    EXPECT_EQ(c.site, "? (behind " + c.window_op + ")");
    EXPECT_EQ(c.site_source, "none");
  }
  // SwiGlu ends the window of mlp.down and of mlp.gate_up (one wait after it): without a model
  // the two cannot be told apart. 2 sites x 36 layers x 2 steps.
  const SiteAudit* swiglu = find_site(audit, "? (behind SwiGlu)");
  ASSERT_NE(swiglu, nullptr);
  EXPECT_EQ(swiglu->count, 144u);
}

// ---- graph mode: the event tasks of a captured ACL graph ------------------------------------------

// The same export with its fork and join tasks renamed (CAPTURE_RECORD / CAPTURE_WAIT, as the CANN
// runtime names event tasks in a captured graph, or the STARS *_SQE spellings), or removed.
Profile with_events_as(const Scenario& scenario, const TempDir& tmp, const std::string& name, const std::string& record,
                       const std::string& wait) {
  ProfileExportOptions o;
  o.steps = 2;
  auto files = export_profile(scenario, o);
  for (auto& file : files) {
    if (!file.first.ends_with("trace_view.json")) continue;
    std::string& content = file.second;  // a reference, not a binding: clang 14 cannot capture bindings
    auto replace_all = [&](const std::string& from, const std::string& to) {
      for (size_t at = content.find(from); at != std::string::npos; at = content.find(from, at + to.size())) {
        content.replace(at, from.size(), to);
      }
    };
    replace_all("\"EVENT_RECORD\"", "\"" + record + "\"");
    replace_all("\"EVENT_WAIT\"", "\"" + wait + "\"");
  }
  write_profile_directory(tmp.path + "/" + name, files);
  return load_profile(tmp.path + "/" + name);
}

TEST(AuditGraphMode, CaptureAndSqeEventsAreForkAndJoin) {
  const Scenario s = qwen3_8b(16);
  const StepResult sim = simulate(s);
  TempDir tmp;
  for (const auto& [record, wait] : std::vector<std::pair<std::string, std::string>>{
           {"CAPTURE_RECORD", "CAPTURE_WAIT"}, {"EVENT_RECORD_SQE", "EVENT_WAIT_SQE"}}) {
    SCOPED_TRACE(record);
    const Profile p = with_events_as(s, tmp, record, record, wait);
    const Audit a = audit_profile(p, &s.plan, &s.config, s.cap_reading);
    // Every prefetch of this scenario stalls (the simulator says so): an audit that took the
    // capture waits for vector work would call them all hidden.
    expect_audit_matches_simulation(a, sim, 2);
    for (const auto& site : a.sites) {
      EXPECT_GT(site.late_fraction, 0.99) << site.site;
      EXPECT_FALSE(site.window_inferred) << site.site;
    }
  }
}

TEST(AuditGraphMode, WithoutEventsTheWindowIsInferredAndGateUpAndDownStayApart) {
  const Scenario s = qwen3_8b(16);
  const StepResult sim = simulate(s);
  TempDir tmp;
  // Events become tasks of a type the audit does not know as fork or join, on the prefetch stream.
  ProfileExportOptions o;
  o.steps = 2;
  auto files = export_profile(s, o);
  for (auto& [rel, content] : files) {
    if (!rel.ends_with("trace_view.json")) continue;
    nlohmann::json events = nlohmann::json::parse(content);
    nlohmann::json kept = nlohmann::json::array();
    for (auto& e : events) {
      if (e.contains("args") && e["args"].contains("Task Type") &&
          (e["args"]["Task Type"] == "EVENT_RECORD" || e["args"]["Task Type"] == "EVENT_WAIT")) {
        continue;
      }
      kept.push_back(e);
    }
    content = kept.dump();
  }
  write_profile_directory(tmp.path + "/no_events", files);
  const Profile p = load_profile(tmp.path + "/no_events");
  const Audit a = audit_profile(p, &s.plan, &s.config, s.cap_reading);
  // The sites the simulator fires, each its own row, none unnamed.
  EXPECT_EQ(a.sites.size(), 5u);
  for (const auto& x : a.sites) EXPECT_EQ(x.site.find('?'), std::string::npos) << x.site;
  for (const char* site : {"mlp.gate_up", "mlp.down"}) {
    const SiteAudit* x = find_site(a, site);
    ASSERT_NE(x, nullptr) << site << ": the CMOs of two sites merged";
    EXPECT_EQ(x->count, 72u) << site;
    EXPECT_TRUE(x->window_inferred) << site;
  }
  for (const auto& c : a.cmos) {
    // Each CMO's window ends at the matmul its bytes serve: gate_up's at gate_up_proj.
    if (c.site == "mlp.gate_up") {
      EXPECT_EQ(c.next_matmul, "QuantBatchMatmulV3") << c.index;
    }
  }
  bool noted = false;
  for (const auto& n : a.notes) noted |= contains(n, "window is inferred");
  EXPECT_TRUE(noted);
}

TEST(AuditGroundTruthLayouts, MsprofLayoutGivesTheSameSiteFigures) {
  const Scenario scenario = qwen3_8b(16);
  const StepResult sim = simulate(scenario);
  TempDir tmp;
  const Profile torch = export_and_load(scenario, tmp, "torch", 1);
  const Profile msprof = export_and_load(scenario, tmp, "msprof", 1, "msprof");
  ASSERT_TRUE(std::any_of(msprof.files.begin(), msprof.files.end(),
                          [](const std::string& f) { return contains(f, "mindstudio_profiler_output"); }));
  const Audit a = audit_profile(torch, &scenario.plan, &scenario.config, scenario.cap_reading);
  const Audit b = audit_profile(msprof, &scenario.plan, &scenario.config, scenario.cap_reading);
  expect_audit_matches_simulation(b, sim, 1);
  ASSERT_EQ(a.sites.size(), b.sites.size());
  for (size_t i = 0; i < a.sites.size(); ++i) {
    SCOPED_TRACE(a.sites[i].site);
    EXPECT_EQ(a.sites[i].site, b.sites[i].site);
    EXPECT_EQ(a.sites[i].count, b.sites[i].count);
    EXPECT_NEAR(a.sites[i].late_median_us, b.sites[i].late_median_us, 0.01);
    EXPECT_NEAR(a.sites[i].duration_median_us, b.sites[i].duration_median_us, 0.01);
    EXPECT_NEAR(a.sites[i].window_median_us, b.sites[i].window_median_us, 0.01);
    EXPECT_NEAR(a.sites[i].stall_per_step_us, b.sites[i].stall_per_step_us, 0.1);
  }
}

TEST(AuditGroundTruthLayouts, PrefetchDisabledHasNoCmoAndSaysSo) {
  const Scenario scenario = qwen3_8b(16, R"({"weight_prefetch_config":{"enabled":false}})");
  ASSERT_FALSE(scenario.config.enabled);
  TempDir tmp;
  const Profile profile = export_and_load(scenario, tmp, "off", 1);
  EXPECT_FALSE(profile.has_cmo());
  const Audit audit = audit_profile(profile, &scenario.plan, &scenario.config, scenario.cap_reading);
  EXPECT_FALSE(audit.has_cmo());
  EXPECT_TRUE(audit.sites.empty());
  ASSERT_EQ(audit.notes.size(), 1u);
  EXPECT_PRED2(contains, audit.notes[0], "no CMO task");
  // The stream summary is still there: one compute stream, no prefetch stream.
  ASSERT_FALSE(audit.streams.empty());
  EXPECT_EQ(audit.compute_stream, 2);
  EXPECT_EQ(find_stream(audit, 3), nullptr);
  const StreamSummary* compute = find_stream(audit, 2);
  ASSERT_NE(compute, nullptr);
  EXPECT_EQ(compute->role, "compute");
  EXPECT_EQ(compute->tasks_by_core.count("EVENT_WAIT"), 0u);
  EXPECT_GT(compute->busy_us, 0);
}

// ---- hand-made profiles: closed forms ------------------------------------------------------

ProfileTask task(const std::string& type, const std::string& core, int64_t stream, double start, double dur) {
  ProfileTask t;
  t.name = test::keep(core == "CMO" || core.rfind("EVENT", 0) == 0 ? core : "aclnn" + type + "_" + type);
  t.op_type = test::keep(core == "CMO" || core.rfind("EVENT", 0) == 0 ? "" : type);
  t.task_type = test::keep(core);
  t.stream_id = stream;
  t.start_us = start;
  t.duration_us = dur;
  return t;
}

Profile sorted(std::vector<ProfileTask> tasks) {
  std::stable_sort(tasks.begin(), tasks.end(), [](const ProfileTask& a, const ProfileTask& b) { return a.start_us < b.start_us; });
  Profile p;
  p.source = "hand-made";
  p.tasks = std::move(tasks);
  return p;
}

// RmsNorm 0-10, fork 10-11, AscendQuantV2 11-21 (the window), join at 21, matmul after the CMO;
// the CMO on stream 3 starts at 12 and takes `cmo_us`; the matmul starts when both are done.
Profile one_prefetch(double cmo_us, bool with_events) {
  const double cmo_end = 12 + cmo_us;
  const double matmul_start = std::max(21.0, cmo_end);  // the matmul waits for its weights either way
  std::vector<ProfileTask> t = {
      task("RmsNorm", "AI_VECTOR_CORE", 2, 0, 10),
      task("AscendQuantV2", "AI_VECTOR_CORE", 2, 11, 10),
      task("QuantBatchMatmulV3", "AI_CORE", 2, matmul_start, 20),
      task("CMO", "CMO", 3, 12, cmo_us),
  };
  if (with_events) {
    t.push_back(task("EVENT_RECORD", "EVENT_RECORD", 2, 10, 1));
    t.push_back(task("EVENT_WAIT", "EVENT_WAIT", 2, 21, std::max(0.0, cmo_end - 21)));
  }
  return sorted(std::move(t));
}

TEST(AuditClosedForm, CmoEndingThreeMicrosecondsAfterItsWindowWithoutEvents) {
  const Audit a = audit_profile(one_prefetch(12, false), nullptr, nullptr, CapReading::kCode);
  ASSERT_EQ(a.cmos.size(), 1u);
  const CmoAudit& c = a.cmos[0];
  EXPECT_EQ(a.compute_stream, 2);
  EXPECT_FALSE(c.on_compute_stream);
  EXPECT_EQ(c.window_op, "AscendQuantV2");
  EXPECT_EQ(c.next_matmul, "QuantBatchMatmulV3");
  EXPECT_DOUBLE_EQ(c.window_end_us, 21);
  EXPECT_DOUBLE_EQ(c.late_us, 3);   // 12 + 12 - 21
  EXPECT_DOUBLE_EQ(c.stall_us, 3);
  EXPECT_DOUBLE_EQ(c.hide_us, 9);   // 21 - 12
  EXPECT_DOUBLE_EQ(c.window_us, 9); // no fork event: the window starts with the CMO
  EXPECT_DOUBLE_EQ(c.overlap_us, 9);  // the quantize runs 11-21, the CMO 12-24
  EXPECT_DOUBLE_EQ(c.overlap_pct, 75);
  EXPECT_EQ(c.site, "? (behind AscendQuantV2)");
  ASSERT_EQ(a.sites.size(), 1u);
  EXPECT_DOUBLE_EQ(a.sites[0].late_median_us, 3);
  EXPECT_DOUBLE_EQ(a.sites[0].stall_per_step_us, 3);
  EXPECT_DOUBLE_EQ(a.sites[0].late_fraction, 1);
  EXPECT_EQ(a.steps, 1u);
  // Late, no bytes known: about hide / duration of the bytes would fit (9 / 12 = 75 %).
  EXPECT_PRED2(contains, a.sites[0].suggestion, "ends 3.0 us after its window");
  EXPECT_PRED2(contains, a.sites[0].suggestion, "about 75 % of its bytes would fit");
  EXPECT_PRED2(contains, a.sites[0].suggestion, "--model");
}

TEST(AuditClosedForm, CmoEndingThreeMicrosecondsAfterItsJoinWithEvents) {
  const Audit a = audit_profile(one_prefetch(12, true), nullptr, nullptr, CapReading::kCode);
  ASSERT_EQ(a.cmos.size(), 1u);
  const CmoAudit& c = a.cmos[0];
  EXPECT_EQ(c.fork_op, "RmsNorm");
  EXPECT_EQ(c.window_op, "AscendQuantV2");
  EXPECT_EQ(c.next_matmul, "QuantBatchMatmulV3");
  EXPECT_DOUBLE_EQ(c.next_matmul_start_us, 24);
  EXPECT_DOUBLE_EQ(c.window_end_us, 21);  // the EVENT_WAIT's start
  EXPECT_DOUBLE_EQ(c.window_us, 10);      // fork (EVENT_RECORD end, 11) to 21
  EXPECT_DOUBLE_EQ(c.hide_us, 9);
  EXPECT_DOUBLE_EQ(c.late_us, 3);
  EXPECT_DOUBLE_EQ(c.stall_us, 3);
  // The EVENT_RECORD / EVENT_WAIT are on the compute stream but are not compute.
  const StreamSummary* compute = find_stream(a, 2);
  ASSERT_NE(compute, nullptr);
  EXPECT_EQ(compute->tasks, 5u);
  EXPECT_EQ(compute->role, "compute");
  EXPECT_EQ(find_stream(a, 3)->role, "prefetch");
}

TEST(AuditClosedForm, CmoEndingEarlyHasNegativeLateAndNoStall) {
  for (bool events : {false, true}) {
    SCOPED_TRACE(events ? "with events" : "without events");
    const Audit a = audit_profile(one_prefetch(7, events), nullptr, nullptr, CapReading::kCode);
    ASSERT_EQ(a.cmos.size(), 1u);
    EXPECT_DOUBLE_EQ(a.cmos[0].late_us, -2);  // 12 + 7 - 21
    EXPECT_DOUBLE_EQ(a.cmos[0].stall_us, 0);
    ASSERT_EQ(a.sites.size(), 1u);
    EXPECT_DOUBLE_EQ(a.sites[0].late_median_us, -2);
    EXPECT_DOUBLE_EQ(a.sites[0].stall_per_step_us, 0);
    EXPECT_DOUBLE_EQ(a.sites[0].late_fraction, 0);
    EXPECT_PRED2(contains, a.sites[0].suggestion, "hidden with 2.0 us to spare");
  }
}

TEST(AuditClosedForm, StallPerStepDividesByTheStepCount) {
  // Two steps of the same late prefetch (3 us each): 3 us of stall per step, 2 CMOs.
  Profile one = one_prefetch(12, true);
  std::vector<ProfileTask> tasks;
  for (int step = 1; step <= 2; ++step) {
    for (ProfileTask t : one.tasks) {
      t.step_id = step;
      t.start_us += (step - 1) * 100.0;
      tasks.push_back(t);
    }
  }
  const Audit a = audit_profile(sorted(tasks), nullptr, nullptr, CapReading::kCode);
  EXPECT_EQ(a.steps, 2u);
  ASSERT_EQ(a.sites.size(), 1u);
  EXPECT_EQ(a.sites[0].count, 2u);
  EXPECT_DOUBLE_EQ(a.sites[0].stall_per_step_us, 3);
  EXPECT_DOUBLE_EQ(a.sites[0].late_max_us, 3);
}

TEST(AuditClosedForm, PercentileInterpolatesLinearly) {
  EXPECT_DOUBLE_EQ(percentile({}, 0.5), 0);
  EXPECT_DOUBLE_EQ(percentile({4, 1, 3, 2}, 0.5), 2.5);
  EXPECT_DOUBLE_EQ(percentile({4, 1, 3, 2}, 0.0), 1);
  EXPECT_DOUBLE_EQ(percentile({4, 1, 3, 2}, 1.0), 4);
  EXPECT_DOUBLE_EQ(percentile({10, 20}, 0.1), 11);
}

TEST(AuditClosedForm, TokenCountIsReadFromTheMatmulShapes) {
  const Scenario scenario = qwen3_8b(16);
  TempDir tmp;
  const Profile p = export_and_load(scenario, tmp, "t16", 1);
  ASSERT_TRUE(infer_num_tokens(p).has_value());
  EXPECT_EQ(*infer_num_tokens(p), scenario.plan.tokens.padded_tokens);
  EXPECT_EQ(*infer_num_tokens(p), 16);
  EXPECT_FALSE(infer_num_tokens(one_prefetch(12, true)).has_value());  // no input shapes
}

}  // namespace
}  // namespace pt
