#include "vllm_ascend/release.h"

#include <cstdio>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "util/error.h"

namespace pt {

namespace {

// The code-version rows: each written as its parent plus the rules that changed
// (docs/vllm-ascend-semantics.md, one column per row).
Semantics v023() {
  Semantics s;
  s.code = CodeVersion::kV023;
  s.name = "v0.23";
  return s;
}

Semantics v018() {
  Semantics s = v023();
  s.code = CodeVersion::kV018;
  s.name = "v0.18";
  return s;
}

Semantics v017() {
  Semantics s = v018();
  s.code = CodeVersion::kV017;
  s.name = "v0.17";
  s.legacy_mlp_env = LegacyMlpEnv::kOverridesCapped;
  return s;
}

Semantics v015() {
  Semantics s = v017();
  s.code = CodeVersion::kV015;
  s.name = "v0.15";
  return s;
}

Semantics v013() {
  Semantics s = v015();
  s.code = CodeVersion::kV013;
  s.name = "v0.13";
  s.has_mlp_module = false;
  s.missing_module_uses_defaults = false;
  s.legacy_mlp_env = LegacyMlpEnv::kOnlyPath;
  s.mlp_capped = false;
  return s;
}

// Release-level flags (docs/vllm-ascend-semantics.md): {capture_seq_factor, capture_appends_max,
// qwen3_moe_dp_sizes, piecewise_subsampling, a2_mc2_expert_limit, mmrs_any_tp}.
// v0.13.0rc1: vLLM's capture rule (x2), mmrs_fusion at any TP (ascend_forward_context.py:74).
constexpr ReleaseFlags kFlags013rc1{2, false, true, true, false, true};
// v0.13.0rc2: patch_set_cudagraph_sizes.py:57 min(max_num_seqs x decode_query_len, 512) (#5860);
// mmrs_fusion only at TP <= 8 (#6167).
constexpr ReleaseFlags kFlags013rc2{1, false, true, true, false, false};
// v0.13.0rc3, v0.13.0: the patch also appends the largest size (patch_set_cudagraph_sizes.py:91);
// update_default_aclgraph_sizes is gone.
constexpr ReleaseFlags kFlags013{1, true, false, true, false, false};
// v0.14.0rc1: no patch (vLLM's x2 again), the Qwen3-MoE default sizes back.
constexpr ReleaseFlags kFlags014{2, false, true, true, false, false};
constexpr ReleaseFlags kFlags015{2, false, false, true, false, false};
// v0.18: platform.py sizes max_num_seqs x (1 + spec); the A2 MC2 expert limit.
constexpr ReleaseFlags kFlags018{1, false, false, true, true, false};
// v0.21: no more PIECEWISE thinning (#9962).
constexpr ReleaseFlags kFlags021{1, false, false, false, true, false};

}  // namespace

const std::vector<Release>& releases() {
  static const std::vector<Release> table = {
      {"v0.13.0rc1", "2025-12-27", v013(), kFlags013rc1},
      {"v0.13.0rc2", "2026-01-24", v013(), kFlags013rc2},
      {"v0.13.0rc3", "2026-04-24", v013(), kFlags013},
      {"v0.13.0", "2026-02-05", v013(), kFlags013},
      {"v0.14.0rc1", "2026-01-26", v013(), kFlags014},
      {"v0.15.0rc1", "2026-02-27", v015(), kFlags015},
      {"v0.16.0rc1", "2026-03-10", v015(), kFlags015},
      {"v0.17.0rc1", "2026-03-15", v017(), kFlags015},
      {"v0.18.0rc1", "2026-04-01", v018(), kFlags018},
      {"v0.18.0", "2026-04-30", v018(), kFlags018},
      {"v0.19.1rc1", "2026-04-30", v018(), kFlags018},
      {"v0.20.2rc1", "2026-06-03", v018(), kFlags018},
      {"v0.21.0rc1", "2026-06-12", v018(), kFlags021},
      {"v0.22.1rc1", "2026-06-30", v018(), kFlags021},
      {"v0.23.0rc1", "2026-07-19", v023(), kFlags021},
      {"v0.23.0", "2026-08-17", v023(), kFlags021},
  };
  return table;
}

const Release& default_release() { return releases().back(); }

const char* code_version_name(CodeVersion c) {
  switch (c) {
    case CodeVersion::kV013: return "v0.13";
    case CodeVersion::kV015: return "v0.15";
    case CodeVersion::kV017: return "v0.17";
    case CodeVersion::kV018: return "v0.18";
    case CodeVersion::kV023: return "v0.23";
  }
  return "?";
}

std::optional<CodeVersion> code_version_from_name(std::string_view name) {
  for (CodeVersion c : {CodeVersion::kV013, CodeVersion::kV015, CodeVersion::kV017, CodeVersion::kV018, CodeVersion::kV023}) {
    if (name == code_version_name(c)) return c;
  }
  return std::nullopt;
}

const Release& find_release(std::string_view tag) {
  std::string t(tag);
  if (!t.empty() && t[0] != 'v') t = "v" + t;  // "0.23.0" is accepted as "v0.23.0"
  for (const auto& r : releases()) {
    if (t == r.tag) return r;
  }
  // Tags after the removal: v0.24.0rc1 and every later version.
  int major = 0, minor = 0;
  if (std::sscanf(t.c_str(), "v%d.%d", &major, &minor) == 2 && (major > 0 || minor >= 24)) {
    throw InputError(fmt::format(
        "--vllm-ascend {}: vllm-ascend removed weight prefetch in v0.24.0rc1 (PR #11949, \"this feature is "
        "underutilized\"); weight_prefetch_config does nothing there. Releases with it: v0.13.0rc1 .. v0.23.0",
        tag));
  }
  // v0.11.0rc1 .. v0.12.x already have the same weight_prefetch.py, but this tool does not model them.
  if (std::sscanf(t.c_str(), "v%d.%d", &major, &minor) == 2 && major == 0 && (minor == 11 || minor == 12)) {
    throw InputError(fmt::format(
        "--vllm-ascend {}: v0.11 and v0.12 have weight prefetch (the code of v0.13.0rc1) but are not modelled here; "
        "the closest modelled release is v0.13.0rc1 (--vllm-ascend v0.13.0rc1)",
        tag));
  }
  std::vector<std::string> tags;
  for (const auto& r : releases()) tags.emplace_back(r.tag);
  throw InputError(fmt::format("--vllm-ascend {}: not a vllm-ascend release with weight prefetch (expected one of {})",
                               tag, fmt::join(tags, ", ")));
}

}  // namespace pt
