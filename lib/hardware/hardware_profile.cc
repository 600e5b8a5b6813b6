#include "hardware/hardware_profile.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "util/embedded_files.h"
#include "util/did_you_mean.h"
#include "util/error.h"
#include "util/file_io.h"
#include "util/json_reader.h"

namespace pt {

namespace {

struct Field {
  const char* name;
  double HardwareProfile::*member;
  double min;
  double max;
  bool optional = false;  // absent: the member's default (the model before the parameter existed)
};

// Ranges refuse typos and unit slips (TB/s given as GB/s) without judging plausible hardware.
const std::vector<Field>& fields() {
  static const std::vector<Field> f = {
      {"cube_TFLOPS_bf16", &HardwareProfile::cube_TFLOPS_bf16, 1e-3, 1e5},
      {"cube_TOPS_int8", &HardwareProfile::cube_TOPS_int8, 1e-3, 1e5},
      {"vector_TFLOPS_fp16", &HardwareProfile::vector_TFLOPS_fp16, 1e-4, 1e5},
      {"vector_TFLOPS_fp32", &HardwareProfile::vector_TFLOPS_fp32, 1e-4, 1e5},
      {"matmul_efficiency", &HardwareProfile::matmul_efficiency, 1e-3, 1.0},
      {"vector_efficiency", &HardwareProfile::vector_efficiency, 1e-3, 1.0},
      {"hbm_GBps", &HardwareProfile::hbm_GBps, 1.0, 1e6},
      {"matmul_stream_efficiency", &HardwareProfile::matmul_stream_efficiency, 1e-3, 1.0, true},
      {"grouped_matmul_stream_efficiency", &HardwareProfile::grouped_matmul_stream_efficiency, 1e-3, 1.0, true},
      {"vector_hbm_fraction", &HardwareProfile::vector_hbm_fraction, 0.0, 1.0, true},
      {"l2_size_bytes", &HardwareProfile::l2_size_bytes, 0.0, 1e12},
      {"l2_GBps", &HardwareProfile::l2_GBps, 1.0, 1e7},
      {"l2_read_speedup", &HardwareProfile::l2_read_speedup, 1.0, 1e3},
      {"grouped_matmul_l2_read_speedup", &HardwareProfile::grouped_matmul_l2_read_speedup, 1.0, 1e3, true},
      {"cmo_GBps", &HardwareProfile::cmo_GBps, 1e-3, 1e6},
      {"cmo_qos_weight", &HardwareProfile::cmo_qos_weight, 1e-3, 1e3},
      {"cmo_GBps_beside_matmul", &HardwareProfile::cmo_GBps_beside_matmul, 0.0, 1e6, true},
      {"cmo_setup_us", &HardwareProfile::cmo_setup_us, 0.0, 1e5},
      {"op_overhead_us", &HardwareProfile::op_overhead_us, 0.0, 1e5},
      {"alone_fixed_us", &HardwareProfile::alone_fixed_us, 0.0, 1e5, true},
      {"fork_us", &HardwareProfile::fork_us, 0.0, 1e5},
      {"join_us", &HardwareProfile::join_us, 0.0, 1e5},
      {"comm_GBps", &HardwareProfile::comm_GBps, 1e-3, 1e6},
      {"comm_latency_us", &HardwareProfile::comm_latency_us, 0.0, 1e6},
      // Optional so that profiles written before it still load; without it the weights + KV cache
      // fit check is skipped.
      {"hbm_capacity_bytes", &HardwareProfile::hbm_capacity_bytes, 1.0, 1e15, true},
  };
  return f;
}

struct CurveField {
  const char* name;
  PiecewiseLinear HardwareProfile::*member;
  const char* x_what;
  double x_min, x_max, y_min, y_max;
};

const std::vector<CurveField>& curve_fields() {
  static const std::vector<CurveField> f = {
      {"l2_saving_curve", &HardwareProfile::l2_saving_curve, "fraction of the weight in L2", 0.0, 1.0, -10.0, 10.0},
      {"cmo_GBps_by_bytes", &HardwareProfile::cmo_GBps_by_bytes, "CMO task bytes", 0.0, 1e13, 1e-3, 1e6},
  };
  return f;
}

const Field* find_field(const std::string& name) {
  for (const auto& f : fields()) {
    if (name == f.name) return &f;
  }
  return nullptr;
}

const CurveField* find_curve(const std::string& name) {
  for (const auto& f : curve_fields()) {
    if (name == f.name) return &f;
  }
  return nullptr;
}

std::vector<std::string> all_names() {
  std::vector<std::string> v = hardware_parameter_names();
  for (const auto& c : curve_parameter_names()) v.push_back(c);
  return v;
}

HardwareProfile::Provenance parse_provenance(const JsonReader& p, double low, double high, const double* value) {
  HardwareProfile::Provenance prov;
  prov.source = p.child("source").string();
  if (prov.source.empty()) p.child("source").fail("empty; every number must name its source or say it is an estimate");
  prov.estimate = p.optional_bool("estimate").value_or(false);
  if (p.has("range")) {
    JsonReader r = p.child("range");
    r.expect_array();
    if (r.node().size() != 2) r.fail("expected [low, high]");
    if (!prov.estimate) r.fail("a range belongs to an estimate; a measured or derived value carries none (or set \"estimate\": true)");
    const double lo = r.element(0).number_in(low, high), hi = r.element(1).number_in(low, high);
    if (lo > hi) r.fail(fmt::format("low {} is above high {}", lo, hi));
    if (value && !(*value >= lo && *value <= hi)) r.fail(fmt::format("the value {} lies outside [{}, {}]", *value, lo, hi));
    prov.range = std::make_pair(lo, hi);
    prov.range_reason = p.child("range_reason").string();
    if (prov.range_reason.empty()) p.child("range_reason").fail("empty; say why the range is what it is");
  } else if (p.has("range_reason")) {
    p.child("range_reason").fail("given without a range");
  }
  return prov;
}

}  // namespace

const std::vector<std::string>& hardware_parameter_names() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> v;
    for (const auto& f : fields()) v.emplace_back(f.name);
    return v;
  }();
  return names;
}

