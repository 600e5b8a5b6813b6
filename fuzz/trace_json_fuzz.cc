// trace_view.json / msprof_*.json (read_trace_json_text), plus a differential check of the
// streaming parser: the same bytes read from a file in tiny chunks (every refill and buffer
// growth path) must give the same events, or the same error, as the text parser.
#include <sys/mman.h>
#include <unistd.h>

#include <cmath>
#include <functional>
#include <vector>

#include <fmt/format.h>

#include "fuzz_support.h"
#include "profile/profile_readers.h"
#include "profile/trace_stream.h"

namespace {

// Everything the callback sees, flattened to a string per event.
std::string describe(const pt::TraceEventFields& e) {
  return fmt::format("{}|{}|{}|{}{}|{}{}|{}|{}|{}|{}|{}|{}|{}|{}|{}|{}|{}|{}", e.offset, static_cast<int>(e.ph), e.name,
                     e.has_pid, e.pid, e.has_tid, e.tid, e.has_ts, e.ts, e.ts_ns, e.dur, e.arg_name, e.task_type,
                     e.physic_stream_id, e.stream_id, e.task_id, e.site, e.prefetch_bytes, e.layer);
}

// "ok" plus the events, or "error: <message>".
std::string run(const std::function<void(const pt::TraceEventCallback&)>& parse) {
  std::string out;
  try {
    parse([&](const pt::TraceEventFields& e) { out += describe(e) + "\n"; });
  } catch (const pt::InputError& e) {
    return std::string("error: ") + e.what();
  }
  return "ok\n" + out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  pt::fuzz::accepts([&] {
    const auto tasks = pt::read_trace_json_text(text, "trace.json");
    for (size_t i = 0; i < tasks.size(); ++i) {
      if (!std::isfinite(tasks[i].start_us) || !std::isfinite(tasks[i].duration_us)) {
        pt::fuzz::invariant_failed("non-finite time accepted");
      }
      if (i > 0 && tasks[i].start_us < tasks[i - 1].start_us) pt::fuzz::invariant_failed("tasks not sorted by start");
    }
  }, "trace.json");

  static const int fd = memfd_create("trace", 0);
  if (fd < 0) pt::fuzz::invariant_failed("memfd_create failed");
  if (ftruncate(fd, 0) != 0 || pwrite(fd, data, size, 0) != static_cast<ssize_t>(size)) {
    pt::fuzz::invariant_failed("cannot write the memfd");
  }
  const std::string path = fmt::format("/proc/self/fd/{}", fd);
  const size_t chunk = 16 + (size > 0 ? data[0] % 48 : 0);
  const std::string from_text =
      run([&](const pt::TraceEventCallback& cb) { pt::parse_trace_text(text, "trace.json", cb); });
  std::string from_file = run([&](const pt::TraceEventCallback& cb) { pt::parse_trace_file(path, cb, chunk); });
  // The file parser names the file by its path.
  for (size_t at; (at = from_file.find(path)) != std::string::npos;) from_file.replace(at, path.size(), "trace.json");
  if (from_text != from_file) {
    pt::fuzz::invariant_failed("text and chunked file parsers disagree",
                               "\n--- text\n" + from_text.substr(0, 2000) + "\n--- file\n" + from_file.substr(0, 2000));
  }
  return 0;
}
