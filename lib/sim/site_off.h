#pragma once
// Why a prefetch site does not fire, as a code and the facts its sentence needs. The planner and
// the simulator set it; export/site_text.h makes the sentence (one table, name and text per code).
#include <string>
#include <utility>

namespace pt {

enum class SiteOffReason {
  kFires,               // no reason: the site fires
  kConfigOff,           // weight prefetch disabled, or the key's module is off (all its ratios 0)
  kNoBytes,             // the config leaves it nothing to prefetch
  kMoeModel,            // an MLP path vllm-ascend runs only for dense models (is_moe_model)
  kDenseModel,          // a MoE path on a model without routed experts
  kLinearClass,         // `linear` is a `actual`, the path takes `expected`
  kLinearQuantOnly,     // `linear` is `actual`, the path runs only for `expected` linears
  kLinearQuantSkipped,  // `linear` is `actual`, which this path skips (the attn path covers it)
  kTemplateCondition,   // an off_when condition of the layer template; `text` is its reason
  kNoLayerIdx,          // `actual` (an architecture) wraps its decoder: no layer_idx
  kNoCustomRowOp,       // no flashcomm1 / sequence parallel: o_proj runs no Ascend custom row op
  kStepTokenGate,       // `value` tokens per step (padded) is not below `threshold`
  kGatingTokenGate,     // `value` tokens per rank at MoE gating (`actual`: comm method) is below `threshold`
  kOpMissing,           // op `actual` of the site does not run in this deployment
  kForkAfterLastOp,     // the fork comes after the last op of the layer
  kEmptyWindow,         // no op between fork and join
  kFusedIntoNorm,       // op `actual` is fused into the norm before it (--norm-quant-fusion always)
};

struct SiteOff {
  SiteOffReason code = SiteOffReason::kFires;
  std::string linear;    // the weight the site prefetches, where the sentence names it
  std::string actual;    // what the deployment has (class, scheme, op, architecture, comm method)
  std::string expected;  // what the path needs
  std::string text;      // kTemplateCondition: the template's own words
  double value = 0, threshold = 0;
  bool off() const { return code != SiteOffReason::kFires; }
};

inline SiteOff site_off(SiteOffReason code, std::string linear = {}, std::string actual = {}) {
  SiteOff o;
  o.code = code;
  o.linear = std::move(linear);
  o.actual = std::move(actual);
  return o;
}

}  // namespace pt