const std::vector<std::string>& curve_parameter_names() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> v;
    for (const auto& f : curve_fields()) v.emplace_back(f.name);
    return v;
  }();
  return names;
}

bool hardware_parameter_optional(const std::string& name) {
  if (find_curve(name)) return true;
  const Field* f = find_field(name);
  return f && f->optional;
}

std::pair<double, double> hardware_parameter_limits(const std::string& name) {
  const Field* f = find_field(name);
  return f ? std::make_pair(f->min, f->max) : std::make_pair(0.0, 0.0);
}

void HardwareProfile::set(const std::string& name, double value, const std::string& where) {
  const Field* f = find_field(name);
  if (!f) {
    const std::string hint = find_curve(name) ? " is a curve: set it in a profile file" : "";
    throw InputError(fmt::format("{}: unknown hardware parameter \"{}\"{} (known: {})", where, name, hint,
                                 fmt::join(hardware_parameter_names(), ", ")));
  }
  if (!(value >= f->min && value <= f->max)) {
    throw InputError(fmt::format("{}: {} = {} is outside the accepted range [{}, {}]", where, name, value, f->min, f->max));
  }
  this->*(f->member) = value;
}

double HardwareProfile::get(const std::string& name) const {
  if (name == "grouped_matmul_stream_efficiency") return grouped_stream_efficiency();
  if (name == "grouped_matmul_l2_read_speedup") return grouped_l2_read_speedup();
  const Field* f = find_field(name);
  return f ? this->*(f->member) : 0.0;
}

double HardwareProfile::l2_saving_fraction(double fraction) const {
  if (l2_saving_curve.empty()) return std::clamp(fraction, 0.0, 1.0);
  return l2_saving_curve.at(fraction);
}

double HardwareProfile::cmo_rate_GBps(double bytes) const {
  const double rate = cmo_GBps_by_bytes.empty() ? cmo_GBps : cmo_GBps_by_bytes.at(bytes);
  return std::min(rate, hbm_GBps);
}

namespace {

// The names people call the devices by (case-insensitive): the product (A3, A2), the chip (910C,
// 910B) and the SoC (Ascend910B2). A3 / 910C is one die of a 910C; A2 / 910B is 910B1, the profile
// the other 910B ones extend.
constexpr std::pair<const char*, const char*> kHardwareAliases[] = {
    {"a3", "a3-die"}, {"910c", "a3-die"}, {"ascend910c", "a3-die"}, {"ascend910_9392", "a3-die"},
    {"a2", "910B1"},  {"910b", "910B1"},  {"ascend910b", "910B1"},
};

std::string lower_ascii(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), ::tolower);
  return s;
}

