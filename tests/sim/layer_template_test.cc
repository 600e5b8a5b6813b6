#include "sim/layer_template.h"

#include <functional>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "hardware/hardware_profile.h"
#include "sim/step_plan.h"
#include "test_support.h"
#include "util/embedded_files.h"

namespace pt {
namespace {

using test::contains;
using test::error_of;

// Three measured ops; one site prefetching down_proj behind "window", read by "down".
const char* kMini = R"({
  "schema": "prefetch-tuner/layer-template/1",
  "name": "mini",
  "description": "test template",
  "layer_types": {
    "blk": {
      "ops": [
        {"name": "pre", "kind": "measured", "duration_us": 10},
        {"name": "window", "kind": "measured", "duration_us": 40, "hbm_bytes": "T*H"},
        {"name": "down", "kind": "measured", "duration_us": 30, "linear": "down_proj"}
      ]
    }
  },
  "step_ops": [{"name": "head", "kind": "measured", "duration_us": 5}],
  "sites": [
    {"site": "mlp.down", "ratio_key": "mlp.down", "layer_type": "blk", "linear": "down_proj",
     "fork_before": "window", "join_after": "window", "target": "down", "cap": "mlp"}
  ],
  "layer_sequence": [{"type": "blk", "count": 3}]
})";

std::string mini_with(const std::function<void(nlohmann::json&)>& edit) {
  auto j = nlohmann::json::parse(kMini);
  edit(j);
  return j.dump(2);
}

LayerTemplate parse_mini(const std::function<void(nlohmann::json&)>& edit) {
  return parse_layer_template(mini_with(edit), "mini.json");
}

Deployment tp4_w8a8() {
  Deployment d;
  d.tensor_parallel = 4;
  d.quantization = Quantization::kW8A8Static;
  d.num_tokens = 8;
  return d;
}

TEST(LayerTemplate, MiniParses) {
  LayerTemplate t = parse_layer_template(kMini, "mini.json");
  EXPECT_EQ(t.name, "mini");
  EXPECT_EQ(t.source, "mini.json");
  EXPECT_EQ(t.description, "test template");
  ASSERT_EQ(t.layer_types.count("blk"), 1u);
  const auto& ops = t.layer_types.at("blk");
  ASSERT_EQ(ops.size(), 3u);
  EXPECT_EQ(ops[1].name, "window");
  EXPECT_EQ(ops[1].kind, OpKind::kMeasured);
  EXPECT_EQ(ops[1].type, "window");  // type defaults to the name
  EXPECT_EQ(ops[1].duration_us->evaluate([](std::string_view, double&) { return false; }), 40);
  EXPECT_EQ(ops[1].where, "mini.json: $.layer_types.blk.ops[1]");
  EXPECT_EQ(ops[2].linear, "down_proj");
  ASSERT_EQ(t.step_ops.size(), 1u);
  ASSERT_EQ(t.sites.size(), 1u);
  const TemplateSite& s = t.sites[0];
  EXPECT_EQ(s.site, "mlp.down");
  EXPECT_EQ(s.ratio_key, RatioKey::kMlpDown);
  EXPECT_EQ(s.fork_op, "window");
  EXPECT_FALSE(s.fork_after);
  EXPECT_EQ(s.join_op, "window");
  EXPECT_FALSE(s.join_before);
  EXPECT_EQ(s.cap, "mlp");
  EXPECT_FALSE(s.on_compute_stream);
  ASSERT_EQ(t.layer_sequence.size(), 1u);
  EXPECT_EQ(t.layer_sequence[0], (std::pair<std::string, int>{"blk", 3}));
}

TEST(LayerTemplate, BundledTemplatesAllParse) {
  for (const char* name : {"dense", "qwen3_moe", "deepseek_v3", "qwen3_next", "glm4_moe"}) {
    SCOPED_TRACE(name);
    const std::string rel = std::string("layers/") + name + ".json";
    auto text = find_embedded(rel);
    ASSERT_TRUE(text.has_value());
    LayerTemplate t = parse_layer_template(std::string(*text), rel);
    EXPECT_EQ(t.name, name);
    EXPECT_FALSE(t.layer_types.empty());
    EXPECT_FALSE(t.sites.empty());
    EXPECT_FALSE(t.step_ops.empty());
    EXPECT_TRUE(t.layer_sequence.empty());  // bundled templates follow the model's layers
    // Every MLP and MoE site finds its weight through layer_idx, which wrapper models never get.
    for (const auto& s : t.sites) {
      const bool mlp_or_moe = s.ratio_key && (s.site.starts_with("mlp.") || s.site.starts_with("moe."));
      EXPECT_EQ(s.gates.needs_layer_idx, mlp_or_moe) << s.site;
    }
  }
  EXPECT_EQ(embedded_stems("layers"), (std::vector<std::string>{"deepseek_v3", "dense", "glm4_moe", "qwen3_moe-this-layer-w13",
                                                                "qwen3_moe", "qwen3_next"}));
}

