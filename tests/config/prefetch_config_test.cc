#include "config/prefetch_config.h"

#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "test_support.h"

namespace pt {
namespace {

using test::contains;
using test::error_of;

PrefetchConfigParse strict(const std::string& text) { return parse_prefetch_config(text, "cfg", false); }
PrefetchConfigParse lenient(const std::string& text) { return parse_prefetch_config(text, "cfg", true); }

bool any_contains(const std::vector<std::string>& lines, const std::string& needle) {
  for (const auto& l : lines) {
    if (contains(l, needle)) return true;
  }
  return false;
}

std::string joined(const std::vector<std::string>& lines) {
  std::string s;
  for (const auto& l : lines) s += l + "\n";
  return s;
}

// vllm-ascend's defaults: attn qkv 1.0, o 1.0; moe gate_up 0.8; mlp gate_up 1.0, down 1.0.
void expect_default_ratios(const WeightPrefetchConfig& c) {
  EXPECT_EQ(c[RatioKey::kAttnQkv], 1.0);
  EXPECT_EQ(c[RatioKey::kAttnO], 1.0);
  EXPECT_EQ(c[RatioKey::kMoeGateUp], 0.8);
  EXPECT_EQ(c[RatioKey::kMlpGateUp], 1.0);
  EXPECT_EQ(c[RatioKey::kMlpDown], 1.0);
}

TEST(RatioKeys, NamesRoundTripAndDefaults) {
  const char* names[] = {"attn.qkv", "attn.o", "moe.gate_up", "mlp.gate_up", "mlp.down"};
  for (int i = 0; i < kNumRatioKeys; ++i) {
    const auto key = static_cast<RatioKey>(i);
    EXPECT_STREQ(ratio_key_name(key), names[i]);
    ASSERT_TRUE(ratio_key_from_name(names[i]).has_value());
    EXPECT_EQ(*ratio_key_from_name(names[i]), key);
  }
  EXPECT_FALSE(ratio_key_from_name("mlp.up").has_value());
  EXPECT_EQ(default_ratio(RatioKey::kMoeGateUp), 0.8);
  EXPECT_EQ(default_ratio(RatioKey::kAttnQkv), 1.0);
  EXPECT_EQ(default_ratio(RatioKey::kMlpDown), 1.0);
}

TEST(WeightPrefetchConfig, DefaultsEnabledKeepsDefaultRatios) {
  WeightPrefetchConfig c = WeightPrefetchConfig::defaults_enabled();
  EXPECT_TRUE(c.enabled);
  expect_default_ratios(c);
  EXPECT_FALSE(WeightPrefetchConfig{}.enabled);
}

TEST(ParsePrefetchConfig, EnabledTrueGivesDefaults) {
  PrefetchConfigParse p = strict(R"({"weight_prefetch_config": {"enabled": true}})");
  EXPECT_TRUE(p.config.enabled);
  EXPECT_TRUE(p.had_weight_prefetch_config);
  expect_default_ratios(p.config);
  EXPECT_TRUE(p.warnings.empty());
  EXPECT_TRUE(p.notes.empty()) << joined(p.notes);
}

// --- "enable" instead of "enabled" ---

TEST(ParsePrefetchConfig, EnableTypoIsAnErrorInStrictMode) {
  const std::string msg = error_of([] { strict(R"({"weight_prefetch_config": {"enable": true}})"); });
  EXPECT_PRED2(contains, msg, "cfg: $.weight_prefetch_config.enable:");
  EXPECT_PRED2(contains, msg, "did you mean \"enabled\"");
  EXPECT_PRED2(contains, msg, "--lenient");
}

TEST(ParsePrefetchConfig, EnableTypoIsAWarningInLenientModeAndPrefetchStaysOff) {
  PrefetchConfigParse p = lenient(R"({"weight_prefetch_config": {"enable": true}})");
  EXPECT_FALSE(p.config.enabled);
  ASSERT_EQ(p.warnings.size(), 1u);
  EXPECT_PRED2(contains, p.warnings[0], "$.weight_prefetch_config.enable");
  EXPECT_PRED2(contains, p.warnings[0], "prefetch stays disabled");
  EXPECT_TRUE(any_contains(p.notes, "disabled")) << joined(p.notes);
}

// --- a ratio outside [0, 1] ---

TEST(ParsePrefetchConfig, RatioAboveOneIsAnErrorInStrictMode) {
  const std::string msg = error_of(
      [] { strict(R"({"weight_prefetch_config": {"enabled": true, "prefetch_ratio": {"mlp": {"gate_up": 1.0, "down": 1.5}}}})"); });
  EXPECT_PRED2(contains, msg, "cfg: $.weight_prefetch_config.prefetch_ratio.mlp.down: expected a number in [0, 1], got 1.5");
}

TEST(ParsePrefetchConfig, RatioAboveOneIsDroppedToZeroInLenientMode) {
  PrefetchConfigParse p =
      lenient(R"({"weight_prefetch_config": {"enabled": true, "prefetch_ratio": {"mlp": {"gate_up": 1.0, "down": 1.5}}}})");
  EXPECT_EQ(p.config[RatioKey::kMlpDown], 0.0);
  EXPECT_EQ(p.config[RatioKey::kMlpGateUp], 1.0);
  ASSERT_EQ(p.warnings.size(), 1u);
  EXPECT_PRED2(contains, p.warnings[0], "$.weight_prefetch_config.prefetch_ratio.mlp.down");
  EXPECT_PRED2(contains, p.warnings[0], "1.5");
}

TEST(ParsePrefetchConfig, NegativeRatioIsDroppedInLenientMode) {
  PrefetchConfigParse p = lenient(R"({"enabled": true, "prefetch_ratio": {"attn": {"qkv": -0.1, "o": 0.5}}})");
  EXPECT_EQ(p.config[RatioKey::kAttnQkv], 0.0);
  EXPECT_EQ(p.config[RatioKey::kAttnO], 0.5);
  EXPECT_EQ(p.warnings.size(), 1u);
  EXPECT_PRED2(contains, error_of([] { strict(R"({"enabled": true, "prefetch_ratio": {"attn": {"qkv": -0.1}}})"); }),
               "$.prefetch_ratio.attn.qkv");
}

// --- a string where a number belongs: vllm-ascend itself fails, so both modes refuse it ---

TEST(ParsePrefetchConfig, StringRatioIsAnErrorInStrictMode) {
  const std::string msg =
      error_of([] { strict(R"({"weight_prefetch_config": {"prefetch_ratio": {"attn": {"qkv": "0.5"}}}})"); });
  EXPECT_PRED2(contains, msg, "cfg: $.weight_prefetch_config.prefetch_ratio.attn.qkv:");
  EXPECT_PRED2(contains, msg, "the string \"0.5\"");
}

TEST(ParsePrefetchConfig, StringRatioIsAnErrorInLenientModeToo) {
  const std::string msg =
      error_of([] { lenient(R"({"weight_prefetch_config": {"prefetch_ratio": {"attn": {"qkv": "0.5"}}}})"); });
  EXPECT_PRED2(contains, msg, "$.weight_prefetch_config.prefetch_ratio.attn.qkv");
  EXPECT_PRED2(contains, msg, "fails at start-up");
}

TEST(ParsePrefetchConfig, BooleanRatioReadsAsZeroOrOneInLenientMode) {
  EXPECT_PRED2(contains, error_of([] { strict(R"({"prefetch_ratio": {"mlp": {"gate_up": true, "down": 1}}})"); }),
               "$.prefetch_ratio.mlp.gate_up");
  PrefetchConfigParse p = lenient(R"({"prefetch_ratio": {"mlp": {"gate_up": true, "down": false}}})");
  EXPECT_EQ(p.config[RatioKey::kMlpGateUp], 1.0);
  EXPECT_EQ(p.config[RatioKey::kMlpDown], 0.0);
  EXPECT_EQ(p.warnings.size(), 2u);
}

// --- unknown module / unknown linear ---

TEST(ParsePrefetchConfig, UnknownModuleIsAnErrorInStrictMode) {
  const std::string msg =
      error_of([] { strict(R"({"weight_prefetch_config": {"enabled": true, "prefetch_ratio": {"ffn": {"up": 0.5}}}})"); });
  EXPECT_PRED2(contains, msg, "cfg: $.weight_prefetch_config.prefetch_ratio.ffn: unknown module");
}

TEST(ParsePrefetchConfig, UnknownModuleIsAWarningInLenientModeAndChangesNothing) {
  PrefetchConfigParse p = lenient(R"({"weight_prefetch_config": {"enabled": true, "prefetch_ratio": {"ffn": {"up": 0.5}}}})");
  ASSERT_EQ(p.warnings.size(), 1u);
  EXPECT_PRED2(contains, p.warnings[0], "$.weight_prefetch_config.prefetch_ratio.ffn");
  EXPECT_PRED2(contains, p.warnings[0], "unknown module");
  EXPECT_TRUE(p.config.enabled);
  expect_default_ratios(p.config);
}

TEST(ParsePrefetchConfig, UnknownLinearInAModule) {
  const std::string text = R"({"weight_prefetch_config": {"enabled": true, "prefetch_ratio": {"attn": {"q": 0.5, "o": 0.25}}}})";
  const std::string msg = error_of([&] { strict(text); });
  EXPECT_PRED2(contains, msg, "cfg: $.weight_prefetch_config.prefetch_ratio.attn.q: unknown linear");
  EXPECT_PRED2(contains, msg, "\"qkv\", \"o\"");

  PrefetchConfigParse p = lenient(text);
  ASSERT_EQ(p.warnings.size(), 1u);
  EXPECT_PRED2(contains, p.warnings[0], "$.weight_prefetch_config.prefetch_ratio.attn.q");
  // The module was given, so qkv (left out) gets 0, not its default.
  EXPECT_EQ(p.config[RatioKey::kAttnQkv], 0.0);
  EXPECT_EQ(p.config[RatioKey::kAttnO], 0.25);
}

TEST(ParsePrefetchConfig, UnknownTopLevelKeyInTheInnerObject) {
  EXPECT_PRED2(contains, error_of([] { strict(R"({"weight_prefetch_config": {"enabled": true, "ratio": {}}})"); }),
               "$.weight_prefetch_config.ratio: unknown key");
  PrefetchConfigParse p = lenient(R"({"weight_prefetch_config": {"enabled": true, "ratio": {}}})");
  EXPECT_EQ(p.warnings.size(), 1u);
  EXPECT_TRUE(p.config.enabled);
}

// --- the forms of the argument ---

TEST(ParsePrefetchConfig, InnerObjectFormIsAccepted) {
  PrefetchConfigParse p = strict(R"({"enabled": true, "prefetch_ratio": {"moe": {"gate_up": 0.5}}})");
  EXPECT_TRUE(p.had_weight_prefetch_config);
  EXPECT_TRUE(p.config.enabled);
  EXPECT_EQ(p.config[RatioKey::kMoeGateUp], 0.5);
  // The modules not given keep their defaults.
  EXPECT_EQ(p.config[RatioKey::kAttnQkv], 1.0);
  EXPECT_EQ(p.config[RatioKey::kAttnO], 1.0);
  EXPECT_EQ(p.config[RatioKey::kMlpGateUp], 1.0);
  EXPECT_EQ(p.config[RatioKey::kMlpDown], 1.0);
}

TEST(ParsePrefetchConfig, OtherAdditionalConfigKeysAreNotJudged) {
  PrefetchConfigParse p =
      strict(R"({"torchair_graph_config": {"enabled": false}, "weight_prefetch_config": {"enabled": true}})");
  EXPECT_TRUE(p.config.enabled);
  EXPECT_TRUE(p.warnings.empty());
}

TEST(ParsePrefetchConfig, NoWeightPrefetchConfigLeavesPrefetchDisabledWithANote) {
  PrefetchConfigParse p = strict(R"({"torchair_graph_config": {}})");
  EXPECT_FALSE(p.config.enabled);
  EXPECT_FALSE(p.had_weight_prefetch_config);
  EXPECT_TRUE(any_contains(p.notes, "no \"weight_prefetch_config\"")) << joined(p.notes);
  PrefetchConfigParse empty = strict("{}");
  EXPECT_FALSE(empty.config.enabled);
  EXPECT_TRUE(empty.notes.empty());
}

TEST(ParsePrefetchConfig, MissingModuleFallsBackToDefaults) {
  PrefetchConfigParse p = strict(R"({"weight_prefetch_config": {"enabled": true, "prefetch_ratio": {"attn": {"qkv": 0.5, "o": 0.5}}}})");
  EXPECT_EQ(p.config[RatioKey::kAttnQkv], 0.5);
  EXPECT_EQ(p.config[RatioKey::kMoeGateUp], 0.8);
  EXPECT_EQ(p.config[RatioKey::kMlpGateUp], 1.0);
  EXPECT_EQ(p.config[RatioKey::kMlpDown], 1.0);
}

TEST(ParsePrefetchConfig, EmptyModuleFallsBackToDefaultsWithANote) {
  PrefetchConfigParse p = strict(R"({"weight_prefetch_config": {"enabled": true, "prefetch_ratio": {"mlp": {}, "attn": null}}})");
  expect_default_ratios(p.config);
  EXPECT_TRUE(any_contains(p.notes, "$.weight_prefetch_config.prefetch_ratio.mlp: empty object")) << joined(p.notes);
  EXPECT_TRUE(any_contains(p.notes, "$.weight_prefetch_config.prefetch_ratio.attn: null")) << joined(p.notes);
  PrefetchConfigParse none = strict(R"({"weight_prefetch_config": {"enabled": true, "prefetch_ratio": {}}})");
  expect_default_ratios(none.config);
  PrefetchConfigParse null_ratio = strict(R"({"weight_prefetch_config": {"enabled": true, "prefetch_ratio": null}})");
  expect_default_ratios(null_ratio.config);
}

TEST(ParsePrefetchConfig, ModuleWithOneKeyLeavesTheOtherAtZeroAndAddsANote) {
  PrefetchConfigParse p = strict(R"({"weight_prefetch_config": {"enabled": true, "prefetch_ratio": {"mlp": {"down": 0.5}}}})");
  EXPECT_EQ(p.config[RatioKey::kMlpDown], 0.5);
  EXPECT_EQ(p.config[RatioKey::kMlpGateUp], 0.0);
  EXPECT_TRUE(p.warnings.empty());
  ASSERT_EQ(p.notes.size(), 1u) << joined(p.notes);
  EXPECT_PRED2(contains, p.notes[0], "$.weight_prefetch_config.prefetch_ratio.mlp.gate_up: not given");
  EXPECT_PRED2(contains, p.notes[0], "ratio 0");
}

TEST(ParsePrefetchConfig, ModuleThatIsNotAnObjectIsAnError) {
  EXPECT_PRED2(contains, error_of([] { lenient(R"({"prefetch_ratio": {"mlp": 0.5}})"); }), "$.prefetch_ratio.mlp: expected an object");
  EXPECT_PRED2(contains, error_of([] { lenient(R"({"prefetch_ratio": [1]})"); }), "$.prefetch_ratio: expected an object of modules");
}

TEST(ParsePrefetchConfig, NonBooleanEnabledFollowsPythonTruthinessInLenientMode) {
  EXPECT_PRED2(contains, error_of([] { strict(R"({"enabled": 1})"); }), "$.enabled: expected true or false");
  EXPECT_TRUE(lenient(R"({"enabled": 1})").config.enabled);
  EXPECT_FALSE(lenient(R"({"enabled": 0})").config.enabled);
  // The string "false" is a non-empty string: Python reads it as true.
  PrefetchConfigParse p = lenient(R"({"enabled": "false"})");
  EXPECT_TRUE(p.config.enabled);
  ASSERT_EQ(p.warnings.size(), 1u);
  EXPECT_PRED2(contains, p.warnings[0], "reads it as true");
  EXPECT_FALSE(lenient(R"({"enabled": null})").config.enabled);
  EXPECT_FALSE(lenient(R"({"enabled": []})").config.enabled);
  EXPECT_TRUE(lenient(R"({"enabled": [0]})").config.enabled);
}

TEST(ParsePrefetchConfig, EmptyStringEnabledIsFalseInLenientMode) {
  PrefetchConfigParse p = lenient(R"({"enabled": ""})");
  EXPECT_FALSE(p.config.enabled);
  ASSERT_EQ(p.warnings.size(), 1u);
  EXPECT_PRED2(contains, p.warnings[0], "reads it as false");
}

TEST(ParsePrefetchConfig, EnabledFalseAddsANote) {
  PrefetchConfigParse p = strict(R"({"weight_prefetch_config": {"enabled": false}})");
  EXPECT_FALSE(p.config.enabled);
  EXPECT_TRUE(any_contains(p.notes, "no CMO task is issued")) << joined(p.notes);
}

TEST(ParsePrefetchConfig, BadJsonAndNonObjects) {
  EXPECT_PRED2(contains, error_of([] { strict(R"({"enabled": tru})"); }), "cfg: invalid JSON at line 1");
  EXPECT_EQ(error_of([] { strict("[1]"); }), "cfg: $: expected an object, got an array");
  EXPECT_PRED2(contains, error_of([] { strict(R"({"weight_prefetch_config": 3})"); }),
               "$.weight_prefetch_config: expected an object");
}

TEST(WeightPrefetchConfig, ToInnerJsonRoundTripsUnchanged) {
  WeightPrefetchConfig c;
  c.enabled = true;
  c[RatioKey::kAttnQkv] = 0.125;
  c[RatioKey::kAttnO] = 0.0;
  c[RatioKey::kMoeGateUp] = 0.333333;
  c[RatioKey::kMlpGateUp] = 1.0;
  c[RatioKey::kMlpDown] = 0.288001;
  PrefetchConfigParse inner = strict(c.to_inner_json().dump());
  PrefetchConfigParse whole = strict(c.to_additional_config());
  for (const auto* p : {&inner, &whole}) {
    EXPECT_EQ(p->config.enabled, c.enabled);
    EXPECT_EQ(p->config.ratio, c.ratio);  // bit-identical
    EXPECT_TRUE(p->warnings.empty());
    EXPECT_TRUE(p->notes.empty()) << joined(p->notes);  // every module written out in full
  }
  // Every module and linear is written out.
  const auto j = c.to_inner_json();
  EXPECT_EQ(j["prefetch_ratio"]["attn"].size(), 2u);
  EXPECT_EQ(j["prefetch_ratio"]["moe"].size(), 1u);
  EXPECT_EQ(j["prefetch_ratio"]["mlp"].size(), 2u);
  EXPECT_EQ(nlohmann::json::parse(c.to_additional_config())["weight_prefetch_config"], j);
}

TEST(WeightPrefetchConfig, ToInnerJsonRoundsToSixDecimalsStably) {
  WeightPrefetchConfig c = WeightPrefetchConfig::defaults_enabled();
  c[RatioKey::kMlpDown] = 1.0 / 3.0;
  PrefetchConfigParse once = strict(c.to_inner_json().dump());
  EXPECT_EQ(once.config[RatioKey::kMlpDown], 0.333333);
  PrefetchConfigParse twice = strict(once.config.to_inner_json().dump());
  EXPECT_EQ(twice.config.ratio, once.config.ratio);
}

TEST(LoadPrefetchConfig, ReadsInlineAndAtFile) {
  EXPECT_TRUE(load_prefetch_config(R"({"enabled": true})", false).config.enabled);
  const std::string dir = test::make_temp_dir();
  const std::string path = test::write_file(dir + "/cfg.json", R"({"weight_prefetch_config": {"enabled": true, "prefetch_ratio": {"moe": {"gate_up": 0.25}}}})");
  PrefetchConfigParse p = load_prefetch_config("@" + path, false);
  EXPECT_TRUE(p.config.enabled);
  EXPECT_EQ(p.config[RatioKey::kMoeGateUp], 0.25);
  // Errors in the file name the file, not "--additional-config".
  test::write_file(dir + "/bad.json", R"({"weight_prefetch_config": {"enable": true}})");
  EXPECT_PRED2(contains, error_of([&] { load_prefetch_config("@" + dir + "/bad.json", false); }),
               dir + "/bad.json: $.weight_prefetch_config.enable");
  EXPECT_PRED2(contains, error_of([&] { load_prefetch_config("@" + dir + "/missing.json", false); }), dir + "/missing.json");
  EXPECT_PRED2(contains, error_of([] { load_prefetch_config(R"({"enable": 1})", false); }), "--additional-config: $.enable");
  std::filesystem::remove_all(dir);
}

// --- legacy environment variables ---

TEST(ReadLegacyEnv, ReadsAssignments) {
  LegacyMlpEnv env = read_legacy_env({"VLLM_ASCEND_ENABLE_PREFETCH_MLP=1", "VLLM_ASCEND_MLP_GATE_UP_PREFETCH_SIZE=1000",
                                      "VLLM_ASCEND_MLP_DOWN_PREFETCH_SIZE=2048"},
                                     false);
  EXPECT_TRUE(env.enable_prefetch_mlp);
  EXPECT_EQ(env.gate_up_prefetch_bytes.value(), 1000);
  EXPECT_EQ(env.down_prefetch_bytes.value(), 2048);
  EXPECT_TRUE(env.any());
  LegacyMlpEnv off = read_legacy_env({"VLLM_ASCEND_ENABLE_PREFETCH_MLP=0"}, false);
  EXPECT_FALSE(off.enable_prefetch_mlp);
  EXPECT_FALSE(off.any());
  EXPECT_FALSE(read_legacy_env({}, false).any());
  // Sizes alone count as "given" even without the enable variable.
  LegacyMlpEnv sizes = read_legacy_env({"VLLM_ASCEND_MLP_DOWN_PREFETCH_SIZE=5"}, false);
  EXPECT_FALSE(sizes.enable_prefetch_mlp);
  EXPECT_TRUE(sizes.any());
  // A later assignment wins.
  EXPECT_EQ(read_legacy_env({"VLLM_ASCEND_MLP_DOWN_PREFETCH_SIZE=5", "VLLM_ASCEND_MLP_DOWN_PREFETCH_SIZE=7"}, false)
                .down_prefetch_bytes.value(),
            7);
}

TEST(ReadLegacyEnv, RefusesBadValues) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"VLLM_ASCEND_ENABLE_PREFETCH_MLP=2", "expected 0 or 1"},
      {"VLLM_ASCEND_ENABLE_PREFETCH_MLP=true", "expected 0 or 1"},
      {"VLLM_ASCEND_ENABLE_PREFETCH_MLP=", "expected 0 or 1"},
      {"VLLM_ASCEND_MLP_GATE_UP_PREFETCH_SIZE=0", "positive whole number"},
      {"VLLM_ASCEND_MLP_GATE_UP_PREFETCH_SIZE=-5", "positive whole number"},
      {"VLLM_ASCEND_MLP_GATE_UP_PREFETCH_SIZE=abc", "positive whole number"},
      {"VLLM_ASCEND_MLP_GATE_UP_PREFETCH_SIZE=12x", "positive whole number"},
      {"VLLM_ASCEND_MLP_GATE_UP_PREFETCH_SIZE=1.5", "positive whole number"},
      {"VLLM_ASCEND_MLP_DOWN_PREFETCH_SIZE=", "positive whole number"},
      {"VLLM_ASCEND_MLP_DOWN_PREFETCH_SIZE=1099511627777", "positive whole number"},  // 2^40 + 1
      {"VLLM_ASCEND_ENABLE_PREFETCH_MLP", "expected NAME=VALUE"},
      {"VLLM_ASCEND_PREFETCH_MLP=1", "unknown variable"},
  };
  for (const auto& [assignment, expected] : cases) {
    const std::string msg = error_of([&] { read_legacy_env({assignment}, false); });
    EXPECT_PRED2(contains, msg, expected) << assignment;
  }
  // The largest accepted size is 2^40.
  EXPECT_EQ(read_legacy_env({"VLLM_ASCEND_MLP_DOWN_PREFETCH_SIZE=1099511627776"}, false).down_prefetch_bytes.value(),
            1099511627776.0);
}

