#pragma once
// A layer template instantiated for one model, deployment and hardware: every op costed to
// plain numbers and every site's gate decided, so the simulation loop only does arithmetic.
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "config/deployment.h"
#include "config/prefetch_config.h"
#include "hardware/hardware_profile.h"
#include "model/linear_shapes.h"
#include "model/model_config.h"
#include "sim/layer_template.h"
#include "sim/op_time_table.h"
#include "vllm_ascend/release.h"

namespace pt {

struct PlannedOp {
  std::string name;
  std::string type;
  std::string core;        // Accelerator Core column: AI_CORE, AI_VECTOR_CORE, HCCL ...
  OpKind kind = OpKind::kVector;
  double overhead_us = 0;  // fixed part of its in-sequence cost: no HBM traffic
  double compute_us = 0;   // cube/vector/communication time at full rate (the floor of its memory time)
  double hbm_bytes = 0;    // HBM bytes moved with nothing prefetched (weights included)
  double stream_GBps = 0;  // the rate those bytes move at alone (a matmul: its streaming efficiency x the peak)
  double l2_read_us = 0;   // activations read from L2, alone
  double l2_read_speedup = 1;   // the whole weight read from L2 against streamed from HBM
  double weight_bytes = 0; // weight bytes this op reads (touched experts only)
  double touched_fraction = 1;  // grouped matmul: expected fraction of local experts used
  int linear = -1;         // index into StepPlan::linears, for L2 hits
  bool measured = false;   // duration taken from the user (template or op table), not a roofline
  double standalone_us = 0;     // its cost in a sequence, alone on the chip, nothing in L2
  std::string cost_source;      // "roofline", "template", "op table"
  // Graph-mode norm-quant fusion (AddRMSNormQuantFusionPass): this quantize merges into the
  // AddRmsNorm before it unless a prefetch consumes the norm output (a site forks before it),
  // since torch's pattern matcher refuses an intermediate with a user outside the pattern.
  bool fuses_into_norm = false;

  // Memory time alone with nothing in L2 (the part bandwidth and L2 act on).
  double memory_us() const;
  // The part of it that streams the weight.
  double weight_stream_us() const;
  // Fraction of the whole-weight saving when the first `l2_bytes` of the tensor sit in L2.
  double saving_fraction(double l2_bytes, const HardwareProfile& hw) const;
  // Cost alone when the first `l2_bytes` of its weight tensor already sit in L2.
  double duration_with_l2(double l2_bytes, const HardwareProfile& hw) const;
};

struct PlannedSite {
  std::string site;
  std::optional<RatioKey> ratio_key;
  double fixed_ratio = 1;
  int fork_op = 0;        // the CMO is issued just before this op (index into the layer type's ops)
  int join_op = -1;       // the compute stream waits for the prefetch stream just after this op; -1: no wait of its own
  int target_op = -1;     // the op that reads the prefetched bytes; -1: none in this layer (another layer's weight)
  int linear = -1;
  std::string linear_name;
  double weight_bytes = 0;
  double cap_bytes = std::numeric_limits<double>::infinity();  // vllm-ascend's cap on this path
  bool on_compute_stream = false;
  SiteWeightOf weight_of = SiteWeightOf::kThisLayer;
  bool gated_on = true;      // model, quantization, token gates all pass
  std::string gate_reason;   // why it does not fire (or "" when it does)
  std::string description;
};

struct PlannedLayerType {
  std::string name;
  std::vector<PlannedOp> ops;
  std::vector<PlannedSite> sites;
  // Per op: which sites fork before it / join after it / target it (indices into sites).
  std::vector<std::vector<int>> forks_before, joins_after, targets;
};

struct StepPlan {
  const Release* release = &default_release();
  ModelConfig model;
  Deployment deployment;
  HardwareProfile hardware;
  TokenPlan tokens;
  NormQuantFusion norm_quant_fusion = NormQuantFusion::kAuto;  // in effect: kOff when the step runs eager
  std::string template_name;
  std::vector<Linear> linears;
  std::map<std::string, double> variables;  // T, TN, TG, H ... as evaluated
  std::string moe_comm_method;               // ALLGATHER, MC2, ALLTOALL ("" for dense)
  std::vector<PlannedLayerType> layer_types;
  std::vector<int> layer_sequence;           // layer type index of each decoder layer
  PlannedLayerType step_ops;                 // once per step, no sites
  std::vector<std::string> notes;

  const Semantics& semantics() const { return release->semantics; }
  const PlannedLayerType& type(int index) const { return index >= 0 ? layer_types[static_cast<size_t>(index)] : step_ops; }
};

// What the release's capture-size rules read of the model.
CaptureModel capture_model_of(const ModelConfig& model, const Deployment& deployment);

// InputError for a template that names an unknown linear or variable, or lacks a layer type.
StepPlan build_step_plan(const ModelConfig& model, const Deployment& deployment, const HardwareProfile& hardware,
                         const LayerTemplate& layer_template, const Release& release = default_release(),
                         const OpTimeTable* op_times = nullptr);

}  // namespace pt
