// The streaming Chrome-trace tokenizer: fields decoded, everything else skipped, the same events
// whatever the chunk size, and every truncation or syntax error reported with its byte offset.
#include "profile/trace_stream.h"

#include <cmath>
#include <filesystem>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "test_support.h"

namespace pt {
namespace {

using test::contains;
using test::error_of;

// Everything the parser reports about an event, as one comparable line.
std::string describe(const TraceEventFields& e) {
  return fmt::format("@{} ph={} name={} pid={}:{} tid={}:{} ts={}:{:.3f} dur={:.3f} argname={} type={} ps={} s={} task={} "
                     "site={} bytes={} layer={}",
                     e.offset, e.ph ? e.ph : '0', e.name, e.has_pid, e.pid, e.has_tid, e.tid, e.has_ts, e.ts, e.dur,
                     e.arg_name, e.task_type, e.physic_stream_id, e.stream_id, e.task_id, e.site, e.prefetch_bytes,
                     e.layer);
}

std::vector<std::string> describe_text(std::string_view text) {
  std::vector<std::string> out;
  parse_trace_text(text, "t.json", [&](const TraceEventFields& e) { out.push_back(describe(e)); });
  return out;
}

std::vector<std::string> describe_file(const std::string& path, size_t chunk) {
  std::vector<std::string> out;
  parse_trace_file(path, [&](const TraceEventFields& e) { out.push_back(describe(e)); }, chunk);
  return out;
}

TEST(TraceStream, DecodesTheFieldsItKeeps) {
  const std::string text = R"([{"name": "a\"b\\c\u00e9\ud83d\ude00\/", "ph": "X", "pid": 800, "tid": 3,
    "ts": "1704161511422904.204", "dur": 1.35e0, "cat": "x", "id": -12, "flag": true, "none": null, "f": false,
    "args": {"Model Id": 4294967295, "Task Type": "AI_CORE", "Physic Stream Id": 7, "Stream Id": 3, "Task Id": "279",
             "nested": {"Task Id": 1, "deep": [[1, 2], {"x": "}"}]}, "Site": "mlp.down", "Prefetch Bytes": 1.5e6,
             "Layer": 4, "name": "arg"}}])";
  std::vector<std::string> names;
  std::vector<TraceEventFields> events;
  parse_trace_text(text, "t.json", [&](const TraceEventFields& e) {
    names.emplace_back(e.name);
    events.push_back(e);
    EXPECT_EQ(e.task_type, "AI_CORE");
    EXPECT_EQ(e.site, "mlp.down");
    EXPECT_EQ(e.arg_name, "arg");
  });
  ASSERT_EQ(events.size(), 1u);
  const TraceEventFields& e = events[0];
  EXPECT_EQ(names[0], "a\"b\\c\xC3\xA9\xF0\x9F\x98\x80/");
  EXPECT_EQ(e.offset, 1u);  // the event's '{', after the '['
  EXPECT_EQ(e.ph, 'X');
  EXPECT_TRUE(e.has_pid && e.has_tid && e.has_ts);
  EXPECT_EQ(e.pid, 800);
  EXPECT_EQ(e.tid, 3);
  EXPECT_DOUBLE_EQ(e.ts, 1704161511422904.204);
  EXPECT_DOUBLE_EQ(e.dur, 1.35);
  EXPECT_EQ(e.physic_stream_id, 7);
  EXPECT_EQ(e.stream_id, 3);
  EXPECT_EQ(e.task_id, 279);  // a numeric string; the nested "Task Id" is not an arg of the event
  EXPECT_DOUBLE_EQ(e.prefetch_bytes, 1.5e6);
  EXPECT_EQ(e.layer, 4);
}

