#pragma once
// How the model is served: parallelism, quantization, and the tokens one forward step sees.
#include <optional>
#include <string>
#include <vector>

namespace pt {

enum class Quantization { kBf16, kW8A8Static, kW8A8Dynamic, kW4A8 };
enum class Phase { kDecode, kPrefill };

// Accepts vllm-ascend's and ModelSlim's spellings; InputError listing the accepted ones.
Quantization parse_quantization(const std::string& text);
const char* quantization_name(Quantization q);
Phase parse_phase(const std::string& text);
const char* phase_name(Phase p);

struct Deployment {
  int tensor_parallel = 4;
  int data_parallel = 1;
  bool expert_parallel = false;
  Quantization quantization = Quantization::kW8A8Static;
  Phase phase = Phase::kDecode;
  std::optional<int> num_tokens;     // scheduled tokens of this DP rank in one step
  std::optional<int> max_num_seqs;   // vLLM --max-num-seqs
  int num_speculative_tokens = 0;    // MTP / EAGLE draft tokens per request
  int context_len = 4096;            // KV length each decode request attends over; prompt length in prefill
  bool flashcomm1 = true;            // VLLM_ASCEND_ENABLE_FLASHCOMM1 / sequence parallel
  bool graph_mode = true;            // aclgraph capture: decode batches are padded to a capture size

  // Validates ranges; InputError naming the option.
  void validate() const;
};

// The token counts vllm-ascend forms for one step (model-shapes.md section 6).
struct TokenPlan {
  int scheduled_tokens = 0;  // before padding
  int padded_tokens = 0;     // what _EXTRA_CTX.num_tokens holds: the MLP gate reads this
  int num_seqs = 0;          // requests in the step (decode) or prompts (prefill)
  std::vector<int> capture_sizes;
  std::string padding;       // how padded_tokens was reached, for the report
};

// Capture sizes vllm-ascend uses: [1,2,4] + range(8,256,8) + range(256,max+1,16) clipped to
// min(max_num_seqs*(1+spec), 512); filtered to multiples of TP with flashcomm1 and TP>1.
std::vector<int> capture_sizes(int max_num_seqs, int num_speculative_tokens, int tensor_parallel, bool flashcomm1);

TokenPlan plan_tokens(const Deployment& d);

}  // namespace pt
