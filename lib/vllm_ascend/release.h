#pragma once
// The vllm-ascend releases whose weight prefetch this tool models, as data. Sixteen release tags
// point at five code versions of the prefetch logic (the five versions of
// vllm_ascend/ops/weight_prefetch.py), plus a few release-level flags that changed between tags of
// one code version. Every rule is cited in docs/vllm-ascend-semantics.md, the single source this
// table follows; the engine never sees a version, only the plan built from these rows.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pt {

// The five versions of the prefetch logic.
enum class CodeVersion {
  kV013,  // v0.13.0rc1 .. v0.14.0rc1: attn and moe modules only; the MLP path runs from legacy env variables
  kV015,  // v0.15.0rc1 .. v0.16.0rc1: mlp module, module fallbacks, legacy variables still override (capped)
  kV017,  // v0.17.0rc1: as v0.15 (forward-context state moved to _EXTRA_CTX)
  kV018,  // v0.18.0rc1 .. v0.22.1rc1: legacy variables gone
  kV023,  // v0.23.0rc1 .. v0.23.0: the MoE w13 lookup returns None: no MoE CMO
};

// How the legacy MLP variables (VLLM_ASCEND_ENABLE_PREFETCH_MLP, VLLM_ASCEND_MLP_{GATE_UP,DOWN}_PREFETCH_SIZE) act.
enum class LegacyMlpEnv {
  kOnlyPath,          // the only way to run the MLP prefetch; sizes go to npu_prefetch uncapped
  kOverridesCapped,   // turns the MLP path on (even with "enabled": false) and overrides its sizes, capped
  kGone,              // not read
};

// The rules of one code version that the planner and the config reader apply. Site-level
// differences (where the MLA prefetch runs, whose w13 the MoE path fetches) are in the layer
// templates, as sites with `since` / `until` code versions.
struct Semantics {
  CodeVersion code = CodeVersion::kV023;
  const char* name = "";                    // "v0.23"
  bool has_mlp_module = true;               // prefetch_ratio has an "mlp" module
  bool missing_module_uses_defaults = true; // a missing, empty or null module falls back to its defaults
  LegacyMlpEnv legacy_mlp_env = LegacyMlpEnv::kGone;
  bool mlp_capped = true;                   // MAX_PREFETCH_WEIGHT_SIZE applies to the MLP path
  double mlp_cap_bytes = 18.0 * 1024 * 1024;     // MAX_PREFETCH_WEIGHT_SIZE
  double mla_o_proj_cap_bytes = 16.0 * 1024 * 1024;  // MAX_O_PROJ_PREFETCH_SIZE
  int mlp_tokens_below = 500;               // _EXTRA_CTX.num_tokens < 500
};

// Flags that changed between tags of one code version (docs/vllm-ascend-semantics.md, "capture
// sizes" and "mmrs_fusion").
struct ReleaseFlags {
  // Largest capture size = min(max_num_seqs x (1 + speculative tokens) x this, 512): 2 with vLLM's
  // own rule (v0.13.0rc1, v0.14.0rc1 .. v0.17.0rc1), 1 with vllm-ascend's (v0.13.0rc2 .. v0.13.0
  // patch it; v0.18 on set it).
  int capture_seq_factor = 1;
  bool capture_appends_max = false;   // the largest size joins the grid (v0.13.0rc3, v0.13.0)
  bool qwen3_moe_dp_sizes = false;    // update_default_aclgraph_sizes: Qwen3-MoE at TP 1, DP > 1
  bool piecewise_subsampling = true;  // update_aclgraph_sizes thins the capture sizes in PIECEWISE mode
  bool a2_mc2_expert_limit = true;    // A2 MC2 also needs <= 24 experts per rank
  bool mmrs_any_tp = false;           // dense mmrs_fusion at any TP (v0.13.0rc1; later TP <= 8 only)
};

struct Release {
  const char* tag = "";
  const char* date = "";  // tag date, for the report
  Semantics semantics;
  ReleaseFlags flags;
};

// The 16 tags in version order (v0.13.0rc3 is a later backport of the v0.13 branch).
const std::vector<Release>& releases();
const Release& default_release();  // v0.23.0, the last release with weight prefetch
// InputError naming the tag: unknown tags list the accepted ones; v0.24.0rc1 and later are refused
// because PR #11949 removed the feature.
const Release& find_release(std::string_view tag);
const char* code_version_name(CodeVersion c);  // "v0.15"
std::optional<CodeVersion> code_version_from_name(std::string_view name);

}  // namespace pt