TEST(TraceStream, AbsentFieldsKeepTheirDefaults) {
  const auto d = describe_text(R"([{"ph": "s", "args": {"Task Id": "N/A", "Stream Id": null}}, {}])");
  ASSERT_EQ(d.size(), 2u);
  EXPECT_TRUE(contains(d[0], "ph=s name= pid=false:0 tid=false:0 ts=false:0.000")) << d[0];
  EXPECT_TRUE(contains(d[0], "task=-1")) << d[0];
  EXPECT_TRUE(contains(d[1], "ph=0")) << d[1];
}

TEST(TraceStream, TopLevelObjectReadsOnlyTraceEvents) {
  const std::string text = R"({"schemaVersion": 1, "other": {"traceEvents": [{"ph": "X", "name": "decoy"}]},
    "traceEvents": [{"ph": "X", "name": "real", "pid": 1, "tid": 2, "ts": 5}],
    "displayTimeUnit": "ns", "tail": [1, -2.5e-3, "]}", {"a": [true, false, null]}]})";
  const auto d = describe_text(text);
  ASSERT_EQ(d.size(), 1u);
  EXPECT_TRUE(contains(d[0], "name=real")) << d[0];
}

TEST(TraceStream, ObjectWithoutTraceEventsAndEmptyArrayHaveNoEvents) {
  EXPECT_TRUE(describe_text(R"({"displayTimeUnit": "ns"})").empty());
  EXPECT_TRUE(describe_text("[]").empty());
  EXPECT_TRUE(describe_text(" \n{ } \n").empty());
  EXPECT_TRUE(describe_text("\xEF\xBB\xBF[]").empty());  // byte order mark
}

TEST(TraceStream, NonObjectElementsAreSkipped) {
  const auto d = describe_text(R"([1, "x", [{"ph": "X"}], null, {"ph": "X", "name": "kept"}, true])");
  ASSERT_EQ(d.size(), 1u);
  EXPECT_TRUE(contains(d[0], "name=kept")) << d[0];
}

TEST(TraceStream, StringPidsGetStableIdsAndNumericStringsParse) {
  std::vector<TraceEventFields> ev;
  parse_trace_text(R"([{"pid": "Spans", "tid": "12"}, {"pid": "Traces"}, {"pid": "Spans", "tid": 1.0}])", "t.json",
                   [&](const TraceEventFields& e) { ev.push_back(e); });
  ASSERT_EQ(ev.size(), 3u);
  EXPECT_TRUE(ev[0].has_pid);
  EXPECT_LT(ev[0].pid, -1);
  EXPECT_NE(ev[0].pid, ev[1].pid);
  EXPECT_EQ(ev[0].pid, ev[2].pid);
  EXPECT_EQ(ev[0].tid, 12);
  EXPECT_EQ(ev[2].tid, 1);
}

TEST(TraceStream, EventOffsetsCountBytes) {
  std::vector<uint64_t> offsets;
  parse_trace_text("[ {\"ph\":\"X\"},\n  {\"ph\":\"M\"} ]", "t.json",
                   [&](const TraceEventFields& e) { offsets.push_back(e.offset); });
  EXPECT_EQ(offsets, (std::vector<uint64_t>{2, 16}));
}

// The incremental reader must give exactly what the in-memory one gives, wherever the chunk
// boundaries fall (inside keys, strings, escapes, numbers, literals, between tokens).
TEST(TraceStream, SameEventsForEveryChunkSize) {
  for (const char* name : {"trace_object_number_ts.json", "trace_array_string_ts.json",
                           "old_torch_npu/worker0_20240102_ascend_pt/ASCEND_PROFILER_OUTPUT/trace_view.json"}) {
    const std::string path = test::source_path(std::string("tests/data/profiles/") + name);
    const std::string text = test::read_file(path);
    ASSERT_FALSE(text.empty()) << path;
    const auto expected = describe_text(text);
    ASSERT_GE(expected.size(), 6u) << path;
    for (size_t chunk : {1, 2, 3, 5, 7, 13, 16, 64, 100, 1000, 1 << 20}) {
      EXPECT_EQ(describe_file(path, chunk), expected) << path << " chunk " << chunk;
    }
  }
}

