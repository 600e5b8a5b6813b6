#include "sim/layer_template.h"

#include <filesystem>
#include <set>
#include <tuple>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "util/embedded_files.h"
#include "util/error.h"
#include "util/file_io.h"
#include "util/json_reader.h"

namespace pt {

const char* collective_pattern_name(CollectivePattern p) {
  switch (p) {
    case CollectivePattern::kAllReduce: return "all_reduce";
    case CollectivePattern::kAllGather: return "all_gather";
    case CollectivePattern::kReduceScatter: return "reduce_scatter";
    case CollectivePattern::kAllToAll: return "all_to_all";
  }
  return "all_reduce";
}

namespace {

// The value of a closed-set string field, or the reader's error naming what was expected.
template <typename E>
E parse_name(const JsonReader& r, const std::vector<std::pair<std::string, E>>& names, const char* expected) {
  const std::string text = r.string();
  for (const auto& [name, value] : names) {
    if (name == text) return value;
  }
  r.fail(expected);
}

struct KindName {
  const char* name;
  OpKind kind;
};
constexpr KindName kKinds[] = {
    {"vector", OpKind::kVector},       {"cube", OpKind::kCube},
    {"quantize", OpKind::kQuantize},   {"matmul", OpKind::kMatmul},
    {"grouped_matmul", OpKind::kGroupedMatmul}, {"collective", OpKind::kCollective},
    {"measured", OpKind::kMeasured},
};

std::optional<Expression> opt_expr(const JsonReader& r, std::string_view key) {
  if (!r.has(key)) return std::nullopt;
  JsonReader c = r.child(key);
  if (c.node().is_number()) return Expression::constant(c.number());
  return Expression::parse(c.string(), fmt::format("{}: {}", r.source(), c.path()));
}

Expression req_expr(const JsonReader& r, std::string_view key) {
  r.child(key);  // throws "missing required key"
  return *opt_expr(r, key);
}

TemplateOp parse_op(const JsonReader& r) {
  r.expect_only_keys({"name", "type", "kind", "core", "when", "flops", "bytes", "tokens", "pairs", "group", "dtype",
                      "linear", "pattern", "duration_us", "hbm_bytes", "timing", "stream_efficiency", "comment"});
  TemplateOp op;
  op.where = fmt::format("{}: {}", r.source(), r.path());
  op.name = r.child("name").string();
  if (op.name.empty()) r.child("name").fail("empty op name");
  op.type = r.optional_string("type").value_or(op.name);
  const std::string kind = r.child("kind").string();
  bool known = false;
  for (const auto& k : kKinds) {
    if (kind == k.name) {
      op.kind = k.kind;
      known = true;
    }
  }
  if (!known) {
    std::vector<std::string> names;
    for (const auto& k : kKinds) names.emplace_back(k.name);
    r.child("kind").fail(fmt::format("unknown op kind \"{}\" (expected one of {})", kind, fmt::join(names, ", ")));
  }
  op.core = r.optional_string("core").value_or("");
  op.when = opt_expr(r, "when");
  const std::string dtype = r.optional_string("dtype").value_or("");
  if (r.has("stream_efficiency")) {
    if (op.kind != OpKind::kMatmul && op.kind != OpKind::kGroupedMatmul && op.kind != OpKind::kMeasured) {
      r.child("stream_efficiency").fail("only a matmul, grouped_matmul or measured op streams a weight");
    }
    op.stream_efficiency = r.child("stream_efficiency").number_in(1e-3, 1.0);
  }
  if (r.has("timing") && op.kind != OpKind::kMeasured) r.child("timing").fail("only a measured op has a timing");
  switch (op.kind) {
    case OpKind::kVector:
    case OpKind::kCube:
      op.flops = req_expr(r, "flops");
      op.bytes = req_expr(r, "bytes");
      if (op.kind == OpKind::kVector && !dtype.empty()) {
        op.dtype = parse_name<OpDtype>(r.child("dtype"), {{"fp16", OpDtype::kFp16}, {"fp32", OpDtype::kFp32}},
                                       "expected \"fp16\" or \"fp32\" for a vector op");
      }
      if (op.kind == OpKind::kCube && !dtype.empty()) {
        op.dtype = parse_name<OpDtype>(r.child("dtype"), {{"bf16", OpDtype::kBf16}, {"int8", OpDtype::kInt8}},
                                       "expected \"bf16\" or \"int8\" for a cube op");
      }
      break;
    case OpKind::kQuantize:
    case OpKind::kMatmul:
      op.linear = r.child("linear").string();
      op.tokens = opt_expr(r, "tokens");
      if (!op.tokens) op.tokens = Expression::parse("T", op.where);
      break;
    case OpKind::kGroupedMatmul:
      op.linear = r.child("linear").string();
      op.pairs = opt_expr(r, "pairs");
      if (!op.pairs) op.pairs = Expression::parse("TG*K", op.where);
      break;
    case OpKind::kCollective: {
      op.pattern = parse_name<CollectivePattern>(r.child("pattern"),
                                                 {{"all_reduce", CollectivePattern::kAllReduce},
                                                  {"all_gather", CollectivePattern::kAllGather},
                                                  {"reduce_scatter", CollectivePattern::kReduceScatter},
                                                  {"all_to_all", CollectivePattern::kAllToAll}},
                                                 "expected all_reduce, all_gather, reduce_scatter or all_to_all");
      op.group = req_expr(r, "group");
      op.bytes = req_expr(r, "bytes");
      break;
    }
    case OpKind::kMeasured:
      // A number or an expression of the shape variables ("2 + 0.01*T").
      if (r.has("duration_us") && r.child("duration_us").node().is_number()) r.child("duration_us").number_in(0, 1e9);
      op.duration_us = req_expr(r, "duration_us");
      if (auto timing = r.optional_string("timing")) {
        if (*timing != "alone" && *timing != "in_sequence") r.child("timing").fail("expected \"in_sequence\" or \"alone\"");
        op.timed_alone = *timing == "alone";
      }
      op.hbm_bytes = opt_expr(r, "hbm_bytes");
      if (!op.hbm_bytes) op.hbm_bytes = Expression::constant(0);
      op.linear = r.optional_string("linear").value_or("");
      break;
  }
  return op;
}

std::vector<TemplateOp> parse_ops(const JsonReader& list) {
  list.expect_array();
  std::vector<TemplateOp> ops;
  std::set<std::string> names;
  for (size_t i = 0; i < list.node().size(); ++i) {
    TemplateOp op = parse_op(list.element(i));
    if (!names.insert(op.name).second) {
      list.element(i).child("name").fail(fmt::format("duplicate op name \"{}\" in this layer type", op.name));
    }
    ops.push_back(std::move(op));
  }
  return ops;
}

const TemplateOp* find_op(const std::vector<TemplateOp>& ops, const std::string& name, size_t* index = nullptr) {
  for (size_t i = 0; i < ops.size(); ++i) {
    if (ops[i].name == name) {
      if (index) *index = i;
      return &ops[i];
    }
  }
  return nullptr;
}

TemplateSite parse_site(const JsonReader& r, const LayerTemplate& t) {
  r.expect_only_keys({"site", "ratio_key", "fixed_ratio", "layer_type", "linear", "fork_before", "fork_after",
                      "join_after", "join_before", "no_join", "join_when", "target", "cap", "stream", "weight_of",
                      "since", "until", "gates", "description"});
  TemplateSite s;
  s.where = fmt::format("{}: {}", r.source(), r.path());
  s.site = r.child("site").string();
  if (r.has("ratio_key") && !r.child("ratio_key").node().is_null()) {
    std::string key = r.child("ratio_key").string();
    s.ratio_key = ratio_key_from_name(key);
    if (!s.ratio_key) {
      r.child("ratio_key").fail("unknown ratio key (expected attn.qkv, attn.o, moe.gate_up, mlp.gate_up or mlp.down, or null)");
    }
  } else {
    s.fixed_ratio = r.child("fixed_ratio").number_in(0, 1);
  }
  s.layer_type = r.child("layer_type").string();
  auto type_it = t.layer_types.find(s.layer_type);
  if (type_it == t.layer_types.end()) {
    r.child("layer_type").fail(fmt::format("no layer type \"{}\" in this template", s.layer_type));
  }
  const auto& ops = type_it->second;
  s.linear = r.child("linear").string();
  s.on_compute_stream = r.optional_string("stream").value_or("prefetch") == "compute";
  if (r.has("stream") && r.child("stream").string() != "compute" && r.child("stream").string() != "prefetch") {
    r.child("stream").fail("expected \"prefetch\" or \"compute\"");
  }
  auto one_of = [&](const char* a, const char* b, bool required) -> std::pair<std::string, bool> {
    if (r.has(a) && r.has(b)) r.child(b).fail(fmt::format("give either \"{}\" or \"{}\", not both", a, b));
    if (r.has(a)) return {r.child(a).string(), false};
    if (r.has(b)) return {r.child(b).string(), true};
    if (required) r.fail(fmt::format("missing \"{}\" (or \"{}\")", a, b));
    return {"", false};
  };
  std::tie(s.fork_op, s.fork_after) = one_of("fork_before", "fork_after", true);
  const bool no_join = r.optional_bool("no_join").value_or(false);
  std::tie(s.join_op, s.join_before) = one_of("join_after", "join_before", false);
  if (s.on_compute_stream && !s.join_op.empty()) {
    r.child(r.has("join_after") ? "join_after" : "join_before").fail("a compute-stream prefetch has no join");
  }
  if (!s.on_compute_stream && s.join_op.empty() && !no_join) {
    r.fail("missing \"join_after\" (or \"join_before\"); give \"no_join\": true for a prefetch that no wait of its own "
           "joins (the next wait on the prefetch stream covers it)");
  }
  if (no_join && !s.join_op.empty()) r.child("no_join").fail("\"no_join\" together with a join op");
  if (r.has("join_when")) {
    if (s.join_op.empty()) r.child("join_when").fail("\"join_when\" needs a join op");
    s.join_when = opt_expr(r, "join_when");
  }
  const std::string weight_of = r.optional_string("weight_of").value_or("this_layer");
  if (weight_of == "last_layer") s.weight_of = SiteWeightOf::kLastLayer;
  else if (weight_of != "this_layer") r.child("weight_of").fail("expected \"this_layer\" or \"last_layer\"");
  for (const char* k : {"since", "until"}) {
    if (!r.has(k)) continue;
    const std::string v = r.child(k).string();
    auto c = code_version_from_name(v);
    if (!c) r.child(k).fail("expected a code version: v0.13, v0.15, v0.17, v0.18 or v0.23");
    (std::string(k) == "since" ? s.since : s.until) = c;
  }
  if (s.since && s.until && *s.until < *s.since) r.child("until").fail("\"until\" comes before \"since\"");
  s.target = r.child("target").string();
  auto check_op = [&](const std::string& name, const char* key) -> size_t {
    size_t index = 0;
    if (!find_op(ops, name, &index)) {
      std::string k = key;
      if (!r.has(k)) k = k == "fork_before" ? "fork_after" : k == "join_after" ? "join_before" : k;
      r.child(k).fail(fmt::format("no op \"{}\" in layer type \"{}\"", name, s.layer_type));
    }
    return index;
  };
  // Positions in "between ops" units: a fork before op i sits at i, after op i at i + 1; a join
  // after op j sits at j + 1, before op j at j.
  const size_t fork_pos = check_op(s.fork_op, "fork_before") + (s.fork_after ? 1 : 0);
  const size_t target_pos = check_op(s.target, "target");
  if (target_pos < fork_pos) r.child("target").fail("the target op runs before the fork");
  if (!s.join_op.empty()) {
    // The join may come after the target: the matmul then races the prefetch of its own weight.
    const size_t join_pos = check_op(s.join_op, "join_after") + (s.join_before ? 0 : 1);
    if (join_pos <= fork_pos) r.fail("the join comes before the fork: the window holds no op");
  }
  if (r.has("cap")) {
    s.cap = parse_name<SiteCap>(r.child("cap"), {{"none", SiteCap::kNone}, {"mlp", SiteCap::kMlp}, {"mla_o_proj", SiteCap::kMlaOProj}},
                                "expected \"none\", \"mlp\" or \"mla_o_proj\"");
  }
  s.description = r.optional_string("description").value_or("");
  if (r.has("gates")) {
    JsonReader g = r.child("gates");
    g.expect_only_keys({"model_kind", "step_tokens_below", "gate_tokens_at_least", "linear_quant", "linear_quant_not",
                        "linear_class", "needs_custom_row_op", "needs_layer_idx", "off_when"});
    if (g.has("model_kind")) {
      s.gates.model_kind = parse_name<ModelKind>(g.child("model_kind"), {{"dense", ModelKind::kDense}, {"moe", ModelKind::kMoe}},
                                                 "expected \"dense\" or \"moe\"");
    }
    s.gates.step_tokens_below = g.optional_number("step_tokens_below");
    s.gates.gate_tokens_at_least = g.optional_number("gate_tokens_at_least");
    const std::vector<std::pair<std::string, QuantScheme>> schemes = {
        {"bf16", QuantScheme::kBf16}, {"w8a8_static", QuantScheme::kW8A8Static},
        {"w8a8_dynamic", QuantScheme::kW8A8Dynamic}, {"w4a8_dynamic", QuantScheme::kW4A8Dynamic}};
    const char* schemes_expected = "expected bf16, w8a8_static, w8a8_dynamic or w4a8_dynamic";
    if (g.has("linear_quant")) s.gates.linear_quant = parse_name(g.child("linear_quant"), schemes, schemes_expected);
    if (g.has("linear_quant_not")) s.gates.linear_quant_not = parse_name(g.child("linear_quant_not"), schemes, schemes_expected);
    if (g.has("linear_class")) {
      s.gates.linear_class = parse_name<LinearClass>(
          g.child("linear_class"),
          {{"QKVParallelLinear", LinearClass::kQkvParallel}, {"RowParallelLinear", LinearClass::kRowParallel},
           {"ColumnParallelLinear", LinearClass::kColumnParallel}, {"ReplicatedLinear", LinearClass::kReplicated},
           {"FusedMoE", LinearClass::kFusedMoe}},
          "expected QKVParallelLinear, RowParallelLinear, ColumnParallelLinear, ReplicatedLinear or FusedMoE");
    }
    s.gates.needs_custom_row_op = g.optional_bool("needs_custom_row_op").value_or(false);
    s.gates.needs_layer_idx = g.optional_bool("needs_layer_idx").value_or(false);
    if (g.has("off_when")) {
      JsonReader list = g.child("off_when");
      list.expect_array();
      for (size_t i = 0; i < list.node().size(); ++i) {
        JsonReader c = list.element(i);
        c.expect_only_keys({"expr", "reason"});
        s.gates.off_when.push_back({req_expr(c, "expr"), c.child("reason").string()});
      }
    }
  }
  return s;
}

}  // namespace

const char* op_kind_name(OpKind k) {
  for (const auto& e : kKinds) {
    if (e.kind == k) return e.name;
  }
  return "?";
}

LayerTemplate parse_layer_template(const std::string& text, const std::string& source) {
  Json json = parse_json_text(text, source);
  JsonReader root(json, source);
  root.expect_only_keys({"schema", "name", "description", "layer_types", "step_ops", "sites", "layer_sequence"});
  if (auto schema = root.optional_string("schema"); schema && *schema != "prefetch-tuner/layer-template/1") {
    root.child("schema").fail(fmt::format("unsupported schema \"{}\" (expected \"prefetch-tuner/layer-template/1\")", *schema));
  }
  LayerTemplate t;
  t.source = source;
  t.name = root.optional_string("name").value_or(source);
  t.description = root.optional_string("description").value_or("");
  JsonReader types = root.child("layer_types");
  types.expect_object();
  if (types.node().empty()) types.fail("no layer types");
  for (auto it = types.node().begin(); it != types.node().end(); ++it) {
    JsonReader type = types.child(it.key());
    type.expect_only_keys({"ops", "description"});
    t.layer_types[it.key()] = parse_ops(type.child("ops"));
    if (t.layer_types[it.key()].empty()) type.child("ops").fail("a layer type needs at least one op");
  }
  if (root.has("step_ops")) t.step_ops = parse_ops(root.child("step_ops"));
  if (root.has("sites")) {
    JsonReader sites = root.child("sites");
    sites.expect_array();
    for (size_t i = 0; i < sites.node().size(); ++i) {
      TemplateSite s = parse_site(sites.element(i), t);
      // One site may be written once per range of releases (since / until) that do not overlap.
      const int lo = s.since ? static_cast<int>(*s.since) : -1, hi = s.until ? static_cast<int>(*s.until) : 1 << 20;
      for (const auto& other : t.sites) {
        if (other.site != s.site || other.layer_type != s.layer_type) continue;
        const int olo = other.since ? static_cast<int>(*other.since) : -1;
        const int ohi = other.until ? static_cast<int>(*other.until) : 1 << 20;
        if (lo <= ohi && olo <= hi) {
          sites.element(i).child("site").fail(fmt::format(
              "site \"{}\" appears twice in layer type \"{}\" for the same releases (give since / until)", s.site,
              s.layer_type));
        }
      }
      t.sites.push_back(std::move(s));
    }
  }
  if (root.has("layer_sequence")) {
    JsonReader seq = root.child("layer_sequence");
    seq.expect_array();
    constexpr long long kMaxSequenceLayers = 4096;  // as many as a config.json may give (model_config.cc)
    long long total = 0;
    for (size_t i = 0; i < seq.node().size(); ++i) {
      JsonReader e = seq.element(i);
      e.expect_only_keys({"type", "count"});
      std::string type = e.child("type").string();
      if (!t.layer_types.count(type)) e.child("type").fail(fmt::format("no layer type \"{}\" in this template", type));
      t.layer_sequence.emplace_back(type, static_cast<int>(e.child("count").integer_in(1, kMaxSequenceLayers)));
      total += t.layer_sequence.back().second;
      if (total > kMaxSequenceLayers) e.fail(fmt::format("{} layers in all; at most {}", total, kMaxSequenceLayers));
    }
  }
  return t;
}

LayerTemplate load_layer_template(const std::string& path, const ModelConfig& model) {
  if (!path.empty()) {
    // A bundled template by name ("qwen3_moe-this-layer-w13"), unless a file of that name exists.
    std::error_code ec;
    if (path.find('/') == std::string::npos && !std::filesystem::exists(path, ec)) {
      if (auto text = find_embedded(fmt::format("layers/{}.json", path))) {
        return parse_layer_template(std::string(*text), "bundled layers/" + path + ".json");
      }
    }
    return parse_layer_template(read_text_file(path), path);
  }
  const std::string rel = fmt::format("layers/{}.json", family_name(model.family));
  auto text = find_embedded(rel);
  if (!text) throw InputError(fmt::format("no bundled layer template {} for this model", rel));
  return parse_layer_template(std::string(*text), "bundled " + rel);
}

std::string default_layer_type(const ModelConfig& m, int index) {
  const bool moe = m.layer_is_moe(index);
  switch (m.family) {
    case ModelFamily::kDense: return "dense";
    case ModelFamily::kQwen3Moe:
    case ModelFamily::kGlm4Moe: return moe ? "moe" : "dense";
    case ModelFamily::kDeepseekV3: return moe ? "mla_moe" : "mla_dense";
    case ModelFamily::kQwen3Next:
      return m.layer_types[static_cast<size_t>(index)] == "linear_attention" ? "linear_attention_moe" : "full_attention_moe";
  }
  return "dense";
}

}  // namespace pt
