#include "sim/step_plan.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "util/error.h"

namespace pt {

double PlannedOp::memory_us() const {
  return (stream_GBps > 0 ? hbm_bytes / (stream_GBps * 1e3) : 0.0) + l2_read_us;
}

double PlannedOp::weight_stream_us() const {
  return stream_GBps > 0 ? std::min(weight_bytes, hbm_bytes) / (stream_GBps * 1e3) : 0.0;
}

double PlannedOp::saving_fraction(double l2_bytes, const HardwareProfile& hw) const {
  if (weight_bytes <= 0) return 0;
  const double f = std::clamp(l2_bytes * touched_fraction / weight_bytes, 0.0, 1.0);
  return hw.l2_saving_fraction(f);
}

double PlannedOp::duration_with_l2(double l2_bytes, const HardwareProfile& hw) const {
  const double saved = weight_stream_us() * (1.0 - 1.0 / l2_read_speedup) * saving_fraction(l2_bytes, hw);
  if (saved == 0) return standalone_us;
  const double mem = std::max(0.0, memory_us() - saved);
  return overhead_us + std::max(compute_us, mem);
}

namespace {

double ceil_div(double a, double b) { return std::ceil(a / b - 1e-12); }

// An op longer than this is no real op of one step (the same bound as measured durations), and
// the simulation would lose its microseconds to rounding (flops "1e300" printed a negative
// vec slow): the template field that gives it is an error.
constexpr double kMaxOpUs = 1e9;

void check_op_time(const TemplateOp& t, double compute_us, double memory_us) {
  const bool matmul = t.kind == OpKind::kMatmul || t.kind == OpKind::kQuantize;
  const char* compute_field = t.kind == OpKind::kGroupedMatmul ? "pairs" : matmul ? "tokens"
                              : t.kind == OpKind::kCollective  ? "bytes"
                                                               : "flops";
  const char* memory_field = t.kind == OpKind::kMeasured ? "hbm_bytes" : matmul ? "tokens"
                             : t.kind == OpKind::kGroupedMatmul ? "pairs"
                                                                : "bytes";
  for (const auto& [us, field] : {std::pair{compute_us, compute_field}, std::pair{memory_us, memory_field}}) {
    if (us > kMaxOpUs) {
      throw InputError(fmt::format("{}: {} makes the op take {:.3g} us; at most {:g} us (1000 s) per op", t.where, field,
                                   us, kMaxOpUs));
    }
  }
}

std::map<std::string, double> shape_variables(const ModelConfig& m, const Deployment& d, const TokenPlan& tokens,
                                              const HardwareProfile& hw, const Release& release,
                                              std::string& comm_method) {
  std::map<std::string, double> v;
  const double T = tokens.padded_tokens;
  const double tp = d.tensor_parallel;
  const double group = d.tensor_parallel * d.data_parallel;
  v["T"] = T;
  v["S"] = tokens.num_seqs;
  v["C"] = d.context_len;
  v["PREFILL"] = d.phase == Phase::kPrefill ? 1 : 0;
  v["TP"] = tp;
  v["DP"] = d.data_parallel;
  v["EPG"] = group;
  v["EP"] = d.expert_parallel ? 1 : 0;
  v["A"] = 2;  // activations are bf16
  v["H"] = m.hidden_size;
  v["I"] = m.intermediate_size / tp;
  v["NQ"] = m.num_attention_heads / tp;
  v["NKV"] = std::max(1.0, m.num_key_value_heads / tp);
  v["D"] = m.head_dim;
  v["QKNORM"] = m.qk_norm ? 1 : 0;
  v["RF"] = m.partial_rotary_factor;
  v["V"] = m.vocab_size / tp;
  // flashcomm1: dense models switch it on only above 1000 tokens, MoE models on every forward.
  const bool fc1_active = d.flashcomm1 && tp > 1 && (m.is_moe() || T > 1000);
  v["FC1"] = fc1_active ? 1 : 0;
  v["TN"] = fc1_active ? ceil_div(T, tp) : T;
  v["NTOT"] = T * d.data_parallel;
  if (m.is_moe()) {
    const double E = m.num_experts;
    v["E"] = E;
    v["K"] = m.num_experts_per_tok;
    v["EL"] = d.expert_parallel ? std::ceil(E / group) : E;
    v["MI"] = d.expert_parallel ? m.moe_intermediate_size : m.moe_intermediate_size / group;
    v["SI"] = m.shared_expert_intermediate_size / (d.flashcomm1 ? 1.0 : tp);
    // Tokens per rank at the gating top-k, after MoE prepare (model-shapes.md section 6.3).
    const double max_capture = tokens.capture_sizes.empty() ? T : tokens.capture_sizes.back();
    const double mc2_capacity = std::min(ceil_div(max_capture, tp), 512.0) * tp;
    double tg = T * d.data_parallel;
    if (!d.expert_parallel) {
      comm_method = "ALLGATHER";
    } else if (hw.family == "A3") {
      if (T <= mc2_capacity) {
        comm_method = "MC2";
      } else {
        comm_method = "ALLTOALL";
      }
      tg = ceil_div(T, tp);
    } else {
      // A2: MC2 needs an EP group of 16 or more and, from v0.18, <= 24 experts per rank
      // (ascend_forward_context.py select_moe_comm_method).
      const bool experts_fit = !release.flags.a2_mc2_expert_limit || std::floor(E / group) <= 24;
      if (group >= 16 && experts_fit && T <= mc2_capacity) {
        comm_method = "MC2";
        tg = ceil_div(T, tp);
      } else {
        comm_method = "ALLGATHER";
      }
    }
    v["TG"] = tg;
    v["MC2"] = comm_method == "MC2" ? 1 : 0;
    v["ALLGATHER"] = comm_method == "ALLGATHER" ? 1 : 0;
    // Token-expert pairs this rank computes: its share of all routed pairs under EP, all of them
    // (on a slice of every expert) without.
    v["PAIRS"] = d.expert_parallel ? v["NTOT"] * m.num_experts_per_tok / group : v["NTOT"] * m.num_experts_per_tok;
  } else {
    for (const char* name : {"E", "K", "EL", "MI", "SI", "TG", "MC2", "ALLGATHER", "PAIRS"}) v[name] = 0;
  }
  // Release-dependent switches the templates read.
  // mmrs_fusion (dense, flashcomm1 active): o_proj / down_proj run npu_mm_reduce_scatter_base and
  // bypass quant_method.apply, so the attn path does not see them; TP <= 8 from v0.13.0rc2 (any TP in v0.13.0rc1).
  v["MMRS"] = !m.is_moe() && fc1_active && (release.flags.mmrs_any_tp || tp <= 8) ? 1 : 0;
  // Routed experts quantized: quant_apply_mlp (which joins the MoE prefetch) rather than unquant_apply_mlp.
  v["MOEQ"] = d.quantization == Quantization::kBf16 ? 0 : 1;
  v["GRAPH"] = d.graph_mode ? 1 : 0;
  v["QL"] = m.q_lora_rank;
  v["KVL"] = m.kv_lora_rank;
  v["RD"] = m.qk_rope_head_dim;
  v["ND"] = m.qk_nope_head_dim;
  v["VD"] = m.v_head_dim;
  v["LNK"] = m.linear_num_key_heads / tp;
  v["LNV"] = m.linear_num_value_heads / tp;
  v["LDK"] = m.linear_key_head_dim;
  v["LDV"] = m.linear_value_head_dim;
  v["LCONV"] = m.linear_conv_kernel_dim;
  return v;
}

std::string default_core(const TemplateOp& op) {
  if (!op.core.empty()) return op.core;
  switch (op.kind) {
    case OpKind::kVector:
    case OpKind::kQuantize:
    case OpKind::kMeasured: return "AI_VECTOR_CORE";
    case OpKind::kCube:
    case OpKind::kMatmul:
    case OpKind::kGroupedMatmul: return "AI_CORE";
    case OpKind::kCollective: return "HCCL";
  }
  return "AI_CORE";
}

class Planner {
 public:
  Planner(StepPlan& plan, const OpTimeTable* op_times) : plan_(plan), op_times_(op_times) {
    for (size_t i = 0; i < plan.linears.size(); ++i) linear_index_[plan.linears[i].name] = static_cast<int>(i);
  }

