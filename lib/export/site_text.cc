#include "export/site_text.h"

#include <fmt/format.h>

namespace pt {

namespace {

struct LimitRow {
  IssueLimit code;
  const char* name;
};
constexpr LimitRow kLimits[] = {
    {IssueLimit::kRatio, "ratio"},          {IssueLimit::kWeight, "weight"},
    {IssueLimit::kWholeTensor, "whole tensor"}, {IssueLimit::kCapCode, "cap (code)"},
    {IssueLimit::kCapGuide, "cap (guide)"}, {IssueLimit::kLegacyBytes, "legacy size"},
    {IssueLimit::kL2, "L2"},
};

struct JoinRow {
  JoinKind code;
  const char* name;
};
constexpr JoinRow kJoins[] = {
    {JoinKind::kOwn, "own wait"}, {JoinKind::kNextWait, "next wait"}, {JoinKind::kStepEnd, "step end"},
    {JoinKind::kNone, "never"},   {JoinKind::kInline, "in line"},
};

// The sentence takes the facts by name: {linear}, {actual}, {expected}, {text}, {value}, {threshold}.
struct OffRow {
  SiteOffReason code;
  const char* name;
  const char* sentence;
};
constexpr OffRow kOff[] = {
    {SiteOffReason::kFires, "fires", ""},
    {SiteOffReason::kConfigOff, "config_off", "weight prefetch disabled, or this key's module is off (all its ratios 0)"},
    {SiteOffReason::kNoBytes, "no_bytes", "no bytes to prefetch"},
    {SiteOffReason::kMoeModel, "moe_model", "MoE model: vllm-ascend runs the MLP prefetch only for dense models (is_moe_model)"},
    {SiteOffReason::kDenseModel, "dense_model", "dense model: MoE prefetch needs routed experts"},
    {SiteOffReason::kLinearClass, "linear_class", "{linear} is a {actual}, this path takes {expected}"},
    {SiteOffReason::kLinearQuantOnly, "linear_quant_only", "{linear} is {actual}: this path runs only for {expected} linears"},
    {SiteOffReason::kLinearQuantSkipped, "linear_quant_skipped",
     "{linear} is {actual}: vllm-ascend skips this prefetch (the attn path covers it)"},
    {SiteOffReason::kTemplateCondition, "template_condition", "{text}"},
    {SiteOffReason::kNoLayerIdx, "no_layer_idx",
     "{actual} keeps its decoder under .language_model: vllm-ascend sets no layer_idx (has_layer_idx needs "
     "model.start_layer), and this path finds its weight through it"},
    {SiteOffReason::kNoCustomRowOp, "no_custom_row_op",
     "o_proj runs no Ascend custom row op (no flashcomm1 / sequence parallel), so the MLP gate_up prefetch never fires"},
    {SiteOffReason::kStepTokenGate, "step_token_gate", "token gate: {value} tokens per step (padded) is not below {threshold}"},
    {SiteOffReason::kGatingTokenGate, "gating_token_gate",
     "token gate: {value} tokens per rank at MoE gating ({actual}) is below {threshold}"},
    {SiteOffReason::kOpMissing, "op_missing", "op \"{actual}\" does not run in this deployment"},
    {SiteOffReason::kForkAfterLastOp, "fork_after_last_op", "the fork comes after the last op of the layer in this deployment"},
    {SiteOffReason::kEmptyWindow, "empty_window", "no op between fork and join in this deployment"},
    {SiteOffReason::kFusedIntoNorm, "fused_into_norm",
     "{actual} is fused into the norm before it (--norm-quant-fusion always): the linear receives int8 input and the "
     "attn path skips it (x.dtype != int8)"},
};

template <typename Row, size_t N, typename Code>
const Row* find_row(const Row (&rows)[N], Code code) {
  for (const auto& r : rows) {
    if (r.code == code) return &r;
  }
  return nullptr;
}

}  // namespace

const char* issue_limit_name(IssueLimit l) {
  const auto* r = find_row(kLimits, l);
  return r ? r->name : "?";
}

const char* join_kind_name(JoinKind k) {
  const auto* r = find_row(kJoins, k);
  return r ? r->name : "?";
}

const char* site_off_code(SiteOffReason code) {
  const auto* r = find_row(kOff, code);
  return r ? r->name : "?";
}

std::string site_off_sentence(const SiteOff& off) {
  const auto* r = find_row(kOff, off.code);
  if (!r) return "?";
  return fmt::format(fmt::runtime(r->sentence), fmt::arg("linear", off.linear), fmt::arg("actual", off.actual),
                     fmt::arg("expected", off.expected), fmt::arg("text", off.text), fmt::arg("value", off.value),
                     fmt::arg("threshold", off.threshold));
}

}  // namespace pt
