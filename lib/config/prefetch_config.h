#pragma once
// vllm-ascend's weight_prefetch_config (v0.13 .. v0.23), read exactly as a user passes it to
// --additional-config, with vllm-ascend's fallbacks made explicit.
#include <array>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace pt {

// The five ratio keys of prefetch_ratio, "<module>.<linear>".
enum class RatioKey { kAttnQkv = 0, kAttnO, kMoeGateUp, kMlpGateUp, kMlpDown };
constexpr int kNumRatioKeys = 5;
const char* ratio_key_name(RatioKey key);            // "attn.qkv"
std::optional<RatioKey> ratio_key_from_name(const std::string& name);
double default_ratio(RatioKey key);                   // vllm-ascend's defaults

struct WeightPrefetchConfig {
  bool enabled = false;
  // Ratio vllm-ascend ends up using per key (after module fallbacks; 0 = nothing prefetched).
  std::array<double, kNumRatioKeys> ratio{1.0, 1.0, 0.8, 1.0, 1.0};

  double operator[](RatioKey key) const { return ratio[static_cast<int>(key)]; }
  double& operator[](RatioKey key) { return ratio[static_cast<int>(key)]; }

  static WeightPrefetchConfig defaults_enabled();  // {"enabled": true}: every module at its defaults
  // The inner object with every module written out, so no module silently falls back to defaults.
  nlohmann::json to_inner_json() const;
  // The whole --additional-config argument.
  std::string to_additional_config() const;
};

struct PrefetchConfigParse {
  WeightPrefetchConfig config;
  std::vector<std::string> warnings;  // lenient mode: what vllm-ascend would silently ignore
  std::vector<std::string> notes;     // behaviour worth knowing in either mode
  bool had_weight_prefetch_config = false;
};

// `text` is the whole --additional-config object or only the inner weight_prefetch_config.
// Strict mode refuses anything vllm-ascend would ignore or misread, naming the JSON path; lenient
// mode reproduces vllm-ascend and reports each ignored thing as a warning.
PrefetchConfigParse parse_prefetch_config(const std::string& text, const std::string& source, bool lenient);

// `arg` is inline JSON or @FILE, as vllm's --additional-config.
PrefetchConfigParse load_prefetch_config(const std::string& arg, bool lenient);

// The legacy MLP environment variables (removed by vllm-ascend PR #6442 / #7357).
struct LegacyMlpEnv {
  bool enable_prefetch_mlp = false;
  std::optional<double> gate_up_prefetch_bytes;  // VLLM_ASCEND_MLP_GATE_UP_PREFETCH_SIZE
  std::optional<double> down_prefetch_bytes;     // VLLM_ASCEND_MLP_DOWN_PREFETCH_SIZE
  bool any() const { return enable_prefetch_mlp || gate_up_prefetch_bytes || down_prefetch_bytes; }
};

// From NAME=VALUE pairs (--env) over the process environment; InputError on a bad value.
LegacyMlpEnv read_legacy_env(const std::vector<std::string>& assignments, bool use_process_env);

}  // namespace pt
