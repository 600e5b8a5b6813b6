#pragma once
// How the model is served: parallelism, quantization, and the tokens one forward step sees.
#include <optional>
#include <string>
#include <vector>

#include "vllm_ascend/release.h"

namespace pt {

enum class Quantization { kBf16, kW8A8Static, kW8A8Dynamic, kW4A8 };
enum class Phase { kDecode, kPrefill };

// Where the quantization of a run comes from: --quantization wins, then what the model directory
// says (model/checkpoint_quantization.h), then the tool's default (w8a8).
enum class QuantizationSource { kDefault, kOption, kCheckpoint };

// Accepts vllm-ascend's and ModelSlim's spellings; InputError listing the accepted ones.
Quantization parse_quantization(const std::string& text);
const char* quantization_name(Quantization q);
// "w8a8 (default)", "bf16 (--quantization)", "w8a8 (from quant_model_description.json)".
std::string quantization_label(Quantization q, QuantizationSource source, const std::string& file);
Phase parse_phase(const std::string& text);
const char* phase_name(Phase p);

// vllm-ascend's graph-mode AddRMSNormQuant fusion (ascend_compilation_config.fuse_norm_quant, on by
// default in every release): docs/vllm-ascend-semantics.md, "norm-quant fusion".
enum class NormQuantFusion {
  kAuto,    // what the release does in graph mode: fused unless a prefetch consumes the norm output
  kOff,     // fuse_norm_quant = false: never fused
  kAlways,  // the other reading: fused even then, so the attn qkv path sees int8 input and skips
};
NormQuantFusion parse_norm_quant_fusion(const std::string& text);
const char* norm_quant_fusion_name(NormQuantFusion f);

struct Deployment {
  int tensor_parallel = 4;
  int data_parallel = 1;
  bool expert_parallel = false;
  Quantization quantization = Quantization::kW8A8Static;
  QuantizationSource quantization_source = QuantizationSource::kDefault;
  std::string quantization_file;     // the checkpoint file it was read from (kCheckpoint)
  Phase phase = Phase::kDecode;
  std::optional<int> num_tokens;     // scheduled tokens of this DP rank in one step
  std::optional<int> max_num_seqs;   // vLLM --max-num-seqs
  int num_speculative_tokens = 0;    // MTP / EAGLE draft tokens per request
  int context_len = 4096;            // KV length each decode request attends over; prompt length in prefill
  bool flashcomm1 = true;            // VLLM_ASCEND_ENABLE_FLASHCOMM1 / sequence parallel
  bool graph_mode = true;            // aclgraph capture: decode batches are padded to a capture size
  NormQuantFusion norm_quant_fusion = NormQuantFusion::kAuto;

  // Validates ranges, and that a decode step schedules no more tokens than --max-num-seqs requests
  // can carry; InputError naming the options.
  void validate() const;
};

// The token counts vllm-ascend forms for one step (model-shapes.md section 6).
struct TokenPlan {
  int scheduled_tokens = 0;  // before padding
  int padded_tokens = 0;     // what _EXTRA_CTX.num_tokens holds: the MLP gate reads this
  int num_seqs = 0;          // requests in the step (decode) or prompts (prefill)
  std::vector<int> capture_sizes;
  bool implicit_max_num_seqs = false;  // no --max-num-seqs: capture sizes assume vLLM's default, reaching 512
  bool eager = false;                  // the step runs unpadded, outside any captured graph
  std::string padding;       // how padded_tokens was reached, for the report
};

// What the capture-size rules need to know of the model.
struct CaptureModel {
  CaptureModel(int layers = 0) : num_hidden_layers(layers) {}  // NOLINT: a layer count alone is the common case
  int num_hidden_layers = 0;
  bool qwen3_moe = false;  // hf model_type "qwen3_moe" (update_default_aclgraph_sizes)
  int draft_layers = 0;    // a speculative draft model's layers (MTP: num_nextn_predict_layers)
};

// Capture sizes the release uses (docs/vllm-ascend-semantics.md, "capture sizes"): vLLM's grid
// [1,2,4] + range(8,256,8) + range(256,max+1,16) up to max = min(max_num_seqs x (1 + spec) x k,
// 512) with the release's k (and its largest size appended where the release does); Qwen3-MoE at TP 1
// and DP > 1 takes [1,2,5,10,15,20] + range(24,max+1,8) where the release has that rule; filtered
// to multiples of TP with flashcomm1 and TP > 1; in PIECEWISE graph mode up to v0.20, thinned to
// what the ACL graph stream budget allows. InputError where vllm-ascend fails at start-up (a budget
// of fewer than two sizes).
std::vector<int> capture_sizes(const Deployment& d, const Release& release, const CaptureModel& model);

TokenPlan plan_tokens(const Deployment& d, const Release& release, const CaptureModel& model);

}  // namespace pt
