#pragma once
// A layer template: the compute-stream op sequence of each layer type and the prefetch sites
// (fork op, join op, target weight) that vllm-ascend adds to it. Data, not code: the bundled
// templates live in sample_profiles/layers/ and a user can copy and edit one (simulate --layer).
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "config/prefetch_config.h"
#include "model/linear_shapes.h"
#include "model/model_config.h"
#include "model/quant_scheme.h"
#include "vllm_ascend/release.h"
#include "util/expression.h"

namespace pt {

enum class OpKind {
  kVector,         // roofline on the vector units: "flops", "bytes"
  kCube,           // roofline on the cube units (attention): "flops", "bytes"
  kQuantize,       // activation quantize of "linear"; present only when that linear takes int8 input
  kMatmul,         // "linear" times "tokens" rows
  kGroupedMatmul,  // routed experts of "linear" over "pairs" token-expert pairs
  kCollective,     // "pattern" over "group" ranks moving "bytes"
  kMeasured,       // "duration_us" (an expression) and "hbm_bytes" given by the user
};
const char* op_kind_name(OpKind k);

// Template strings with a closed set of values, parsed once when the template is read.
enum class OpDtype { kDefault, kFp16, kFp32, kBf16, kInt8 };  // vector: fp16 | fp32; cube: bf16 | int8
enum class CollectivePattern { kAllReduce, kAllGather, kReduceScatter, kAllToAll };
const char* collective_pattern_name(CollectivePattern p);  // "all_reduce", as templates write it
enum class SiteCap { kNone, kMlp, kMlaOProj };  // MAX_PREFETCH_WEIGHT_SIZE / MAX_O_PROJ_PREFETCH_SIZE
enum class ModelKind { kDense, kMoe };          // vllm-ascend's is_moe_model()

struct TemplateOp {
  std::string name;
  std::string type;  // profiler op type, e.g. "RmsNorm", "QuantBatchMatmulV3"
  OpKind kind = OpKind::kVector;
  std::string core;  // Accelerator Core override; derived from the kind when empty
  std::optional<Expression> when;
  std::optional<Expression> flops, bytes, tokens, pairs, group;
  OpDtype dtype = OpDtype::kDefault;
  std::string linear;   // quantize / matmul / grouped_matmul / measured (optional)
  CollectivePattern pattern = CollectivePattern::kAllReduce;  // collective
  std::optional<Expression> duration_us;    // measured
  bool timed_alone = false;                // measured: timed by itself ("timing": "alone")
  std::optional<double> stream_efficiency;  // overrides the hardware's for this op's weight
  std::optional<Expression> hbm_bytes;     // measured
  std::string where;  // JSON path, for errors found when the template is instantiated
};

// A condition under which a site does not fire, with the reason the report gives.
struct SiteOffWhen {
  Expression expr;
  std::string reason;
};

struct SiteGates {
  std::optional<ModelKind> model_kind;
  std::optional<double> step_tokens_below;       // padded tokens of the DP rank < value
  std::optional<double> gate_tokens_at_least;    // tokens per rank at MoE gating >= value
  std::optional<QuantScheme> linear_quant;       // target linear must use this scheme
  std::optional<QuantScheme> linear_quant_not;   // ... must not use this scheme
  std::optional<LinearClass> linear_class;       // e.g. "RowParallelLinear"
  bool needs_custom_row_op = false;              // o_proj must run an Ascend custom row op (flashcomm1 ...)
  bool needs_layer_idx = false;                  // the path finds its weight through _EXTRA_CTX.layer_idx
  std::vector<SiteOffWhen> off_when;             // expressions of the shape variables that switch it off
};

// Whose weight the CMO fetches: this layer's (its target op reads it from L2), or the last decoder
// layer's (vllm-ascend v0.13-v0.22 MoE: only the last layer's own matmul can hit it).
enum class SiteWeightOf { kThisLayer, kLastLayer };

struct TemplateSite {
  std::string site;                   // "mlp.down", "attn.o/down_proj", ...
  std::optional<RatioKey> ratio_key;  // empty: fixed_ratio, on whenever "enabled"
  double fixed_ratio = 1.0;
  std::string layer_type;
  std::string linear;       // weight prefetched (from offset 0)
  std::string fork_op;      // the prefetch is issued just before this op (or just after, fork_after)
  bool fork_after = false;
  std::string join_op;      // the compute stream waits for the prefetch stream just after this op (or before);
                            // empty: no wait of its own (the next wait on the stream, or none, covers it)
  bool join_before = false;
  std::optional<Expression> join_when;  // the own wait exists only while this is non-zero
  std::string target;       // matmul that reads the prefetched bytes from L2 (may run before the join)
  SiteCap cap = SiteCap::kNone;
  bool on_compute_stream = false;  // MLA/SFA prefetch in the current stream (v0.13 / v0.14)
  SiteWeightOf weight_of = SiteWeightOf::kThisLayer;
  std::optional<CodeVersion> since, until;  // the releases whose code has this site
  SiteGates gates;
  std::string description;
  std::string where;
};

struct LayerTemplate {
  std::string name;
  std::string source;
  std::string description;
  std::map<std::string, std::vector<TemplateOp>> layer_types;
  std::vector<TemplateOp> step_ops;  // once per step: final norm, lm_head ...
  std::vector<TemplateSite> sites;
  std::vector<std::pair<std::string, int>> layer_sequence;  // optional override: (type, count)
};

LayerTemplate parse_layer_template(const std::string& text, const std::string& source);
// A path, or empty for the bundled template of the model's family.
LayerTemplate load_layer_template(const std::string& path, const ModelConfig& model);

// The layer type vllm-ascend runs for decoder layer `index` (names used by the bundled templates):
// dense, moe, mla_dense, mla_moe, linear_attention_moe, full_attention_moe (glm4_moe: dense, moe).
std::string default_layer_type(const ModelConfig& model, int index);

}  // namespace pt