TEST(ReadLegacyEnv, ProcessEnvironmentOnlyWhenAsked) {
  ASSERT_EQ(setenv("VLLM_ASCEND_ENABLE_PREFETCH_MLP", "1", 1), 0);
  ASSERT_EQ(setenv("VLLM_ASCEND_MLP_DOWN_PREFETCH_SIZE", "4096", 1), 0);
  LegacyMlpEnv ignored = read_legacy_env({}, false);
  LegacyMlpEnv read = read_legacy_env({}, true);
  // An --env assignment overrides the process environment.
  LegacyMlpEnv overridden = read_legacy_env({"VLLM_ASCEND_MLP_DOWN_PREFETCH_SIZE=8"}, true);
  unsetenv("VLLM_ASCEND_ENABLE_PREFETCH_MLP");
  unsetenv("VLLM_ASCEND_MLP_DOWN_PREFETCH_SIZE");
  EXPECT_FALSE(ignored.any());
  EXPECT_TRUE(read.enable_prefetch_mlp);
  EXPECT_EQ(read.down_prefetch_bytes.value(), 4096);
  EXPECT_EQ(overridden.down_prefetch_bytes.value(), 8);
}

// Python's json keeps the last of a duplicated key without a word: strict mode refuses it, lenient
// mode warns; keys outside weight_prefetch_config are another feature's business.
TEST(ParsePrefetchConfig, DuplicateKeyIsAnErrorInStrictModeAndAWarningInLenientMode) {
  const std::string text = R"({"weight_prefetch_config": {"enabled": false, "enabled": true}})";
  EXPECT_PRED2(contains, error_of([&] { parse_prefetch_config(text, "c.json", false); }),
               "c.json: $.weight_prefetch_config.enabled: duplicate key");
  const PrefetchConfigParse lenient = parse_prefetch_config(text, "c.json", true);
  EXPECT_TRUE(lenient.config.enabled);  // the last value, as vllm-ascend reads it
  ASSERT_EQ(lenient.warnings.size(), 1u);
  EXPECT_PRED2(contains, lenient.warnings[0], "$.weight_prefetch_config.enabled: duplicate key");
  const PrefetchConfigParse other = parse_prefetch_config(
      R"({"weight_prefetch_config": {"enabled": true}, "ascend_scheduler_config": {"x": 1, "x": 2}})", "c.json", false);
  EXPECT_TRUE(other.config.enabled);
  EXPECT_TRUE(other.warnings.empty());
}

}  // namespace
}  // namespace pt