std::optional<std::string> bundled_profile_text(const std::string& spec_in, std::string* canonical) {
  std::string spec = lower_ascii(spec_in);
  for (const auto& [alias, name] : kHardwareAliases) {
    if (spec == alias) spec = lower_ascii(name);
  }
  if (spec.starts_with("ascend910b") && spec.size() > std::string("ascend910b").size()) spec = spec.substr(6);  // the SoC
  for (const auto& name : bundled_hardware_names()) {
    std::string a = name, b = spec;
    std::transform(a.begin(), a.end(), a.begin(), ::tolower);
    std::transform(b.begin(), b.end(), b.begin(), ::tolower);
    if (a == b) {
      if (canonical) *canonical = name;
      return std::string(*find_embedded("hardware/" + name + ".json"));
    }
  }
  return std::nullopt;
}

// `file_dir`: where a file profile lives (its "extends" path is relative to it); empty for a bundled one.
HardwareProfile parse_profile(const std::string& text, const std::string& source, const std::string& file_dir, int depth) {
  Json json = parse_json_text(text, source);
  JsonReader root(json, source);
  root.expect_only_keys({"schema", "name", "description", "family", "extends", "device", "parameters"});
  if (auto schema = root.optional_string("schema"); schema && *schema != "prefetch-tuner/hardware/1") {
    root.child("schema").fail(fmt::format("unsupported schema \"{}\" (expected \"prefetch-tuner/hardware/1\")", *schema));
  }
  // A variant is its parent plus deltas: every parameter it does not give comes from the parent.
  HardwareProfile hw;
  const bool derived = root.has("extends");
  if (derived) {
    JsonReader ext = root.child("extends");
    const std::string parent = ext.string();
    if (depth >= 8) ext.fail("more than 8 levels of \"extends\" (a cycle?)");
    std::string name;
    if (auto bundled = bundled_profile_text(parent, &name)) {
      hw = parse_profile(*bundled, "bundled hardware " + name, "", depth + 1);
    } else if (!file_dir.empty()) {
      const std::filesystem::path path = std::filesystem::path(file_dir) / parent;
      std::error_code ec;
      if (!std::filesystem::is_regular_file(path, ec)) {
        ext.fail(fmt::format("\"{}\" is neither a bundled profile ({}) nor a file next to this one", parent,
                             fmt::join(bundled_hardware_names(), ", ")));
      }
      std::filesystem::path dir = path.parent_path();
      if (dir.empty()) dir = ".";
      hw = parse_profile(read_text_file(path.string()), path.string(), dir.string(), depth + 1);
    } else {
      ext.fail(fmt::format("\"{}\" is not a bundled profile ({})", parent, fmt::join(bundled_hardware_names(), ", ")));
    }
  }
  hw.name = root.child("name").string();
  hw.description = root.optional_string("description").value_or(derived ? hw.description : "");
  if (!derived || root.has("family")) hw.family = root.child("family").string();
  if (hw.family.empty()) root.child("family").fail("empty; \"A2\", \"A3\", or a name for analog hardware");
  JsonReader params = root.child("parameters");
  params.expect_object();
  for (auto it = params.node().begin(); it != params.node().end(); ++it) {
    if (!find_field(it.key()) && !find_curve(it.key())) {
      params.child(it.key()).fail(fmt::format("unknown hardware parameter (known: {})", fmt::join(all_names(), ", ")));
    }
  }
  for (const auto& f : fields()) {
    if (!params.has(f.name)) {
      if (f.optional || derived) continue;
      throw InputError(fmt::format("{}: {}: missing required parameter", source, params.child_path(f.name)));
    }
    JsonReader p = params.child(f.name);
    p.expect_only_keys({"value", "source", "estimate", "range", "range_reason"});
    const double value = p.child("value").number_in(f.min, f.max);
    hw.*(f.member) = value;
    hw.provenance[f.name] = parse_provenance(p, f.min, f.max, &value);
  }
  for (const auto& c : curve_fields()) {
    if (!params.has(c.name)) continue;
    JsonReader p = params.child(c.name);
    p.expect_only_keys({"points", "source", "estimate"});
    JsonReader pts = p.child("points");
    pts.expect_array();
    std::vector<std::pair<double, double>> points;
    for (size_t i = 0; i < pts.node().size(); ++i) {
      JsonReader pt = pts.element(i);
      pt.expect_array();
      if (pt.node().size() != 2) pt.fail(fmt::format("expected [x, y]: x the {}", c.x_what));
      points.emplace_back(pt.element(0).number_in(c.x_min, c.x_max), pt.element(1).number_in(c.y_min, c.y_max));
    }
    hw.*(c.member) = PiecewiseLinear(std::move(points), fmt::format("{}: {}", source, pts.path()));
    if (std::string(c.name) == "l2_saving_curve") {
      const auto& first = (hw.*(c.member)).points().front();
      if (first.first != 0 || first.second != 0) pts.element(0).fail("the curve starts at [0, 0]: nothing in L2 saves nothing");
    }
    hw.provenance[c.name] = parse_provenance(p, 0, 0, nullptr);
  }
  // The device is the SKU's own (its SoC name, core counts and clock): a variant does not inherit it.
  if (derived) hw.device = HardwareProfile::Device{};
  if (root.has("device")) {
    JsonReader d = root.child("device");
    d.expect_only_keys({"soc_version", "ai_core_num", "aiv_num", "aic_frequency_MHz"});
    hw.device.soc_version = d.optional_string("soc_version").value_or("");
    if (d.has("ai_core_num")) hw.device.ai_core_num = static_cast<int>(d.child("ai_core_num").integer_in(1, 1024));
    if (d.has("aiv_num")) hw.device.aiv_num = static_cast<int>(d.child("aiv_num").integer_in(0, 2048));
    if (d.has("aic_frequency_MHz")) hw.device.aic_frequency_mhz = d.child("aic_frequency_MHz").number_in(1, 100000);
  }
  if (hw.device.aic_frequency_mhz <= 0) {
    // 16 x 16 x 16 MACs x 2 FLOPs per cycle per AI core at bf16.
    hw.device.aic_frequency_mhz = std::round(hw.cube_TFLOPS_bf16 * 1e6 / (hw.device.ai_core_num * 8192.0));
  }
  return hw;
}

}  // namespace

