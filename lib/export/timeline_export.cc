#include "export/timeline_export.h"

#include <algorithm>
#include <map>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "util/csv.h"

namespace pt {

namespace {

struct EventLabels {
  std::string name, type, core, site, layer_type;
};

EventLabels labels(const StepPlan& plan, const TimelineEvent& e) {
  EventLabels l;
  const PlannedLayerType& type = e.layer_type >= 0 ? plan.layer_types[static_cast<size_t>(e.layer_type)] : plan.step_ops;
  l.layer_type = type.name;
  if (e.site >= 0) l.site = type.sites[static_cast<size_t>(e.site)].site;
  switch (e.kind) {
    case EventKind::kOp: {
      const PlannedOp& op = type.ops[static_cast<size_t>(e.op)];
      l.name = op.name;
      l.type = op.type;
      l.core = op.core;
      break;
    }
    case EventKind::kCmo:
      l.name = l.type = l.core = "CMO";  // the runtime's task type name for npu_prefetch
      break;
    case EventKind::kEventRecord:
      l.name = l.type = "EVENT_RECORD";
      l.core = "EVENT";
      break;
    case EventKind::kEventWait:
      l.name = l.type = "EVENT_WAIT";
      l.core = "EVENT";
      break;
  }
  return l;
}

}  // namespace

const char* timeline_csv_header() {
  return "Name,Type,Accelerator Core,Start Time(us),Duration(us),Wait Time(us),Stream ID,Layer,Layer Type,Site,"
         "Prefetch Bytes,L2 Read Bytes,HBM Bytes,Standalone Duration(us),Stall(us)";
}

std::string timeline_csv(const StepPlan& plan, const StepResult& result) {
  std::string out = timeline_csv_header();
  out += "\n";
  for (const auto& e : result.timeline) {
    const EventLabels l = labels(plan, e);
    out += fmt::format("{},{},{},{:.3f},{:.3f},{:.3f},{},{},{},{},{:.0f},{:.0f},{:.0f},{:.3f},{:.3f}\n", csv_escape(l.name),
                       csv_escape(l.type), l.core, e.start_us, e.duration_us, e.wait_us, e.stream,
                       e.layer >= 0 ? std::to_string(e.layer) : std::string(), csv_escape(l.layer_type),
                       csv_escape(l.site), e.bytes, e.l2_read_bytes, e.hbm_bytes, e.standalone_us, e.stall_us);
  }
  return out;
}

std::string chrome_trace_json(const StepPlan& plan, const StepResult& result) {
  using nlohmann::json;
  constexpr int kPid = 1;
  json events = json::array();
  events.push_back({{"name", "process_name"}, {"ph", "M"}, {"pid", kPid}, {"tid", 0}, {"args", {{"name", "Ascend Hardware"}}}});
  events.push_back({{"name", "process_labels"}, {"ph", "M"}, {"pid", kPid}, {"tid", 0}, {"args", {{"labels", "NPU"}}}});
  events.push_back({{"name", "process_sort_index"}, {"ph", "M"}, {"pid", kPid}, {"tid", 0}, {"args", {{"sort_index", 8}}}});
  for (int stream : {kComputeStreamId, kPrefetchStreamId}) {
    events.push_back({{"name", "thread_name"}, {"ph", "M"}, {"pid", kPid}, {"tid", stream},
                      {"args", {{"name", fmt::format("Stream {}", stream)}}}});
    events.push_back({{"name", "thread_sort_index"}, {"ph", "M"}, {"pid", kPid}, {"tid", stream}, {"args", {{"sort_index", stream}}}});
  }
  int task_id = 0;
  int flow_id = 0;
  // Pending fork flow per (layer, site): the EVENT_RECORD starts it, the CMO ends it.
  std::map<std::pair<int, int>, int> fork_flow;
  // Each CMO's slice, found first: a wait can be issued before a queued CMO starts.
  std::map<std::pair<int, int>, std::pair<double, double>> cmo_slice;
  for (const auto& e : result.timeline) {
    if (e.kind == EventKind::kCmo && e.stream == kPrefetchStreamId) cmo_slice[{e.layer, e.site}] = {e.start_us, e.duration_us};
  }
  // CMOs forked and not yet joined, in fork order.
  std::vector<std::pair<int, int>> unjoined;
  for (const auto& e : result.timeline) {
    const EventLabels l = labels(plan, e);
    json args = {{"Model Id", 4294967295LL}, {"Task Type", l.type == "CMO" ? "CMO" : l.core == "EVENT" ? l.type : l.core},
                 {"Physic Stream Id", e.stream}, {"Task Id", task_id++}, {"Batch Id", 0}, {"Subtask Id", 4294967295LL}};
    if (e.layer >= 0) args["Layer"] = e.layer;
    args["Layer Type"] = l.layer_type;
    if (!l.site.empty()) args["Site"] = l.site;
    if (e.bytes > 0) args["Prefetch Bytes"] = e.bytes;
    if (e.l2_read_bytes > 0) args["L2 Read Bytes"] = e.l2_read_bytes;
    if (e.stall_us > 0) args["Stall(us)"] = e.stall_us;
    if (e.kind == EventKind::kOp) args["Standalone Duration(us)"] = e.standalone_us;
    events.push_back({{"name", l.name}, {"ph", "X"}, {"pid", kPid}, {"tid", e.stream}, {"ts", e.start_us},
                      {"dur", e.duration_us}, {"args", args}});
    const auto key = std::make_pair(e.layer, e.site);
    // Flow points sit at the middle of their slices, so viewers bind each to its enclosing slice
    // whatever order they sort equal timestamps in ("bp": "e" on the finishing end).
    if (e.kind == EventKind::kEventRecord) {
      const int id = ++flow_id;
      fork_flow[key] = id;
      unjoined.push_back(key);
      events.push_back({{"name", "fork"}, {"cat", "prefetch"}, {"ph", "s"}, {"id", id}, {"pid", kPid}, {"tid", e.stream},
                        {"ts", e.start_us + e.duration_us / 2}});
    } else if (e.kind == EventKind::kCmo && e.stream == kPrefetchStreamId) {
      if (auto it = fork_flow.find(key); it != fork_flow.end()) {
        events.push_back({{"name", "fork"}, {"cat", "prefetch"}, {"ph", "f"}, {"bp", "e"}, {"id", it->second},
                          {"pid", kPid}, {"tid", e.stream}, {"ts", e.start_us + e.duration_us / 2}});
        fork_flow.erase(it);
      }
    } else if (e.kind == EventKind::kEventWait) {
      // A wait on the prefetch stream joins every CMO queued before it (torch_npu wait_stream), so
      // one wait after SwiGLU ends the flows of both gate_up and down.
      for (const auto& pending : unjoined) {
        const auto it = cmo_slice.find(pending);
        if (it == cmo_slice.end()) continue;
        const int id = ++flow_id;
        const auto [start, dur] = it->second;
        events.push_back({{"name", "join"}, {"cat", "prefetch"}, {"ph", "s"}, {"id", id}, {"pid", kPid},
                          {"tid", kPrefetchStreamId}, {"ts", start + dur / 2}});
        // A wait issued before a queued CMO starts: finish no earlier than the CMO's middle, still
        // inside the wait (the wait ends after the CMO does).
        const double finish = std::max(e.start_us + e.duration_us / 2, start + dur / 2);
        events.push_back({{"name", "join"}, {"cat", "prefetch"}, {"ph", "f"}, {"bp", "e"}, {"id", id}, {"pid", kPid},
                          {"tid", e.stream}, {"ts", finish}});
      }
      unjoined.clear();
    }
  }
  for (const auto& sample : result.l2_samples) {
    events.push_back({{"name", "L2 prefetched bytes"}, {"ph", "C"}, {"pid", kPid}, {"ts", sample.time_us},
                      {"args", {{"bytes", sample.bytes}}}});
  }
  // A top-level array, as msprof and torch_npu write trace_view.json.
  return events.dump() + "\n";
}

}  // namespace pt
