#pragma once
// A streaming reader for Chrome trace JSON (trace_view.json, msprof_*.json, prefetch-tuner's
// --trace-json). The file is read in fixed-size chunks and tokenized incrementally; only the
// fields prefetch-tuner uses are decoded, everything else is skipped (and still checked for
// JSON syntax). Memory stays at one chunk plus the largest single event (at most 64 MiB),
// whatever the file size.
//
// Accepted layouts: a top-level array of events, or an object whose "traceEvents" member is that
// array (other members are skipped). Errors are InputError "<source>: invalid JSON at byte N: ...",
// N counting from 0.
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

namespace pt {

// The fields of one event that the profile readers need. String views point into the parser's
// buffer and are valid only until the callback returns.
struct TraceEventFields {
  uint64_t offset = 0;  // byte offset of the event's '{'
  char ph = 0;          // first character of "ph"; 0 when absent
  std::string_view name;
  bool has_pid = false;
  bool has_tid = false;
  bool has_ts = false;
  int64_t pid = 0;  // a non-numeric string pid/tid gets a negative id of its own
  int64_t tid = 0;
  double ts = 0;  // "ts": number or numeric string, microseconds
  int64_t ts_ns = 0;  // the same, exactly, in nanoseconds
  double dur = 0;
  // From "args".
  std::string_view arg_name;       // "name" (process_name / thread_name metadata)
  std::string_view task_type;      // "Task Type"
  int64_t physic_stream_id = -1;   // "Physic Stream Id"
  int64_t stream_id = -1;          // "Stream Id" (older msprof)
  int64_t task_id = -1;            // "Task Id"
  std::string_view site;           // "Site" (prefetch-tuner)
  double prefetch_bytes = 0;       // "Prefetch Bytes" (prefetch-tuner)
  int64_t layer = -1;              // "Layer" (prefetch-tuner)
};

using TraceEventCallback = std::function<void(const TraceEventFields&)>;

// Events the callback does not want, decided as soon as "ph" and "pid" are read (they come first
// in the profilers' traces): the rest of such an event is skipped (still checked for JSON
// syntax) and the callback never sees it. A trace is mostly host events and flows.
struct TraceEventFilter {
  bool complete_and_metadata_only = false;        // skip every event whose "ph" is neither X nor M
  std::function<bool(int64_t pid)> skip_complete;  // skip the X events of these pids
};

constexpr size_t kDefaultTraceChunkBytes = size_t{4} << 20;
// The largest single event (or top-level member) the parser holds: a profiler's events are a few
// hundred bytes; a larger one is refused, so memory stays at most twice this whatever the file.
constexpr size_t kMaxTraceUnitBytes = size_t{64} << 20;

// Calls `on_event` for every element of the event array that is a JSON object, in file order.
// An event larger than the chunk grows the buffer to hold it. InputError on a missing or
// unreadable file and on invalid or truncated JSON.
void parse_trace_file(const std::string& path, const TraceEventCallback& on_event,
                      size_t chunk_bytes = kDefaultTraceChunkBytes, const TraceEventFilter* filter = nullptr);
void parse_trace_text(std::string_view text, const std::string& source, const TraceEventCallback& on_event,
                      const TraceEventFilter* filter = nullptr);

}  // namespace pt