TEST(TraceStream, EventLargerThanTheChunkGrowsTheBuffer) {
  const std::string dir = test::make_temp_dir();
  const std::string big(300000, 'x');
  const std::string text = fmt::format(
      R"({{"traceEvents": [{{"ph": "X", "name": "small", "pid": 1, "ts": 1}}, {{"ph": "X", "name": "big", "pid": 1, "ts": 2, "args": {{"Call stack": "{}", "Task Type": "AI_CORE"}}}}], "metadata": {{"blob": "{}"}}}})",
      big, big);
  const std::string path = test::write_file(dir + "/big.json", text);
  const auto d = describe_file(path, 64);
  ASSERT_EQ(d.size(), 2u);
  EXPECT_TRUE(contains(d[1], "name=big")) << d[1];
  EXPECT_TRUE(contains(d[1], "type=AI_CORE")) << d[1];
  EXPECT_EQ(d, describe_text(text));
  std::filesystem::remove_all(dir);
}

// Every proper prefix of a valid trace is invalid, and the error is at the byte where it ends.
TEST(TraceStream, EveryTruncationIsReportedAtItsEnd) {
  const std::string text =
      R"([{"name": "a\"\u00e9", "ph": "X", "pid": 8, "tid": -3, "ts": "17.5", "dur": 1e2, "args": {"Task Id": 4, "x": [true, false, null, {}]}}, {"ph": "M"}])";
  const std::string dir = test::make_temp_dir();
  for (size_t n = 0; n < text.size(); ++n) {
    const std::string cut = text.substr(0, n);
    const std::string want = fmt::format("invalid JSON at byte {}:", n);
    const std::string e1 = error_of([&] { parse_trace_text(cut, "cut.json", [](const TraceEventFields&) {}); });
    EXPECT_TRUE(contains(e1, "cut.json: ") && contains(e1, want)) << "cut at " << n << ": " << e1;
    const std::string path = test::write_file(dir + "/cut.json", cut);
    const std::string e2 = error_of([&] { parse_trace_file(path, [](const TraceEventFields&) {}, 5); });
    EXPECT_TRUE(contains(e2, path + ": ") && contains(e2, want)) << "cut at " << n << ": " << e2;
  }
  std::filesystem::remove_all(dir);
}

TEST(TraceStream, SyntaxErrorsNameTheByte) {
  struct Case {
    const char* text;
    size_t byte;
    const char* what;
  };
  const Case cases[] = {
      {R"([{"a":1} {"b":2}])", 9, "expected ',' or ']'"},
      {R"([{"a":1,}])", 8, "expected a string key"},
      {R"([{"a" 1}])", 6, "expected ':'"},
      {R"([] x)", 3, "after the end of the trace"},
      {R"(42)", 0, "expected '[' or '{'"},
      {R"([{"name": "\x"}])", 11, "invalid escape"},
      {"[{\"name\": \"a\nb\"}]", 12, "control character"},
      {R"({"traceEvents": 5})", 16, "\"traceEvents\" must be an array"},
      {R"([{"ph": "X", "ts": "soon"}])", 19, "\"ts\" must be a number"},
      {R"([{"ts": [1]}])", 8, "\"ts\" must be a number"},
      {R"([{"dur": 1.5.5}])", 9, "malformed number"},
      {R"([{"x": tru}])", 7, "expected a JSON value"},
      {R"([{"x": +1}])", 7, "unexpected '+'"},
      {R"([{"name": "\ud83d"}])", 17, "unpaired UTF-16 surrogate"},
      {"", 0, "empty file"},
  };
  for (const Case& c : cases) {
    const std::string e = error_of([&] { parse_trace_text(c.text, "bad.json", [](const TraceEventFields&) {}); });
    EXPECT_TRUE(contains(e, fmt::format("bad.json: invalid JSON at byte {}: ", c.byte))) << c.text << " -> " << e;
    EXPECT_TRUE(contains(e, c.what)) << c.text << " -> " << e;
  }
}

