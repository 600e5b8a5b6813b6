#include "hardware/hardware_profile.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "util/embedded_files.h"
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
      {"l2_size_bytes", &HardwareProfile::l2_size_bytes, 0.0, 1e12},
      {"l2_GBps", &HardwareProfile::l2_GBps, 1.0, 1e7},
      {"l2_read_speedup", &HardwareProfile::l2_read_speedup, 1.0, 1e3},
      {"cmo_GBps", &HardwareProfile::cmo_GBps, 1e-3, 1e6},
      {"cmo_qos_weight", &HardwareProfile::cmo_qos_weight, 1e-3, 1e3},
      {"cmo_setup_us", &HardwareProfile::cmo_setup_us, 0.0, 1e5},
      {"op_overhead_us", &HardwareProfile::op_overhead_us, 0.0, 1e5},
      {"fork_us", &HardwareProfile::fork_us, 0.0, 1e5},
      {"join_us", &HardwareProfile::join_us, 0.0, 1e5},
      {"comm_GBps", &HardwareProfile::comm_GBps, 1e-3, 1e6},
      {"comm_latency_us", &HardwareProfile::comm_latency_us, 0.0, 1e6},
      {"prefetch_cap_bytes", &HardwareProfile::prefetch_cap_bytes, 0.0, 1e12},
      {"mla_o_proj_cap_bytes", &HardwareProfile::mla_o_proj_cap_bytes, 0.0, 1e12},
  };
  return f;
}

const Field* find_field(const std::string& name) {
  for (const auto& f : fields()) {
    if (name == f.name) return &f;
  }
  return nullptr;
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

void HardwareProfile::set(const std::string& name, double value, const std::string& where) {
  const Field* f = find_field(name);
  if (!f) {
    throw InputError(fmt::format("{}: unknown hardware parameter \"{}\" (known: {})", where, name,
                                 fmt::join(hardware_parameter_names(), ", ")));
  }
  if (!(value >= f->min && value <= f->max)) {
    throw InputError(fmt::format("{}: {} = {} is outside the accepted range [{}, {}]", where, name, value, f->min, f->max));
  }
  this->*(f->member) = value;
}

double HardwareProfile::get(const std::string& name) const {
  const Field* f = find_field(name);
  return f ? this->*(f->member) : 0.0;
}

HardwareProfile parse_hardware_profile(const std::string& text, const std::string& source) {
  Json json = parse_json_text(text, source);
  JsonReader root(json, source);
  root.expect_only_keys({"schema", "name", "description", "family", "device", "parameters"});
  if (auto schema = root.optional_string("schema"); schema && *schema != "prefetch-tuner/hardware/1") {
    root.child("schema").fail(fmt::format("unsupported schema \"{}\" (expected \"prefetch-tuner/hardware/1\")", *schema));
  }
  HardwareProfile hw;
  hw.name = root.child("name").string();
  hw.description = root.optional_string("description").value_or("");
  hw.family = root.child("family").string();
  if (hw.family != "A2" && hw.family != "A3") root.child("family").fail("expected \"A2\" or \"A3\"");
  JsonReader params = root.child("parameters");
  params.expect_object();
  for (auto it = params.node().begin(); it != params.node().end(); ++it) {
    if (!find_field(it.key())) {
      params.child(it.key()).fail(fmt::format("unknown hardware parameter (known: {})", fmt::join(hardware_parameter_names(), ", ")));
    }
  }
  for (const auto& f : fields()) {
    if (!params.has(f.name)) {
      throw InputError(fmt::format("{}: {}: missing required parameter", source, params.child_path(f.name)));
    }
    JsonReader p = params.child(f.name);
    p.expect_only_keys({"value", "source", "estimate"});
    double value = p.child("value").number_in(f.min, f.max);
    hw.*(f.member) = value;
    HardwareProfile::Provenance prov;
    prov.source = p.child("source").string();
    if (prov.source.empty()) p.child("source").fail("empty; every number must name its source or say it is an estimate");
    prov.estimate = p.optional_bool("estimate").value_or(false);
    hw.provenance[f.name] = prov;
  }
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

std::vector<std::string> bundled_hardware_names() { return embedded_stems("hardware"); }

HardwareProfile load_hardware(const std::string& spec) {
  std::error_code ec;
  if (std::filesystem::exists(spec, ec)) return parse_hardware_profile(read_text_file(spec), spec);
  for (const auto& name : bundled_hardware_names()) {
    std::string a = name, b = spec;
    std::transform(a.begin(), a.end(), a.begin(), ::tolower);
    std::transform(b.begin(), b.end(), b.begin(), ::tolower);
    if (a == b) {
      return parse_hardware_profile(std::string(*find_embedded("hardware/" + name + ".json")), "bundled hardware " + name);
    }
  }
  throw InputError(fmt::format("--hardware {}: no such file, and not a bundled profile (bundled: {})", spec,
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
    hw.provenance[name] = {"set on the command line", false};
  }
}

}  // namespace pt
