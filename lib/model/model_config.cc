#include "model/model_config.h"

#include <algorithm>
#include <filesystem>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "util/embedded_files.h"
#include "util/error.h"
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
};

constexpr ArchEntry kArchitectures[] = {
    {"Qwen3ForCausalLM", ModelFamily::kDense},      {"Qwen2ForCausalLM", ModelFamily::kDense},
    {"LlamaForCausalLM", ModelFamily::kDense},      {"Qwen3MoeForCausalLM", ModelFamily::kQwen3Moe},
    {"DeepseekV3ForCausalLM", ModelFamily::kDeepseekV3}, {"Qwen3NextForCausalLM", ModelFamily::kQwen3Next},
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
  bool known = false;
  for (const auto& a : kArchitectures) {
    if (m.hf_architecture == a.hf_name) {
      m.family = a.family;
      known = true;
    }
  }
  if (!known) {
    arch.fail(fmt::format("unsupported architecture \"{}\"; supported: {}", m.hf_architecture,
                          fmt::join(supported_architectures(), ", ")));
  }
  m.model_type = root.optional_string("model_type").value_or("");
  // transformers 5 writes "dtype"; 4.x wrote "torch_dtype".
  if (auto d = root.optional_string("dtype")) m.dtype = *d;
  else if (auto t = root.optional_string("torch_dtype")) m.dtype = *t;

  m.hidden_size = req_int(root, "hidden_size", 1, kMaxDim);
  m.num_hidden_layers = req_int(root, "num_hidden_layers", 1, kMaxLayers);
  m.num_attention_heads = req_int(root, "num_attention_heads", 1, kMaxDim);
  m.num_key_value_heads = opt_int(root, "num_key_value_heads", 1, kMaxDim, m.num_attention_heads);
  m.vocab_size = req_int(root, "vocab_size", 1, kMaxDim * 16);
  m.intermediate_size = opt_int(root, "intermediate_size", 1, kMaxDim, 0);
  // Llama-3.1 omits head_dim: it is hidden / heads.
  m.head_dim = opt_int(root, "head_dim", 1, kMaxDim, m.hidden_size / m.num_attention_heads);
  if (m.head_dim <= 0) root.fail("head_dim is zero: hidden_size smaller than num_attention_heads");
  m.qk_norm = m.hf_architecture.starts_with("Qwen3");

  if (m.family == ModelFamily::kDense && m.intermediate_size == 0) {
    root.child("intermediate_size");  // throws "missing required key"
  }

  if (m.family == ModelFamily::kQwen3Moe || m.family == ModelFamily::kQwen3Next) {
    m.num_experts = req_int(root, "num_experts", 1, kMaxExperts);
    m.num_experts_per_tok = req_int(root, "num_experts_per_tok", 1, kMaxExperts);
    m.moe_intermediate_size = req_int(root, "moe_intermediate_size", 1, kMaxDim);
    m.decoder_sparse_step = opt_int(root, "decoder_sparse_step", 1, kMaxLayers, 1);
    if (root.has("mlp_only_layers") && !root.node()["mlp_only_layers"].is_null()) {
      JsonReader list = root.child("mlp_only_layers");
      list.expect_array();
      if (list.node().size() > static_cast<size_t>(kMaxLayers)) {
        list.fail(fmt::format("{} entries; at most {} (one per layer)", list.node().size(), kMaxLayers));
      }
      for (size_t i = 0; i < list.node().size(); ++i) {
        m.mlp_only_layers.push_back(static_cast<int>(list.element(i).integer_in(0, kMaxLayers)));
      }
    }
    m.shared_expert_intermediate_size = opt_int(root, "shared_expert_intermediate_size", 0, kMaxDim, 0);
  }
  if (m.family == ModelFamily::kDeepseekV3) {
    m.num_experts = req_int(root, "n_routed_experts", 1, kMaxExperts);
    m.num_experts_per_tok = req_int(root, "num_experts_per_tok", 1, kMaxExperts);
    m.moe_intermediate_size = req_int(root, "moe_intermediate_size", 1, kMaxDim);
    const long long shared = opt_int(root, "n_shared_experts", 0, kMaxExperts, 0);
    if (shared * m.moe_intermediate_size > kMaxDim) {
      root.child("n_shared_experts")
          .fail(fmt::format("n_shared_experts x moe_intermediate_size = {} x {} is above {}", shared,
                            m.moe_intermediate_size, kMaxDim));
    }
    m.shared_expert_intermediate_size = static_cast<int>(shared * m.moe_intermediate_size);
    m.first_k_dense_replace = opt_int(root, "first_k_dense_replace", 0, kMaxLayers, 0);
    m.decoder_sparse_step = opt_int(root, "moe_layer_freq", 1, kMaxLayers, 1);
    m.q_lora_rank = opt_int(root, "q_lora_rank", 0, kMaxDim, 0);
    m.kv_lora_rank = req_int(root, "kv_lora_rank", 1, kMaxDim);
    m.qk_nope_head_dim = req_int(root, "qk_nope_head_dim", 1, kMaxDim);
    m.qk_rope_head_dim = req_int(root, "qk_rope_head_dim", 1, kMaxDim);
    m.v_head_dim = req_int(root, "v_head_dim", 1, kMaxDim);
    if (m.intermediate_size == 0) root.child("intermediate_size");
    if (m.first_k_dense_replace > m.num_hidden_layers) {
      root.child("first_k_dense_replace").fail("larger than num_hidden_layers");
    }
  }
  if (m.num_experts_per_tok > m.num_experts) {
    root.child("num_experts_per_tok").fail(fmt::format("larger than the number of experts ({})", m.num_experts));
  }

  if (m.family == ModelFamily::kQwen3Next) {
    m.linear_num_key_heads = req_int(root, "linear_num_key_heads", 1, kMaxDim);
    m.linear_num_value_heads = req_int(root, "linear_num_value_heads", 1, kMaxDim);
    m.linear_key_head_dim = req_int(root, "linear_key_head_dim", 1, kMaxDim);
    m.linear_value_head_dim = req_int(root, "linear_value_head_dim", 1, kMaxDim);
    m.linear_conv_kernel_dim = opt_int(root, "linear_conv_kernel_dim", 1, 1024, 4);
    m.attn_output_gate = root.optional_bool("attn_output_gate").value_or(true);
    // transformers 5 writes layer_types; older configs give full_attention_interval.
    if (root.has("layer_types") && !root.node()["layer_types"].is_null()) {
      JsonReader types = root.child("layer_types");
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
    root.child("num_key_value_heads")
        .fail(fmt::format("num_attention_heads ({}) is not a multiple of it", m.num_attention_heads));
  }
  return m;
}

std::vector<std::string> bundled_model_names() { return embedded_stems("models"); }

ModelConfig load_model(const std::string& spec) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (fs::exists(spec, ec)) {
    fs::path path(spec);
    if (fs::is_directory(path, ec)) {
      path /= "config.json";
      if (!fs::exists(path, ec)) {
        throw InputError(fmt::format("{}: directory holds no config.json", spec));
      }
    }
    ModelConfig m = parse_model_config(read_text_file(path.string()), path.string());
    m.name = fs::path(spec).filename().string();
    if (m.name == "config.json") m.name = fs::path(spec).parent_path().filename().string();
    if (m.name.ends_with(".json")) m.name.resize(m.name.size() - 5);
    return m;
  }
  for (const auto& name : bundled_model_names()) {
    if (lower(name) == lower(spec)) {
      auto text = find_embedded("models/" + name + ".json");
      ModelConfig m = parse_model_config(std::string(*text), "bundled model " + name);
      m.name = name;
      return m;
    }
  }
  throw InputError(fmt::format("--model {}: no such file or directory, and not a bundled model (bundled: {})", spec,
                               fmt::join(bundled_model_names(), ", ")));
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