TEST(LayerTemplate, EveryBundledModelGetsItsFamilyTemplateAndPlans) {
  const HardwareProfile hw = load_hardware("a3-die");
  for (const auto& name : bundled_model_names()) {
    SCOPED_TRACE(name);
    ModelConfig m = load_model(name);
    LayerTemplate t = load_layer_template("", m);
    EXPECT_EQ(t.name, family_name(m.family));
    EXPECT_EQ(t.source, std::string("bundled layers/") + family_name(m.family) + ".json");
    StepPlan plan = build_step_plan(m, Deployment{}, hw, t);
    EXPECT_EQ(plan.layer_sequence.size(), static_cast<size_t>(m.num_hidden_layers));
    for (int i = 0; i < m.num_hidden_layers; ++i) {
      // The last layer of a MoE model gets a type of its own ("moe@last"): up to v0.22 every MoE
      // layer's prefetch fetches the last layer's w13, which only that layer reads.
      std::string name = plan.layer_types[static_cast<size_t>(plan.layer_sequence[static_cast<size_t>(i)])].name;
      if (name.ends_with("@last")) {
        EXPECT_EQ(i, m.num_hidden_layers - 1);
        name.resize(name.size() - 5);
      }
      EXPECT_EQ(name, default_layer_type(m, i));
    }
  }
}

TEST(LayerTemplate, LoadFromPath) {
  const std::string dir = test::make_temp_dir();
  const std::string path = test::write_file(dir + "/mini.json", kMini);
  LayerTemplate t = load_layer_template(path, load_model("Qwen3-8B"));
  EXPECT_EQ(t.name, "mini");
  EXPECT_EQ(t.source, path);
  EXPECT_PRED2(contains, error_of([&] { load_layer_template(dir + "/nope.json", load_model("Qwen3-8B")); }), dir + "/nope.json");
  std::filesystem::remove_all(dir);
}

// --- bad input, one case each; every message names the JSON path ---

TEST(LayerTemplateErrors, UnknownOpKind) {
  const std::string msg = error_of([] { parse_mini([](nlohmann::json& j) { j["layer_types"]["blk"]["ops"][1]["kind"] = "vectr"; }); });
  EXPECT_PRED2(contains, msg, "mini.json: $.layer_types.blk.ops[1].kind: unknown op kind \"vectr\"");
  EXPECT_PRED2(contains, msg, "grouped_matmul");  // lists the accepted kinds
}

TEST(LayerTemplateErrors, UnknownVariableIsFoundWhenThePlanIsBuilt) {
  LayerTemplate t = parse_mini([](nlohmann::json& j) { j["layer_types"]["blk"]["ops"][1]["hbm_bytes"] = "T*ZZ"; });
  const std::string msg = error_of([&] {
    build_step_plan(load_model("Qwen3-8B"), tp4_w8a8(), parse_hardware_profile(test::round_hardware_json(), "hw"), t);
  });
  EXPECT_EQ(msg, "mini.json: $.layer_types.blk.ops[1].hbm_bytes: in expression \"T*ZZ\": unknown variable 'ZZ'");
}

TEST(LayerTemplateErrors, ExpressionSyntaxErrorIsFoundWhenParsed) {
  EXPECT_PRED2(contains,
               error_of([] { parse_mini([](nlohmann::json& j) { j["layer_types"]["blk"]["ops"][1]["hbm_bytes"] = "T*(H"; }); }),
               "mini.json: $.layer_types.blk.ops[1].hbm_bytes: in expression \"T*(H\"");
}

TEST(LayerTemplateErrors, SiteWhoseForkOpDoesNotExist) {
  EXPECT_EQ(error_of([] { parse_mini([](nlohmann::json& j) { j["sites"][0]["fork_before"] = "windw"; }); }),
            "mini.json: $.sites[0].fork_before: no op \"windw\" in layer type \"blk\"");
  EXPECT_EQ(error_of([] {
              parse_mini([](nlohmann::json& j) {
                j["sites"][0].erase("fork_before");
                j["sites"][0]["fork_after"] = "nope";
              });
            }),
            "mini.json: $.sites[0].fork_after: no op \"nope\" in layer type \"blk\"");
}