  double eval(const Expression& e) const {
    return e.evaluate([&](std::string_view name, double& value) {
      auto it = plan_.variables.find(std::string(name));
      if (it == plan_.variables.end()) return false;
      value = it->second;
      return true;
    });
  }

  const Linear* linear(const std::string& name, const std::string& where) const {
    auto it = linear_index_.find(name);
    if (it == linear_index_.end()) {
      std::string known;
      for (const auto& l : plan_.linears) known += (known.empty() ? "" : ", ") + l.name;
      throw InputError(fmt::format("{}: linear \"{}\" does not exist for model {} (it has: {})", where, name,
                                   plan_.model.name, known));
    }
    return &plan_.linears[static_cast<size_t>(it->second)];
  }

  // nullopt when the op does not run in this deployment.
  std::optional<PlannedOp> plan_op(const TemplateOp& t) const {
    if (t.when && eval(*t.when) == 0) return std::nullopt;
    const HardwareProfile& hw = plan_.hardware;
    PlannedOp op;
    op.name = t.name;
    op.type = t.type;
    op.kind = t.kind;
    op.core = default_core(t);
    op.overhead_us = hw.op_overhead_us;
    op.cost_source = "roofline";
    op.stream_GBps = hw.hbm_GBps;
    auto nonneg = [&](double v, const char* what) {
      if (v < 0) throw InputError(fmt::format("{}: {} evaluates to {} (negative)", t.where, what, v));
      return v;
    };
    // Activation bytes of a vector-like op: the HBM share streams at the peak, the rest (written
    // just before, still in L2) is read at the L2 rate.
    auto activations = [&](double bytes) {
      op.hbm_bytes += bytes * hw.vector_hbm_fraction;
      op.l2_read_us += bytes * (1.0 - hw.vector_hbm_fraction) / (hw.l2_GBps * 1e3);
    };
    switch (t.kind) {
      case OpKind::kVector: {
        const double rate = (t.dtype == "fp32" ? hw.vector_TFLOPS_fp32 : hw.vector_TFLOPS_fp16) * 1e6 * hw.vector_efficiency;
        op.compute_us = nonneg(eval(*t.flops), "flops") / rate;
        activations(nonneg(eval(*t.bytes), "bytes"));
        break;
      }
      case OpKind::kCube: {
        // Attention: its bytes are the KV cache, from HBM.
        const double rate = (t.dtype == "int8" ? hw.cube_TOPS_int8 : hw.cube_TFLOPS_bf16) * 1e6 * hw.matmul_efficiency;
        op.compute_us = nonneg(eval(*t.flops), "flops") / rate;
        op.hbm_bytes = nonneg(eval(*t.bytes), "bytes");
        break;
      }
      case OpKind::kQuantize: {
        const Linear* l = linear(t.linear, t.where);
        if (!l->int8_activation()) return std::nullopt;  // bf16 linears take no quantize
        const bool dynamic = l->scheme != QuantScheme::kW8A8Static;
        const double elements = nonneg(eval(*t.tokens), "tokens") * l->in_features;
        if (t.type == t.name) op.type = dynamic ? "DynamicQuant" : "AscendQuantV2";
        const double rate = hw.vector_TFLOPS_fp16 * 1e6 * hw.vector_efficiency;
        op.compute_us = elements * (dynamic ? 4.0 : 2.0) / rate;  // dynamic adds a per-token max reduction
        activations(elements * 3.0);                               // read bf16, write int8
        break;
      }
      case OpKind::kMatmul:
      case OpKind::kGroupedMatmul: {
        const Linear* l = linear(t.linear, t.where);
        op.linear = linear_index_.at(t.linear);
        const bool grouped = t.kind == OpKind::kGroupedMatmul;
        const double rows = nonneg(eval(grouped ? *t.pairs : *t.tokens), grouped ? "pairs" : "tokens");
        const double rate = (l->int8_activation() ? hw.cube_TOPS_int8 : hw.cube_TFLOPS_bf16) * 1e6 * hw.matmul_efficiency;
        op.compute_us = 2.0 * rows * l->out_features * l->in_features * (grouped ? 1.0 : l->count) / rate;
        if (grouped) {
          // Uniform routing: the chance an expert receives none of the routed picks.
          const double picks = plan_.variables.at("NTOT") * plan_.variables.at("K");
          op.touched_fraction = 1.0 - std::pow(1.0 - 1.0 / plan_.variables.at("E"), picks);
        }
        op.weight_bytes = l->weight_bytes() * op.touched_fraction;
        // The weight streams at what the engine achieves alone; its activations are small and
        // stream with it (decode rows: kilobytes against megabytes of weight).
        op.stream_GBps = hw.hbm_GBps * t.stream_efficiency.value_or(grouped ? hw.grouped_stream_efficiency()
                                                                             : hw.matmul_stream_efficiency);
        op.l2_read_speedup = grouped ? hw.grouped_l2_read_speedup() : hw.l2_read_speedup;
        const double act_in = l->int8_activation() ? 1.0 : 2.0;
        op.hbm_bytes = op.weight_bytes + rows * l->in_features * act_in + rows * l->out_features * 2.0;
        if (t.type == t.name) {
          op.type = grouped ? "GroupedMatmul" : (l->int8_activation() ? "QuantBatchMatmulV3" : "MatMulV2");
        }
        break;
      }
      case OpKind::kCollective: {
        const double n = eval(*t.group);
        if (n <= 1) return std::nullopt;  // a one-rank group moves nothing
        const double bytes = nonneg(eval(*t.bytes), "bytes");
        const double factor = t.pattern == "all_reduce" ? 2.0 * (n - 1) / n : (n - 1) / n;
        op.overhead_us = hw.comm_latency_us;
        op.compute_us = factor * bytes / (hw.comm_GBps * 1e3);
        op.hbm_bytes = 2.0 * bytes;
        break;
      }
      case OpKind::kMeasured: {
        op.cost_source = "template";
        op.hbm_bytes = nonneg(eval(*t.hbm_bytes), "hbm_bytes");
        if (!t.linear.empty()) {
          const Linear* l = linear(t.linear, t.where);
          op.linear = linear_index_.at(t.linear);
          op.weight_bytes = l->weight_bytes();
          op.hbm_bytes = std::max(op.hbm_bytes, op.weight_bytes);
          op.l2_read_speedup = hw.l2_read_speedup;
          op.stream_GBps = hw.hbm_GBps * t.stream_efficiency.value_or(hw.matmul_stream_efficiency);
        }
        set_measured(op, nonneg(eval(*t.duration_us), "duration_us"), t.timed_alone, !t.linear.empty());
        break;
      }
    }
    check_op_time(t, op.compute_us, op.measured ? op.hbm_bytes / (hw.hbm_GBps * 1e3) : op.memory_us());
    if (!op.measured) op.standalone_us = op.overhead_us + std::max(op.compute_us, op.memory_us());
    if (op_times_) {
      // Most specific first: this op by name, the op type on this linear, the op type alone
      // (matmuls only by linear: one type covers linears of very different sizes).
      const double tokens = plan_.tokens.padded_tokens;
      std::optional<double> measured = op_times_->lookup(op.name, tokens);
      const bool alone = measured && op_times_->timed_alone(op.name);
      if (!measured && !t.linear.empty()) measured = op_times_->lookup_model(op.type + "@" + t.linear, tokens);
      if (!measured && t.kind != OpKind::kMatmul && t.kind != OpKind::kGroupedMatmul) measured = op_times_->lookup_model(op.type, tokens);
      if (measured) {
        op.cost_source = "op table";
        set_measured(op, *measured, alone, op.linear >= 0 && op.weight_bytes > 0);
      }
    }
    return op;
  }

