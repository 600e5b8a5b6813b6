#include "model/model_config.h"

#include <algorithm>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "sim/layer_template.h"
#include "test_support.h"
#include "util/embedded_files.h"

namespace pt {
namespace {

using test::contains;
using test::error_of;

struct Expected {
  const char* name;
  const char* architecture;
  ModelFamily family;
  int layers;
  int head_dim;  // 0: not checked (MLA has no single head_dim)
  int hidden;
};

const Expected kBundled[] = {
    {"Qwen3-8B", "Qwen3ForCausalLM", ModelFamily::kDense, 36, 128, 4096},
    {"Qwen3-32B", "Qwen3ForCausalLM", ModelFamily::kDense, 64, 128, 5120},
    {"Qwen3-30B-A3B", "Qwen3MoeForCausalLM", ModelFamily::kQwen3Moe, 48, 128, 2048},
    {"Qwen3-235B-A22B", "Qwen3MoeForCausalLM", ModelFamily::kQwen3Moe, 94, 128, 4096},
    {"DeepSeek-V3", "DeepseekV3ForCausalLM", ModelFamily::kDeepseekV3, 61, 0, 7168},
    {"Qwen3-Next-80B-A3B", "Qwen3NextForCausalLM", ModelFamily::kQwen3Next, 48, 256, 2048},
    // Llama-3.1 has no head_dim key: 8192 / 64 heads = 128.
    {"Llama-3.1-70B", "LlamaForCausalLM", ModelFamily::kDense, 80, 128, 8192},
    {"GLM-4.5-Air", "Glm4MoeForCausalLM", ModelFamily::kGlm4Moe, 46, 128, 4096},
    // Mistral-Small gives head_dim 128 explicitly: 5120 / 32 would be 160.
    {"Mistral-Small-24B", "MistralForCausalLM", ModelFamily::kDense, 40, 128, 5120},
};

// The bundled Qwen3-32B config.json text with `edit` applied.
std::string qwen3_32b_with(const std::function<void(nlohmann::json&)>& edit) {
  auto j = nlohmann::json::parse(std::string(*find_embedded("models/Qwen3-32B.json")));
  edit(j);
  return j.dump(2);
}

std::string qwen3_next_with(const std::function<void(nlohmann::json&)>& edit) {
  auto j = nlohmann::json::parse(std::string(*find_embedded("models/Qwen3-Next-80B-A3B.json")));
  edit(j);
  return j.dump(2);
}

TEST(BundledModels, AllAreListed) {
  std::vector<std::string> names = bundled_model_names();
  EXPECT_EQ(names.size(), std::size(kBundled));
  for (const auto& e : kBundled) {
    EXPECT_NE(std::find(names.begin(), names.end(), e.name), names.end()) << e.name;
  }
}

TEST(BundledModels, LoadWithExpectedFamilyLayersAndHeadDim) {
  for (const auto& e : kBundled) {
    SCOPED_TRACE(e.name);
    ModelConfig m = load_model(e.name);
    EXPECT_EQ(m.name, e.name);
    EXPECT_EQ(m.hf_architecture, e.architecture);
    EXPECT_EQ(m.family, e.family);
    EXPECT_EQ(m.num_hidden_layers, e.layers);
    EXPECT_EQ(m.hidden_size, e.hidden);
    if (e.head_dim) {
      EXPECT_EQ(m.head_dim, e.head_dim);
    }
    EXPECT_EQ(m.layer_types.size(), static_cast<size_t>(e.layers));
    EXPECT_EQ(m.is_moe(), e.family != ModelFamily::kDense);
    EXPECT_EQ(m.dtype, "bfloat16");
    EXPECT_PRED2(contains, m.source, e.name);
  }
}

TEST(BundledModels, NameLookupIsCaseInsensitive) {
  ModelConfig m = load_model("qwen3-32b");
  EXPECT_EQ(m.name, "Qwen3-32B");
  EXPECT_EQ(m.num_hidden_layers, 64);
}

TEST(BundledModels, ShapeFieldsMatchModelShapesSection1) {
  ModelConfig q32 = load_model("Qwen3-32B");
  EXPECT_EQ(q32.num_attention_heads, 64);
  EXPECT_EQ(q32.num_key_value_heads, 8);
  EXPECT_EQ(q32.intermediate_size, 25600);
  EXPECT_TRUE(q32.qk_norm);
  ModelConfig llama = load_model("Llama-3.1-70B");
  EXPECT_FALSE(llama.qk_norm);
  EXPECT_EQ(llama.intermediate_size, 28672);
  ModelConfig a3b = load_model("Qwen3-30B-A3B");
  EXPECT_EQ(a3b.num_experts, 128);
  EXPECT_EQ(a3b.num_experts_per_tok, 8);
  EXPECT_EQ(a3b.moe_intermediate_size, 768);
  EXPECT_EQ(a3b.shared_expert_intermediate_size, 0);
  ModelConfig ds = load_model("DeepSeek-V3");
  EXPECT_EQ(ds.num_experts, 256);
  EXPECT_EQ(ds.q_lora_rank, 1536);
  EXPECT_EQ(ds.kv_lora_rank, 512);
  EXPECT_EQ(ds.qk_rope_head_dim, 64);
  EXPECT_EQ(ds.qk_nope_head_dim, 128);
  EXPECT_EQ(ds.v_head_dim, 128);
  EXPECT_EQ(ds.shared_expert_intermediate_size, 2048);  // 1 shared expert x 2048
  ModelConfig next = load_model("Qwen3-Next-80B-A3B");
  EXPECT_EQ(next.num_experts, 512);
  EXPECT_EQ(next.linear_num_value_heads, 32);
  EXPECT_TRUE(next.attn_output_gate);
}

TEST(ModelConfig, DeepSeekFirstThreeLayersAreDense) {
  ModelConfig ds = load_model("DeepSeek-V3");
  EXPECT_EQ(ds.first_k_dense_replace, 3);
  for (int i = 0; i < 3; ++i) {
    EXPECT_FALSE(ds.layer_is_moe(i)) << i;
    EXPECT_EQ(default_layer_type(ds, i), "mla_dense");
  }
  for (int i = 3; i < 61; ++i) {
    EXPECT_TRUE(ds.layer_is_moe(i)) << i;
    EXPECT_EQ(default_layer_type(ds, i), "mla_moe");
  }
}

TEST(ModelConfig, QwenMoeLayersAreAllMoe) {
  ModelConfig m = load_model("Qwen3-235B-A22B");
  for (int i = 0; i < m.num_hidden_layers; ++i) EXPECT_EQ(default_layer_type(m, i), "moe") << i;
  EXPECT_FALSE(load_model("Qwen3-32B").layer_is_moe(0));
  EXPECT_EQ(default_layer_type(load_model("Qwen3-32B"), 5), "dense");
}

TEST(ModelConfig, DecoderSparseStepAndMlpOnlyLayers) {
  auto text = std::string(*find_embedded("models/Qwen3-30B-A3B.json"));
  auto j = nlohmann::json::parse(text);
  j["decoder_sparse_step"] = 2;
  j["mlp_only_layers"] = {5};
  ModelConfig m = parse_model_config(j.dump(), "x");
  // (i + 1) % 2 == 0 is MoE, except layer 5 (listed as MLP only).
  EXPECT_FALSE(m.layer_is_moe(0));
  EXPECT_TRUE(m.layer_is_moe(1));
  EXPECT_FALSE(m.layer_is_moe(2));
  EXPECT_TRUE(m.layer_is_moe(3));
  EXPECT_FALSE(m.layer_is_moe(5));
  EXPECT_TRUE(m.layer_is_moe(7));
  EXPECT_EQ(default_layer_type(m, 0), "dense");
  EXPECT_EQ(default_layer_type(m, 1), "moe");
}

TEST(ModelConfig, QwenNextTwelveFullAttentionLayers) {
  ModelConfig m = load_model("Qwen3-Next-80B-A3B");
  int full = 0;
  for (int i = 0; i < m.num_hidden_layers; ++i) {
    const bool expect_full = (i + 1) % 4 == 0;
    EXPECT_EQ(m.layer_types[static_cast<size_t>(i)], expect_full ? "full_attention" : "linear_attention") << i;
    EXPECT_EQ(default_layer_type(m, i), expect_full ? "full_attention_moe" : "linear_attention_moe") << i;
    full += expect_full;
  }
  EXPECT_EQ(full, 12);
}

TEST(ModelConfig, Transformers5ExplicitLayerTypesList) {
  // transformers 5 writes layer_types and drops full_attention_interval; give a pattern that the
  // interval could not produce, to see the list is used as written.
  std::vector<std::string> types(48, "linear_attention");
  types[0] = "full_attention";
  types[47] = "full_attention";
  ModelConfig m = parse_model_config(qwen3_next_with([&](nlohmann::json& j) {
                                       j.erase("full_attention_interval");
                                       j["layer_types"] = types;
                                     }),
                                     "next5.json");
  EXPECT_EQ(m.layer_types, types);
  EXPECT_EQ(default_layer_type(m, 0), "full_attention_moe");
  EXPECT_EQ(default_layer_type(m, 3), "linear_attention_moe");
}

TEST(ModelConfig, Transformers5ListEqualToIntervalGivesSameModel) {
  std::vector<std::string> types;
  for (int i = 0; i < 48; ++i) types.push_back((i + 1) % 4 == 0 ? "full_attention" : "linear_attention");
  ModelConfig m = parse_model_config(qwen3_next_with([&](nlohmann::json& j) {
                                       j.erase("full_attention_interval");
                                       j.erase("torch_dtype");
                                       j["dtype"] = "bfloat16";
                                       j["layer_types"] = types;
                                     }),
                                     "next5.json");
  EXPECT_EQ(m.layer_types, load_model("Qwen3-Next-80B-A3B").layer_types);
  EXPECT_EQ(m.dtype, "bfloat16");
}

TEST(ModelConfig, LayerTypesListWithWrongLengthOrUnknownEntry) {
  EXPECT_PRED2(contains,
               error_of([] {
                 parse_model_config(qwen3_next_with([](nlohmann::json& j) { j["layer_types"] = {"full_attention"}; }), "n.json");
               }),
               "n.json: $.layer_types: has 1 entries, expected num_hidden_layers = 48");
  EXPECT_PRED2(contains, error_of([] {
                 parse_model_config(qwen3_next_with([](nlohmann::json& j) {
                                      j["layer_types"] = std::vector<std::string>(48, "linear_attention");
                                      j["layer_types"][7] = "sliding_attention";
                                    }),
                                    "n.json");
               }),
               "n.json: $.layer_types[7]: unknown layer type \"sliding_attention\"");
}

TEST(ModelConfig, Transformers5DtypeSpelling) {
  ModelConfig m = parse_model_config(qwen3_32b_with([](nlohmann::json& j) {
                                       j.erase("torch_dtype");
                                       j["dtype"] = "float16";
                                     }),
                                     "t5.json");
  EXPECT_EQ(m.dtype, "float16");
  // When both are present, transformers 5's "dtype" wins.
  ModelConfig both = parse_model_config(qwen3_32b_with([](nlohmann::json& j) {
                                          j["torch_dtype"] = "float32";
                                          j["dtype"] = "float16";
                                        }),
                                        "t5.json");
  EXPECT_EQ(both.dtype, "float16");
  ModelConfig old = parse_model_config(qwen3_32b_with([](nlohmann::json& j) { j["torch_dtype"] = "float32"; }), "t4.json");
  EXPECT_EQ(old.dtype, "float32");
}

TEST(ModelConfig, ArchitecturesAsPlainString) {
  ModelConfig m = parse_model_config(qwen3_32b_with([](nlohmann::json& j) { j["architectures"] = "Qwen3ForCausalLM"; }), "s");
  EXPECT_EQ(m.family, ModelFamily::kDense);
}

TEST(ModelConfig, UnsupportedArchitectureListsSupportedOnes) {
  const std::string msg = error_of(
      [] { parse_model_config(qwen3_32b_with([](nlohmann::json& j) { j["architectures"] = {"GPT2LMHeadModel"}; }), "g.json"); });
  EXPECT_PRED2(contains, msg, "g.json: $.architectures: unsupported architecture \"GPT2LMHeadModel\"");
  for (const auto& a : supported_architectures()) EXPECT_PRED2(contains, msg, a);
  EXPECT_EQ(supported_architectures().size(), 11u);
}

TEST(ModelConfig, MissingOrEmptyArchitectures) {
  EXPECT_PRED2(contains, error_of([] { parse_model_config(qwen3_32b_with([](nlohmann::json& j) { j.erase("architectures"); }), "a"); }),
               "a: $: missing \"architectures\"");
  EXPECT_PRED2(contains,
               error_of([] {
                 parse_model_config(qwen3_32b_with([](nlohmann::json& j) { j["architectures"] = nlohmann::json::array(); }), "a");
               }),
               "a: $.architectures: empty list");
}

TEST(ModelConfig, MissingHiddenSizeNamesTheJsonPath) {
  EXPECT_EQ(error_of([] { parse_model_config(qwen3_32b_with([](nlohmann::json& j) { j.erase("hidden_size"); }), "c.json"); }),
            "c.json: $.hidden_size: missing required key");
}

TEST(ModelConfig, DenseModelNeedsIntermediateSize) {
  EXPECT_EQ(error_of([] { parse_model_config(qwen3_32b_with([](nlohmann::json& j) { j.erase("intermediate_size"); }), "c.json"); }),
            "c.json: $.intermediate_size: missing required key");
}

TEST(ModelConfig, BadValuesNameTheJsonPath) {
  EXPECT_PRED2(contains, error_of([] { parse_model_config(qwen3_32b_with([](nlohmann::json& j) { j["num_hidden_layers"] = 0; }), "c"); }),
               "c: $.num_hidden_layers: expected an integer in [1, 4096]");
  EXPECT_PRED2(contains,
               error_of([] { parse_model_config(qwen3_32b_with([](nlohmann::json& j) { j["hidden_size"] = "5120"; }), "c"); }),
               "c: $.hidden_size: expected an integer");
  // 64 heads over 7 KV heads does not divide.
  EXPECT_PRED2(contains,
               error_of([] { parse_model_config(qwen3_32b_with([](nlohmann::json& j) { j["num_key_value_heads"] = 7; }), "c"); }),
               "c: $.num_key_value_heads: num_attention_heads (64) is not a multiple of it");
  EXPECT_PRED2(contains, error_of([] { parse_model_config("[1]", "c"); }), "c: $: expected an object");
}

TEST(ModelConfig, MoeTopKLargerThanExpertsIsRefused) {
  auto j = nlohmann::json::parse(std::string(*find_embedded("models/Qwen3-30B-A3B.json")));
  j["num_experts_per_tok"] = 129;
  EXPECT_PRED2(contains, error_of([&] { parse_model_config(j.dump(), "m"); }),
               "m: $.num_experts_per_tok: larger than the number of experts (128)");
}

TEST(ModelConfig, KvHeadsDefaultToAttentionHeads) {
  ModelConfig m = parse_model_config(qwen3_32b_with([](nlohmann::json& j) { j.erase("num_key_value_heads"); }), "c");
  EXPECT_EQ(m.num_key_value_heads, 64);
}

std::string fixture(const std::string& dir) { return test::source_path("tests/data/models/" + dir); }

TEST(ModelConfig, MistralIsLlamaShaped) {
  const ModelConfig m = load_model(fixture("mistral-7b"));
  EXPECT_EQ(m.name, "mistral-7b");
  EXPECT_EQ(m.family, ModelFamily::kDense);
  EXPECT_FALSE(m.qk_norm);
  EXPECT_FALSE(m.language_model_wrapped);
  EXPECT_EQ(m.num_attention_heads, 32);
  EXPECT_EQ(m.num_key_value_heads, 8);
  EXPECT_EQ(m.head_dim, 128);  // no head_dim key: 4096 / 32
  EXPECT_EQ(m.intermediate_size, 14336);
  EXPECT_EQ(m.vocab_size, 32768);
  EXPECT_EQ(default_layer_type(m, 0), "dense");
}

TEST(ModelConfig, Glm45AirHasADenseFirstLayerASharedExpertAndHalfRotary) {
  const ModelConfig m = load_model(fixture("glm-4.5-air"));
  EXPECT_EQ(m.family, ModelFamily::kGlm4Moe);
  EXPECT_STREQ(family_name(m.family), "glm4_moe");
  EXPECT_EQ(m.num_experts, 128);
  EXPECT_EQ(m.num_experts_per_tok, 8);
  EXPECT_EQ(m.moe_intermediate_size, 1408);
  EXPECT_EQ(m.shared_expert_intermediate_size, 1408);  // n_shared_experts 1 x 1408
  EXPECT_EQ(m.intermediate_size, 10944);
  EXPECT_EQ(m.first_k_dense_replace, 1);
  EXPECT_DOUBLE_EQ(m.partial_rotary_factor, 0.5);
  EXPECT_TRUE(m.attention_bias);
  EXPECT_FALSE(m.qk_norm);  // use_qk_norm false on 4.5-Air
  EXPECT_EQ(default_layer_type(m, 0), "dense");
  for (int i = 1; i < 46; ++i) EXPECT_EQ(default_layer_type(m, i), "moe") << i;
  // GLM-4.5 (355B) turns the per-head q/k norm on.
  auto j = nlohmann::json::parse(test::read_file(fixture("glm-4.5-air") + "/config.json"));
  j["use_qk_norm"] = true;
  EXPECT_TRUE(parse_model_config(j.dump(), "glm.json").qk_norm);
  j.erase("n_routed_experts");
  EXPECT_EQ(error_of([&] { parse_model_config(j.dump(), "glm.json"); }), "glm.json: $.n_routed_experts: missing required key");
}

TEST(ModelConfig, Qwen3VlShapesComeFromTextConfig) {
  const ModelConfig m = load_model(fixture("qwen3-vl-8b"));
  EXPECT_EQ(m.hf_architecture, "Qwen3VLForConditionalGeneration");
  EXPECT_EQ(m.family, ModelFamily::kDense);
  EXPECT_TRUE(m.language_model_wrapped);
  EXPECT_TRUE(m.qk_norm);
  EXPECT_EQ(m.hidden_size, 4096);  // text_config's, not vision_config's 1152
  EXPECT_EQ(m.num_hidden_layers, 36);
  EXPECT_EQ(m.intermediate_size, 12288);
  EXPECT_EQ(m.num_key_value_heads, 8);
  EXPECT_EQ(m.vocab_size, 151936);
  EXPECT_EQ(m.dtype, "bfloat16");
  const ModelConfig moe = load_model(fixture("qwen3-vl-30b-a3b"));
  EXPECT_EQ(moe.family, ModelFamily::kQwen3Moe);
  EXPECT_TRUE(moe.language_model_wrapped);
  EXPECT_EQ(moe.num_experts, 128);
  EXPECT_EQ(moe.moe_intermediate_size, 768);
  EXPECT_EQ(default_layer_type(moe, 0), "moe");
}

TEST(ModelConfig, TextConfigErrorsNameTheNestedPath) {
  auto j = nlohmann::json::parse(test::read_file(fixture("qwen3-vl-8b") + "/config.json"));
  j["text_config"].erase("hidden_size");
  EXPECT_EQ(error_of([&] { parse_model_config(j.dump(), "vl.json"); }), "vl.json: $.text_config.hidden_size: missing required key");
  j.erase("text_config");
  EXPECT_PRED2(contains, error_of([&] { parse_model_config(j.dump(), "vl.json"); }),
               "vl.json: $: Qwen3VLForConditionalGeneration keeps its language model's shapes in \"text_config\", which is missing");
}

TEST(ModelConfig, KimiK25IsDeepSeekV3ShapedInsideTextConfig) {
  const ModelConfig m = load_model(fixture("kimi-k2.5"));
  EXPECT_EQ(m.family, ModelFamily::kDeepseekV3);
  EXPECT_TRUE(m.language_model_wrapped);
  EXPECT_EQ(m.num_experts, 384);
  EXPECT_EQ(m.num_attention_heads, 64);
  EXPECT_EQ(m.first_k_dense_replace, 1);
  EXPECT_EQ(m.kv_lora_rank, 512);
  EXPECT_EQ(m.vocab_size, 163840);
  EXPECT_EQ(default_layer_type(m, 0), "mla_dense");
  EXPECT_EQ(default_layer_type(m, 1), "mla_moe");
  // Its INT4 weights are declared inside text_config.
  ASSERT_TRUE(m.checkpoint_quantization.has_value());
  EXPECT_EQ(m.checkpoint_quantization->declared, "compressed-tensors");
}

TEST(LoadModel, DirectoryHoldingConfigJson) {
  namespace fs = std::filesystem;
  const std::string dir = test::make_temp_dir();
  fs::create_directories(dir + "/My-Model");
  test::write_file(dir + "/My-Model/config.json", std::string(*find_embedded("models/Qwen3-8B.json")));
  ModelConfig m = load_model(dir + "/My-Model");
  EXPECT_EQ(m.name, "My-Model");
  EXPECT_EQ(m.num_hidden_layers, 36);
  EXPECT_EQ(m.source, dir + "/My-Model/config.json");
  // The config.json path itself names the model after its directory.
  EXPECT_EQ(load_model(dir + "/My-Model/config.json").name, "My-Model");
  // Any other .json file is named after its stem.
  test::write_file(dir + "/custom.json", std::string(*find_embedded("models/Qwen3-8B.json")));
  EXPECT_EQ(load_model(dir + "/custom.json").name, "custom");
  // A directory without config.json.
  fs::create_directories(dir + "/empty");
  EXPECT_EQ(error_of([&] { load_model(dir + "/empty"); }), dir + "/empty: directory holds no config.json");
  // An error inside the file names the file.
  test::write_file(dir + "/broken.json", "{\"architectures\": [\"Qwen3ForCausalLM\"]}");
  EXPECT_PRED2(contains, error_of([&] { load_model(dir + "/broken.json"); }), dir + "/broken.json: $.hidden_size");
  fs::remove_all(dir);
}

TEST(LoadModel, UnknownNameListsBundledModels) {
  const std::string msg = error_of([] { load_model("Qwen4-1T"); });
  EXPECT_PRED2(contains, msg, "--model Qwen4-1T: no such file or directory, and not a bundled model");
  for (const auto& e : kBundled) EXPECT_PRED2(contains, msg, e.name);
}

}  // namespace
}  // namespace pt
