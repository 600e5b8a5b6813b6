// Timeline exports of a small real case: Qwen3-8B, TP4, W8A8, 8 tokens, default config, a3-die.
#include "export/timeline_export.h"

#include <algorithm>
#include <map>
#include <set>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "export/simulate_report.h"
#include "util/csv.h"
#include "sim/scenario.h"
#include "test_support.h"

namespace pt {
namespace {

using nlohmann::json;

Scenario small_scenario(const std::string& model = "Qwen3-8B", int num_tokens = 8,
                        const std::string& release = "v0.23.0", int tensor_parallel = 4) {
  ScenarioInputs in;
  in.model = model;
  in.vllm_ascend_version = release;
  in.hardware = "a3-die";
  in.deployment.tensor_parallel = tensor_parallel;
  in.deployment.quantization = Quantization::kW8A8Static;
  in.deployment.num_tokens = num_tokens;
  in.use_process_env = false;
  return load_scenario(in);
}

struct Exported {
  Scenario scenario;
  StepResult result;
  std::string csv, trace;
};

const Exported& qwen3_8b() {
  static const Exported e = [] {
    Exported x;
    x.scenario = small_scenario();
    x.result = simulate_step(x.scenario.plan, x.scenario.config, SimOptions{x.scenario.cap_reading, true});
    x.csv = timeline_csv(x.scenario.plan, x.result);
    x.trace = chrome_trace_json(x.scenario.plan, x.result);
    return x;
  }();
  return e;
}

// The trace with one event per line, so a golden diff points at the event that changed.
std::string one_event_per_line(const json& events) {
  std::string out = "[\n";
  for (size_t i = 0; i < events.size(); ++i) out += events[i].dump() + (i + 1 < events.size() ? ",\n" : "\n");
  return out + "]\n";
}

TEST(TimelineExport, CsvMatchesGolden) { test::expect_matches_golden(qwen3_8b().csv, "qwen3_8b_tp4_w8a8_t8.timeline.csv"); }

TEST(TimelineExport, TraceMatchesGolden) {
  const std::string& trace = qwen3_8b().trace;
  const json events = json::parse(trace);
  // The output is one compact JSON array and a newline (as trace_view.json); the golden file holds
  // the same events one per line.
  EXPECT_EQ(trace, events.dump() + "\n");
  test::expect_matches_golden(one_event_per_line(events), "qwen3_8b_tp4_w8a8_t8.trace.json");
}

// --- CSV structure ---

TEST(TimelineCsv, ExactlyOneHeaderLineAndUniformRows) {
  const std::string& csv = qwen3_8b().csv;
  ASSERT_EQ(csv.substr(0, csv.find('\n')), timeline_csv_header());
  // The header appears once.
  size_t count = 0;
  for (size_t pos = 0; (pos = csv.find(timeline_csv_header(), pos)) != std::string::npos; pos += 1) ++count;
  EXPECT_EQ(count, 1u);
  CsvTable table = parse_csv(csv, "timeline.csv");
  EXPECT_EQ(table.header.size(), 15u);
  ASSERT_EQ(table.rows.size(), qwen3_8b().result.timeline.size());
  for (const auto& row : table.rows) ASSERT_EQ(row.fields.size(), table.header.size()) << "line " << row.line;
  // Every line is one row: no field holds a newline, so row i is on line i + 2.
  for (size_t i = 0; i < table.rows.size(); ++i) EXPECT_EQ(table.rows[i].line, i + 2);
  EXPECT_EQ(csv.back(), '\n');
}

TEST(TimelineCsv, ProfilerColumnNamesAndValues) {
  CsvTable table = parse_csv(qwen3_8b().csv, "timeline.csv");
  const size_t name = table.require_column({"Name"}), stream = table.require_column({"Stream ID"}),
               start = table.require_column({"Start Time(us)"}), dur = table.require_column({"Duration(us)"}),
               bytes = table.require_column({"Prefetch Bytes"}), core = table.require_column({"Accelerator Core"});
  double last_compute_end = 0;
  int cmo_rows = 0;
  for (const auto& row : table.rows) {
    const double s = csv_number(table, row, start), d = csv_number(table, row, dur);
    EXPECT_GE(d, 0) << row.line;
    if (row.fields[name] == "CMO") {
      ++cmo_rows;
      EXPECT_EQ(row.fields[stream], "3") << row.line;
      EXPECT_EQ(row.fields[core], "CMO") << row.line;
      EXPECT_GT(csv_number(table, row, bytes), 0) << row.line;
    } else {
      EXPECT_EQ(row.fields[stream], "2") << row.line;
      // Compute-stream rows run back to back (3 decimals in the CSV).
      EXPECT_GE(s, last_compute_end - 0.0015) << row.line;
      last_compute_end = s + d;
    }
  }
  EXPECT_GT(cmo_rows, 0);
  EXPECT_NEAR(last_compute_end, qwen3_8b().result.step_time_us, 0.002);
}

// --- trace structure ---

TEST(ChromeTrace, IsAnArrayWithAscendHardwareProcessAndStreamThreads) {
  const json events = json::parse(qwen3_8b().trace);
  ASSERT_TRUE(events.is_array());
  bool process = false;
  std::set<std::string> threads;
  for (const auto& e : events) {
    if (e.at("ph") != "M") continue;
    if (e.at("name") == "process_name" && e.at("args").at("name") == "Ascend Hardware") process = true;
    if (e.at("name") == "thread_name") {
      threads.insert(e.at("args").at("name").get<std::string>());
      EXPECT_EQ(e.at("tid").get<int>(), std::stoi(e.at("args").at("name").get<std::string>().substr(7)));
    }
  }
  EXPECT_TRUE(process);
  EXPECT_EQ(threads, (std::set<std::string>{"Stream 2", "Stream 3"}));
}

TEST(ChromeTrace, CmoEventsAreOnTheCmoStream) {
  const json events = json::parse(qwen3_8b().trace);
  int cmo = 0;
  for (const auto& e : events) {
    if (e.at("ph") != "X" || e.at("name") != "CMO") continue;
    ++cmo;
    EXPECT_EQ(e.at("tid"), 3) << e.dump();
    EXPECT_EQ(e.at("args").at("Task Type"), "CMO");
    EXPECT_GT(e.at("args").at("Prefetch Bytes").get<double>(), 0);
    EXPECT_TRUE(e.at("args").contains("Site"));
  }
  // 36 layers x the 5 sites that fire at 8 tokens (attn.qkv, attn.o, attn.o/down_proj, mlp.gate_up, mlp.down).
  EXPECT_EQ(cmo, 36 * 5);
}

TEST(ChromeTrace, EveryFlowFinishHasAMatchingStart) {
  const json events = json::parse(qwen3_8b().trace);
  std::map<int, json> starts;
  int finishes = 0;
  for (const auto& e : events) {
    if (e.at("ph") == "s") {
      EXPECT_TRUE(starts.emplace(e.at("id").get<int>(), e).second) << "duplicate flow id " << e.dump();
    }
  }
  for (const auto& e : events) {
    if (e.at("ph") != "f") continue;
    ++finishes;
    auto it = starts.find(e.at("id").get<int>());
    ASSERT_NE(it, starts.end()) << e.dump();
    EXPECT_EQ(it->second.at("name"), e.at("name"));
    EXPECT_EQ(it->second.at("cat"), e.at("cat"));
    EXPECT_LE(it->second.at("ts").get<double>(), e.at("ts").get<double>() + 1e-9) << e.dump();
  }
  // A fork and a join flow per prefetch.
  EXPECT_EQ(finishes, 2 * 36 * 5);
  EXPECT_EQ(starts.size(), static_cast<size_t>(finishes));
}

void expect_no_overlap_per_thread(const json& events) {
  std::map<int, std::vector<std::pair<double, double>>> slices;
  for (const auto& e : events) {
    if (e.at("ph") != "X") continue;
    slices[e.at("tid").get<int>()].push_back({e.at("ts").get<double>(), e.at("dur").get<double>()});
  }
  EXPECT_FALSE(slices.empty());
  for (auto& [tid, list] : slices) {
    std::sort(list.begin(), list.end());
    for (size_t i = 1; i < list.size(); ++i) {
      EXPECT_GE(list[i].first, list[i - 1].first + list[i - 1].second - 1e-6)
          << "tid " << tid << ": slice at " << list[i].first << " starts before the previous one ends ("
          << list[i - 1].first << " + " << list[i - 1].second << ")";
    }
  }
}

TEST(ChromeTrace, SlicesOnEachThreadDoNotOverlap) { expect_no_overlap_per_thread(json::parse(qwen3_8b().trace)); }

TEST(ChromeTrace, HasL2CounterEvents) {
  const json events = json::parse(qwen3_8b().trace);
  int counters = 0;
  for (const auto& e : events) {
    if (e.at("ph") != "C") continue;
    ++counters;
    EXPECT_EQ(e.at("name"), "L2 prefetched bytes");
    EXPECT_GE(e.at("args").at("bytes").get<double>(), 0);
    EXPECT_LE(e.at("args").at("bytes").get<double>(), qwen3_8b().scenario.hardware.l2_size_bytes);
  }
  EXPECT_GT(counters, 0);
  EXPECT_EQ(static_cast<size_t>(counters), qwen3_8b().result.l2_samples.size());
}

TEST(ChromeTrace, XEventsMatchTheTimeline) {
  const json events = json::parse(qwen3_8b().trace);
  size_t x = 0;
  for (const auto& e : events) x += e.at("ph") == "X";
  EXPECT_EQ(x, qwen3_8b().result.timeline.size());
}

TEST(ChromeTrace, DeepSeekComputeStreamPrefetchesStayOnStream2) {
  // Up to v0.14 the MLA prefetches run in the current stream (v0.14.0rc1:vllm_ascend/attention/mla_v1.py:1410):
  // their CMO slices sit on tid 2 and have no flows.
  // TP16: DeepSeek-V3 W8A8 does not fit fewer 64 GiB dies.
  Scenario s = small_scenario("DeepSeek-V3", 8, "v0.14.0rc1", 16);
  StepResult r = simulate_step(s.plan, s.config, SimOptions{s.cap_reading, true});
  const json events = json::parse(chrome_trace_json(s.plan, r));
  int on_compute = 0;
  for (const auto& e : events) {
    if (e.at("ph") != "X" || e.at("name") != "CMO") continue;
    const std::string site = e.at("args").at("Site");
    if (e.at("tid") == 2) {
      ++on_compute;
      EXPECT_EQ(site.rfind("mla.", 0), 0u) << site;
    } else {
      EXPECT_NE(site.rfind("mla.", 0), 0u) << site;
    }
  }
  EXPECT_GT(on_compute, 0);
  expect_no_overlap_per_thread(events);
  // From v0.15 they moved to the prefetch stream (PR #6629).
  Scenario later = small_scenario("DeepSeek-V3", 8, "v0.15.0rc1", 16);
  const json later_events = json::parse(chrome_trace_json(later.plan, simulate_step(later.plan, later.config, SimOptions{later.cap_reading, true})));
  int mla_on_prefetch = 0;
  for (const auto& e : later_events) {
    if (e.at("ph") != "X" || e.at("name") != "CMO") continue;
    EXPECT_NE(e.at("tid"), 2) << e.dump();
    mla_on_prefetch += e.at("args").at("Site").get<std::string>().rfind("mla.", 0) == 0;
  }
  EXPECT_GT(mla_on_prefetch, 0);
  // The CSV of the same run parses with uniform rows.
  CsvTable table = parse_csv(timeline_csv(s.plan, r), "ds.csv");
  for (const auto& row : table.rows) ASSERT_EQ(row.fields.size(), table.header.size());
}

TEST(TimelineExport, EmptyTimelineGivesHeaderAndMetadataOnly) {
  const Exported& e = qwen3_8b();
  StepResult none = simulate_step(e.scenario.plan, e.scenario.config, SimOptions{});  // not recorded
  EXPECT_EQ(timeline_csv(e.scenario.plan, none), std::string(timeline_csv_header()) + "\n");
  const json events = json::parse(chrome_trace_json(e.scenario.plan, none));
  for (const auto& ev : events) EXPECT_EQ(ev.at("ph"), "M");
  EXPECT_EQ(events.size(), 7u);  // process name, labels, sort index; 2 x (thread name, sort index)
}

}  // namespace
}  // namespace pt
