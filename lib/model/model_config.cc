#include "model/model_config.h"

#include <algorithm>
#include <filesystem>
#include <optional>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "model/checkpoint_quantization.h"
#include "util/did_you_mean.h"
#include "util/embedded_files.h"
#include "util/error.h"
#include "util/printable.h"
#include "util/file_io.h"
#include "util/json_reader.h"

namespace pt {

namespace {

constexpr long long kMaxDim = 1 << 20;        // larger than any real hidden size or vocab
constexpr long long kMaxLayers = 4096;
constexpr long long kMaxExperts = 65536;

struct ArchEntry {
  const char* hf_name;
  ModelFamily family;
  bool text_config;  // a multimodal wrapper: shapes in text_config, the decoder under .language_model
  bool qk_norm;      // per-head q/k RMSNorm by architecture (Glm4Moe reads use_qk_norm instead)
};

// Which prefetch paths a model gets depends only on the classes vLLM builds it from (vllm-ascend keys
// the attn paths on AscendQKVParallelLinear / AscendRowParallelLinear, the MLP paths on
// model.layers[i].mlp.gate_up_proj / down_proj and SiluAndMul, the MoE path on mlp.experts.w13_weight:
// v0.23.0:vllm_ascend/ops/weight_prefetch.py:54, :168, :180, :121), so an architecture maps to the
// family whose layers are built from the same classes:
// - MistralForCausalLM: vLLM's registry runs it with llama.py's LlamaForCausalLM (later releases
//   with mistral.py, which subclasses the Llama classes): Llama-shaped, dense.
// - Glm4MoeForCausalLM (GLM-4.5, 4.5-Air): glm4_moe.py uses QKVParallelLinear (with bias),
//   RowParallelLinear, FusedMoE under mlp.experts, a Glm4MoeMLP shared expert and dense first layers.
// - Qwen3VL(Moe)ForConditionalGeneration: the Qwen3 (MoE) decoder under .language_model.
// - KimiK25ForConditionalGeneration: a DeepSeek-V3 decoder under .language_model.
constexpr ArchEntry kArchitectures[] = {
    {"Qwen3ForCausalLM", ModelFamily::kDense, false, true},
    {"Qwen2ForCausalLM", ModelFamily::kDense, false, false},
    {"LlamaForCausalLM", ModelFamily::kDense, false, false},
    {"MistralForCausalLM", ModelFamily::kDense, false, false},
    {"Qwen3MoeForCausalLM", ModelFamily::kQwen3Moe, false, true},
    {"DeepseekV3ForCausalLM", ModelFamily::kDeepseekV3, false, false},
    {"Qwen3NextForCausalLM", ModelFamily::kQwen3Next, false, true},
    {"Glm4MoeForCausalLM", ModelFamily::kGlm4Moe, false, false},
    {"Qwen3VLForConditionalGeneration", ModelFamily::kDense, true, true},
    {"Qwen3VLMoeForConditionalGeneration", ModelFamily::kQwen3Moe, true, true},
    {"KimiK25ForConditionalGeneration", ModelFamily::kDeepseekV3, true, false},
};

int req_int(const JsonReader& r, std::string_view key, long long min, long long max) {
  return static_cast<int>(r.child(key).integer_in(min, max));
}

int opt_int(const JsonReader& r, std::string_view key, long long min, long long max, int fallback) {
  auto v = r.optional_integer(key, min, max);
  return v ? static_cast<int>(*v) : fallback;
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

}  // namespace

const char* family_name(ModelFamily family) {
  switch (family) {
    case ModelFamily::kDense: return "dense";
    case ModelFamily::kQwen3Moe: return "qwen3_moe";
    case ModelFamily::kDeepseekV3: return "deepseek_v3";
    case ModelFamily::kQwen3Next: return "qwen3_next";
    case ModelFamily::kGlm4Moe: return "glm4_moe";
  }
  return "?";
}

const std::vector<std::string>& supported_architectures() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> v;
    for (const auto& a : kArchitectures) v.emplace_back(a.hf_name);
    return v;
  }();
  return names;
}

bool ModelConfig::layer_is_moe(int index) const {
  if (!is_moe()) return false;
  if (index < first_k_dense_replace) return false;
  if (std::find(mlp_only_layers.begin(), mlp_only_layers.end(), index) != mlp_only_layers.end()) return false;
  return decoder_sparse_step <= 1 || (index + 1) % decoder_sparse_step == 0;
}