TEST(LayerTemplateErrors, SiteWhoseJoinOrTargetOpDoesNotExist) {
  EXPECT_EQ(error_of([] { parse_mini([](nlohmann::json& j) { j["sites"][0]["join_after"] = "nope"; }); }),
            "mini.json: $.sites[0].join_after: no op \"nope\" in layer type \"blk\"");
  EXPECT_EQ(error_of([] { parse_mini([](nlohmann::json& j) { j["sites"][0]["target"] = "nope"; }); }),
            "mini.json: $.sites[0].target: no op \"nope\" in layer type \"blk\"");
}

TEST(LayerTemplateErrors, JoinBeforeFork) {
  // Fork after "window", join after "pre": the join sits before the fork.
  EXPECT_EQ(error_of([] {
              parse_mini([](nlohmann::json& j) {
                j["sites"][0].erase("fork_before");
                j["sites"][0]["fork_after"] = "window";
                j["sites"][0]["join_after"] = "pre";
              });
            }),
            "mini.json: $.sites[0]: the join comes before the fork: the window holds no op");
  // Fork before and join before the same op: an empty window.
  EXPECT_EQ(error_of([] {
              parse_mini([](nlohmann::json& j) {
                j["sites"][0].erase("join_after");
                j["sites"][0]["join_before"] = "window";
              });
            }),
            "mini.json: $.sites[0]: the join comes before the fork: the window holds no op");
}

TEST(LayerTemplateErrors, TargetBeforeTheForkIsRefusedButAfterTheJoinIsNot) {
  EXPECT_EQ(error_of([] { parse_mini([](nlohmann::json& j) { j["sites"][0]["target"] = "pre"; }); }),
            "mini.json: $.sites[0].target: the target op runs before the fork");
  // A wait after the target: the matmul races the prefetch of its own weight (mlp.gate_up).
  EXPECT_NO_THROW(parse_mini([](nlohmann::json& j) {
    j["sites"][0]["fork_before"] = "pre";
    j["sites"][0]["join_after"] = "down";
    j["sites"][0]["target"] = "window";
  }));
}

TEST(LayerTemplateErrors, APrefetchStreamSiteNamesItsJoinOrSaysItHasNone) {
  EXPECT_PRED2(contains, error_of([] { parse_mini([](nlohmann::json& j) { j["sites"][0].erase("join_after"); }); }),
               "mini.json: $.sites[0]: missing \"join_after\" (or \"join_before\"); give \"no_join\": true");
  EXPECT_NO_THROW(parse_mini([](nlohmann::json& j) {
    j["sites"][0].erase("join_after");
    j["sites"][0]["no_join"] = true;
  }));
  EXPECT_PRED2(contains, error_of([] { parse_mini([](nlohmann::json& j) { j["sites"][0]["no_join"] = true; }); }),
               "$.sites[0].no_join: \"no_join\" together with a join op");
  EXPECT_PRED2(contains, error_of([] { parse_mini([](nlohmann::json& j) { j["sites"][0]["since"] = "v0.16"; }); }),
               "$.sites[0].since: expected a code version: v0.13, v0.15, v0.17, v0.18 or v0.23");
  EXPECT_PRED2(contains, error_of([] { parse_mini([](nlohmann::json& j) { j["sites"][0]["weight_of"] = "next_layer"; }); }),
               "$.sites[0].weight_of: expected \"this_layer\" or \"last_layer\"");
}

TEST(LayerTemplateErrors, DuplicateOpNames) {
  EXPECT_EQ(error_of([] { parse_mini([](nlohmann::json& j) { j["layer_types"]["blk"]["ops"][2]["name"] = "window"; }); }),
            "mini.json: $.layer_types.blk.ops[2].name: duplicate op name \"window\" in this layer type");
}

TEST(LayerTemplateErrors, UnknownKey) {
  const std::string msg = error_of([] {
    parse_mini([](nlohmann::json& j) {
      auto& op = j["layer_types"]["blk"]["ops"][0];
      op.erase("duration_us");
      op["duration"] = 10;
    });
  });
  EXPECT_PRED2(contains, msg, "mini.json: $.layer_types.blk.ops[0].duration: unknown key (expected one of");
  EXPECT_PRED2(contains, msg, "\"duration_us\"");
  EXPECT_PRED2(contains, error_of([] { parse_mini([](nlohmann::json& j) { j["layers"] = 1; }); }), "mini.json: $.layers: unknown key");
  EXPECT_PRED2(contains, error_of([] { parse_mini([](nlohmann::json& j) { j["sites"][0]["fork"] = "pre"; }); }),
               "mini.json: $.sites[0].fork: unknown key");
  EXPECT_PRED2(contains, error_of([] { parse_mini([](nlohmann::json& j) { j["sites"][0]["gates"] = {{"tokens_below", 5}}; }); }),
               "mini.json: $.sites[0].gates.tokens_below: unknown key");
}

