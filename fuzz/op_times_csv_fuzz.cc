// Op times CSV for --op-times (parse_op_time_table); lookups over the accepted table.
#include <cmath>

#include "fuzz_support.h"
#include "util/csv.h"
#include "sim/op_time_table.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text = pt::fuzz::text_of(data, size);
  pt::OpTimeTable table;
  if (!pt::fuzz::accepts([&] { table = pt::parse_op_time_table(text, "op_times.csv"); }, "op_times.csv")) return 0;
  pt::CsvTable csv = pt::parse_csv(text, "op_times.csv");  // accepted above, so it parses
  const auto name = csv.column("name") ? csv.column("name") : csv.column("Name");
  for (const auto& row : csv.rows) {
    if (!name || *name >= row.fields.size()) continue;
    for (double tokens : {0.0, 1.0, 7.5, 72.0, 1e9}) {
      const auto v = table.lookup(row.fields[*name], tokens);
      if (!v || !std::isfinite(*v) || *v < 0) pt::fuzz::invariant_failed("bad lookup", row.fields[*name]);
    }
  }
  return 0;
}
