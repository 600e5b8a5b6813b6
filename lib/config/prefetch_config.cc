#include "config/prefetch_config.h"

#include <cmath>
#include <cstdlib>
#include <map>

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

bool module_exists(const ModuleSpec& m, const Semantics& s) { return s.has_mlp_module || std::string(m.module) != "mlp"; }

constexpr long long kLegacyDefaultBytes = 18LL * 1024 * 1024;  // envs.py default of both sizes

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

 private:
  bool lenient_;
  PrefetchConfigParse& out_;
};

// Python truthiness of a JSON value, as `if enabled:` and `x or default` read it.
bool python_truthy(const Json& v) {
  if (v.is_boolean()) return v.get<bool>();
  if (v.is_number()) return v.get<double>() != 0;
  if (v.is_string()) return !v.get_ref<const std::string&>().empty();  // json::empty() is false for any string
  if (v.is_array() || v.is_object()) return !v.empty();
  return false;
}

// One module of prefetch_ratio as ModuleWeightPrefetchConfig holds it after __post_init__: the
// ratios kept (0 <= r <= 1; others dropped) by linear name, unknown names included, since they
// count toward `any(self.prefetch_ratio.values())`.
struct ModuleRatios {
  std::map<std::string, double> kept;
  bool from_defaults = false;
};

ModuleRatios module_defaults(const ModuleSpec& spec) {
  ModuleRatios m;
  m.from_defaults = true;
  for (const auto& [name, key] : spec.linears) m.kept[name] = default_ratio(key);
  return m;
}

[[noreturn]] void startup_failure(const JsonReader& at, const std::string& what, const std::string& why) {
  at.fail(fmt::format("{}: vllm-ascend fails at start-up on this ({})", what, why));
}