  // A measured duration: its in-sequence cost (an alone timing less the start and tail a sequence
  // hides), split into a fixed part without HBM traffic and a memory part. A weight streams at
  // the engine's rate (the rest of the time is fixed); other bytes spread over the op's work.
  void set_measured(PlannedOp& op, double duration_us, bool timed_alone, bool streams_weight) const {
    const HardwareProfile& hw = plan_.hardware;
    const double cost = timed_alone ? std::max(0.0, duration_us - hw.alone_fixed_us) : duration_us;
    op.measured = true;
    op.standalone_us = cost;
    op.compute_us = 0;
    op.l2_read_us = 0;
    const double fixed = std::min(hw.op_overhead_us, cost);
    const double work = cost - fixed;
    if (streams_weight) {
      const double mem = std::min(work, op.hbm_bytes / (op.stream_GBps * 1e3));
      op.overhead_us = cost - mem;
      // The memory part runs at the demand that moves hbm_bytes in it.
      op.stream_GBps = mem > 0 ? op.hbm_bytes / mem / 1e3 : op.stream_GBps;
    } else {
      op.overhead_us = fixed;
      op.stream_GBps = work > 0 && op.hbm_bytes > 0 ? op.hbm_bytes / work / 1e3 : 0;
      if (op.stream_GBps == 0) op.overhead_us = cost;  // no bytes: all of it is fixed time
    }
  }

