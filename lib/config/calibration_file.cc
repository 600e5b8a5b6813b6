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
  nlohmann::json j = {{"schema", "prefetch-tuner/calibration/1"}};
  if (c.fitted_on.known()) {
    const auto& t = c.fitted_on;
    j["fitted_on"] = {{"model", t.model},
                      {"model_shape_hash", t.model_shape_hash},
                      {"tensor_parallel_size", t.tensor_parallel},
                      {"data_parallel_size", t.data_parallel},
                      {"enable_expert_parallel", t.expert_parallel},
                      {"quantization", t.quantization},
                      {"phase", t.phase},
                      {"vllm_ascend_version", t.vllm_ascend_version},
                      {"hardware", t.hardware}};
  }
  j["sources"] = c.sources;
  j["hardware"] = hw;
  j["op_durations"] = ops;
  j["notes"] = c.notes;
  return j;
}

Calibration parse_calibration(const std::string& text, const std::string& source) {
  Json json = parse_json_text(text, source);
  JsonReader root(json, source);
  root.expect_only_keys({"schema", "fitted_on", "sources", "hardware", "op_durations", "notes"});
  if (root.child("schema").string() != "prefetch-tuner/calibration/1") {
    root.child("schema").fail("expected \"prefetch-tuner/calibration/1\"");
  }
  Calibration c;
  if (root.has("fitted_on")) {
    JsonReader f = root.child("fitted_on");
    f.expect_only_keys({"model", "model_shape_hash", "tensor_parallel_size", "data_parallel_size", "enable_expert_parallel",
                        "quantization", "phase", "vllm_ascend_version", "hardware"});
    CalibrationTarget& t = c.fitted_on;
    t.model = f.child("model").string();
    t.model_shape_hash = f.child("model_shape_hash").string();
    if (t.model_shape_hash.size() != 16 || t.model_shape_hash.find_first_not_of("0123456789abcdef") != std::string::npos) {
      f.child("model_shape_hash").fail("expected 16 hex digits (written by calibrate)");
    }
    t.tensor_parallel = static_cast<int>(f.child("tensor_parallel_size").integer_in(1, 1 << 16));
    t.data_parallel = static_cast<int>(f.child("data_parallel_size").integer_in(1, 1 << 16));
    t.expert_parallel = f.optional_bool("enable_expert_parallel").value_or(false);
    t.quantization = f.child("quantization").string();
    t.phase = f.optional_string("phase").value_or("decode");
    t.vllm_ascend_version = f.optional_string("vllm_ascend_version").value_or("");
    t.hardware = f.optional_string("hardware").value_or("");
  }
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