TEST(LayerTemplateErrors, MissingRequiredKeys) {
  EXPECT_EQ(error_of([] { parse_mini([](nlohmann::json& j) { j["layer_types"]["blk"]["ops"][0].erase("duration_us"); }); }),
            "mini.json: $.layer_types.blk.ops[0].duration_us: missing required key");
  EXPECT_EQ(error_of([] {
              parse_mini([](nlohmann::json& j) { j["layer_types"]["blk"]["ops"][0] = {{"name", "v"}, {"kind", "vector"}, {"bytes", 1}}; });
            }),
            "mini.json: $.layer_types.blk.ops[0].flops: missing required key");
  EXPECT_EQ(error_of([] { parse_mini([](nlohmann::json& j) { j["sites"][0].erase("fork_before"); }); }),
            "mini.json: $.sites[0]: missing \"fork_before\" (or \"fork_after\")");
  EXPECT_EQ(error_of([] { parse_mini([](nlohmann::json& j) { j["sites"][0]["fork_after"] = "pre"; }); }),
            "mini.json: $.sites[0].fork_after: give either \"fork_before\" or \"fork_after\", not both");
}

TEST(LayerTemplateErrors, BadEnumeratedValues) {
  EXPECT_PRED2(contains, error_of([] { parse_mini([](nlohmann::json& j) { j["sites"][0]["cap"] = "18MiB"; }); }),
               "mini.json: $.sites[0].cap: expected \"none\", \"mlp\" or \"mla_o_proj\"");
  EXPECT_PRED2(contains, error_of([] { parse_mini([](nlohmann::json& j) { j["sites"][0]["ratio_key"] = "mlp.up"; }); }),
               "mini.json: $.sites[0].ratio_key: unknown ratio key");
  EXPECT_PRED2(contains, error_of([] { parse_mini([](nlohmann::json& j) { j["sites"][0]["stream"] = "side"; }); }),
               "mini.json: $.sites[0].stream: expected \"prefetch\" or \"compute\"");
  EXPECT_PRED2(contains, error_of([] { parse_mini([](nlohmann::json& j) { j["sites"][0]["layer_type"] = "moe"; }); }),
               "mini.json: $.sites[0].layer_type: no layer type \"moe\" in this template");
  EXPECT_PRED2(contains, error_of([] { parse_mini([](nlohmann::json& j) { j["sites"][0]["gates"] = {{"model_kind", "hybrid"}}; }); }),
               "mini.json: $.sites[0].gates.model_kind: expected \"dense\" or \"moe\"");
  EXPECT_PRED2(contains, error_of([] { parse_mini([](nlohmann::json& j) { j["schema"] = "prefetch-tuner/layer-template/9"; }); }),
               "mini.json: $.schema: unsupported schema");
  EXPECT_PRED2(contains,
               error_of([] {
                 parse_mini([](nlohmann::json& j) {
                   j["layer_types"]["blk"]["ops"][0] = {{"name", "v"}, {"kind", "vector"}, {"flops", 1}, {"bytes", 1}, {"dtype", "int8"}};
                 });
               }),
               "mini.json: $.layer_types.blk.ops[0].dtype: expected \"fp16\" or \"fp32\" for a vector op");
  EXPECT_PRED2(contains,
               error_of([] {
                 parse_mini([](nlohmann::json& j) {
                   j["layer_types"]["blk"]["ops"][0] = {{"name", "c"}, {"kind", "collective"}, {"pattern", "broadcast"},
                                                        {"group", "TP"}, {"bytes", 1}};
                 });
               }),
               "mini.json: $.layer_types.blk.ops[0].pattern: expected all_reduce, all_gather, reduce_scatter or all_to_all");
  EXPECT_PRED2(contains, error_of([] { parse_mini([](nlohmann::json& j) { j["layer_types"]["blk"]["ops"][0]["duration_us"] = -1; }); }),
               "mini.json: $.layer_types.blk.ops[0].duration_us: expected a number in [0, 1000000000]");
}