TEST(TraceStream, NestingIsBounded) {
  std::string deep = "[{\"args\": {\"x\": ";
  for (int i = 0; i < 2000; ++i) deep += '[';
  const std::string e = error_of([&] { parse_trace_text(deep, "deep.json", [](const TraceEventFields&) {}); });
  EXPECT_TRUE(contains(e, "nesting deeper than")) << e;
}

TEST(TraceStream, MissingFileAndDirectory) {
  const std::string missing = "/nonexistent/dir/trace_view.json";
  EXPECT_TRUE(contains(error_of([&] { parse_trace_file(missing, [](const TraceEventFields&) {}); }), missing));
  const std::string dir = test::make_temp_dir();
  const std::string e = error_of([&] { parse_trace_file(dir, [](const TraceEventFields&) {}); });
  EXPECT_TRUE(contains(e, dir) && contains(e, "is a directory")) << e;
  std::filesystem::remove_all(dir);
}

// Random traces written by nlohmann::json (escapes, unicode, nesting, numbers of every form):
// the fields decoded must be the ones nlohmann reads back, in memory and through tiny chunks.
TEST(TraceStream, AgreesWithNlohmannOnRandomTraces) {
  std::mt19937 rng(12345);
  auto pick = [&](int n) { return static_cast<int>(rng() % static_cast<unsigned>(n)); };
  auto random_string = [&] {
    static const std::vector<std::string> pieces = {"a", "Z", "_", " ", "\"", "\\", "/", "\n", "\t", "\x01",
                                                    "\xC3\xA9", "\xE4\xB8\xAD", "\xF0\x9F\x98\x80", "}", "]", ",", ":"};
    std::string s;
    for (int i = pick(12); i > 0; --i) s += pieces[static_cast<size_t>(pick(static_cast<int>(pieces.size())))];
    return s;
  };
  std::function<nlohmann::json(int)> random_value = [&](int depth) -> nlohmann::json {
    switch (pick(depth > 3 ? 5 : 7)) {
      case 0: return nullptr;
      case 1: return pick(2) == 0;
      case 2: return static_cast<int64_t>(rng()) - (1ll << 31);
      case 3: return std::ldexp(static_cast<double>(rng()), pick(80) - 40);
      case 4: return random_string();
      case 5: {
        nlohmann::json a = nlohmann::json::array();
        for (int i = pick(4); i > 0; --i) a.push_back(random_value(depth + 1));
        return a;
      }
      default: {
        nlohmann::json o = nlohmann::json::object();
        for (int i = pick(4); i > 0; --i) o[random_string()] = random_value(depth + 1);
        return o;
      }
    }
  };
  nlohmann::json events = nlohmann::json::array();
  for (int i = 0; i < 300; ++i) {
    nlohmann::json e = {{"name", random_string()},
                        {"ph", pick(2) ? "X" : "M"},
                        {"pid", pick(5)},
                        {"tid", static_cast<int64_t>(rng())},
                        {"ts", pick(2) ? nlohmann::json(fmt::format("{}.{:03d}", 1704161511422904ll + i, pick(1000)))
                                       : nlohmann::json(std::ldexp(static_cast<double>(rng()), pick(20) - 10))},
                        {"dur", static_cast<double>(rng()) / 1000.0},
                        {"extra", random_value(0)}};
    nlohmann::json args = {{"Task Type", random_string()}, {"Task Id", pick(70000)}, {"junk", random_value(1)}};
    if (pick(2)) args["Physic Stream Id"] = pick(64);
    if (pick(2)) args["Site"] = random_string();
    e["args"] = args;
    events.push_back(e);
  }
  const nlohmann::json doc = {{"traceEvents", events}, {"metadata", random_value(0)}};
  const std::string dir = test::make_temp_dir();
  for (int indent : {-1, 1}) {
    const std::string text = doc.dump(indent, ' ', /*ensure_ascii=*/indent == 1);
    std::vector<std::string> expected;
    for (const auto& e : events) {
      const auto& a = e["args"];
      const double ts = e["ts"].is_string() ? std::stod(e["ts"].get<std::string>()) : e["ts"].get<double>();
      expected.push_back(fmt::format("{}|{}|{}|{}|{}|{}|{}|{}|{}|{}", e["name"].get<std::string>(),
                                     e["ph"].get<std::string>(), e["pid"].get<int64_t>(), e["tid"].get<int64_t>(), ts,
                                     e["dur"].get<double>(), a["Task Type"].get<std::string>(), a["Task Id"].get<int64_t>(),
                                     a.value("Physic Stream Id", -1), a.value("Site", std::string())));
    }
    auto fields = [](const TraceEventFields& e) {
      return fmt::format("{}|{}|{}|{}|{}|{}|{}|{}|{}|{}", e.name, std::string(1, e.ph), e.pid, e.tid, e.ts, e.dur,
                         e.task_type, e.task_id, e.physic_stream_id, e.site);
    };
    std::vector<std::string> in_memory;
    parse_trace_text(text, "r.json", [&](const TraceEventFields& e) { in_memory.push_back(fields(e)); });
    EXPECT_EQ(in_memory, expected) << "indent " << indent;
    const std::string path = test::write_file(dir + "/r.json", text);
    for (size_t chunk : {7, 4096}) {
      std::vector<std::string> streamed;
      parse_trace_file(path, [&](const TraceEventFields& e) { streamed.push_back(fields(e)); }, chunk);
      EXPECT_EQ(streamed, expected) << "indent " << indent << " chunk " << chunk;
    }
  }
  std::filesystem::remove_all(dir);
}