ModelConfig parse_model_config(const std::string& text, const std::string& source) {
  Json json = parse_json_text(text, source);
  JsonReader root(json, source);
  root.expect_object();

  ModelConfig m;
  m.source = source;
  // transformers writes "architectures": ["X"]; accept the plain string too.
  if (!root.has("architectures")) {
    root.fail(fmt::format("missing \"architectures\"; supported: {}", fmt::join(supported_architectures(), ", ")));
  }
  JsonReader arch = root.child("architectures");
  if (arch.node().is_array()) {
    if (arch.node().empty()) arch.fail("empty list; expected one architecture name");
    m.hf_architecture = arch.element(0).string();
  } else {
    m.hf_architecture = arch.string();
  }
  const ArchEntry* entry = nullptr;
  for (const auto& a : kArchitectures) {
    if (m.hf_architecture == a.hf_name) entry = &a;
  }
  if (!entry) {
    arch.fail(fmt::format("unsupported architecture \"{}\"; supported: {}", excerpt(m.hf_architecture),
                          fmt::join(supported_architectures(), ", ")));
  }
  m.family = entry->family;
  m.language_model_wrapped = entry->text_config;
  m.model_type = root.optional_string("model_type").value_or("");
  if (entry->text_config && !root.has("text_config")) {
    root.fail(
        fmt::format("{} keeps its language model's shapes in \"text_config\", which is missing", m.hf_architecture));
  }
  // Every shape field below is read from `cfg`: the text_config of a wrapper, else the root.
  const JsonReader cfg = entry->text_config ? root.child("text_config") : root;
  cfg.expect_object();
  // transformers 5 writes "dtype"; 4.x wrote "torch_dtype".
  for (const JsonReader* r : std::initializer_list<const JsonReader*>{&cfg, &root}) {
    if (auto d = r->optional_string("dtype")) m.dtype = *d;
    else if (auto t = r->optional_string("torch_dtype")) m.dtype = *t;
    else continue;
    break;
  }

  m.hidden_size = req_int(cfg, "hidden_size", 1, kMaxDim);
  m.num_hidden_layers = req_int(cfg, "num_hidden_layers", 1, kMaxLayers);
  m.num_attention_heads = req_int(cfg, "num_attention_heads", 1, kMaxDim);
  m.num_key_value_heads = opt_int(cfg, "num_key_value_heads", 1, kMaxDim, m.num_attention_heads);
  m.vocab_size = req_int(cfg, "vocab_size", 1, kMaxDim * 16);
  m.intermediate_size = opt_int(cfg, "intermediate_size", 1, kMaxDim, 0);
  // Llama-3.1 omits head_dim: it is hidden / heads.
  m.head_dim = opt_int(cfg, "head_dim", 1, kMaxDim, m.hidden_size / m.num_attention_heads);
  if (m.head_dim <= 0) cfg.fail("head_dim is zero: hidden_size smaller than num_attention_heads");
  m.qk_norm = m.family == ModelFamily::kGlm4Moe ? cfg.optional_bool("use_qk_norm").value_or(false) : entry->qk_norm;
  if (cfg.has("partial_rotary_factor") && !cfg.node()["partial_rotary_factor"].is_null()) {
    m.partial_rotary_factor = cfg.child("partial_rotary_factor").number_in(1e-3, 1.0);
  }
  m.attention_bias = cfg.optional_bool("attention_bias").value_or(false);
  // A wrapper may write tie_word_embeddings at either level; the text model's wins.
  m.tie_word_embeddings =
      cfg.optional_bool("tie_word_embeddings").value_or(root.optional_bool("tie_word_embeddings").value_or(false));

  if (m.family == ModelFamily::kDense && m.intermediate_size == 0) {
    cfg.child("intermediate_size");  // throws "missing required key"
  }

  if (m.family == ModelFamily::kQwen3Moe || m.family == ModelFamily::kQwen3Next) {
    m.num_experts = req_int(cfg, "num_experts", 1, kMaxExperts);
    m.num_experts_per_tok = req_int(cfg, "num_experts_per_tok", 1, kMaxExperts);
    m.moe_intermediate_size = req_int(cfg, "moe_intermediate_size", 1, kMaxDim);
    m.decoder_sparse_step = opt_int(cfg, "decoder_sparse_step", 1, kMaxLayers, 1);
    if (cfg.has("mlp_only_layers") && !cfg.node()["mlp_only_layers"].is_null()) {
      JsonReader list = cfg.child("mlp_only_layers");
      list.expect_array();
      if (list.node().size() > static_cast<size_t>(kMaxLayers)) {
        list.fail(fmt::format("{} entries; at most {} (one per layer)", list.node().size(), kMaxLayers));
      }
      for (size_t i = 0; i < list.node().size(); ++i) {
        m.mlp_only_layers.push_back(static_cast<int>(list.element(i).integer_in(0, kMaxLayers)));
      }
    }
    m.shared_expert_intermediate_size = opt_int(cfg, "shared_expert_intermediate_size", 0, kMaxDim, 0);
  }
  if (m.family == ModelFamily::kDeepseekV3 || m.family == ModelFamily::kGlm4Moe) {
    // DeepSeek-V3 and GLM-4.5 spell their MoE the same way: n_routed_experts, n_shared_experts
    // experts of moe_intermediate_size each, first_k_dense_replace dense layers.
    m.num_experts = req_int(cfg, "n_routed_experts", 1, kMaxExperts);
    m.num_experts_per_tok = req_int(cfg, "num_experts_per_tok", 1, kMaxExperts);
    m.moe_intermediate_size = req_int(cfg, "moe_intermediate_size", 1, kMaxDim);
    const long long shared = opt_int(cfg, "n_shared_experts", 0, kMaxExperts, 0);
    if (shared * m.moe_intermediate_size > kMaxDim) {
      cfg.child("n_shared_experts")
          .fail(fmt::format("n_shared_experts x moe_intermediate_size = {} x {} is above {}", shared,
                            m.moe_intermediate_size, kMaxDim));
    }
    m.shared_expert_intermediate_size = static_cast<int>(shared * m.moe_intermediate_size);
    m.first_k_dense_replace = opt_int(cfg, "first_k_dense_replace", 0, kMaxLayers, 0);
    if (m.intermediate_size == 0) cfg.child("intermediate_size");
    if (m.first_k_dense_replace > m.num_hidden_layers) {
      cfg.child("first_k_dense_replace").fail("larger than num_hidden_layers");
    }
  }
  if (m.family == ModelFamily::kDeepseekV3) {
    m.decoder_sparse_step = opt_int(cfg, "moe_layer_freq", 1, kMaxLayers, 1);
    m.q_lora_rank = opt_int(cfg, "q_lora_rank", 0, kMaxDim, 0);
    m.kv_lora_rank = req_int(cfg, "kv_lora_rank", 1, kMaxDim);
    m.qk_nope_head_dim = req_int(cfg, "qk_nope_head_dim", 1, kMaxDim);
    m.qk_rope_head_dim = req_int(cfg, "qk_rope_head_dim", 1, kMaxDim);
    m.v_head_dim = req_int(cfg, "v_head_dim", 1, kMaxDim);
  }
  if (m.num_experts_per_tok > m.num_experts) {
    cfg.child("num_experts_per_tok").fail(fmt::format("larger than the number of experts ({})", m.num_experts));
  }

  if (m.family == ModelFamily::kQwen3Next) {
    m.linear_num_key_heads = req_int(root, "linear_num_key_heads", 1, kMaxDim);
    m.linear_num_value_heads = req_int(root, "linear_num_value_heads", 1, kMaxDim);
    m.linear_key_head_dim = req_int(root, "linear_key_head_dim", 1, kMaxDim);
    m.linear_value_head_dim = req_int(root, "linear_value_head_dim", 1, kMaxDim);
    m.linear_conv_kernel_dim = opt_int(root, "linear_conv_kernel_dim", 1, 1024, 4);
    m.attn_output_gate = cfg.optional_bool("attn_output_gate").value_or(true);
    // transformers 5 writes layer_types; older configs give full_attention_interval.
    if (cfg.has("layer_types") && !cfg.node()["layer_types"].is_null()) {
      JsonReader types = cfg.child("layer_types");
      types.expect_array();
      if (types.node().size() != static_cast<size_t>(m.num_hidden_layers)) {
        types.fail(fmt::format("has {} entries, expected num_hidden_layers = {}", types.node().size(),
                               m.num_hidden_layers));
      }
      for (size_t i = 0; i < types.node().size(); ++i) {
        std::string t = types.element(i).string();
        if (t != "full_attention" && t != "linear_attention") {
          types.element(i).fail(fmt::format("unknown layer type \"{}\" (expected \"full_attention\" or \"linear_attention\")", t));
        }
        m.layer_types.push_back(t);
      }
    } else {
      int interval = opt_int(root, "full_attention_interval", 1, kMaxLayers, 4);
      for (int i = 0; i < m.num_hidden_layers; ++i) {
        m.layer_types.push_back((i + 1) % interval == 0 ? "full_attention" : "linear_attention");
      }
    }
  } else {
    m.layer_types.assign(static_cast<size_t>(m.num_hidden_layers), "full_attention");
  }
  if (m.num_attention_heads % m.num_key_value_heads != 0 && m.family != ModelFamily::kDeepseekV3) {
    cfg.child("num_key_value_heads")
        .fail(fmt::format("num_attention_heads ({}) is not a multiple of it", m.num_attention_heads));
  }
  // vLLM reads quantization_config at the top, then in text_config (multimodal wrappers).
  for (const JsonReader* r : std::initializer_list<const JsonReader*>{&root, &cfg}) {
    if (r->has("quantization_config") && !r->node()["quantization_config"].is_null()) {
      m.checkpoint_quantization = parse_quantization_config(r->child("quantization_config"));
      break;
    }
  }
  return m;
}

