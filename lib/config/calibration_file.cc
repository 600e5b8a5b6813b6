#include "config/calibration_file.h"

#include <fmt/format.h>

#include "hardware/hardware_profile.h"
#include "util/error.h"
#include "util/file_io.h"
#include "util/json_reader.h"

namespace pt {

nlohmann::json calibration_to_json(const Calibration& c) {
  nlohmann::json hw = nlohmann::json::object();
  for (const auto& h : c.hardware) {
    hw[h.parameter] = {{"value", h.value}, {"basis", h.basis}};
    if (h.error > 0) hw[h.parameter]["error"] = h.error;
  }
  nlohmann::json ops = nlohmann::json::array();
  for (const auto& f : c.ops) {
    ops.push_back({{"key", f.key}, {"intercept_us", f.intercept_us}, {"per_token_us", f.per_token_us}, {"points", f.points},
                   {"token_counts", f.token_counts}, {"rmse_us", f.rmse_us}, {"mean_abs_error_pct", f.mean_abs_error_pct}});
  }
  return {{"schema", "prefetch-tuner/calibration/1"}, {"sources", c.sources}, {"hardware", hw}, {"op_durations", ops},
          {"notes", c.notes}};
}

Calibration parse_calibration(const std::string& text, const std::string& source) {
  Json json = parse_json_text(text, source);
  JsonReader root(json, source);
  root.expect_only_keys({"schema", "sources", "hardware", "op_durations", "notes"});
  if (root.child("schema").string() != "prefetch-tuner/calibration/1") {
    root.child("schema").fail("expected \"prefetch-tuner/calibration/1\"");
  }
  Calibration c;
  JsonReader hw = root.child("hardware");
  hw.expect_object();
  HardwareProfile probe;
  for (auto it = hw.node().begin(); it != hw.node().end(); ++it) {
    JsonReader p = hw.child(it.key());
    p.expect_only_keys({"value", "basis", "error"});
    HardwareFit f{it.key(), p.child("value").number(), p.optional_string("basis").value_or("")};
    if (p.has("error")) f.error = p.child("error").number_in(0, 1e15);
    probe.set(f.parameter, f.value, fmt::format("{}: {}", source, p.path()));  // checks name and range
    c.hardware.push_back(f);
  }
  JsonReader ops = root.child("op_durations");
  ops.expect_array();
  for (size_t i = 0; i < ops.node().size(); ++i) {
    JsonReader o = ops.element(i);
    o.expect_only_keys({"key", "intercept_us", "per_token_us", "points", "token_counts", "rmse_us", "mean_abs_error_pct"});
    OpDurationFit f;
    f.key = o.child("key").string();
    if (f.key.empty()) o.child("key").fail("empty op key");
    f.intercept_us = o.child("intercept_us").number_in(-1e9, 1e9);
    f.per_token_us = o.child("per_token_us").number_in(-1e9, 1e9);
    if (o.has("points")) f.points = static_cast<size_t>(o.child("points").integer_in(0, 1LL << 40));
    if (o.has("token_counts")) f.token_counts = static_cast<size_t>(o.child("token_counts").integer_in(0, 1LL << 40));
    if (o.has("rmse_us")) f.rmse_us = o.child("rmse_us").number_in(0, 1e12);
    if (o.has("mean_abs_error_pct")) f.mean_abs_error_pct = o.child("mean_abs_error_pct").number_in(0, 1e12);
    c.ops.push_back(f);
  }
  if (root.has("sources")) {
    JsonReader s = root.child("sources");
    s.expect_array();
    for (size_t i = 0; i < s.node().size(); ++i) c.sources.push_back(s.element(i).string());
  }
  return c;
}

Calibration load_calibration(const std::string& path) { return parse_calibration(read_text_file(path), path); }

}  // namespace pt
