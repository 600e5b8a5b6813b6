#include "config/prefetch_config.h"

#include <cmath>
#include <cstdlib>

#include <fmt/format.h>

#include "util/error.h"
#include "util/file_io.h"
#include "util/json_reader.h"

namespace pt {

namespace {

struct ModuleSpec {
  const char* module;
  std::vector<std::pair<const char*, RatioKey>> linears;
};

const std::vector<ModuleSpec>& modules() {
  static const std::vector<ModuleSpec> specs = {
      {"attn", {{"qkv", RatioKey::kAttnQkv}, {"o", RatioKey::kAttnO}}},
      {"moe", {{"gate_up", RatioKey::kMoeGateUp}}},
      {"mlp", {{"gate_up", RatioKey::kMlpGateUp}, {"down", RatioKey::kMlpDown}}},
  };
  return specs;
}

class Reporter {
 public:
  Reporter(bool lenient, PrefetchConfigParse& out) : lenient_(lenient), out_(out) {}
  // Something vllm-ascend silently ignores: an error in strict mode, a warning in lenient mode.
  void ignored(const JsonReader& at, const std::string& what, const std::string& vllm_does) {
    if (!lenient_) {
      at.fail(fmt::format("{} ({}; pass --lenient to accept it as vllm-ascend does)", what, vllm_does));
    }
    out_.warnings.push_back(fmt::format("{}: {}: {}; {}", at.source(), at.path(), what, vllm_does));
  }
  bool lenient() const { return lenient_; }