std::vector<std::string> bundled_model_names() { return embedded_stems("models"); }

ModelConfig load_model(const std::string& spec) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (fs::exists(spec, ec)) {
    fs::path given = fs::path(spec).lexically_normal();
    if (given.filename().empty()) given = given.parent_path();  // "dir/"
    fs::path path = given;
    const bool directory = fs::is_directory(path, ec);
    if (directory) {
      path /= "config.json";
      if (!fs::exists(path, ec)) {
        throw InputError(fmt::format("{}: directory holds no config.json", spec));
      }
    }
    ModelConfig m = parse_model_config(read_text_file(path.string()), path.string());
    m.name = given.filename().string();
    if (m.name == "config.json") m.name = given.parent_path().filename().string();
    if (m.name.ends_with(".json")) m.name.resize(m.name.size() - 5);
    // A directory, or its config.json, is a checkpoint: ModelSlim's description beside it says how
    // its weights are quantized, and vllm-ascend prefers it to config.json
    // (v0.23.0:vllm_ascend/quantization/utils.py:114, detect_quantization_method).
    if (directory || path.filename() == "config.json") {
      const fs::path dir = path.parent_path();
      m.checkpoint_dir = dir.empty() ? "." : dir.string();
      const fs::path description = dir / kModelSlimDescriptionFile;
      if (fs::exists(description, ec)) {
        m.checkpoint_quantization =
            parse_modelslim_description(read_text_file(description.string()), description.string());
      }
    }
    return m;
  }
  return load_bundled_model(spec);
}

