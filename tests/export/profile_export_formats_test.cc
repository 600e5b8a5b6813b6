// The files export-profile writes for the Ascend tools beside the device tasks: the Overlap
// Analysis lanes, ProfilerStep ranges, host launches and their flows, step_trace_time.csv,
// communication.json / communication_matrix.json, the PMU columns, the ranks of a cluster and the
// SQLite export. Each checked in closed form against the simulation it renders.
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <sqlite3.h>

#include "export/profile_export.h"
#include "sim/scenario.h"
#include "sim/simulated_run.h"
#include "test_support.h"
#include "util/csv.h"

namespace pt {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using Files = std::vector<std::pair<std::string, std::string>>;

const Scenario& qwen3_8b_t16() {
  static const Scenario s = [] {
    ScenarioInputs in;
    in.model = "Qwen3-8B";
    in.deployment.num_tokens = 16;
    in.use_process_env = false;
    return load_scenario(in);
  }();
  return s;
}

Files export_with(const std::string& layout, int steps, int ranks = 1, double jitter = 0, const std::string& format = "text") {
  ProfileExportOptions o;
  o.layout = layout;
  o.steps = steps;
  o.ranks = ranks;
  o.jitter_pct = jitter;
  o.format = format;
  return export_profile(qwen3_8b_t16(), o);
}

const Files& one_step() {
  static const Files f = export_with("torch_npu", 1);
  return f;
}
const Files& two_steps() {
  static const Files f = export_with("torch_npu", 2);
  return f;
}
const Files& cluster() {
  static const Files f = export_with("torch_npu", 2, 4, 3.0);
  return f;
}

std::vector<std::string> named(const Files& files, const std::string& suffix) {
  std::vector<std::string> out;
  for (const auto& [rel, content] : files) {
    if (rel.ends_with(suffix)) out.push_back(content);
  }
  return out;
}
std::string one_named(const Files& files, const std::string& suffix) {
  auto v = named(files, suffix);
  EXPECT_EQ(v.size(), 1u) << suffix;
  return v.empty() ? "" : v.front();
}

double simulated_step_us() {
  SimOptions o;
  o.cap_reading = qwen3_8b_t16().cap_reading;
  return simulate_step(qwen3_8b_t16().plan, qwen3_8b_t16().config, o).step_time_us;
}

struct Trace {
  std::map<std::string, long long> pid;  // process name -> pid
  std::map<std::pair<long long, long long>, std::string> thread;
  std::vector<json> events;
  std::vector<json> x(const std::string& process, const std::string& thread_name = "") const {
    std::vector<json> out;
    for (const auto& e : events) {
      if (e.value("ph", "") != "X" || e.at("pid") != pid.at(process)) continue;
      if (!thread_name.empty() && thread.at({e.at("pid"), e.at("tid")}) != thread_name) continue;
      out.push_back(e);
    }
    return out;
  }
};
Trace trace_of(const std::string& text) {
  Trace t;
  t.events = json::parse(text).get<std::vector<json>>();
  for (const auto& e : t.events) {
    if (e.value("ph", "") != "M") continue;
    if (e.at("name") == "process_name") t.pid[e.at("args").at("name")] = e.at("pid");
    if (e.at("name") == "thread_name") t.thread[{e.at("pid"), e.at("tid")}] = e.at("args").at("name");
  }
  return t;
}
// Relative to the export's base, from the digits (a double holds epoch microseconds to 0.25 us only).
double ts(const json& e) {
  const std::string text = e.at("ts").get<std::string>();
  const size_t dot = text.find('.');
  const double whole = static_cast<double>(std::stoll(text.substr(0, dot)) - 1763856000000000LL);
  return dot == std::string::npos ? whole : whole + std::stod("0" + text.substr(dot));
}
double dur(const json& e) { return e.at("dur").get<double>(); }
double lane_total(const Trace& t, const std::string& lane) {
  double s = 0;
  for (const auto& e : t.x("Overlap Analysis", lane)) s += dur(e);
  return s;
}

TEST(ProfileExportOverlap, TheLanesTileTheStepAsMsprofDerivesThem) {
  const Trace t = trace_of(one_named(one_step(), "trace_view.json"));
  for (const char* lane : {"Computing", "Communication", "Communication(Not Overlapped)", "Free"}) {
    EXPECT_FALSE(t.x("Overlap Analysis", lane).empty()) << lane;
  }
  // Computing is the union of the compute tasks (never CMO, events or HCCL): the tasks of stream 2
  // run one at a time, so it is their sum.
  double compute = 0, comm = 0;
  for (const auto& e : t.x("Ascend Hardware")) {
    const std::string type = e.at("args").at("Task Type");
    if (type == "AI_CORE" || type == "AI_VECTOR_CORE") compute += dur(e);
    if (type == "COMMUNICATION") comm += dur(e);
  }
  EXPECT_NEAR(lane_total(t, "Computing"), compute, 1e-3 * t.x("Ascend Hardware").size());
  EXPECT_NEAR(lane_total(t, "Communication"), comm, 1e-3 * t.x("Ascend Hardware").size());
  // The collectives run on the compute stream: none hides behind compute.
  EXPECT_NEAR(lane_total(t, "Communication(Not Overlapped)"), comm, 1e-2);
  // Computing + not overlapped communication + free = the step, which is the simulated step.
  const double step = simulated_step_us();
  EXPECT_NEAR(lane_total(t, "Computing") + lane_total(t, "Communication(Not Overlapped)") + lane_total(t, "Free"), step,
              1e-6 * step + 0.05);
  // compare's E2E time: first to last Overlap Analysis event.
  double lo = 1e300, hi = -1e300;
  for (const auto& e : t.x("Overlap Analysis")) {
    lo = std::min(lo, ts(e));
    hi = std::max(hi, ts(e) + dur(e));
  }
  EXPECT_NEAR(hi - lo, step, 1e-6 * step + 0.01);
}

// Issue 12: the prefetch in the trace as a viewer shows it. Every CMO on the prefetch stream has a
// fork flow from its EVENT_RECORD and a join flow to the EVENT_WAIT that lets the compute stream
// through, each point on the start edge of its slice (the slice's own ts, as the profiler anchors
// torch_to_npu), or inside the wait when the wait began before the CMO; the CMO names its layer,
// site and bytes; an L2 counter; every dur is whole ns, so ts + dur is the rounded end.
TEST(ProfileExportTrace, PrefetchFlowsAtTheEdgesOfTheirSlicesAndAnL2Counter) {
  const Trace t = trace_of(one_named(two_steps(), "trace_view.json"));
  const long long hw = t.pid.at("Ascend Hardware");
  std::map<long long, std::vector<std::pair<std::string, std::string>>> slices;  // tid -> (ts, name)
  std::map<long long, std::vector<std::pair<double, double>>> spans;
  size_t cmos = 0;
  for (const auto& e : t.x("Ascend Hardware")) {
    slices[e.at("tid")].emplace_back(e.at("ts"), e.at("name"));
    spans[e.at("tid")].emplace_back(ts(e), ts(e) + dur(e));
    if (e.at("name") == "CMO" && e.at("tid") == kPrefetchStreamId) {
      ++cmos;
      const json& p = e.at("args").at("prefetch_tuner");
      EXPECT_FALSE(p.at("site").get<std::string>().empty());
      EXPECT_TRUE(p.at("bytes").is_number_integer());
      EXPECT_GT(p.at("bytes").get<long long>(), 0);
      EXPECT_GE(p.at("layer").get<int>(), 0);
    }
  }
  ASSERT_GT(cmos, 0u);
  for (const auto& e : t.events) {
    if (e.value("ph", "") != "X") continue;
    const std::string d = e.at("dur").dump();
    const size_t dot = d.find('.');
    EXPECT_TRUE(dot == std::string::npos || d.size() - dot - 1 <= 3) << "dur " << d << " finer than the ns of ts";
  }
  std::map<long long, std::map<std::string, json>> flows;  // id -> phase -> event
  for (const auto& e : t.events) {
    if (e.value("cat", "") == "prefetch") flows[e.at("id")][e.at("ph")] = e;
  }
  size_t forks = 0, joins = 0;
  auto slice_at = [&](const json& point) -> std::string {
    for (const auto& [at, name] : slices[point.at("tid")]) {
      if (at == point.at("ts").get<std::string>()) return name;
    }
    return "";
  };
  for (const auto& [id, phases] : flows) {
    SCOPED_TRACE(id);
    ASSERT_TRUE(phases.count("s") && phases.count("f"));
    const json& s = phases.at("s");
    const json& f = phases.at("f");
    EXPECT_EQ(s.at("pid"), hw);
    EXPECT_EQ(f.value("bp", ""), "e");
    EXPECT_LT(ts(s), ts(f) + 1e-9) << "a flow never goes back in time";
    if (s.at("name") == "fork") {
      ++forks;
      EXPECT_EQ(slice_at(s), "EVENT_RECORD");
      EXPECT_EQ(slice_at(f), "CMO");
    } else {
      ++joins;
      EXPECT_EQ(s.at("name"), "join");
      EXPECT_EQ(slice_at(s), "CMO");
      if (slice_at(f).empty()) {
        // The wait began before the queued CMO: the point is inside the wait, after the CMO starts.
        bool inside = false;
        for (const auto& [a, b] : spans[f.at("tid")]) inside = inside || (a < ts(f) && ts(f) < b);
        EXPECT_TRUE(inside) << f.dump();
      } else {
        EXPECT_EQ(slice_at(f), "EVENT_WAIT");
      }
    }
  }
  EXPECT_EQ(forks, cmos);
  EXPECT_EQ(joins, cmos);
  size_t samples = 0;
  for (const auto& e : t.events) {
    if (e.value("ph", "") != "C") continue;
    ++samples;
    EXPECT_EQ(e.at("name"), "L2 prefetched bytes");
    EXPECT_TRUE(e.at("args").at("bytes").is_number_integer());
  }
  EXPECT_GT(samples, cmos);
}

TEST(ProfileExportHost, OneProfilerStepPerStepHoldingEveryLaunchWithABoundFlow) {
  const Trace t = trace_of(one_named(two_steps(), "trace_view.json"));
  std::vector<json> steps, launches;
  for (const auto& e : t.x("Python")) {
    const std::string name = e.at("name");
    (name.starts_with("ProfilerStep#") ? steps : launches).push_back(e);
    EXPECT_EQ(e.at("cat"), "cpu_op");
  }
  ASSERT_EQ(steps.size(), 2u);
  EXPECT_EQ(steps[0].at("name"), "ProfilerStep#1");
  EXPECT_EQ(steps[1].at("name"), "ProfilerStep#2");
  EXPECT_LE(ts(steps[0]) + dur(steps[0]), ts(steps[1])) << "steps overlap";
  // One launch per device task but the events (the CMO's launch is npu_prefetch).
  size_t device = 0, cmo = 0;
  for (const auto& e : t.x("Ascend Hardware")) {
    const std::string type = e.at("args").at("Task Type");
    device += type != "EVENT_RECORD" && type != "EVENT_WAIT";
    cmo += type == "CMO";
  }
  EXPECT_EQ(launches.size(), device);
  EXPECT_EQ(std::count_if(launches.begin(), launches.end(), [](const json& e) { return e.at("name") == "npu_prefetch"; }),
            static_cast<long>(cmo));
  // Launches run one at a time, each inside its step.
  std::sort(launches.begin(), launches.end(), [](const json& a, const json& b) { return ts(a) < ts(b); });
  for (size_t i = 1; i < launches.size(); ++i) EXPECT_LE(ts(launches[i - 1]) + dur(launches[i - 1]), ts(launches[i]) + 1e-6);
  // Every flow starts at a launch and ends where a device task starts, later.
  std::map<long long, json> starts, ends;
  for (const auto& e : t.events) {
    if (e.value("cat", "") != "async_npu") continue;
    (e.at("ph") == "s" ? starts : ends)[e.at("id").get<long long>()] = e;
  }
  EXPECT_EQ(starts.size(), device);
  std::set<std::string> device_starts;
  for (const auto& e : t.x("Ascend Hardware")) device_starts.insert(e.at("ts"));
  for (const auto& [id, s] : starts) {
    ASSERT_TRUE(ends.count(id)) << id;
    EXPECT_EQ(s.at("pid"), t.pid.at("Python"));
    EXPECT_EQ(ends[id].at("pid"), t.pid.at("Ascend Hardware"));
    EXPECT_TRUE(device_starts.count(ends[id].at("ts"))) << ends[id].dump();
    EXPECT_LT(ts(s), ts(ends[id]));
  }
}

TEST(ProfileExportStepTrace, OneRowPerStepWhoseStageIsTheStep) {
  const CsvTable t = parse_csv(one_named(two_steps(), "step_trace_time.csv"), "step_trace_time.csv");
  EXPECT_EQ(t.header, (std::vector<std::string>{"Device_id", "Step", "Computing", "Communication(Not Overlapped)", "Overlapped",
                                                "Communication", "Free", "Stage", "Bubble",
                                                "Communication(Not Overlapped and Exclude Receive)", "Preparing"}));
  ASSERT_EQ(t.rows.size(), 2u);
  const double step = simulated_step_us();
  const Trace trace = trace_of(one_named(one_step(), "trace_view.json"));
  for (size_t i = 0; i < 2; ++i) {
    const auto& r = t.rows[i];
    EXPECT_EQ(r.fields[1], std::to_string(i + 1));
    const double computing = csv_number(t, r, 2), not_overlapped = csv_number(t, r, 3), overlapped = csv_number(t, r, 4),
                 comm = csv_number(t, r, 5), free = csv_number(t, r, 6), stage = csv_number(t, r, 7);
    EXPECT_NEAR(stage, step, 0.01);
    EXPECT_NEAR(computing + not_overlapped + free, stage, 0.01);
    EXPECT_NEAR(overlapped + not_overlapped, comm, 0.01);
    EXPECT_NEAR(computing, lane_total(trace, "Computing"), 0.01);
    EXPECT_GT(csv_number(t, r, 10), 0) << "Preparing: the host starts the step before the device";
  }
}

TEST(ProfileExportCommunication, EveryCollectiveOnceWithItsTimeAndBytes) {
  const json comm = json::parse(one_named(two_steps(), "communication.json"));
  ASSERT_EQ(comm.size(), 2u);
  const Trace t = trace_of(one_named(two_steps(), "trace_view.json"));
  std::map<std::string, double> durations;  // collective name -> duration (trace)
  for (const auto& e : t.x("Ascend Hardware")) {
    if (e.at("args").at("Task Type") == "COMMUNICATION") durations[e.at("name")] = dur(e);
  }
  // The same ops on the HCCL lane of their group, named as torch_npu names the group.
  EXPECT_EQ(t.x("HCCL", "Group tp_0 Communication").size(), durations.size());
  size_t ops = 0;
  for (const auto& [step, body] : comm.items()) {
    EXPECT_TRUE(step == "step1" || step == "step2") << step;
    EXPECT_TRUE(body.at("p2p").empty());
    for (const auto& [key, op] : body.at("collective").items()) {
      if (key == "Total Op Info") continue;
      ++ops;
      const std::string name = key.substr(0, key.find('@'));
      ASSERT_TRUE(durations.count(name)) << key;
      const json& time = op.at("Communication Time Info");
      EXPECT_NEAR(time.at("Elapse Time(ms)").get<double>() * 1000, durations[name], 1e-3);
      // One rank: nobody to wait for.
      EXPECT_EQ(time.at("Wait Time(ms)").get<double>(), 0);
      EXPECT_NEAR(time.at("Transit Time(ms)").get<double>(), time.at("Elapse Time(ms)").get<double>(), 1e-9);
      const json& hccs = op.at("Communication Bandwidth Info").at("HCCS");
      // The simulation's transfer: factor x bytes at comm_GBps, after the fixed latency.
      const double rate = qwen3_8b_t16().hardware.comm_GBps * 1e3;  // bytes per us
      const double transfer_us = durations[name] - qwen3_8b_t16().hardware.comm_latency_us;
      // The trace's dur is the difference of the ends rounded to ns: 1 ns of transfer either way.
      EXPECT_NEAR(hccs.at("Transit Size(MB)").get<double>() * 1e6, transfer_us * rate, 1.0 + 1e-3 * rate);
    }
  }
  EXPECT_EQ(ops, durations.size());
}

TEST(ProfileExportCommunication, TheMatrixHoldsEachLinkOfTheGroupAndTheLocalEntry) {
  const json m = json::parse(one_named(one_step(), "communication_matrix.json"));
  const json& step = m.at("step1").at("collective");
  ASSERT_FALSE(step.empty());
  std::set<std::string> kinds;
  for (const auto& [key, links] : step.items()) {
    const std::string kind = key.substr(0, key.find('@'));
    kinds.insert(kind.substr(kind.rfind('-') + 1));
    // Rank 0 of TP4: it sends to 1, 2 and 3, and "0-0" maps the group's local rank 0 to global rank 0.
    EXPECT_EQ(links.size(), 4u) << key;
    EXPECT_EQ(links.at("0-0").at("Transport Type"), "LOCAL");
    for (const char* l : {"0-1", "0-2", "0-3"}) EXPECT_EQ(links.at(l).at("Transport Type"), "HCCS") << key;
  }
  EXPECT_TRUE(kinds.count("total"));
  EXPECT_TRUE(kinds.count("top1"));
  const json meta = json::parse(one_named(one_step(), "profiler_metadata.json"));
  EXPECT_EQ(meta.at("parallel_group_info").at("tp_0").at("global_ranks"), json({0, 1, 2, 3}));
  EXPECT_EQ(meta.at("distributed_args").at("tensor_model_parallel_size"), 4);
}

TEST(ProfileExportPmu, TimesOfTheCoreAndTheirShares) {
  const CsvTable t = parse_csv(one_named(one_step(), "kernel_details.csv"), "kernel_details.csv");
  const size_t core = t.require_column({"Accelerator Core"}), d = t.require_column({"Duration(us)"}),
               aic = t.require_column({"aicore_time(us)"}), mac = t.require_column({"aic_mac_time(us)"}),
               mac_ratio = t.require_column({"aic_mac_ratio"}), cycles = t.require_column({"aic_total_cycles"}),
               aiv = t.require_column({"aiv_time(us)"}), vec = t.require_column({"aiv_vec_time(us)"}),
               mte2 = t.require_column({"aiv_mte2_ratio"});
  const double overhead = qwen3_8b_t16().hardware.op_overhead_us;
  size_t cube = 0, vector = 0;
  for (const auto& r : t.rows) {
    if (r.fields[core] == "HCCL") {
      EXPECT_EQ(r.fields[aic], "N/A");
      continue;
    }
    const double duration = csv_number(t, r, d);
    if (r.fields[core] == "AI_CORE") {
      ++cube;
      const double a = csv_number(t, r, aic);
      EXPECT_NEAR(a, duration - overhead, 2e-3);  // the task less the launch overhead
      EXPECT_LE(csv_number(t, r, mac), a + 1e-3);
      EXPECT_NEAR(csv_number(t, r, mac_ratio), csv_number(t, r, mac) / a, 1e-3);
      EXPECT_NEAR(csv_number(t, r, cycles), a * 1850, 2);  // at the AI-core clock
      EXPECT_EQ(csv_number(t, r, aiv), 0);
    } else {
      ++vector;
      EXPECT_NEAR(csv_number(t, r, aiv), duration - overhead, 2e-3);
      EXPECT_LE(csv_number(t, r, vec), csv_number(t, r, aiv) + 1e-3);
      EXPECT_LE(csv_number(t, r, mte2), 1.0 + 1e-9);
      EXPECT_EQ(csv_number(t, r, aic), 0);
    }
  }
  EXPECT_GT(cube, 0u);
  EXPECT_GT(vector, 0u);
}

// ---- a cluster ------------------------------------------------------------------------------

TEST(ProfileExportCluster, OneRunDirectoryPerRankNamedAndNumberedAsTorchNpuDoes) {
  std::set<std::string> runs;
  for (const auto& [rel, content] : cluster()) runs.insert(rel.substr(0, rel.find('/')));
  EXPECT_EQ(runs, (std::set<std::string>{"localhost.localdomain_4242_20251123000000000_ascend_pt",
                                         "localhost.localdomain_4243_20251123000000000_ascend_pt",
                                         "localhost.localdomain_4244_20251123000000000_ascend_pt",
                                         "localhost.localdomain_4245_20251123000000000_ascend_pt"}));
  for (int r = 0; r < 4; ++r) {
    const json info = json::parse(one_named(cluster(), fmt::format("profiler_info_{}.json", r)));
    EXPECT_EQ(info.at("rank_id"), r);
    const json dev = json::parse(one_named(cluster(), fmt::format("device_{}/info.json.{}", r, r)));
    EXPECT_EQ(dev.at("rank_id"), r);
  }
  EXPECT_PRED2(test::contains, test::error_of([] { export_with("torch_npu", 1, 3); }), "--ranks 3");
}

TEST(ProfileExportCluster, EachCollectiveEndsTogetherOnEveryRankAndEachRankWaitsForTheLast) {
  // collective name -> per rank (start, end, wait)
  std::map<std::string, std::map<int, std::tuple<double, double, double>>> ops;
  for (int r = 0; r < 4; ++r) {
    const json comm = json::parse(named(cluster(), "communication.json").at(static_cast<size_t>(r)));
    for (const auto& [step, body] : comm.items()) {
      for (const auto& [key, op] : body.at("collective").items()) {
        if (key == "Total Op Info") continue;
        const json& t = op.at("Communication Time Info");
        const double start = t.at("Start Timestamp(us)").get<double>() - 1763856000000000.0;
        const double elapse = t.at("Elapse Time(ms)").get<double>() * 1000;
        ops[key][r] = {start, start + elapse, t.at("Wait Time(ms)").get<double>() * 1000};
      }
    }
  }
  ASSERT_FALSE(ops.empty());
  size_t waited = 0;
  for (const auto& [key, ranks] : ops) {
    ASSERT_EQ(ranks.size(), 4u) << key << ": the same op name on every rank (slow_rank groups by it)";
    const double end = std::get<1>(ranks.at(0));
    double latest = -1e300, min_wait = 1e300;
    for (const auto& [r, v] : ranks) latest = std::max(latest, std::get<0>(v));
    for (const auto& [r, v] : ranks) {
      // Ends together; "Start Timestamp(us)" is a JSON number, which a double reads to 0.25 us at 1.7e15.
      EXPECT_NEAR(std::get<1>(v), end, 0.3) << key << " rank " << r;
      // A rank waits from its arrival until the last rank's.
      EXPECT_NEAR(std::get<2>(v), latest - std::get<0>(v), 0.3) << key << " rank " << r;
      min_wait = std::min(min_wait, std::get<2>(v));
      waited += std::get<2>(v) > 0.01;
    }
    EXPECT_EQ(min_wait, 0) << key << ": the last to arrive waits for nobody";
  }
  EXPECT_GT(waited, 0u) << "with 3 % jitter some rank must wait for another";
}

// ---- SQLite ----------------------------------------------------------------------------------

struct Db {
  sqlite3* db = nullptr;
  std::string path;
  explicit Db(const std::string& content) {
    path = test::make_temp_dir() + "/p.db";
    test::write_file(path, content);
    EXPECT_EQ(sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
  }
  ~Db() {
    sqlite3_close(db);
    fs::remove_all(fs::path(path).parent_path());
  }
  long long count(const std::string& sql) const {
    sqlite3_stmt* s = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(db, sql.c_str(), -1, &s, nullptr), SQLITE_OK) << sql << ": " << sqlite3_errmsg(db);
    long long v = -1;
    if (s && sqlite3_step(s) == SQLITE_ROW) v = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    return v;
  }
};

TEST(ProfileExportDb, TheTablesMsprofAnalyzesRecipesQueryHoldTheRun) {
  const Files files = export_with("torch_npu", 2, 1, 0, "db");
  const Db db(one_named(files, "ascend_pytorch_profiler_0.db"));
  const Trace t = trace_of(one_named(files, "trace_view.json"));
  const auto device = t.x("Ascend Hardware");
  EXPECT_EQ(db.count("SELECT count(*) FROM TASK"), static_cast<long long>(device.size()));
  size_t compute = 0, comm = 0;
  for (const auto& e : device) {
    const std::string type = e.at("args").at("Task Type");
    compute += type == "AI_CORE" || type == "AI_VECTOR_CORE";
    comm += type == "COMMUNICATION";
  }
  EXPECT_EQ(db.count("SELECT count(*) FROM COMPUTE_TASK_INFO JOIN TASK USING (globalTaskId)"), static_cast<long long>(compute));
  EXPECT_EQ(db.count("SELECT count(*) FROM COMMUNICATION_OP"), static_cast<long long>(comm));
  // Every reference into STRING_IDS resolves; every collective has its CANN API launch (slow_rank's join).
  EXPECT_EQ(db.count("SELECT count(*) FROM TASK WHERE taskType NOT IN (SELECT id FROM STRING_IDS)"), 0);
  EXPECT_EQ(db.count("SELECT count(*) FROM COMPUTE_TASK_INFO WHERE opType NOT IN (SELECT id FROM STRING_IDS)"), 0);
  EXPECT_EQ(db.count("SELECT count(*) FROM COMMUNICATION_OP JOIN CANN_API USING (connectionId)"), static_cast<long long>(comm));
  EXPECT_EQ(db.count("SELECT count(*) FROM COMMUNICATION_OP JOIN ENUM_HCCL_DATA_TYPE ON dataType = ENUM_HCCL_DATA_TYPE.id"),
            static_cast<long long>(comm));
  EXPECT_EQ(db.count("SELECT count(*) FROM STEP_TIME"), 2);
  EXPECT_EQ(db.count("SELECT rankId FROM RANK_DEVICE_MAP"), 0);
  EXPECT_EQ(db.count("SELECT count(*) FROM META_DATA WHERE name = 'parallel_group_info'"), 1);
  EXPECT_EQ(db.count("SELECT count(*) FROM TASK_PMU_INFO JOIN STRING_IDS s ON name = s.id WHERE s.value = 'aic_mac_time'"),
            db.count("SELECT count(*) FROM COMPUTE_TASK_INFO JOIN STRING_IDS ON taskType = id WHERE value = 'AI_CORE'"));
  // The task times are the trace's, in nanoseconds.
  EXPECT_EQ(db.count("SELECT min(startNs) FROM TASK"), 1763856000000000000LL);
  const Db analysis(one_named(files, "analysis.db"));
  EXPECT_EQ(analysis.count("SELECT count(*) FROM StepTraceTime"), 2);
  EXPECT_EQ(analysis.count("SELECT count(*) FROM CommAnalyzerTime"), static_cast<long long>(comm));
  EXPECT_GT(analysis.count("SELECT count(*) FROM CommAnalyzerMatrix WHERE hccl_op_name LIKE '%-total'"), 0);
}

TEST(ProfileExportDb, MsprofLayoutWritesItsOwnDbBesideTheText) {
  const Files files = export_with("msprof", 1, 1, 0, "db");
  const Db db(one_named(files, "msprof_20251123000000.db"));
  EXPECT_GT(db.count("SELECT count(*) FROM TASK"), 0);
  EXPECT_EQ(db.count("SELECT count(*) FROM sqlite_master WHERE name = 'PYTORCH_API'"), 0);
}

// ---- golden summaries, one per format ----------------------------------------------------------

// Each file's name, its size in lines and its first lines (the structure, not every number).
std::string summary(const Files& files) {
  std::ostringstream out;
  std::vector<std::pair<std::string, std::string>> sorted(files.begin(), files.end());
  std::sort(sorted.begin(), sorted.end());
  for (const auto& [rel, content] : sorted) {
    if (rel.ends_with(".db")) {
      const Db db(content);
      out << "== " << rel << "\n";
      sqlite3_stmt* s = nullptr;
      sqlite3_prepare_v2(db.db, "SELECT name, sql FROM sqlite_master WHERE type = 'table' ORDER BY name", -1, &s, nullptr);
      while (sqlite3_step(s) == SQLITE_ROW) {
        const std::string name = reinterpret_cast<const char*>(sqlite3_column_text(s, 0));
        out << reinterpret_cast<const char*>(sqlite3_column_text(s, 1)) << "  -- " << db.count("SELECT count(*) FROM " + name)
            << " rows\n";
      }
      sqlite3_finalize(s);
      continue;
    }
    const size_t lines = static_cast<size_t>(std::count(content.begin(), content.end(), '\n'));
    out << "== " << rel << " (" << lines << " lines)\n";
    if (rel.ends_with(".json") && content.starts_with("[")) {
      // A trace: its metadata and its first event of each process.
      std::set<long long> seen;
      for (const auto& e : json::parse(content)) {
        if (e.value("ph", "") == "M") {
          out << e.dump() << "\n";
        } else if (e.value("ph", "") == "X" && seen.insert(e.at("pid").get<long long>()).second) {
          out << e.dump() << "\n";
        }
      }
      continue;
    }
    std::istringstream in(content);
    std::string line;
    for (int i = 0; i < 3 && std::getline(in, line); ++i) out << line.substr(0, 600) << "\n";
  }
  return out.str();
}

TEST(ProfileExportGolden, TorchNpuText) { test::expect_matches_golden(summary(one_step()), "export_qwen3_8b_t16.torch_npu.txt"); }
TEST(ProfileExportGolden, MsprofText) {
  test::expect_matches_golden(summary(export_with("msprof", 1)), "export_qwen3_8b_t16.msprof.txt");
}
TEST(ProfileExportGolden, TorchNpuDb) {
  Files dbs;
  for (const auto& f : export_with("torch_npu", 1, 1, 0, "db")) {
    if (f.first.ends_with(".db")) dbs.push_back(f);
  }
  test::expect_matches_golden(summary(dbs), "export_qwen3_8b_t16.torch_npu.db.txt");
}

}  // namespace
}  // namespace pt