 private:
  bool lenient_;
  PrefetchConfigParse& out_;
};

// Python truthiness of a JSON value, as `if enabled:` reads it.
bool python_truthy(const Json& v) {
  if (v.is_boolean()) return v.get<bool>();
  if (v.is_number()) return v.get<double>() != 0;
  if (v.is_string()) return !v.get_ref<const std::string&>().empty();  // json::empty() is false for any string
  if (v.is_array() || v.is_object()) return !v.empty();
  return false;
}

void parse_ratio_module(const JsonReader& module, const ModuleSpec& spec, WeightPrefetchConfig& config,
                        Reporter& reporter, PrefetchConfigParse& out) {
  if (!module.node().is_object()) {
    if (module.node().is_null()) {
      out.notes.push_back(fmt::format("{}: null: vllm-ascend uses this module's defaults", module.path()));
      return;
    }
    module.fail(fmt::format("expected an object like {{\"{}\": 1.0}}, got {}", spec.linears[0].first, module.type_name()));
  }
  if (module.node().empty()) {
    out.notes.push_back(fmt::format("{}: empty object: vllm-ascend falls back to this module's defaults", module.path()));
    return;
  }
  // A module that is given replaces the defaults: a linear it leaves out gets ratio 0.
  for (const auto& [name, key] : spec.linears) config[key] = 0.0;
  for (auto it = module.node().begin(); it != module.node().end(); ++it) {
    JsonReader value = module.child(it.key());
    const std::pair<const char*, RatioKey>* match = nullptr;
    for (const auto& l : spec.linears) {
      if (it.key() == l.first) match = &l;
    }
    if (!match) {
      std::string expected;
      for (const auto& l : spec.linears) expected += fmt::format("{}\"{}\"", expected.empty() ? "" : ", ", l.first);
      reporter.ignored(value, fmt::format("unknown linear (expected {})", expected), "vllm-ascend ignores it");
      continue;
    }
    const Json& v = value.node();
    if (v.is_boolean()) {
      // Python: 0 <= True <= 1 holds, so True reads as ratio 1 and False as 0.
      reporter.ignored(value, fmt::format("expected a number in [0, 1], got {}", value.type_name()),
                       fmt::format("vllm-ascend reads it as ratio {}", v.get<bool>() ? 1 : 0));
      config[match->second] = v.get<bool>() ? 1.0 : 0.0;
      continue;
    }
    if (!v.is_number()) {
      // Python compares 0 <= "0.5" and raises TypeError: vllm-ascend fails at start-up.
      value.fail(fmt::format("expected a number in [0, 1], got {} (vllm-ascend itself fails at start-up on this)",
                             value.type_name()));
    }
    double r = value.number();
    if (r < 0 || r > 1) {
      reporter.ignored(value, fmt::format("expected a number in [0, 1], got {}", r),
                       "vllm-ascend silently drops a ratio outside [0, 1], so this linear gets ratio 0");
      config[match->second] = 0.0;
      continue;
    }
    config[match->second] = r;
  }
  for (const auto& [name, key] : spec.linears) {
    if (!module.has(name)) {
      out.notes.push_back(fmt::format("{}.{}: not given while \"{}\" is: vllm-ascend prefetches nothing for it "
                                      "(ratio 0, not the default {})",
                                      module.path(), name, spec.module, default_ratio(key)));
    }
  }
}

void parse_inner(const JsonReader& inner, WeightPrefetchConfig& config, Reporter& reporter, PrefetchConfigParse& out) {
  if (inner.node().is_null()) return;
  inner.expect_object();
  for (auto it = inner.node().begin(); it != inner.node().end(); ++it) {
    const std::string& key = it.key();
    JsonReader value = inner.child(key);
    if (key == "enabled") {
      if (value.node().is_boolean()) {
        config.enabled = value.node().get<bool>();
      } else {
        bool truthy = python_truthy(value.node());
        reporter.ignored(value, fmt::format("expected true or false, got {}", value.type_name()),
                         fmt::format("vllm-ascend reads it as {} (Python truthiness)", truthy ? "true" : "false"));
        config.enabled = truthy;
      }
    } else if (key == "prefetch_ratio") {
      if (value.node().is_null()) continue;
      if (!value.node().is_object()) {
        value.fail(fmt::format("expected an object of modules (attn, moe, mlp), got {}", value.type_name()));
      }
      for (auto m = value.node().begin(); m != value.node().end(); ++m) {
        const ModuleSpec* spec = nullptr;
        for (const auto& s : modules()) {
          if (m.key() == s.module) spec = &s;
        }
        if (!spec) {
          reporter.ignored(value.child(m.key()), "unknown module (expected \"attn\", \"moe\" or \"mlp\")",
                           "vllm-ascend ignores it");
          continue;
        }
        parse_ratio_module(value.child(m.key()), *spec, config, reporter, out);
      }
    } else if (key == "enable") {
      reporter.ignored(value, "unknown key; did you mean \"enabled\"?",
                       "vllm-ascend ignores it, so prefetch stays disabled");
    } else {
      reporter.ignored(value, "unknown key (expected \"enabled\" or \"prefetch_ratio\")", "vllm-ascend ignores it");
    }
  }
}

}  // namespace

const char* ratio_key_name(RatioKey key) {
  switch (key) {
    case RatioKey::kAttnQkv: return "attn.qkv";
    case RatioKey::kAttnO: return "attn.o";
    case RatioKey::kMoeGateUp: return "moe.gate_up";
    case RatioKey::kMlpGateUp: return "mlp.gate_up";
    case RatioKey::kMlpDown: return "mlp.down";
  }
  return "?";
}

std::optional<RatioKey> ratio_key_from_name(const std::string& name) {
  for (int i = 0; i < kNumRatioKeys; ++i) {
    if (name == ratio_key_name(static_cast<RatioKey>(i))) return static_cast<RatioKey>(i);
  }
  return std::nullopt;
}

double default_ratio(RatioKey key) { return key == RatioKey::kMoeGateUp ? 0.8 : 1.0; }

WeightPrefetchConfig WeightPrefetchConfig::defaults_enabled() {
  WeightPrefetchConfig c;
  c.enabled = true;
  return c;
}

nlohmann::json WeightPrefetchConfig::to_inner_json() const {
  // Ratios are written with at most 6 decimals so that they read back bit-identical after rounding.
  auto r = [&](RatioKey k) { return std::round((*this)[k] * 1e6) / 1e6; };
  nlohmann::json ratio = {
      {"attn", {{"qkv", r(RatioKey::kAttnQkv)}, {"o", r(RatioKey::kAttnO)}}},
      {"moe", {{"gate_up", r(RatioKey::kMoeGateUp)}}},
      {"mlp", {{"gate_up", r(RatioKey::kMlpGateUp)}, {"down", r(RatioKey::kMlpDown)}}},
  };
  return nlohmann::json{{"enabled", enabled}, {"prefetch_ratio", ratio}};
}

std::string WeightPrefetchConfig::to_additional_config() const {
  return nlohmann::json{{"weight_prefetch_config", to_inner_json()}}.dump();
}

PrefetchConfigParse parse_prefetch_config(const std::string& text, const std::string& source, bool lenient) {
  PrefetchConfigParse out;
  std::vector<std::string> duplicates;
  Json json = parse_json_text(text, source, &duplicates);
  JsonReader root(json, source);
  root.expect_object();
  Reporter reporter(lenient, out);
  WeightPrefetchConfig config;  // vllm-ascend: enabled False, default ratios

  const bool whole = root.has("weight_prefetch_config");
  const bool inner_form = !whole && (root.has("enabled") || root.has("prefetch_ratio") || root.has("enable"));
  // Python's json keeps the last of a duplicated key, silently; only ours are judged.
  const std::string ours = "$.weight_prefetch_config";
  for (const auto& path : duplicates) {
    const bool under_ours = path.starts_with(ours) && (path.size() == ours.size() || path[ours.size()] == '.' ||
                                                       path[ours.size()] == '[');
    if (!inner_form && !under_ours) continue;
    if (!lenient) {
      throw InputError(fmt::format("{}: {}: duplicate key (vllm-ascend keeps the last value; pass --lenient to accept "
                                   "it as vllm-ascend does)", source, path));
    }
    out.warnings.push_back(fmt::format("{}: {}: duplicate key; vllm-ascend keeps the last value", source, path));
  }
  if (whole) {
    out.had_weight_prefetch_config = true;
    parse_inner(root.child("weight_prefetch_config"), config, reporter, out);
    // Other additional-config keys belong to other vllm-ascend features; they are not ours to judge.
  } else if (inner_form) {
    out.had_weight_prefetch_config = true;
    parse_inner(root, config, reporter, out);
  } else if (!json.empty()) {
    out.notes.push_back(fmt::format("{}: no \"weight_prefetch_config\": vllm-ascend leaves weight prefetch disabled",
                                    source));
  }
  out.config = config;
  if (!config.enabled && out.had_weight_prefetch_config) {
    out.notes.push_back("weight prefetch is disabled (\"enabled\" is not true): no CMO task is issued");
  }
  return out;
}

PrefetchConfigParse load_prefetch_config(const std::string& arg, bool lenient) {
  if (!arg.empty() && arg[0] == '@') {
    const std::string path = arg.substr(1);
    return parse_prefetch_config(read_text_file(path), path, lenient);
  }
  return parse_prefetch_config(arg, "--additional-config", lenient);
}

LegacyMlpEnv read_legacy_env(const std::vector<std::string>& assignments, bool use_process_env) {
  std::map<std::string, std::string> values;
  static const char* kNames[] = {"VLLM_ASCEND_ENABLE_PREFETCH_MLP", "VLLM_ASCEND_MLP_GATE_UP_PREFETCH_SIZE",
                                 "VLLM_ASCEND_MLP_DOWN_PREFETCH_SIZE"};
  if (use_process_env) {
    for (const char* name : kNames) {
      if (const char* v = std::getenv(name)) values[name] = v;
    }
  }
  for (const auto& a : assignments) {
    auto eq = a.find('=');
    if (eq == std::string::npos) throw InputError(fmt::format("--env {}: expected NAME=VALUE", a));
    std::string name = a.substr(0, eq);
    bool known = false;
    for (const char* n : kNames) known = known || name == n;
    if (!known) {
      throw InputError(fmt::format("--env {}: unknown variable (expected VLLM_ASCEND_ENABLE_PREFETCH_MLP, "
                                   "VLLM_ASCEND_MLP_GATE_UP_PREFETCH_SIZE or VLLM_ASCEND_MLP_DOWN_PREFETCH_SIZE)", name));
    }
    values[name] = a.substr(eq + 1);
  }
  LegacyMlpEnv env;
  auto size = [&](const char* name) -> std::optional<double> {
    auto it = values.find(name);
    if (it == values.end()) return std::nullopt;
    char* end = nullptr;
    long long v = std::strtoll(it->second.c_str(), &end, 10);
    if (it->second.empty() || *end != '\0' || v <= 0 || v > (1LL << 40)) {
      throw InputError(fmt::format("{}={}: expected a positive whole number of bytes", name, it->second));
    }
    return static_cast<double>(v);
  };
  if (auto it = values.find("VLLM_ASCEND_ENABLE_PREFETCH_MLP"); it != values.end()) {
    // vllm-ascend envs.py: bool(int(os.getenv(...))).
    if (it->second != "0" && it->second != "1") {
      throw InputError(fmt::format("VLLM_ASCEND_ENABLE_PREFETCH_MLP={}: expected 0 or 1", it->second));
    }
    env.enable_prefetch_mlp = it->second == "1";
  }
  env.gate_up_prefetch_bytes = size("VLLM_ASCEND_MLP_GATE_UP_PREFETCH_SIZE");
  env.down_prefetch_bytes = size("VLLM_ASCEND_MLP_DOWN_PREFETCH_SIZE");
  return env;
}

}  // namespace pt
