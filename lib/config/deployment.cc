#include "config/deployment.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "util/error.h"

namespace pt {

namespace {
constexpr int kMaxGraphCaptureSize = 512;  // vLLM and vllm-ascend cap the capture size here
constexpr int kMaxTokens = 1 << 24;
// Without --max-num-seqs, assume enough sequences that the capture sizes reach the cap of 512
// tokens (vLLM's server default, 1024 sequences, does); the report says so.
constexpr int kDefaultMaxNumSeqs = 512;
}  // namespace

Quantization parse_quantization(const std::string& text) {
  std::string t;
  for (char c : text) t += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (t == "bf16" || t == "bfloat16" || t == "fp16" || t == "none") return Quantization::kBf16;
  if (t == "w8a8" || t == "w8a8_static" || t == "w8a8-static") return Quantization::kW8A8Static;
  if (t == "w8a8_dynamic" || t == "w8a8-dynamic") return Quantization::kW8A8Dynamic;
  if (t == "w4a8" || t == "w4a8_dynamic" || t == "w4a8-dynamic") return Quantization::kW4A8;
  throw InputError(fmt::format("--quantization {}: unknown scheme (expected bf16, w8a8 (static), w8a8_dynamic or w4a8)", text));
}

const char* quantization_name(Quantization q) {
  switch (q) {
    case Quantization::kBf16: return "bf16";
    case Quantization::kW8A8Static: return "w8a8";
    case Quantization::kW8A8Dynamic: return "w8a8_dynamic";
    case Quantization::kW4A8: return "w4a8";
  }
  return "?";
}

std::string quantization_label(Quantization q, QuantizationSource source, const std::string& file) {
  switch (source) {
    case QuantizationSource::kDefault: return fmt::format("{} (default)", quantization_name(q));
    case QuantizationSource::kOption: return fmt::format("{} (--quantization)", quantization_name(q));
    case QuantizationSource::kCheckpoint: return fmt::format("{} (from {})", quantization_name(q), file);
  }
  return quantization_name(q);
}

Phase parse_phase(const std::string& text) {
  if (text == "decode") return Phase::kDecode;
  if (text == "prefill") return Phase::kPrefill;
  throw InputError(fmt::format("--phase {}: expected decode or prefill", text));
}

const char* phase_name(Phase p) { return p == Phase::kDecode ? "decode" : "prefill"; }

NormQuantFusion parse_norm_quant_fusion(const std::string& text) {
  if (text == "auto") return NormQuantFusion::kAuto;
  if (text == "off") return NormQuantFusion::kOff;
  if (text == "always") return NormQuantFusion::kAlways;
  throw InputError(fmt::format("--norm-quant-fusion {}: expected auto (what the release does), off "
                               "(fuse_norm_quant false) or always (fused even under a prefetch)", text));
}

const char* norm_quant_fusion_name(NormQuantFusion f) {
  switch (f) {
    case NormQuantFusion::kAuto: return "auto";
    case NormQuantFusion::kOff: return "off";
    case NormQuantFusion::kAlways: return "always";
  }
  return "?";
}

void Deployment::validate() const {
  auto check = [](bool ok, const std::string& what) {
    if (!ok) throw InputError(what);
  };
  check(tensor_parallel >= 1 && tensor_parallel <= 1024, fmt::format("--tensor-parallel-size {}: expected 1..1024", tensor_parallel));
  check(data_parallel >= 1 && data_parallel <= 1024, fmt::format("--data-parallel-size {}: expected 1..1024", data_parallel));
  if (num_tokens) check(*num_tokens >= 1 && *num_tokens <= kMaxTokens, fmt::format("--num-tokens {}: expected 1..{}", *num_tokens, kMaxTokens));
  if (max_num_seqs) check(*max_num_seqs >= 1 && *max_num_seqs <= kMaxTokens, fmt::format("--max-num-seqs {}: expected 1..{}", *max_num_seqs, kMaxTokens));
  check(num_speculative_tokens >= 0 && num_speculative_tokens <= 64, fmt::format("--num-speculative-tokens {}: expected 0..64", num_speculative_tokens));
  check(context_len >= 1 && context_len <= kMaxTokens, fmt::format("--context-len {}: expected 1..{}", context_len, kMaxTokens));
  if (phase == Phase::kDecode && num_tokens && max_num_seqs) {
    // The scheduler runs at most max_num_seqs requests, and a decode request schedules one token plus
    // its draft tokens per step.
    const long long most = static_cast<long long>(*max_num_seqs) * (1 + num_speculative_tokens);
    check(*num_tokens <= most,
          fmt::format("--num-tokens {} in decode is above --max-num-seqs {} x (1 + --num-speculative-tokens {}) = {}: "
                      "a decode step schedules at most one token per running request plus its draft tokens",
                      *num_tokens, *max_num_seqs, num_speculative_tokens, most));
  }
}

std::vector<int> capture_sizes(const Deployment& d, const Release& release, const CaptureModel& model) {
  const int max_num_seqs = d.max_num_seqs.value_or(kDefaultMaxNumSeqs);
  const long long wanted = static_cast<long long>(max_num_seqs) * (1 + d.num_speculative_tokens) * release.flags.capture_seq_factor;
  const int max_size = static_cast<int>(std::min<long long>(wanted, kMaxGraphCaptureSize));
  std::vector<int> sizes;
  if (release.flags.qwen3_moe_dp_sizes && model.qwen3_moe && d.tensor_parallel == 1 && d.data_parallel > 1) {
    // utils.py update_default_aclgraph_sizes: shapes _npu_paged_attention handles well.
    for (int s : {1, 2, 5, 10, 15, 20}) {
      if (s <= max_size) sizes.push_back(s);
    }
    for (int s = 24; s <= max_size; s += 8) sizes.push_back(s);
  } else {
    // vLLM VllmConfig._set_cudagraph_sizes: the grid up to the maximum.
    for (int s : {1, 2, 4}) {
      if (s <= max_size) sizes.push_back(s);
    }
    for (int s = 8; s < std::min(max_size + 1, 256); s += 8) sizes.push_back(s);
    for (int s = 256; s <= max_size; s += 16) sizes.push_back(s);
  }
  if (release.flags.capture_appends_max && (sizes.empty() || sizes.back() != max_size)) sizes.push_back(max_size);
  if (d.flashcomm1 && d.tensor_parallel > 1) {
    // update_sizes_for_sequence_parallelism: multiples of TP only.
    std::vector<int> filtered;
    for (int s : sizes) {
      if (s % d.tensor_parallel == 0) filtered.push_back(s);
    }
    if (!filtered.empty()) sizes = filtered;
  }
  if (release.flags.piecewise_subsampling && d.graph_mode && model.num_hidden_layers > 0) {
    // utils.py update_aclgraph_sizes, HCCL FFTS+ branch (HCCL_OP_EXPANSION_MODE unset): the stream
    // budget of ACL graphs bounds how many sizes can be captured; a uniform subset keeps the first
    // and the last. A draft model adds its layers + 1 to every graph's resources.
    const int comm_groups = (d.data_parallel > 1 ? 1 : 0) + (d.tensor_parallel > 1 ? 1 : 0);
    const int resources = model.num_hidden_layers + 1 + (model.draft_layers > 0 ? model.draft_layers + 1 : 0);
    const int max_sizes = static_cast<int>(std::floor((1800.0 - comm_groups * 40) / resources / (1 + comm_groups * 2)));
    if (max_sizes < static_cast<int>(sizes.size())) {
      if (max_sizes < 2) {
        // step = (len - 1) / (max_num_batch_sizes - 1): ZeroDivisionError (or an empty list) at start-up.
        throw InputError(fmt::format(
            "{} layers{} leave room for {} ACL graph capture size(s) in PIECEWISE mode (update_aclgraph_sizes): "
            "vllm-ascend {} fails at start-up; use --eager, or a release from v0.21.0rc1",
            model.num_hidden_layers, model.draft_layers > 0 ? " and a draft model" : "", max_sizes, release.tag));
      }
      const double step = static_cast<double>(sizes.size() - 1) / (max_sizes - 1);
      std::vector<int> sampled;
      for (int i = 0; i < max_sizes; ++i) {
        // Python's round() rounds half to even, as nearbyint does in the default rounding mode.
        size_t index = static_cast<size_t>(std::nearbyint(i * step));
        if (i == 0) index = 0;
        if (i == max_sizes - 1) index = sizes.size() - 1;
        sampled.push_back(sizes[index]);
      }
      sizes = sampled;
    }
  }
  return sizes;
}

TokenPlan plan_tokens(const Deployment& d, const Release& release, const CaptureModel& model) {
  TokenPlan plan;
  const int per_request = 1 + d.num_speculative_tokens;
  if (d.num_tokens) plan.scheduled_tokens = *d.num_tokens;
  else if (d.max_num_seqs) plan.scheduled_tokens = *d.max_num_seqs * per_request;
  else plan.scheduled_tokens = 72;  // the guide's Qwen3-32B-W8A8 operating point

  if (d.phase == Phase::kPrefill) {
    plan.eager = true;
    // The runner still sizes its graphs (and the MC2 capacity from them) at start-up
    // (v0.18.0rc1:vllm_ascend/ascend_forward_context.py:170-182); a prefill is not padded to them.
    plan.capture_sizes = capture_sizes(d, release, model);
    plan.num_seqs = std::max(1, (plan.scheduled_tokens + d.context_len - 1) / d.context_len);
    plan.padded_tokens = plan.scheduled_tokens;
    // Sequence parallel rounds up to a multiple of TP; prefill runs eager, no capture padding.
    if (d.flashcomm1 && d.tensor_parallel > 1) {
      plan.padded_tokens = (plan.scheduled_tokens + d.tensor_parallel - 1) / d.tensor_parallel * d.tensor_parallel;
    }
    plan.padding = plan.padded_tokens == plan.scheduled_tokens ? "none (prefill runs eager)"
                                                               : "rounded up to a multiple of TP (sequence parallel)";
    return plan;
  }

  plan.num_seqs = (plan.scheduled_tokens + per_request - 1) / per_request;
  plan.implicit_max_num_seqs = !d.max_num_seqs;
  plan.capture_sizes = capture_sizes(d, release, model);
  plan.padded_tokens = plan.scheduled_tokens;
  if (!d.graph_mode) {
    plan.eager = true;
    plan.padding = "none (eager mode)";
  } else if (plan.scheduled_tokens > plan.capture_sizes.back()) {
    plan.eager = true;
    plan.padding = fmt::format("none: {} tokens exceed the largest capture size {}, the step runs eager",
                               plan.scheduled_tokens, plan.capture_sizes.back());
  } else {
    for (int s : plan.capture_sizes) {
      if (s >= plan.scheduled_tokens) {
        plan.padded_tokens = s;
        break;
      }
    }
    plan.padding = plan.padded_tokens == plan.scheduled_tokens
                       ? "none (a capture size)"
                       : fmt::format("padded to capture size {}", plan.padded_tokens);
  }
  return plan;
}

}  // namespace pt
