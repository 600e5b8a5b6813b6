#include "model/checkpoint_quantization.h"

#include <cctype>

#include <fmt/format.h>

#include "util/error.h"

namespace pt {

const char* quant_scheme_name(QuantScheme s) {
  switch (s) {
    case QuantScheme::kBf16: return "bf16";
    case QuantScheme::kW8A8Static: return "w8a8_static";
    case QuantScheme::kW8A8Dynamic: return "w8a8_dynamic";
    case QuantScheme::kW4A8Dynamic: return "w4a8_dynamic";
  }
  return "?";
}

const char* linear_group_name(LinearGroup g) {
  switch (g) {
    case LinearGroup::kAttention: return "attention";
    case LinearGroup::kDenseMlp: return "dense MLP";
    case LinearGroup::kExperts: return "routed experts";
    case LinearGroup::kSharedExperts: return "shared experts";
    case LinearGroup::kGdnIn: return "Gated-DeltaNet in_proj";
    case LinearGroup::kGdnOut: return "Gated-DeltaNet out_proj";
    case LinearGroup::kUnquantized: return "unquantized";
  }
  return "?";
}

namespace {

// ModelSlim's per-tensor quant types this tool has a scheme for (the Ascend linear methods
// AscendW8A8LinearMethod, AscendW8A8DynamicLinearMethod, AscendW4A8DynamicLinearMethod; FLOAT keeps
// the unquantized method: v0.23.0:vllm_ascend/quantization/modelslim_config.py:681).
std::optional<QuantScheme> scheme_of_type(const std::string& type) {
  if (type == "FLOAT") return QuantScheme::kBf16;
  if (type == "W8A8") return QuantScheme::kW8A8Static;
  if (type == "W8A8_DYNAMIC") return QuantScheme::kW8A8Dynamic;
  if (type == "W4A8_DYNAMIC") return QuantScheme::kW4A8Dynamic;
  return std::nullopt;
}

std::optional<Quantization> quantization_of_type(const std::string& type) {
  if (type == "FLOAT") return Quantization::kBf16;
  if (type == "W8A8") return Quantization::kW8A8Static;
  if (type == "W8A8_DYNAMIC") return Quantization::kW8A8Dynamic;
  if (type == "W4A8_DYNAMIC") return Quantization::kW4A8;
  return std::nullopt;
}

// The group of a per-tensor key, keyed the way vllm-ascend looks it up (prefix + ".weight",
// modelslim_config.py:381): "...layers.<i>.<module path>.weight". Norms, convolutions, the router
// gate, embeddings and lm_head are not linears the tool quantizes: no group.
std::optional<LinearGroup> group_of_key(const std::string& key) {
  if (!key.ends_with(".weight")) return std::nullopt;
  size_t at = key.find("layers.");
  while (at != std::string::npos) {
    size_t p = at + 7;
    size_t digits = p;
    while (digits < key.size() && std::isdigit(static_cast<unsigned char>(key[digits]))) ++digits;
    if (digits > p && digits < key.size() && key[digits] == '.') {
      const std::string rest = key.substr(digits + 1, key.size() - (digits + 1) - 7);  // without ".weight"
      const std::string leaf = rest.substr(rest.rfind('.') == std::string::npos ? 0 : rest.rfind('.') + 1);
      if (leaf.find("proj") == std::string::npos) return std::nullopt;  // q_norm, conv1d, mlp.gate ...
      if (rest.starts_with("self_attn.") || rest.starts_with("attn.")) return LinearGroup::kAttention;
      if (rest.starts_with("linear_attn.")) return leaf == "out_proj" ? LinearGroup::kGdnOut : LinearGroup::kGdnIn;
      if (rest.starts_with("mlp.experts.")) return LinearGroup::kExperts;
      if (rest.starts_with("mlp.shared_expert")) return LinearGroup::kSharedExperts;
      if (rest.starts_with("mlp.")) return LinearGroup::kDenseMlp;
      return std::nullopt;
    }
    at = key.find("layers.", at + 1);
  }
  return std::nullopt;
}

}  // namespace

CheckpointQuantization parse_modelslim_description(const std::string& text, const std::string& source) {
  Json json = parse_json_text(text, source);
  JsonReader root(json, source);
  root.expect_object();
  CheckpointQuantization q;
  q.file = kModelSlimDescriptionFile;
  const std::optional<std::string> declared = root.optional_string("model_quant_type");
  q.declared = declared.value_or("");

  struct Tally {
    std::map<std::string, int> types;
    std::string example_key;
    int total = 0;
  };
  std::map<LinearGroup, Tally> tallies;
  for (auto it = json.begin(); it != json.end(); ++it) {
    const auto group = group_of_key(it.key());
    if (!group) continue;
    const std::string type = root.child(it.key()).string();
    Tally& t = tallies[*group];
    if (t.total == 0) t.example_key = it.key();
    ++t.types[type];
    ++t.total;
  }
  for (const auto& [group, t] : tallies) {
    auto majority = t.types.begin();
    for (auto it = t.types.begin(); it != t.types.end(); ++it) {
      if (it->second > majority->second) majority = it;
    }
    const auto scheme = scheme_of_type(majority->first);
    if (!scheme) {
      q.refusal = fmt::format("{}: {}: quant type \"{}\" ({} {} tensors): this tool models FLOAT, W8A8, "
                              "W8A8_DYNAMIC and W4A8_DYNAMIC linears",
                              source, root.child_path(t.example_key), majority->first, majority->second, linear_group_name(group));
      return q;
    }
    q.groups[group] = *scheme;
    for (const auto& [type, count] : t.types) {
      if (type == majority->first) continue;
      q.notes.push_back(fmt::format("{}: {} of {} {} tensors are {}; modelled as {} in every layer", source, count, t.total,
                                    linear_group_name(group), type, majority->first));
    }
  }

  if (declared) {
    q.scheme = quantization_of_type(*declared);
  }
  if (!q.scheme && !q.groups.empty()) {
    // A mixed type ("W8A8_MIX") or none: name the deployment scheme after the per-layer entries.
    auto has = [&](QuantScheme s) {
      for (const auto& [g, v] : q.groups) {
        if (v == s) return true;
      }
      return false;
    };
    const auto attention = q.groups.find(LinearGroup::kAttention);
    if (has(QuantScheme::kW4A8Dynamic)) q.scheme = Quantization::kW4A8;
    else if (attention != q.groups.end() && attention->second == QuantScheme::kW8A8Static) q.scheme = Quantization::kW8A8Static;
    else if (has(QuantScheme::kW8A8Dynamic) || has(QuantScheme::kW8A8Static)) q.scheme = Quantization::kW8A8Dynamic;
    else q.scheme = Quantization::kBf16;
  }
  if (!q.scheme) {
    q.refusal = declared ? fmt::format("{}: $.model_quant_type: \"{}\" with no per-layer entries: this tool models "
                                       "W8A8, W8A8_DYNAMIC, W4A8_DYNAMIC and FLOAT",
                                       source, *declared)
                         : fmt::format("{}: neither \"model_quant_type\" nor per-layer entries "
                                       "(\"model.layers.0.self_attn.q_proj.weight\": \"W8A8\")",
                                       source);
  }
  return q;
}

CheckpointQuantization parse_quantization_config(const JsonReader& qc) {
  qc.expect_object();
  CheckpointQuantization q;
  q.file = "config.json quantization_config";
  if (!qc.has("quant_method")) {
    q.refusal = fmt::format("{}: {}: no \"quant_method\"", qc.source(), qc.path());
    return q;
  }
  JsonReader method = qc.child("quant_method");
  q.declared = method.string();
  const std::string where = fmt::format("{}: {}", method.source(), method.path());
  if (q.declared == "fp8") {
    // An FP8 release (DeepSeek-V3/R1, GLM-4.5-FP8 ...) on A2/A3: up to v0.20 fp8 is not among
    // NPUPlatform.supported_quantization, so vLLM's verify_quantization refuses it at start-up; from
    // v0.21 AscendFp8Config takes it, but its schemes run MXFP8 kernels only Ascend 950 (A5) has
    // (detect_quantization_method picks fp8 only on A5) and read DeepSeek-V4 fields (o_groups).
    q.refusal = fmt::format(
        "{}: \"fp8\": vllm-ascend cannot serve an FP8 checkpoint on A2/A3: up to v0.20 fp8 is not among "
        "NPUPlatform.supported_quantization and vLLM refuses it at start-up (v0.20.2rc1:vllm_ascend/platform.py:106); "
        "from v0.21 its fp8 path runs MXFP8 kernels of Ascend 950 only (v0.23.0:vllm_ascend/quantization/utils.py:132) "
        "and reads DeepSeek-V4 fields (v0.23.0:vllm_ascend/quantization/methods/fp8.py:45). Serve a ModelSlim "
        "conversion (W8A8, W8A8_DYNAMIC)",
        where);
  } else if (q.declared == "compressed-tensors") {
    // vllm-ascend serves some compressed-tensors schemes (W8A8, W8A8_DYNAMIC, W4A8, W4A16:
    // v0.23.0:vllm_ascend/quantization/compressed_tensors_config.py:342), chosen from config_groups, which this tool does not read.
    q.refusal = fmt::format("{}: \"compressed-tensors\": the tool does not read config_groups to tell which scheme "
                            "vllm-ascend would run (W8A8, W8A8_DYNAMIC, W4A8 or W4A16)",
                            where);
  } else if (q.declared == "ascend") {
    q.refusal = fmt::format("{}: \"ascend\" (ModelSlim) but the directory holds no {}, which vllm-ascend reads the "
                            "per-layer types from",
                            where, kModelSlimDescriptionFile);
  } else {
    q.refusal = fmt::format("{}: \"{}\" is not a quantization vllm-ascend serves (NPUPlatform.supported_quantization: "
                            "ascend, compressed-tensors, and fp8 from v0.21; v0.23.0:vllm_ascend/platform.py:140): "
                            "vLLM refuses it at start-up",
                            where, q.declared);
  }
  return q;
}

Deployment resolve_quantization(const ModelConfig& model, Deployment d, std::vector<std::string>& notes) {
  const auto& cq = model.checkpoint_quantization;
  if (d.quantization_source == QuantizationSource::kOption) {
    if (cq && (!cq->scheme || *cq->scheme != d.quantization)) {
      notes.push_back(fmt::format("--quantization {} overrides the checkpoint's {} ({})", quantization_name(d.quantization),
                                  cq->declared.empty() ? "quantization" : cq->declared, cq->file));
    }
    return d;
  }
  if (cq) {
    if (!cq->scheme) throw InputError(cq->refusal + "; or give --quantization to model converted weights");
    d.quantization = *cq->scheme;
    d.quantization_source = QuantizationSource::kCheckpoint;
    d.quantization_file = cq->file;
    notes.insert(notes.end(), cq->notes.begin(), cq->notes.end());
    return d;
  }
  if (!model.checkpoint_dir.empty()) {
    // detect_quantization_method finds no signature: vllm-ascend loads the weights as float
    // (v0.23.0:vllm_ascend/quantization/utils.py:173).
    notes.push_back(fmt::format("{} holds no {} and its config.json no quantization_config: vllm-ascend would load the "
                                "weights as bf16; this run models {} (the default) unless --quantization says otherwise",
                                model.checkpoint_dir, kModelSlimDescriptionFile, quantization_name(d.quantization)));
  }
  return d;
}

}  // namespace pt