ModuleRatios read_module(const JsonReader& value, const ModuleSpec& spec, const Release& release, Reporter& reporter,
                         PrefetchConfigParse& out) {
  const Semantics& s = release.semantics;
  const Json& v = value.node();
  if (s.missing_module_uses_defaults && !python_truthy(v)) {
    // weight_prefetch.py: `prefetch_ratio.get("attn", {}) or {"qkv": 1.0, "o": 1.0}`.
    out.notes.push_back(fmt::format("{}: {}: vllm-ascend {} falls back to this module's defaults", value.path(),
                                    v.is_null() ? "null" : "empty", release.tag));
    return module_defaults(spec);
  }
  if (!v.is_object()) {
    // ModuleWeightPrefetchConfig.__post_init__ calls self.prefetch_ratio.items().
    startup_failure(value, fmt::format("expected an object like {{\"{}\": 1.0}}, got {}", spec.linears[0].first,
                                       value.type_name()),
                    fmt::format("{} {} has no .items()", release.tag, v.is_null() ? "None" : value.type_name()));
  }
  ModuleRatios m;
  for (auto it = v.begin(); it != v.end(); ++it) {
    JsonReader entry = value.child(it.key());
    const Json& r = entry.node();
    bool known = false;
    for (const auto& l : spec.linears) known = known || it.key() == l.first;
    if (!r.is_number() && !r.is_boolean()) {
      // `0 <= ratio <= 1` on a str, None, list or dict raises TypeError.
      startup_failure(entry, fmt::format("expected a number in [0, 1], got {}", entry.type_name()),
                      "the comparison 0 <= ratio <= 1 raises TypeError");
    }
    const double ratio = r.is_boolean() ? (r.get<bool>() ? 1.0 : 0.0) : r.get<double>();
    if (!known) {
      std::string expected;
      for (const auto& l : spec.linears) expected += fmt::format("{}\"{}\"", expected.empty() ? "" : ", ", l.first);
      reporter.ignored(entry, fmt::format("unknown linear (expected {})", expected),
                       ratio >= 0 && ratio <= 1 && ratio != 0
                           ? "vllm-ascend prefetches nothing for it, but its non-zero ratio keeps the module enabled"
                           : "vllm-ascend ignores it");
    } else if (r.is_boolean()) {
      // Python: 0 <= True <= 1 holds, so True reads as ratio 1 and False as 0.
      reporter.ignored(entry, fmt::format("expected a number in [0, 1], got {}", entry.type_name()),
                       fmt::format("vllm-ascend reads it as ratio {}", r.get<bool>() ? 1 : 0));
    }
    if (!(ratio >= 0 && ratio <= 1)) {
      reporter.ignored(entry, fmt::format("expected a number in [0, 1], got {}", ratio),
                       "vllm-ascend silently drops a ratio outside [0, 1]; inside an enabled module the key then "
                       "prefetches its whole tensor");
      continue;
    }
    m.kept[it.key()] = ratio;
  }
  return m;
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

const char* ratio_module_name(RatioKey key) {
  switch (key) {
    case RatioKey::kAttnQkv:
    case RatioKey::kAttnO: return "attn";
    case RatioKey::kMoeGateUp: return "moe";
    case RatioKey::kMlpGateUp:
    case RatioKey::kMlpDown: return "mlp";
  }
  return "?";
}

std::vector<RatioKey> module_keys(RatioKey key) {
  for (const auto& m : modules()) {
    if (std::string(m.module) != ratio_module_name(key)) continue;
    std::vector<RatioKey> keys;
    for (const auto& [name, k] : m.linears) keys.push_back(k);
    return keys;
  }
  return {key};
}

std::optional<RatioKey> ratio_key_from_name(const std::string& name) {
  for (int i = 0; i < kNumRatioKeys; ++i) {
    if (name == ratio_key_name(static_cast<RatioKey>(i))) return static_cast<RatioKey>(i);
  }
  return std::nullopt;
}

double default_ratio(RatioKey key) { return key == RatioKey::kMoeGateUp ? 0.8 : 1.0; }

WeightPrefetchConfig WeightPrefetchConfig::disabled() { return WeightPrefetchConfig{}; }

WeightPrefetchConfig WeightPrefetchConfig::defaults_enabled(const Semantics& semantics) {
  WeightPrefetchConfig c;
  c.enabled = true;
  for (const auto& m : modules()) {
    if (!module_exists(m, semantics)) continue;
    for (const auto& [name, key] : m.linears) c[key] = KeySetting{true, default_ratio(key), std::nullopt};
  }
  return c;
}

nlohmann::json WeightPrefetchConfig::to_inner_json(const Semantics& semantics) const {
  nlohmann::json ratio = nlohmann::json::object();
  for (const auto& m : modules()) {
    if (!module_exists(m, semantics)) continue;
    bool module_on = false;
    for (const auto& [name, key] : m.linears) module_on = module_on || ((*this)[key].on && !(*this)[key].legacy_bytes);
    nlohmann::json entries = nlohmann::json::object();
    // A module that is off is written with every ratio 0: the only way vllm-ascend turns it off.
    bool any_nonzero = false;
    for (const auto& [name, key] : m.linears) {
      entries[name] = module_on ? (*this)[key].ratio : 0.0;
      any_nonzero = any_nonzero || (module_on && (*this)[key].ratio != 0);
    }
    // On with every ratio 0 (each linear's whole tensor): reachable only through a linear name
    // vllm-ascend does not know, whose non-zero ratio keeps the module on (any() over the values,
    // v0.23.0:vllm_ascend/ops/weight_prefetch.py:34). Written the same way, or the module would
    // read as off; the tool's own parser then wants --lenient for it, as for the config it came from.
    if (module_on && !any_nonzero) entries[kKeepModuleOnName] = 1.0;
    ratio[m.module] = entries;
  }
  return nlohmann::json{{"enabled", enabled}, {"prefetch_ratio", ratio}};
}

std::string WeightPrefetchConfig::to_additional_config(const Semantics& semantics) const {
  return nlohmann::json{{"weight_prefetch_config", to_inner_json(semantics)}}.dump();
}

std::vector<std::string> WeightPrefetchConfig::legacy_env(const Semantics& semantics) const {
  const KeySetting& g = (*this)[RatioKey::kMlpGateUp];
  const KeySetting& d = (*this)[RatioKey::kMlpDown];
  if (semantics.legacy_mlp_env == LegacyMlpEnv::kGone || !(g.legacy_bytes || d.legacy_bytes)) return {};
  std::vector<std::string> env{"VLLM_ASCEND_ENABLE_PREFETCH_MLP=1"};
  auto bytes = [](const KeySetting& k) { return static_cast<long long>(k.legacy_bytes.value_or(kLegacyDefaultBytes)); };
  env.push_back(fmt::format("VLLM_ASCEND_MLP_GATE_UP_PREFETCH_SIZE={}", bytes(g)));
  env.push_back(fmt::format("VLLM_ASCEND_MLP_DOWN_PREFETCH_SIZE={}", bytes(d)));
  return env;
}

PrefetchConfigParse parse_prefetch_config(const std::string& text, const std::string& source, bool lenient,
                                          const Release& release) {
  const Semantics& sem = release.semantics;
  PrefetchConfigParse out;
  std::vector<std::string> duplicates;
  Json json = parse_json_text(text, source, &duplicates);
  JsonReader root(json, source);
  root.expect_object();
  Reporter reporter(lenient, out);
  WeightPrefetchConfig config;

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
  if (!whole && !inner_form) {
    if (!json.empty()) {
      out.notes.push_back(fmt::format("{}: no \"weight_prefetch_config\": vllm-ascend leaves weight prefetch disabled",
                                      source));
    }
    out.config = config;
    return out;
  }
  out.had_weight_prefetch_config = true;
  const JsonReader inner = whole ? root.child("weight_prefetch_config") : root;
  if (!inner.node().is_object()) {
    // ascend_config.py: WeightPrefetchConfig(additional_config.get("weight_prefetch_config", {})) calls .get on it.
    startup_failure(inner, fmt::format("expected an object, got {}", inner.type_name()),
                    fmt::format("{} WeightPrefetchConfig calls .get on a {}", release.tag,
                                inner.node().is_null() ? "None" : inner.type_name()));
  }
  std::optional<JsonReader> ratio_node;
  for (auto it = inner.node().begin(); it != inner.node().end(); ++it) {
    const std::string& key = it.key();
    JsonReader value = inner.child(key);
    if (key == "enabled") {
      if (value.node().is_boolean()) {
        config.enabled = value.node().get<bool>();
      } else {
        const bool truthy = python_truthy(value.node());
        reporter.ignored(value, fmt::format("expected true or false, got {}", value.type_name()),
                         fmt::format("vllm-ascend reads it as {} (Python truthiness)", truthy ? "true" : "false"));
        config.enabled = truthy;
      }
    } else if (key == "prefetch_ratio") {
      ratio_node = value;
    } else if (key == "enable") {
      reporter.ignored(value, "unknown key; did you mean \"enabled\"?", "vllm-ascend ignores it, so prefetch stays disabled");
    } else {
      reporter.ignored(value, "unknown key (expected \"enabled\" or \"prefetch_ratio\")", "vllm-ascend ignores it");
    }
  }

  // The modules as WeightPrefetchMethod builds them.
  std::map<std::string, ModuleRatios> resolved;
  if (!ratio_node) {
    // prefetch_ratio absent: the class default dict (v0.13 / v0.14 have no "mlp" in it).
    for (const auto& m : modules()) {
      if (module_exists(m, sem)) resolved[m.module] = module_defaults(m);
    }
  } else {
    const JsonReader& pr = *ratio_node;
    if (!pr.node().is_object()) {
      startup_failure(pr, fmt::format("expected an object of modules (attn, moe, mlp), got {}", pr.type_name()),
                      fmt::format("{} WeightPrefetchMethod calls prefetch_ratio.get(\"attn\", {{}}) on a {}", release.tag,
                                  pr.node().is_null() ? "None" : pr.type_name()));
    }
    for (auto it = pr.node().begin(); it != pr.node().end(); ++it) {
      const ModuleSpec* spec = nullptr;
      for (const auto& m : modules()) {
        if (it.key() == m.module) spec = &m;
      }
      if (!spec) {
        reporter.ignored(pr.child(it.key()), "unknown module (expected \"attn\", \"moe\" or \"mlp\")",
                         "vllm-ascend ignores it");
      } else if (!module_exists(*spec, sem)) {
        reporter.ignored(pr.child(it.key()), fmt::format("vllm-ascend {} has no \"mlp\" module", release.tag),
                         "it is ignored; on this release the MLP prefetch runs only from VLLM_ASCEND_ENABLE_PREFETCH_MLP=1 "
                         "(--env), with VLLM_ASCEND_MLP_{GATE_UP,DOWN}_PREFETCH_SIZE");
      }
    }
    for (const auto& m : modules()) {
      if (!module_exists(m, sem)) continue;
      if (pr.has(m.module)) {
        resolved[m.module] = read_module(pr.child(m.module), m, release, reporter, out);
      } else if (sem.missing_module_uses_defaults) {
        resolved[m.module] = module_defaults(m);
        out.notes.push_back(fmt::format("{}.{}: not given: vllm-ascend {} uses this module's defaults", pr.path(), m.module,
                                        release.tag));
      } else {
        resolved[m.module] = ModuleRatios{};
        out.notes.push_back(fmt::format("{}.{}: not given: vllm-ascend {} leaves this module off (no fallback to "
                                        "defaults before v0.15)", pr.path(), m.module, release.tag));
      }
    }
  }

  for (const auto& m : modules()) {
    auto it = resolved.find(m.module);
    if (it == resolved.end()) continue;
    const ModuleRatios& mr = it->second;
    // ModuleWeightPrefetchConfig.__post_init__: enable = enable and any(prefetch_ratio.values()) > 0.
    bool any_nonzero = false;
    for (const auto& [name, r] : mr.kept) any_nonzero = any_nonzero || r != 0;
    const bool on = config.enabled && any_nonzero;
    for (const auto& [name, key] : m.linears) {
      auto r = mr.kept.find(name);
      if (!on) {
        config[key] = KeySetting{};  // off: what the ratio was no longer matters
        continue;
      }
      config[key] = KeySetting{true, r == mr.kept.end() ? 0.0 : r->second, std::nullopt};
      if (r == mr.kept.end()) {
        out.whole_tensor_keys.emplace_back(key, fmt::format("{} is not in its module (or was dropped)", ratio_key_name(key)));
      } else if (r->second == 0) {
        out.whole_tensor_keys.emplace_back(key, fmt::format("{} = 0", ratio_key_name(key)));
      }
    }
    if (config.enabled && !any_nonzero && !mr.kept.empty()) {
      out.notes.push_back(fmt::format("every \"{}\" ratio is 0: vllm-ascend switches the {} module off", m.module, m.module));
    }
  }
  out.config = config;
  if (!config.enabled) out.notes.push_back("weight prefetch is disabled (\"enabled\" is not true): no CMO task is issued");
  return out;
}

PrefetchConfigParse load_prefetch_config(const std::string& arg, bool lenient, const Release& release) {
  if (!arg.empty() && arg[0] == '@') {
    const std::string path = arg.substr(1);
    return parse_prefetch_config(read_text_file(path), path, lenient, release);
  }
  return parse_prefetch_config(arg, "--additional-config", lenient, release);
}

LegacyMlpVariables read_legacy_env(const std::vector<std::string>& assignments, bool use_process_env) {
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
  LegacyMlpVariables env;
  auto size = [&](const char* name) -> std::optional<long long> {
    auto it = values.find(name);
    if (it == values.end()) return std::nullopt;
    char* end = nullptr;
    const long long v = std::strtoll(it->second.c_str(), &end, 10);
    // envs.py: int(os.getenv(...)), negative numbers included; a byte count the engine can hold.
    if (it->second.empty() || *end != '\0' || v < -(1LL << 40) || v > (1LL << 40)) {
      throw InputError(fmt::format("{}={}: expected a whole number of bytes (vllm-ascend reads it with int())", name,
                                   it->second));
    }
    return v;
  };
  if (auto it = values.find("VLLM_ASCEND_ENABLE_PREFETCH_MLP"); it != values.end()) env.enable = it->second;
  env.gate_up_bytes = size("VLLM_ASCEND_MLP_GATE_UP_PREFETCH_SIZE");
  env.down_bytes = size("VLLM_ASCEND_MLP_DOWN_PREFETCH_SIZE");
  return env;
}

std::vector<std::string> apply_legacy_env(const LegacyMlpVariables& env, const Release& release,
                                          WeightPrefetchConfig& config) {
  std::vector<std::string> notes;
  if (!env.any()) return notes;
  const Semantics& s = release.semantics;
  bool on = false;
  switch (s.legacy_mlp_env) {
    case LegacyMlpEnv::kGone:
      notes.push_back(fmt::format("vllm-ascend {} no longer reads VLLM_ASCEND_ENABLE_PREFETCH_MLP or the MLP size "
                                  "variables (removed by PR #7357): they are ignored", release.tag));
      return notes;
    case LegacyMlpEnv::kOnlyPath: {
      // envs.py: bool(int(os.getenv("VLLM_ASCEND_ENABLE_PREFETCH_MLP", "0"))).
      if (env.enable) {
        char* end = nullptr;
        const long long v = std::strtoll(env.enable->c_str(), &end, 10);
        if (env.enable->empty() || *end != '\0') {
          throw InputError(fmt::format("VLLM_ASCEND_ENABLE_PREFETCH_MLP={}: vllm-ascend {} reads it with int() and fails "
                                       "at start-up on this; expected 0 or 1", *env.enable, release.tag));
        }
        on = v != 0;
      }
      for (auto b : {env.gate_up_bytes, env.down_bytes}) {
        if (on && b && *b <= 0) {
          throw InputError(fmt::format("a legacy MLP prefetch size of {}: vllm-ascend {} passes it to torch_npu.npu_prefetch, "
                                       "which requires max_size > 0", *b, release.tag));
        }
      }
      break;
    }
    case LegacyMlpEnv::kOverridesCapped:
      // ascend_config.py: os.getenv("VLLM_ASCEND_ENABLE_PREFETCH_MLP", "0") == "1".
      on = env.enable && *env.enable == "1";
      if (env.enable && !on) {
        notes.push_back(fmt::format("VLLM_ASCEND_ENABLE_PREFETCH_MLP={}: vllm-ascend {} compares it with \"1\", so it is "
                                    "ignored", *env.enable, release.tag));
      }
      break;
  }
  if (!on) {
    if (env.gate_up_bytes || env.down_bytes) notes.push_back("VLLM_ASCEND_ENABLE_PREFETCH_MLP is not 1: the size variables alone enable nothing");
    return notes;
  }
  config[RatioKey::kMlpGateUp] = KeySetting{true, 0.0, static_cast<double>(env.gate_up_bytes.value_or(kLegacyDefaultBytes))};
  config[RatioKey::kMlpDown] = KeySetting{true, 0.0, static_cast<double>(env.down_bytes.value_or(kLegacyDefaultBytes))};
  if (s.legacy_mlp_env == LegacyMlpEnv::kOverridesCapped) {
    notes.push_back(fmt::format("VLLM_ASCEND_ENABLE_PREFETCH_MLP=1 (deprecated): vllm-ascend {} runs the MLP prefetch with "
                                "the variables' byte sizes, capped at 18 MiB, even if \"enabled\" is false or the mlp "
                                "ratios say otherwise", release.tag));
  } else {
    notes.push_back(fmt::format("VLLM_ASCEND_ENABLE_PREFETCH_MLP=1: vllm-ascend {} prefetches the variables' byte sizes "
                                "on the MLP path, uncapped (npu_prefetch clamps only to the weight)", release.tag));
  }
  return notes;
}

}  // namespace pt
