// The streaming CSV reader (util/csv.h) against itself: the same bytes read from a file in tiny
// chunks (every refill and growth path, rows split anywhere) must give the same header, rows and
// line numbers, or the same error, as the text parser; and parse_csv must hold the same table.
#include <sys/mman.h>
#include <unistd.h>

#include <fmt/format.h>

#include "fuzz_support.h"
#include "util/csv.h"

namespace {

std::string run(const std::function<void(const pt::CsvHeaderCallback&, const pt::CsvRowCallback&)>& stream, size_t& rows) {
  std::string out;
  rows = 0;
  try {
    stream([&](const pt::CsvHeader& h) { out += fmt::format("header {}\n", fmt::join(h.names, "\x1f")); },
           [&](const pt::CsvRecord& r) {
             ++rows;
             out += fmt::format("{}:", r.line);
             for (auto f : r.fields) out += fmt::format("{}\x1f", f);
             out += "\n";
           });
  } catch (const pt::InputError& e) {
    const std::string message = e.what();
    return "error: " + message.substr(message.find(": ") + 2);  // without the source, which differs
  }
  return "ok\n" + out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  static const int fd = memfd_create("csv", 0);
  if (fd < 0) pt::fuzz::invariant_failed("memfd_create failed");
  if (ftruncate(fd, 0) != 0 || pwrite(fd, data, size, 0) != static_cast<ssize_t>(size)) {
    pt::fuzz::invariant_failed("cannot write the memfd");
  }
  const std::string path = fmt::format("/proc/self/fd/{}", fd);
  const size_t chunk = 16 + (size > 0 ? data[0] % 48 : 0);
  size_t rows = 0, file_rows = 0;
  const std::string from_text = run([&](auto& h, auto& r) { pt::stream_csv_text(text, "t.csv", h, r); }, rows);
  const std::string from_file = run([&](auto& h, auto& r) { pt::stream_csv_file(path, h, r, chunk); }, file_rows);
  if (from_text != from_file) pt::fuzz::invariant_failed("file and text readers disagree", pt::printable(from_text.substr(0, 300)));
  if (from_text.starts_with("ok")) {
    const pt::CsvTable t = pt::parse_csv(text, "t.csv");
    if (t.rows.size() != rows) pt::fuzz::invariant_failed("parse_csv holds another number of rows");
  }
  return 0;
}