HardwareProfile parse_hardware_profile(const std::string& text, const std::string& source) {
  return parse_profile(text, source, "", 0);
}

std::vector<std::string> bundled_hardware_names() { return embedded_stems("hardware"); }

HardwareProfile load_hardware(const std::string& spec) {
  std::error_code ec;
  if (std::filesystem::exists(spec, ec)) {
    std::filesystem::path dir = std::filesystem::path(spec).parent_path();
    if (dir.empty()) dir = ".";
    return parse_profile(read_text_file(spec), spec, dir.string(), 0);
  }
  std::string name;
  if (auto text = bundled_profile_text(spec, &name)) return parse_profile(*text, "bundled hardware " + name, "", 0);
  std::vector<std::string> names = bundled_hardware_names();
  for (const char* alias : {"A3", "910C", "A2", "910B"}) names.emplace_back(alias);
  const std::string hint = did_you_mean(spec, names);
  throw InputError(fmt::format("--hardware {}: no such file, and not a bundled profile;{} (bundled: {}; A3 and 910C name "
                               "a3-die, A2 and 910B name 910B1)",
                               spec, hint.empty() ? std::string(" give a hardware profile JSON") : hint,
                               fmt::join(bundled_hardware_names(), ", ")));
}

void apply_hardware_overrides(HardwareProfile& hw, const std::vector<std::string>& assignments) {
  for (const auto& a : assignments) {
    auto eq = a.find('=');
    const std::string where = fmt::format("--hw-set {}", a);
    if (eq == std::string::npos) throw InputError(where + ": expected NAME=VALUE, e.g. hbm_GBps=1200");
    std::string name = a.substr(0, eq);
    std::string text = a.substr(eq + 1);
    char* end = nullptr;
    double value = std::strtod(text.c_str(), &end);
    if (text.empty() || *end != '\0') throw InputError(where + ": the value is not a number");
    hw.set(name, value, where);
    hw.provenance[name] = HardwareProfile::Provenance{"set on the command line", false, std::nullopt, ""};
  }
}

}  // namespace pt