  // `last_layer`: this type is the last decoder layer, whose own weight a "last_layer" site fetches.
  PlannedLayerType plan_type(const std::string& name, const std::vector<TemplateOp>& ops,
                             const std::vector<TemplateSite>& sites, bool last_layer = false) const {
    PlannedLayerType type;
    type.name = last_layer ? name + "@last" : name;
    const CodeVersion code = plan_.semantics().code;
    std::map<std::string, int> op_index;
    for (const auto& t : ops) {
      if (auto op = plan_op(t)) {
        op_index[op->name] = static_cast<int>(type.ops.size());
        type.ops.push_back(std::move(*op));
      }
    }
    const size_t n = type.ops.size();
    if (plan_.norm_quant_fusion != NormQuantFusion::kOff) {
      // AddRMSNormQuantFusionPass matches npu_add_rms_norm_bias followed directly by quantize.
      for (size_t i = 1; i < n; ++i) {
        type.ops[i].fuses_into_norm = type.ops[i].kind == OpKind::kQuantize && type.ops[i - 1].type == "AddRmsNorm";
      }
    }
    type.forks_before.assign(n, {});
    type.joins_after.assign(n, {});
    type.targets.assign(n, {});
    for (const auto& s : sites) {
      if (s.layer_type != name) continue;
      if ((s.since && code < *s.since) || (s.until && code > *s.until)) continue;  // not in this release's code
      PlannedSite site;
      site.site = s.site;
      site.ratio_key = s.ratio_key;
      site.fixed_ratio = s.fixed_ratio;
      site.on_compute_stream = s.on_compute_stream;
      site.weight_of = s.weight_of;
      site.description = s.description;
      site.linear_name = s.linear;
      const Linear* l = linear(s.linear, s.where);
      site.linear = linear_index_.at(s.linear);
      site.weight_bytes = l->weight_bytes();
      const Semantics& sem = plan_.semantics();
      if (s.cap == "mlp" && sem.mlp_capped) site.cap_bytes = sem.mlp_cap_bytes;
      if (s.cap == "mla_o_proj") site.cap_bytes = sem.mla_o_proj_cap_bytes;
      site.gate_reason = gate_reason(s, *l);
      site.gated_on = site.gate_reason.empty();
      auto fork = op_index.find(s.fork_op), target = op_index.find(s.target);
      const bool has_join = !s.join_op.empty() && (!s.join_when || eval(*s.join_when) != 0);
      auto join = has_join ? op_index.find(s.join_op) : op_index.end();
      std::string missing;
      if (fork == op_index.end()) missing = s.fork_op;
      else if (target == op_index.end()) missing = s.target;
      else if (has_join && join == op_index.end()) missing = s.join_op;
      if (site.gated_on && !missing.empty()) {
        site.gated_on = false;
        site.gate_reason = fmt::format("op \"{}\" does not run in this deployment", missing);
      }
      if (site.gated_on) {
        // fork_op: the op before which the prefetch is issued; join_op: the op after which the
        // compute stream waits.
        site.fork_op = fork->second + (s.fork_after ? 1 : 0);
        if (site.fork_op >= static_cast<int>(n)) {
          site.gated_on = false;
          site.gate_reason = "the fork comes after the last op of the layer in this deployment";
        }
      }
      if (site.gated_on) {
        site.target_op = target->second;
        // v0.13-v0.22 MoE: the CMO fetches the last layer's w13; only that layer's matmul reads it.
        if (s.weight_of == SiteWeightOf::kLastLayer && !last_layer) site.target_op = -1;
        site.join_op = has_join ? join->second - (s.join_before ? 1 : 0) : -1;
        if (has_join && site.join_op < site.fork_op) {
          site.gated_on = false;
          site.gate_reason = "no op between fork and join in this deployment";
        }
        if (plan_.norm_quant_fusion == NormQuantFusion::kAlways && !site.on_compute_stream &&
            type.ops[static_cast<size_t>(site.fork_op)].fuses_into_norm) {
          site.gated_on = false;
          site.gate_reason = fmt::format("{} is fused into the norm before it (--norm-quant-fusion always): the linear "
                                         "receives int8 input and the attn path skips it (x.dtype != int8)",
                                         type.ops[static_cast<size_t>(site.fork_op)].name);
        }
      }
      if (site.gated_on) {
        if (type.ops[static_cast<size_t>(target->second)].linear != site.linear) {
          throw InputError(fmt::format("{}: target op \"{}\" does not read linear \"{}\"", s.where, s.target, s.linear));
        }
        const int idx = static_cast<int>(type.sites.size());
        type.forks_before[static_cast<size_t>(site.fork_op)].push_back(idx);
        if (site.join_op >= 0) type.joins_after[static_cast<size_t>(site.join_op)].push_back(idx);
        if (site.target_op >= 0) type.targets[static_cast<size_t>(site.target_op)].push_back(idx);
      }
      type.sites.push_back(std::move(site));
    }
    return type;
  }