namespace {

// A quantized checkpoint's name ends in its scheme, as ModelSlim's and the community's Ascend
// checkpoints are named (Qwen3-32B-W8A8, DeepSeek-V3-w8a8-dynamic).
struct NameSuffix {
  const char* suffix;  // lower case, with its dash
  std::optional<Quantization> scheme;
};
constexpr NameSuffix kNameSuffixes[] = {
    {"-w8a8-dynamic", Quantization::kW8A8Dynamic}, {"-w8a8_dynamic", Quantization::kW8A8Dynamic},
    {"-w8a8", Quantization::kW8A8Static},           {"-w4a8-dynamic", Quantization::kW4A8},
    {"-w4a8_dynamic", Quantization::kW4A8},         {"-w4a8", Quantization::kW4A8},
    {"-bf16", Quantization::kBf16},
};

ModelConfig bundled_model(const std::string& name) {
  auto text = find_embedded("models/" + name + ".json");
  ModelConfig m = parse_model_config(std::string(*text), "bundled model " + name);
  m.name = name;
  if (m.checkpoint_quantization) {
    // A bundled config.json stands for shapes: its release's quantization (DeepSeek-V3's fp8) is
    // not the converted checkpoint people serve on Ascend.
    m.notes.push_back(fmt::format("bundled {} is the config.json of its {} release; its quantization_config is not "
                                  "read (bundled models give shapes; --quantization sets the scheme, w8a8 by default)",
                                  name, m.checkpoint_quantization->declared));
    m.checkpoint_quantization.reset();
  }
  return m;
}

std::optional<std::string> exact_bundled_name(const std::string& typed) {
  for (const auto& name : bundled_model_names()) {
    if (lower(name) == lower(typed)) return name;
  }
  return std::nullopt;
}

}  // namespace

