#pragma once
// vllm-ascend's weight_prefetch_config (v0.13 .. v0.23), read exactly as a user passes it to
// --additional-config and resolved the way the chosen release resolves it: module fallbacks, the
// "a module is on while one of its ratios is non-zero" rule, ratios dropped outside [0, 1], and the
// legacy MLP environment variables. docs/vllm-ascend-semantics.md cites each rule.
#include <array>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "vllm_ascend/release.h"

namespace pt {

// The five ratio keys of prefetch_ratio, "<module>.<linear>".
enum class RatioKey { kAttnQkv = 0, kAttnO, kMoeGateUp, kMlpGateUp, kMlpDown };
constexpr int kNumRatioKeys = 5;
const char* ratio_key_name(RatioKey key);            // "attn.qkv"
std::optional<RatioKey> ratio_key_from_name(const std::string& name);
const char* ratio_module_name(RatioKey key);         // "attn"
double default_ratio(RatioKey key);                  // vllm-ascend's defaults
// The keys of the same module: a module is switched off only by zeroing all of them.
std::vector<RatioKey> module_keys(RatioKey key);

// What one key does on the release. `on` false: its module is disabled (no CMO, no fork, no join).
// `on` true: its site prefetches max_size = int(ratio x weight bytes), except that a max_size of 0
// (a ratio of 0, a missing key, a ratio dropped for being outside [0, 1], or a ratio too small for
// one byte) makes maybe_npu_prefetch take the whole tensor, past any cap. `legacy_bytes`: a byte
// size from the legacy MLP variables, used instead of the ratio.
struct KeySetting {
  bool on = false;
  double ratio = 0;
  std::optional<double> legacy_bytes;
  bool operator==(const KeySetting&) const = default;
};

// The linear name to_inner_json() adds to a module that is on with every ratio 0 (see there).
inline constexpr const char* kKeepModuleOnName = "keep_module_on";

struct WeightPrefetchConfig {
  bool enabled = false;  // "enabled": the MLA/SFA in-stream prefetch follows it alone
  std::array<KeySetting, kNumRatioKeys> keys{};

  const KeySetting& operator[](RatioKey key) const { return keys[static_cast<int>(key)]; }
  KeySetting& operator[](RatioKey key) { return keys[static_cast<int>(key)]; }
  bool operator==(const WeightPrefetchConfig&) const = default;

  static WeightPrefetchConfig disabled();
  // {"enabled": true}: every module the release has, at its defaults.
  static WeightPrefetchConfig defaults_enabled(const Semantics& semantics);

  // The weight_prefetch_config object with every module the release has written out, so nothing
  // silently falls back to defaults; a module that is off has all its ratios 0, one that is on
  // with all its ratios 0 also has kKeepModuleOnName: 1.0. Legacy byte sizes are not part of it
  // (see legacy_env()).
  nlohmann::json to_inner_json(const Semantics& semantics) const;
  std::string to_additional_config(const Semantics& semantics) const;
  // NAME=VALUE assignments for the keys driven by legacy variables (v0.13 / v0.14 MLP), or none.
  std::vector<std::string> legacy_env(const Semantics& semantics) const;
};

struct PrefetchConfigParse {
  WeightPrefetchConfig config;
  std::vector<std::string> warnings;  // lenient mode: what vllm-ascend would silently ignore
  std::vector<std::string> notes;     // behaviour worth knowing in either mode
  bool had_weight_prefetch_config = false;
  // Keys inside an enabled module that vllm-ascend will run with max_size 0 (whole tensor), and why.
  std::vector<std::pair<RatioKey, std::string>> whole_tensor_keys;
};

// `text` is the whole --additional-config object or only the inner weight_prefetch_config. Strict
// mode refuses anything vllm-ascend would ignore or misread, naming the JSON path; lenient mode
// reproduces vllm-ascend and reports each ignored thing as a warning. What makes vllm-ascend fail
// at start-up (a null config, a null prefetch_ratio, a ratio that is not a number) is refused in
// both modes, with that reason.
PrefetchConfigParse parse_prefetch_config(const std::string& text, const std::string& source, bool lenient,
                                          const Release& release);

// `arg` is inline JSON or @FILE, as vllm's --additional-config.
PrefetchConfigParse load_prefetch_config(const std::string& arg, bool lenient, const Release& release);

// The legacy MLP environment variables (removed by vllm-ascend PR #7357).
struct LegacyMlpVariables {
  std::optional<std::string> enable;           // VLLM_ASCEND_ENABLE_PREFETCH_MLP, as written
  std::optional<long long> gate_up_bytes;      // VLLM_ASCEND_MLP_GATE_UP_PREFETCH_SIZE
  std::optional<long long> down_bytes;         // VLLM_ASCEND_MLP_DOWN_PREFETCH_SIZE
  bool any() const { return enable || gate_up_bytes || down_bytes; }
};

// From NAME=VALUE pairs (--env) over the process environment; InputError on a bad value.
LegacyMlpVariables read_legacy_env(const std::vector<std::string>& assignments, bool use_process_env);

// Applies the variables as the release reads them to `config` (the MLP keys); returns notes.
std::vector<std::string> apply_legacy_env(const LegacyMlpVariables& env, const Release& release,
                                          WeightPrefetchConfig& config);

}  // namespace pt