 private:
  std::string gate_reason(const TemplateSite& s, const Linear& l) const {
    const auto& g = s.gates;
    const ModelConfig& m = plan_.model;
    if (g.model_kind) {
      if (*g.model_kind == "dense" && m.is_moe()) {
        return "MoE model: vllm-ascend runs the MLP prefetch only for dense models (is_moe_model)";
      }
      if (*g.model_kind == "moe" && !m.is_moe()) return "dense model: MoE prefetch needs routed experts";
    }
    if (g.linear_class && *g.linear_class != linear_class_name(l.linear_class)) {
      return fmt::format("{} is a {}, this path takes {}", l.name, linear_class_name(l.linear_class), *g.linear_class);
    }
    if (g.linear_quant && *g.linear_quant != quant_scheme_name(l.scheme)) {
      return fmt::format("{} is {}: this path runs only for {} linears", l.name, quant_scheme_name(l.scheme), *g.linear_quant);
    }
    if (g.linear_quant_not && *g.linear_quant_not == quant_scheme_name(l.scheme)) {
      return fmt::format("{} is {}: vllm-ascend skips this prefetch (the attn path covers it)", l.name,
                         quant_scheme_name(l.scheme));
    }
    for (const auto& c : g.off_when) {
      if (eval(c.expr) != 0) return c.reason;
    }
    if (g.needs_layer_idx && m.language_model_wrapped) {
      // has_layer_idx() looks for model_instance.model.start_layer; a wrapper keeps its decoder under
      // .language_model, so layer_idx stays None and the path returns before any prefetch
      // (v0.23.0:vllm_ascend/utils.py:1284, ascend_forward_context.py:152, ops/weight_prefetch.py:146 and :115).
      return fmt::format("{} keeps its decoder under .language_model: vllm-ascend sets no layer_idx "
                         "(has_layer_idx needs model.start_layer), and this path finds its weight through it",
                         m.hf_architecture);
    }
    if (g.needs_custom_row_op && !plan_.deployment.flashcomm1) {
      return "o_proj runs no Ascend custom row op (no flashcomm1 / sequence parallel), so the MLP gate_up prefetch "
             "never fires";
    }
    if (g.step_tokens_below && !(plan_.tokens.padded_tokens < *g.step_tokens_below)) {
      return fmt::format("token gate: {} tokens per step (padded) is not below {}", plan_.tokens.padded_tokens,
                         *g.step_tokens_below);
    }
    if (g.gate_tokens_at_least) {
      const double tg = plan_.variables.at("TG");
      if (!(tg >= *g.gate_tokens_at_least)) {
        return fmt::format("token gate: {} tokens per rank at MoE gating ({}) is below {}", tg, plan_.moe_comm_method,
                           *g.gate_tokens_at_least);
      }
    }
    return "";
  }