ModelConfig load_bundled_model(const std::string& spec) {
  // A Hugging Face id (Qwen/Qwen3-32B) names the model by its last path component.
  std::string typed = spec;
  while (typed.size() > 1 && typed.back() == '/') typed.pop_back();
  if (const size_t slash = typed.rfind('/'); slash != std::string::npos) typed = typed.substr(slash + 1);
  if (auto name = exact_bundled_name(typed)) return bundled_model(*name);
  for (const NameSuffix& q : kNameSuffixes) {
    const std::string t = lower(typed);
    const std::string suffix = q.suffix;
    if (t.size() <= suffix.size() || !t.ends_with(suffix)) continue;
    const std::string base = typed.substr(0, typed.size() - suffix.size());
    auto name = exact_bundled_name(base);
    if (!name) break;
    ModelConfig m = bundled_model(*name);
    CheckpointQuantization cq;
    cq.file = fmt::format("the name {}", typed);
    cq.declared = typed.substr(base.size() + 1);
    cq.scheme = q.scheme;
    m.checkpoint_quantization = cq;
    return m;
  }
  std::vector<std::string> names = bundled_model_names();
  // A name that starts like several bundled ones (Qwen3) is ambiguous rather than mistyped.
  std::vector<std::string> starting;
  for (const auto& n : names) {
    if (typed.size() >= 2 && lower(n).starts_with(lower(typed))) starting.push_back(n);
  }
  const std::string hint = starting.size() > 1 ? fmt::format(" ambiguous: {} start so", fmt::join(starting, ", "))
                                               : did_you_mean(typed, names);
  throw InputError(fmt::format("--model {}: no such file or directory, and not a bundled model;{} (bundled: {}; also by "
                               "a Hugging Face id such as Qwen/Qwen3-32B, or with a scheme suffix such as -W8A8)",
                               spec, hint.empty() ? std::string(" see --help") : hint, fmt::join(names, ", ")));
}

std::string model_shape_hash(const ModelConfig& m) {
  std::string canonical = fmt::format(
      "{}|{}|h{}|i{}|l{}|a{}|kv{}|d{}|v{}|qk{}|e{}|k{}|mi{}|si{}|fd{}|ss{}|q{}|kvl{}|n{}|r{}|vd{}|lk{}|lv{}|lkd{}|lvd{}|lc{}|g{}|dt{}",
      m.hf_architecture, family_name(m.family), m.hidden_size, m.intermediate_size, m.num_hidden_layers, m.num_attention_heads,
      m.num_key_value_heads, m.head_dim, m.vocab_size, m.qk_norm, m.num_experts, m.num_experts_per_tok, m.moe_intermediate_size,
      m.shared_expert_intermediate_size, m.first_k_dense_replace, m.decoder_sparse_step, m.q_lora_rank, m.kv_lora_rank,
      m.qk_nope_head_dim, m.qk_rope_head_dim, m.v_head_dim, m.linear_num_key_heads, m.linear_num_value_heads,
      m.linear_key_head_dim, m.linear_value_head_dim, m.linear_conv_kernel_dim, m.attn_output_gate, m.dtype);
  for (int l : m.mlp_only_layers) canonical += fmt::format(",m{}", l);
  for (const auto& t : m.layer_types) canonical += "," + t;
  uint64_t h = 0xcbf29ce484222325ULL;  // FNV-1a
  for (unsigned char c : canonical) {
    h ^= c;
    h *= 0x100000001b3ULL;
  }
  return fmt::format("{:016x}", h);
}

}  // namespace pt