TEST(LayerTemplateErrors, DuplicateSite) {
  EXPECT_EQ(error_of([] { parse_mini([](nlohmann::json& j) { j["sites"].push_back(j["sites"][0]); }); }),
            "mini.json: $.sites[1].site: site \"mlp.down\" appears twice in layer type \"blk\" for the same releases "
            "(give since / until)");
  // Once per range of code versions is fine.
  EXPECT_NO_THROW(parse_mini([](nlohmann::json& j) {
    j["sites"].push_back(j["sites"][0]);
    j["sites"][0]["until"] = "v0.13";
    j["sites"][1]["since"] = "v0.15";
  }));
}

TEST(LayerTemplateErrors, LayerSequenceAndLayerTypes) {
  EXPECT_EQ(error_of([] { parse_mini([](nlohmann::json& j) { j["layer_sequence"][0]["type"] = "moe"; }); }),
            "mini.json: $.layer_sequence[0].type: no layer type \"moe\" in this template");
  EXPECT_PRED2(contains, error_of([] { parse_mini([](nlohmann::json& j) { j["layer_sequence"][0]["count"] = 0; }); }),
               "mini.json: $.layer_sequence[0].count: expected an integer in [1, 4096]");
  EXPECT_EQ(error_of([] { parse_mini([](nlohmann::json& j) { j["layer_types"] = nlohmann::json::object(); }); }),
            "mini.json: $.layer_types: no layer types");
  EXPECT_EQ(error_of([] {
              parse_mini([](nlohmann::json& j) {
                j["layer_types"]["empty"] = {{"ops", nlohmann::json::array()}};
              });
            }),
            "mini.json: $.layer_types.empty.ops: a layer type needs at least one op");
  EXPECT_EQ(error_of([] { parse_mini([](nlohmann::json& j) { j["layer_types"]["blk"]["ops"][0]["name"] = ""; }); }),
            "mini.json: $.layer_types.blk.ops[0].name: empty op name");
}

TEST(LayerTemplateErrors, UnknownLinearIsFoundWhenThePlanIsBuilt) {
  LayerTemplate t = parse_mini([](nlohmann::json& j) { j["layer_types"]["blk"]["ops"][2]["linear"] = "experts.w13"; });
  const std::string msg = error_of([&] {
    build_step_plan(load_model("Qwen3-8B"), tp4_w8a8(), parse_hardware_profile(test::round_hardware_json(), "hw"), t);
  });
  EXPECT_PRED2(contains, msg, "mini.json: $.layer_types.blk.ops[2]: linear \"experts.w13\" does not exist for model Qwen3-8B");
  EXPECT_PRED2(contains, msg, "down_proj");  // lists the linears it has
}

TEST(LayerTemplateErrors, TemplateWithoutTheLayerTypeTheModelNeeds) {
  // No layer_sequence: Qwen3-8B needs a "dense" layer type, which "mini" lacks.
  LayerTemplate t = parse_mini([](nlohmann::json& j) { j.erase("layer_sequence"); });
  EXPECT_EQ(error_of([&] {
              build_step_plan(load_model("Qwen3-8B"), tp4_w8a8(), parse_hardware_profile(test::round_hardware_json(), "hw"), t);
            }),
            "mini.json: no layer type \"dense\", which model Qwen3-8B (Qwen3ForCausalLM) needs");
}

TEST(LayerTemplate, DefaultLayerTypes) {
  EXPECT_EQ(default_layer_type(load_model("Qwen3-32B"), 0), "dense");
  EXPECT_EQ(default_layer_type(load_model("Llama-3.1-70B"), 79), "dense");
  EXPECT_EQ(default_layer_type(load_model("Qwen3-30B-A3B"), 0), "moe");
  EXPECT_EQ(default_layer_type(load_model("DeepSeek-V3"), 2), "mla_dense");
  EXPECT_EQ(default_layer_type(load_model("DeepSeek-V3"), 3), "mla_moe");
  EXPECT_EQ(default_layer_type(load_model("Qwen3-Next-80B-A3B"), 2), "linear_attention_moe");
  EXPECT_EQ(default_layer_type(load_model("Qwen3-Next-80B-A3B"), 3), "full_attention_moe");
  EXPECT_EQ(default_layer_type(load_model("GLM-4.5-Air"), 0), "dense");  // first_k_dense_replace = 1
  EXPECT_EQ(default_layer_type(load_model("GLM-4.5-Air"), 1), "moe");
}

TEST(LayerTemplate, OpKindNames) {
  EXPECT_STREQ(op_kind_name(OpKind::kGroupedMatmul), "grouped_matmul");
  EXPECT_STREQ(op_kind_name(OpKind::kMeasured), "measured");
  EXPECT_STREQ(op_kind_name(OpKind::kCollective), "collective");
}

}  // namespace
}  // namespace pt