  StepPlan& plan_;
  const OpTimeTable* op_times_;
  std::map<std::string, int> linear_index_;
};

}  // namespace

CaptureModel capture_model_of(const ModelConfig& model, const Deployment& deployment) {
  CaptureModel capture(model.num_hidden_layers);
  capture.qwen3_moe = model.model_type == "qwen3_moe";
  // A speculative draft: MTP (one layer, num_nextn_predict_layers = 1 in the bundled DeepSeek-V3)
  // or a one-layer EAGLE head, the common cases.
  capture.draft_layers = deployment.num_speculative_tokens > 0 ? 1 : 0;
  return capture;
}

StepPlan build_step_plan(const ModelConfig& model, const Deployment& deployment, const HardwareProfile& hardware,
                         const LayerTemplate& layer_template, const Release& release, const OpTimeTable* op_times) {
  deployment.validate();
  StepPlan plan;
  plan.release = &release;
  plan.model = model;
  plan.deployment = deployment;
  plan.hardware = hardware;
  plan.tokens = plan_tokens(deployment, release, capture_model_of(model, deployment));
  // The fusion passes run on the compiled graph: --eager (enforce_eager) compiles nothing.
  plan.norm_quant_fusion = deployment.graph_mode ? deployment.norm_quant_fusion : NormQuantFusion::kOff;
  plan.template_name = layer_template.name;
  for (auto& [name, l] : per_rank_linears(model, deployment)) plan.linears.push_back(l);
  plan.variables = shape_variables(model, deployment, plan.tokens, hardware, release, plan.moe_comm_method);
  for (const auto& l : plan.linears) {
    // A checkpoint can keep its experts in float while the rest is quantized: MOEQ follows the experts.
    if (l.name == "experts.w13") plan.variables["MOEQ"] = l.scheme == QuantScheme::kBf16 ? 0 : 1;
  }
  if (model.is_moe() && deployment.expert_parallel &&
      model.num_experts % moe_group_size(deployment) != 0) {
    plan.notes.push_back(fmt::format("{} experts do not divide over {} ranks: local experts rounded up",
                                     model.num_experts, moe_group_size(deployment)));
  }

  Planner planner(plan, op_times);
  std::vector<std::string> sequence;
  if (!layer_template.layer_sequence.empty()) {
    for (const auto& [type, count] : layer_template.layer_sequence) {
      for (int i = 0; i < count; ++i) sequence.push_back(type);
    }
  } else {
    for (int i = 0; i < model.num_hidden_layers; ++i) sequence.push_back(default_layer_type(model, i));
  }
  // The last decoder layer gets a type of its own when a site of its type fetches the last layer's
  // weight: there, and only there, the fetched bytes are its own.
  bool split_last = false;
  if (!sequence.empty()) {
    for (const auto& site : layer_template.sites) {
      split_last = split_last || (site.layer_type == sequence.back() && site.weight_of == SiteWeightOf::kLastLayer);
    }
  }
  std::map<std::string, int> type_index;
  for (size_t i = 0; i < sequence.size(); ++i) {
    const std::string& name = sequence[i];
    const bool last = split_last && i + 1 == sequence.size();
    const std::string key = last ? name + "@last" : name;
    if (type_index.count(key)) continue;
    auto it = layer_template.layer_types.find(name);
    if (it == layer_template.layer_types.end()) {
      throw InputError(fmt::format("{}: no layer type \"{}\", which model {} ({}) needs", layer_template.source, name,
                                   model.name, model.hf_architecture));
    }
    type_index[key] = static_cast<int>(plan.layer_types.size());
    plan.layer_types.push_back(planner.plan_type(name, it->second, layer_template.sites, last));
  }
  for (size_t i = 0; i < sequence.size(); ++i) {
    const bool last = split_last && i + 1 == sequence.size();
    plan.layer_sequence.push_back(type_index.at(last ? sequence[i] + "@last" : sequence[i]));
  }
  plan.step_ops = planner.plan_type("step", layer_template.step_ops, {});
  return plan;
}

}  // namespace pt