TEST(TraceStream, AFilterDropsEventsOnceTheirPhAndPidAreReadAndStillChecksTheirSyntax) {
  TraceEventFilter f;
  f.complete_and_metadata_only = true;
  f.skip_complete = [](int64_t pid) { return pid == 7; };
  const std::string text =
      R"([{"ph": "s", "id": 1, "pid": 1, "args": {"x": [1, {"y": "\"}"}]}}, {"ph": "X", "pid": 7, "ts": "bad", "name": "host"},)"
      R"( {"ph": "X", "pid": 8, "ts": 1, "name": "device"}, {"pid": 7, "ph": "M", "name": "process_name"},)"
      R"( {"name": "no ph or pid"}, {"ph": "f", "pid": 7}])";
  for (size_t chunk : {size_t{5}, size_t{4096}}) {
    std::vector<std::string> seen;
    const std::string path = test::write_file(test::make_temp_dir() + "/f.json", text);
    parse_trace_file(path, [&](const TraceEventFields& e) { seen.push_back(std::string(e.name)); }, chunk, &f);
    // The flows are dropped, and so is pid 7's X event (its bad "ts" never read); metadata stays.
    EXPECT_EQ(seen, (std::vector<std::string>{"device", "process_name", "no ph or pid"})) << chunk;
  }
  // Skipped members are still JSON: a syntax error inside one fails as without the filter.
  for (const char* bad : {R"([{"ph": "s", "args": {"a" 1}}])", R"([{"ph": "X", "pid": 7, "args": [1,]}])",
                          R"([{"ph": "s", "x": tru}])"}) {
    const std::string with = error_of([&] { parse_trace_text(bad, "t.json", [](const TraceEventFields&) {}, &f); });
    const std::string without = error_of([&] { parse_trace_text(bad, "t.json", [](const TraceEventFields&) {}); });
    EXPECT_NE(with, "") << bad;
    EXPECT_EQ(with, without) << bad;
  }
}

TEST(TraceStream, CallbackErrorsPropagate) {
  const std::string e = error_of([&] {
    parse_trace_text(R"([{"ph": "X"}])", "t.json", [](const TraceEventFields&) { throw InputError("stop here"); });
  });
  EXPECT_EQ(e, "stop here");
}

}  // namespace
}  // namespace pt
