// The checkpoint's own quantization: ModelSlim's quant_model_description.json, config.json's
// quantization_config, and which one a run models next to --quantization.
#include "model/checkpoint_quantization.h"

#include <filesystem>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "model/linear_shapes.h"
#include "test_support.h"

namespace pt {
namespace {

using test::contains;
using test::error_of;

std::string data(const std::string& dir) { return test::source_path("tests/data/models/" + dir); }

// A checkpoint directory: the bundled `model`'s config.json and `description` beside it.
std::string checkpoint_dir(const std::string& model, const nlohmann::json& description) {
  const std::string dir = test::make_temp_dir();
  test::write_file(dir + "/config.json", test::read_file(test::source_path("sample_profiles/models/" + model + ".json")));
  test::write_file(dir + "/quant_model_description.json", description.dump(2));
  return dir;
}

// A ModelSlim description of a MoE model: attention W8A8 (static), experts `experts`, router FLOAT.
nlohmann::json moe_description(int layers, int experts_count, const std::string& attention, const std::string& experts,
                               const std::string& declared) {
  nlohmann::json j;
  if (!declared.empty()) j["model_quant_type"] = declared;
  for (int i = 0; i < layers; ++i) {
    const std::string p = "model.layers." + std::to_string(i) + ".";
    for (const char* n : {"q_proj", "k_proj", "v_proj", "o_proj"}) j[p + "self_attn." + n + ".weight"] = attention;
    j[p + "self_attn.q_norm.weight"] = "FLOAT";
    j[p + "mlp.gate.weight"] = "FLOAT";
    for (int e = 0; e < experts_count; ++e) {
      for (const char* n : {"gate_proj", "up_proj", "down_proj"}) {
        j[p + "mlp.experts." + std::to_string(e) + "." + n + ".weight"] = experts;
      }
    }
  }
  j["lm_head.weight"] = "FLOAT";
  return j;
}

Deployment resolved(const ModelConfig& m, QuantizationSource source = QuantizationSource::kDefault,
                    Quantization q = Quantization::kW8A8Static, std::vector<std::string>* notes_out = nullptr) {
  Deployment d;
  d.quantization = q;
  d.quantization_source = source;
  std::vector<std::string> notes;
  Deployment r = resolve_quantization(m, d, notes);
  if (notes_out) *notes_out = notes;
  return r;
}

TEST(CheckpointQuantization, ModelSlimDirectoryIsReadAndLabelled) {
  const ModelConfig m = load_model(data("qwen3-32b-w8a8-modelslim"));
  ASSERT_TRUE(m.checkpoint_quantization.has_value());
  EXPECT_EQ(m.checkpoint_quantization->file, "quant_model_description.json");
  EXPECT_EQ(m.checkpoint_quantization->declared, "W8A8");
  EXPECT_EQ(m.checkpoint_quantization->scheme, Quantization::kW8A8Static);
  EXPECT_EQ(m.checkpoint_quantization->groups.at(LinearGroup::kAttention), QuantScheme::kW8A8Static);
  EXPECT_EQ(m.checkpoint_quantization->groups.at(LinearGroup::kDenseMlp), QuantScheme::kW8A8Static);
  EXPECT_TRUE(m.checkpoint_quantization->notes.empty());
  // Asked for bf16 by nothing, the run models the checkpoint's W8A8 and says where it came from.
  const Deployment d = resolved(m, QuantizationSource::kDefault, Quantization::kBf16);
  EXPECT_EQ(d.quantization, Quantization::kW8A8Static);
  EXPECT_EQ(d.quantization_source, QuantizationSource::kCheckpoint);
  EXPECT_EQ(quantization_label(d.quantization, d.quantization_source, d.quantization_file),
            "w8a8 (from quant_model_description.json)");
}

TEST(CheckpointQuantization, TheConfigJsonPathOfADirectoryFindsTheDescriptionToo) {
  const ModelConfig m = load_model(data("qwen3-32b-w8a8-modelslim") + "/config.json");
  ASSERT_TRUE(m.checkpoint_quantization.has_value());
  EXPECT_EQ(m.name, "qwen3-32b-w8a8-modelslim");
  EXPECT_EQ(load_model(data("qwen3-32b-w8a8-modelslim") + "/").name, "qwen3-32b-w8a8-modelslim");
}

TEST(CheckpointQuantization, QuantizationOptionOverridesTheCheckpointWithANote) {
  const ModelConfig m = load_model(data("qwen3-32b-w8a8-modelslim"));
  std::vector<std::string> notes;
  const Deployment d = resolved(m, QuantizationSource::kOption, Quantization::kBf16, &notes);
  EXPECT_EQ(d.quantization, Quantization::kBf16);
  EXPECT_EQ(quantization_label(d.quantization, d.quantization_source, d.quantization_file), "bf16 (--quantization)");
  ASSERT_EQ(notes.size(), 1u);
  EXPECT_PRED2(contains, notes[0], "--quantization bf16 overrides the checkpoint's W8A8 (quant_model_description.json)");
  // The same scheme given explicitly needs no note.
  resolved(m, QuantizationSource::kOption, Quantization::kW8A8Static, &notes);
  EXPECT_TRUE(notes.empty());
}

TEST(CheckpointQuantization, PerLayerEntriesSetEachGroupsScheme) {
  // ModelSlim's MoE W8A8: attention static, experts dynamic, router FLOAT (not a group).
  const ModelConfig m = load_model(checkpoint_dir("Qwen3-30B-A3B", moe_description(48, 2, "W8A8", "W8A8_DYNAMIC", "W8A8")));
  const auto& q = *m.checkpoint_quantization;
  EXPECT_EQ(q.scheme, Quantization::kW8A8Static);
  EXPECT_EQ(q.groups.at(LinearGroup::kAttention), QuantScheme::kW8A8Static);
  EXPECT_EQ(q.groups.at(LinearGroup::kExperts), QuantScheme::kW8A8Dynamic);
  EXPECT_EQ(q.groups.count(LinearGroup::kUnquantized), 0u);
  // A W4A8 checkpoint keeps attention at W8A8 dynamic and packs only the experts to 4 bits: the
  // per-rank weights follow the entries, not one scheme for everything.
  const ModelConfig w4 = load_model(checkpoint_dir("Qwen3-30B-A3B", moe_description(48, 2, "W8A8_DYNAMIC", "W4A8_DYNAMIC", "W4A8_DYNAMIC")));
  const Deployment d = resolved(w4);
  EXPECT_EQ(d.quantization, Quantization::kW4A8);
  const auto linears = per_rank_linears(w4, d);
  EXPECT_EQ(linears.at("o_proj").scheme, QuantScheme::kW8A8Dynamic);
  EXPECT_EQ(linears.at("o_proj").bytes_per_weight, 1.0);
  EXPECT_EQ(linears.at("experts.w13").scheme, QuantScheme::kW4A8Dynamic);
  EXPECT_EQ(linears.at("experts.w13").bytes_per_weight, 0.5);
  EXPECT_EQ(linears.at("router").scheme, QuantScheme::kBf16);
  // --quantization w4a8 instead packs every linear to 4 bits (the tool's uniform scheme).
  EXPECT_EQ(per_rank_linears(w4, resolved(w4, QuantizationSource::kOption, Quantization::kW4A8)).at("o_proj").scheme,
            QuantScheme::kW4A8Dynamic);
}

TEST(CheckpointQuantization, WithoutModelQuantTypeTheSchemeFollowsTheEntries) {
  const ModelConfig m = load_model(checkpoint_dir("Qwen3-30B-A3B", moe_description(48, 1, "W8A8", "W8A8_DYNAMIC", "")));
  EXPECT_EQ(m.checkpoint_quantization->scheme, Quantization::kW8A8Static);
  const ModelConfig dyn = load_model(checkpoint_dir("Qwen3-30B-A3B", moe_description(48, 1, "W8A8_DYNAMIC", "W8A8_DYNAMIC", "")));
  EXPECT_EQ(dyn.checkpoint_quantization->scheme, Quantization::kW8A8Dynamic);
}

TEST(CheckpointQuantization, LayersThatDifferAreNamedAndTheMajorityIsModelled) {
  nlohmann::json j = moe_description(48, 1, "W8A8", "W8A8_DYNAMIC", "W8A8");
  for (const char* n : {"q_proj", "k_proj", "v_proj", "o_proj"}) j[std::string("model.layers.0.self_attn.") + n + ".weight"] = "FLOAT";
  const ModelConfig m = load_model(checkpoint_dir("Qwen3-30B-A3B", j));
  EXPECT_EQ(m.checkpoint_quantization->groups.at(LinearGroup::kAttention), QuantScheme::kW8A8Static);
  ASSERT_EQ(m.checkpoint_quantization->notes.size(), 1u);
  EXPECT_PRED2(contains, m.checkpoint_quantization->notes[0], "4 of 192 attention tensors are FLOAT; modelled as W8A8 in every layer");
}

TEST(CheckpointQuantization, TypesTheToolDoesNotModelAreRefusedUnlessOverridden) {
  const ModelConfig m = load_model(checkpoint_dir("Qwen3-30B-A3B", moe_description(48, 1, "W8A8", "W4A16", "W4A16")));
  EXPECT_FALSE(m.checkpoint_quantization->scheme.has_value());
  const std::string msg = error_of([&] { resolved(m); });
  EXPECT_PRED2(contains, msg, "quant_model_description.json: $[\"model.layers.0.mlp.experts.0.down_proj.weight\"]: quant type \"W4A16\"");
  EXPECT_PRED2(contains, msg, "; or give --quantization to model converted weights");
  EXPECT_NO_THROW(resolved(m, QuantizationSource::kOption));
}

TEST(CheckpointQuantization, AnFp8CheckpointIsRefusedWithTheReason) {
  const ModelConfig m = load_model(data("deepseek-v3-fp8"));
  ASSERT_TRUE(m.checkpoint_quantization.has_value());
  EXPECT_EQ(m.checkpoint_quantization->declared, "fp8");
  const std::string msg = error_of([&] { resolved(m); });
  EXPECT_PRED2(contains, msg, "config.json: $.quantization_config.quant_method: \"fp8\": vllm-ascend cannot serve an FP8 checkpoint on A2/A3");
  EXPECT_PRED2(contains, msg, "(v0.20.2rc1:vllm_ascend/platform.py:106)");
  EXPECT_PRED2(contains, msg, "Ascend 950");
  EXPECT_PRED2(contains, msg, "Serve a ModelSlim conversion");
  // --quantization models the converted weights of the same shapes.
  std::vector<std::string> notes;
  EXPECT_EQ(resolved(m, QuantizationSource::kOption, Quantization::kW8A8Dynamic, &notes).quantization, Quantization::kW8A8Dynamic);
  EXPECT_PRED2(contains, notes.at(0), "overrides the checkpoint's fp8 (config.json quantization_config)");
}

TEST(CheckpointQuantization, OtherQuantMethodsAreRefused) {
  auto with_method = [](const std::string& method) {
    auto j = nlohmann::json::parse(test::read_file(test::source_path("sample_profiles/models/Qwen3-8B.json")));
    j["quantization_config"] = {{"quant_method", method}, {"bits", 4}};
    return parse_model_config(j.dump(), "config.json");
  };
  EXPECT_PRED2(contains, error_of([&] { resolved(with_method("awq")); }),
               "config.json: $.quantization_config.quant_method: \"awq\" is not a quantization vllm-ascend serves");
  EXPECT_PRED2(contains, error_of([&] { resolved(with_method("ascend")); }), "holds no quant_model_description.json");
  // Kimi-K2.5 keeps its INT4 compressed-tensors config inside text_config.
  EXPECT_PRED2(contains, error_of([&] { resolved(load_model(data("kimi-k2.5"))); }),
               "config.json: $.text_config.quantization_config.quant_method: \"compressed-tensors\"");
}

TEST(CheckpointQuantization, BundledModelsGiveShapesOnly) {
  const ModelConfig ds = load_model("DeepSeek-V3");  // the FP8 release's config.json
  EXPECT_FALSE(ds.checkpoint_quantization.has_value());
  ASSERT_EQ(ds.notes.size(), 1u);
  EXPECT_PRED2(contains, ds.notes[0], "bundled DeepSeek-V3 is the config.json of its fp8 release");
  EXPECT_EQ(resolved(ds).quantization_source, QuantizationSource::kDefault);
  EXPECT_EQ(quantization_label(Quantization::kW8A8Static, QuantizationSource::kDefault, ""), "w8a8 (default)");
}

TEST(CheckpointQuantization, ADirectoryThatSaysNothingIsNotedAsFloat) {
  std::vector<std::string> notes;
  const Deployment d = resolved(load_model(data("mistral-7b")), QuantizationSource::kDefault, Quantization::kW8A8Static, &notes);
  EXPECT_EQ(d.quantization_source, QuantizationSource::kDefault);
  ASSERT_EQ(notes.size(), 1u);
  EXPECT_PRED2(contains, notes[0], "mistral-7b holds no quant_model_description.json");
  EXPECT_PRED2(contains, notes[0], "vllm-ascend would load the weights as bf16");
}

TEST(CheckpointQuantization, BadDescriptionsNameTheFile) {
  const std::string dir = test::make_temp_dir();
  test::write_file(dir + "/config.json", test::read_file(test::source_path("sample_profiles/models/Qwen3-8B.json")));
  test::write_file(dir + "/quant_model_description.json", "{\"model.layers.0.self_attn.q_proj.weight\": 8}");
  EXPECT_PRED2(contains, error_of([&] { load_model(dir); }),
               "quant_model_description.json: $[\"model.layers.0.self_attn.q_proj.weight\"]: expected a string");
  test::write_file(dir + "/quant_model_description.json", "{\"version\": \"1.0.0\"}");
  EXPECT_PRED2(contains, error_of([&] { resolved(load_model(dir)); }), "neither \"model_quant_type\" nor per-layer entries");
}

}  // namespace
}  // namespace pt
