#include "config/prefetch_config.h"

#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "test_support.h"

// One test per rule of docs/vllm-ascend-semantics.md, named after it; each cites the line of
// vllm-ascend it follows.
namespace pt {
namespace {

using test::contains;
using test::error_of;

const Release& v023() { return find_release("v0.23.0"); }
const Release& v018() { return find_release("v0.18.0"); }
const Release& v015() { return find_release("v0.15.0rc1"); }
const Release& v013() { return find_release("v0.13.0"); }

PrefetchConfigParse strict(const std::string& text, const Release& r = v023()) { return parse_prefetch_config(text, "cfg", false, r); }
PrefetchConfigParse lenient(const std::string& text, const Release& r = v023()) { return parse_prefetch_config(text, "cfg", true, r); }

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

KeySetting on(double ratio) { return KeySetting{true, ratio, std::nullopt}; }
const KeySetting kOff{};

// vllm-ascend's defaults: attn qkv 1.0, o 1.0; moe gate_up 0.8; mlp gate_up 1.0, down 1.0.
void expect_default_ratios(const WeightPrefetchConfig& c) {
  EXPECT_EQ(c[RatioKey::kAttnQkv], on(1.0));
  EXPECT_EQ(c[RatioKey::kAttnO], on(1.0));
  EXPECT_EQ(c[RatioKey::kMoeGateUp], on(0.8));
  EXPECT_EQ(c[RatioKey::kMlpGateUp], on(1.0));
  EXPECT_EQ(c[RatioKey::kMlpDown], on(1.0));
}

bool whole_tensor(const PrefetchConfigParse& p, RatioKey key) {
  for (const auto& [k, why] : p.whole_tensor_keys) {
    if (k == key) return true;
  }
  return false;
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
  EXPECT_EQ(module_keys(RatioKey::kAttnO), (std::vector<RatioKey>{RatioKey::kAttnQkv, RatioKey::kAttnO}));
  EXPECT_EQ(module_keys(RatioKey::kMoeGateUp), (std::vector<RatioKey>{RatioKey::kMoeGateUp}));
}

// v0.23.0:vllm_ascend/ascend_config.py:709 the class default dict; v0.13.0:vllm_ascend/ascend_config.py:280 has no "mlp".
TEST(Rule, EnabledAloneGivesTheReleasesDefaultModules) {
  expect_default_ratios(WeightPrefetchConfig::defaults_enabled(v023().semantics));
  const PrefetchConfigParse p = strict(R"({"weight_prefetch_config": {"enabled": true}})");
  EXPECT_TRUE(p.config.enabled);
  EXPECT_TRUE(p.had_weight_prefetch_config);
  expect_default_ratios(p.config);
  EXPECT_TRUE(p.warnings.empty());
  EXPECT_TRUE(p.notes.empty()) << joined(p.notes);
  const PrefetchConfigParse old = strict(R"({"enabled": true})", v013());
  EXPECT_EQ(old.config[RatioKey::kAttnQkv], on(1.0));
  EXPECT_EQ(old.config[RatioKey::kMoeGateUp], on(0.8));
  EXPECT_EQ(old.config[RatioKey::kMlpGateUp], kOff);  // the MLP path runs only from the legacy variables
  EXPECT_EQ(old.config[RatioKey::kMlpDown], kOff);
  EXPECT_EQ(WeightPrefetchConfig::defaults_enabled(v013().semantics), old.config);
  EXPECT_FALSE(WeightPrefetchConfig{}.enabled);
}

// v0.23.0:vllm_ascend/ops/weight_prefetch.py:34 enable = enable and any(prefetch_ratio.values()) > 0.
TEST(Rule, AModuleIsOnOnlyWhileOneOfItsRatiosIsNonZero) {
  const PrefetchConfigParse off = strict(R"({"enabled": true, "prefetch_ratio": {"attn": {"qkv": 0, "o": 0}}})");
  EXPECT_EQ(off.config[RatioKey::kAttnQkv], kOff);
  EXPECT_EQ(off.config[RatioKey::kAttnO], kOff);
  EXPECT_TRUE(any_contains(off.notes, "switches the attn module off")) << joined(off.notes);
  EXPECT_EQ(off.config[RatioKey::kMlpDown], on(1.0));  // the other modules fall back to their defaults
  const PrefetchConfigParse half = strict(R"({"enabled": true, "prefetch_ratio": {"attn": {"qkv": 0, "o": 0.5}}})");
  EXPECT_EQ(half.config[RatioKey::kAttnO], on(0.5));
  EXPECT_EQ(half.config[RatioKey::kAttnQkv], on(0.0));  // on, with max_size 0: the whole tensor
  EXPECT_TRUE(whole_tensor(half, RatioKey::kAttnQkv));
  EXPECT_FALSE(whole_tensor(half, RatioKey::kAttnO));
}

// v0.23.0:vllm_ascend/ops/weight_prefetch.py:78 prefetch_ratio.get(prefix, 0): a key left out of an
// enabled module prefetches int(0 * bytes) = 0, which maybe_npu_prefetch (:236) makes the whole tensor.
TEST(Rule, AKeyMissingFromAnEnabledModulePrefetchesTheWholeTensor) {
  const PrefetchConfigParse p = strict(R"({"weight_prefetch_config": {"enabled": true, "prefetch_ratio": {"mlp": {"down": 0.5}}}})");
  EXPECT_EQ(p.config[RatioKey::kMlpDown], on(0.5));
  EXPECT_EQ(p.config[RatioKey::kMlpGateUp], on(0.0));
  EXPECT_TRUE(whole_tensor(p, RatioKey::kMlpGateUp));
  EXPECT_TRUE(p.warnings.empty());
}

// v0.23.0:vllm_ascend/ops/weight_prefetch.py:27 drops ratios outside [0, 1]; the key is then missing.
TEST(Rule, ARatioOutsideZeroToOneIsDroppedAndItsKeyPrefetchesTheWholeTensor) {
  const std::string text = R"({"weight_prefetch_config": {"enabled": true, "prefetch_ratio": {"mlp": {"gate_up": 1.0, "down": 1.5}}}})";
  EXPECT_PRED2(contains, error_of([&] { strict(text); }),
               "cfg: $.weight_prefetch_config.prefetch_ratio.mlp.down: expected a number in [0, 1], got 1.5");
  const PrefetchConfigParse p = lenient(text);
  EXPECT_EQ(p.config[RatioKey::kMlpDown], on(0.0));
  EXPECT_TRUE(whole_tensor(p, RatioKey::kMlpDown));
  EXPECT_EQ(p.config[RatioKey::kMlpGateUp], on(1.0));
  ASSERT_EQ(p.warnings.size(), 1u);
  EXPECT_PRED2(contains, p.warnings[0], "whole tensor");
  // Negative too, and a module whose every ratio is dropped is off.
  const PrefetchConfigParse neg = lenient(R"({"enabled": true, "prefetch_ratio": {"attn": {"qkv": -0.1, "o": 2}}})");
  EXPECT_EQ(neg.config[RatioKey::kAttnQkv], kOff);
  EXPECT_EQ(neg.config[RatioKey::kAttnO], kOff);
}

// v0.23.0:vllm_ascend/ascend_config.py:52 additional_config.get("weight_prefetch_config", {}) then :719 .get on it.
TEST(Rule, ANullWeightPrefetchConfigFailsAtStartUpInBothModes) {
  for (auto* parse : {&strict, &lenient}) {
    const std::string msg = error_of([&] { (*parse)(R"({"weight_prefetch_config": null})", v023()); });
    EXPECT_PRED2(contains, msg, "cfg: $.weight_prefetch_config: expected an object, got null");
    EXPECT_PRED2(contains, msg, "fails at start-up");
  }
  EXPECT_PRED2(contains, error_of([] { strict(R"({"weight_prefetch_config": 3})"); }), "$.weight_prefetch_config: expected an object");
}

// v0.23.0:vllm_ascend/ops/weight_prefetch.py:53 weight_prefetch_config.prefetch_ratio.get("attn", {}) on None.
TEST(Rule, ANullPrefetchRatioFailsAtStartUpInBothModes) {
  for (const Release* r : {&v013(), &v023()}) {
    const std::string msg = error_of([&] { lenient(R"({"enabled": true, "prefetch_ratio": null})", *r); });
    EXPECT_PRED2(contains, msg, "$.prefetch_ratio: expected an object of modules");
    EXPECT_PRED2(contains, msg, "fails at start-up");
  }
  EXPECT_PRED2(contains, error_of([] { lenient(R"({"prefetch_ratio": [1]})"); }), "$.prefetch_ratio: expected an object of modules");
}

// v0.13.0:vllm_ascend/ops/weight_prefetch.py:26 iterates prefetch_ratio.items() of what .get("attn", {})
// returned: None fails. v0.15.0rc1:vllm_ascend/ops/weight_prefetch.py:55 adds `or {defaults}`.
TEST(Rule, ANullModuleFailsBeforeV015AndFallsBackToDefaultsFrom) {
  const std::string text = R"({"enabled": true, "prefetch_ratio": {"attn": null}})";
  EXPECT_PRED2(contains, error_of([&] { lenient(text, v013()); }), "$.prefetch_ratio.attn: expected an object");
  EXPECT_PRED2(contains, error_of([&] { lenient(text, v013()); }), "fails at start-up");
  for (const Release* r : {&v015(), &v018(), &v023()}) {
    const PrefetchConfigParse p = strict(text, *r);
    EXPECT_EQ(p.config[RatioKey::kAttnQkv], on(1.0)) << r->tag;
    EXPECT_TRUE(any_contains(p.notes, "$.prefetch_ratio.attn: null")) << joined(p.notes);
  }
}

// Same lines: an empty or missing module is off before v0.15 and takes the defaults from v0.15.
TEST(Rule, AMissingOrEmptyModuleIsOffBeforeV015AndDefaultedFrom) {
  const std::string text = R"({"enabled": true, "prefetch_ratio": {"attn": {}}})";
  const PrefetchConfigParse old = strict(text, v013());
  EXPECT_EQ(old.config[RatioKey::kAttnQkv], kOff);
  EXPECT_EQ(old.config[RatioKey::kMoeGateUp], kOff);  // moe not given: off, no fallback
  EXPECT_TRUE(any_contains(old.notes, "no fallback")) << joined(old.notes);
  const PrefetchConfigParse now = strict(text, v023());
  expect_default_ratios(now.config);
  EXPECT_TRUE(any_contains(now.notes, "$.prefetch_ratio.attn: empty")) << joined(now.notes);
  expect_default_ratios(strict(R"({"enabled": true, "prefetch_ratio": {}})").config);
}

// v0.13.0:vllm_ascend/ops/weight_prefetch.py:42 builds only attn and moe; the mlp key is never read.
TEST(Rule, TheMlpModuleDoesNotExistBeforeV015) {
  const std::string text = R"({"enabled": true, "prefetch_ratio": {"mlp": {"gate_up": 0.5, "down": 0.5}}})";
  const std::string msg = error_of([&] { strict(text, v013()); });
  EXPECT_PRED2(contains, msg, "$.prefetch_ratio.mlp: vllm-ascend v0.13.0 has no \"mlp\" module");
  EXPECT_PRED2(contains, msg, "VLLM_ASCEND_ENABLE_PREFETCH_MLP");
  const PrefetchConfigParse p = lenient(text, v013());
  EXPECT_EQ(p.config[RatioKey::kMlpGateUp], kOff);
  EXPECT_EQ(p.warnings.size(), 1u);
  EXPECT_EQ(strict(text, v015()).config[RatioKey::kMlpGateUp], on(0.5));
}

// v0.23.0:vllm_ascend/ops/weight_prefetch.py:27 `0 <= ratio <= 1` on a str raises TypeError.
TEST(Rule, ARatioThatIsNotANumberFailsAtStartUpInBothModes) {
  for (const char* v : {"\"0.5\"", "null", "[0.5]", "{}"}) {
    const std::string text = fmt::format(R"({{"prefetch_ratio": {{"attn": {{"qkv": {}}}}}}})", v);
    for (auto* parse : {&strict, &lenient}) {
      const std::string msg = error_of([&] { (*parse)(text, v023()); });
      EXPECT_PRED2(contains, msg, "$.prefetch_ratio.attn.qkv: expected a number in [0, 1]") << v;
      EXPECT_PRED2(contains, msg, "fails at start-up") << v;
    }
  }
}

// Python: 0 <= True <= 1 holds, so True reads as 1 and False as 0.
TEST(ParsePrefetchConfig, BooleanRatioReadsAsZeroOrOneInLenientMode) {
  EXPECT_PRED2(contains, error_of([] { strict(R"({"prefetch_ratio": {"mlp": {"gate_up": true, "down": 1}}})"); }),
               "$.prefetch_ratio.mlp.gate_up");
  const PrefetchConfigParse p = lenient(R"({"enabled": true, "prefetch_ratio": {"mlp": {"gate_up": true, "down": false}}})");
  EXPECT_EQ(p.config[RatioKey::kMlpGateUp], on(1.0));
  EXPECT_EQ(p.config[RatioKey::kMlpDown], on(0.0));
  EXPECT_EQ(p.warnings.size(), 2u);
}

TEST(ParsePrefetchConfig, EnableTypoIsAnErrorInStrictModeAndAWarningInLenient) {
  const std::string msg = error_of([] { strict(R"({"weight_prefetch_config": {"enable": true}})"); });
  EXPECT_PRED2(contains, msg, "cfg: $.weight_prefetch_config.enable:");
  EXPECT_PRED2(contains, msg, "did you mean \"enabled\"");
  EXPECT_PRED2(contains, msg, "--lenient");
  const PrefetchConfigParse p = lenient(R"({"weight_prefetch_config": {"enable": true}})");
  EXPECT_FALSE(p.config.enabled);
  ASSERT_EQ(p.warnings.size(), 1u);
  EXPECT_PRED2(contains, p.warnings[0], "prefetch stays disabled");
}

TEST(ParsePrefetchConfig, UnknownModuleIsAnErrorInStrictModeAndChangesNothingInLenient) {
  const std::string text = R"({"weight_prefetch_config": {"enabled": true, "prefetch_ratio": {"ffn": {"up": 0.5}}}})";
  EXPECT_PRED2(contains, error_of([&] { strict(text); }), "cfg: $.weight_prefetch_config.prefetch_ratio.ffn: unknown module");
  const PrefetchConfigParse p = lenient(text);
  ASSERT_EQ(p.warnings.size(), 1u);
  EXPECT_TRUE(p.config.enabled);
  expect_default_ratios(p.config);
}

// An unknown linear stays in the module's dict: its ratio counts toward any(...).
TEST(Rule, AnUnknownLinearsNonZeroRatioKeepsItsModuleOn) {
  const std::string text = R"({"weight_prefetch_config": {"enabled": true, "prefetch_ratio": {"attn": {"q": 0.5}}}})";
  const std::string msg = error_of([&] { strict(text); });
  EXPECT_PRED2(contains, msg, "cfg: $.weight_prefetch_config.prefetch_ratio.attn.q: unknown linear");
  EXPECT_PRED2(contains, msg, "\"qkv\", \"o\"");
  const PrefetchConfigParse p = lenient(text);
  ASSERT_EQ(p.warnings.size(), 1u);
  EXPECT_PRED2(contains, p.warnings[0], "keeps the module enabled");
  EXPECT_EQ(p.config[RatioKey::kAttnQkv], on(0.0));
  EXPECT_EQ(p.config[RatioKey::kAttnO], on(0.0));
  EXPECT_TRUE(whole_tensor(p, RatioKey::kAttnQkv));
  EXPECT_TRUE(whole_tensor(p, RatioKey::kAttnO));
}

// Found by prefetch_config_fuzz: a module kept on only by an unknown linear, its known ratios 0,
// was written back with its ratios 0 alone, which vllm-ascend reads as the module off. The
// config written must keep it on the same way, and so reads back only in lenient mode.
TEST(WeightPrefetchConfig, AModuleOnWithEveryRatioZeroIsWrittenWithAKeepOnName) {
  const std::string text =
      R"({"enabled": true, "prefetch_ratio": {"attn": {"qkv": 0.5, "o": 1}, "moe": {"gate_up": 0.8}, "mlp": {"gate_1up": 1.0, "down": 0}}})";
  const PrefetchConfigParse p = lenient(text);
  EXPECT_EQ(p.config[RatioKey::kMlpGateUp], on(0.0));
  EXPECT_EQ(p.config[RatioKey::kMlpDown], on(0.0));
  const nlohmann::json j = p.config.to_inner_json(v023().semantics);
  EXPECT_EQ(j["prefetch_ratio"]["mlp"], (nlohmann::json{{"gate_up", 0.0}, {"down", 0.0}, {kKeepModuleOnName, 1.0}}));
  EXPECT_EQ(j["prefetch_ratio"]["attn"].size(), 2u);  // a module with a non-zero ratio needs no name
  EXPECT_EQ(lenient(j.dump()).config, p.config);
  EXPECT_PRED2(contains, error_of([&] { strict(j.dump()); }), "prefetch_ratio.mlp.keep_module_on: unknown linear");
}

TEST(ParsePrefetchConfig, UnknownTopLevelKeyInTheInnerObject) {
  EXPECT_PRED2(contains, error_of([] { strict(R"({"weight_prefetch_config": {"enabled": true, "ratio": {}}})"); }),
               "$.weight_prefetch_config.ratio: unknown key");
  const PrefetchConfigParse p = lenient(R"({"weight_prefetch_config": {"enabled": true, "ratio": {}}})");
  EXPECT_EQ(p.warnings.size(), 1u);
  EXPECT_TRUE(p.config.enabled);
}

TEST(ParsePrefetchConfig, InnerObjectFormIsAccepted) {
  const PrefetchConfigParse p = strict(R"({"enabled": true, "prefetch_ratio": {"moe": {"gate_up": 0.5}}})");
  EXPECT_TRUE(p.had_weight_prefetch_config);
  EXPECT_EQ(p.config[RatioKey::kMoeGateUp], on(0.5));
  EXPECT_EQ(p.config[RatioKey::kAttnQkv], on(1.0));  // the modules not given keep their defaults (v0.15+)
  EXPECT_EQ(p.config[RatioKey::kMlpDown], on(1.0));
}

TEST(ParsePrefetchConfig, OtherAdditionalConfigKeysAreNotJudged) {
  const PrefetchConfigParse p =
      strict(R"({"torchair_graph_config": {"enabled": false}, "weight_prefetch_config": {"enabled": true}})");
  EXPECT_TRUE(p.config.enabled);
  EXPECT_TRUE(p.warnings.empty());
}

TEST(ParsePrefetchConfig, NoWeightPrefetchConfigLeavesPrefetchDisabledWithANote) {
  const PrefetchConfigParse p = strict(R"({"torchair_graph_config": {}})");
  EXPECT_FALSE(p.config.enabled);
  EXPECT_FALSE(p.had_weight_prefetch_config);
  EXPECT_TRUE(any_contains(p.notes, "no \"weight_prefetch_config\"")) << joined(p.notes);
  EXPECT_EQ(strict("{}").config, WeightPrefetchConfig::disabled());
}

TEST(ParsePrefetchConfig, EnabledFalseTurnsEveryModuleOff) {
  const PrefetchConfigParse p = strict(R"({"weight_prefetch_config": {"enabled": false}})");
  EXPECT_EQ(p.config, WeightPrefetchConfig::disabled());
  EXPECT_TRUE(any_contains(p.notes, "no CMO task is issued")) << joined(p.notes);
}

TEST(ParsePrefetchConfig, NonBooleanEnabledFollowsPythonTruthinessInLenientMode) {
  EXPECT_PRED2(contains, error_of([] { strict(R"({"enabled": 1})"); }), "$.enabled: expected true or false");
  EXPECT_TRUE(lenient(R"({"enabled": 1})").config.enabled);
  EXPECT_FALSE(lenient(R"({"enabled": 0})").config.enabled);
  const PrefetchConfigParse p = lenient(R"({"enabled": "false"})");  // a non-empty string
  EXPECT_TRUE(p.config.enabled);
  EXPECT_PRED2(contains, p.warnings.at(0), "reads it as true");
  EXPECT_FALSE(lenient(R"({"enabled": ""})").config.enabled);
  EXPECT_FALSE(lenient(R"({"enabled": null})").config.enabled);
  EXPECT_FALSE(lenient(R"({"enabled": []})").config.enabled);
  EXPECT_TRUE(lenient(R"({"enabled": [0]})").config.enabled);
}

TEST(ParsePrefetchConfig, BadJsonAndNonObjects) {
  EXPECT_PRED2(contains, error_of([] { strict(R"({"enabled": tru})"); }), "cfg: invalid JSON at line 1");
  EXPECT_EQ(error_of([] { strict("[1]"); }), "cfg: $: expected an object, got an array");
}

// What tune-ratio writes reads back bit for bit, on the release it was written for.
TEST(WeightPrefetchConfig, ToInnerJsonRoundTripsExactly) {
  WeightPrefetchConfig c;
  c.enabled = true;
  c[RatioKey::kAttnQkv] = on(0.125);
  c[RatioKey::kAttnO] = on(5.9604644775390625e-08);  // a smallest-issuing ratio, not on any decimal grid
  c[RatioKey::kMoeGateUp] = on(1.0 / 3.0);
  c[RatioKey::kMlpGateUp] = on(1.0);
  c[RatioKey::kMlpDown] = on(0.288001);
  const PrefetchConfigParse inner = strict(c.to_inner_json(v023().semantics).dump());
  const PrefetchConfigParse whole = strict(c.to_additional_config(v023().semantics));
  for (const auto* p : {&inner, &whole}) {
    EXPECT_EQ(p->config, c);
    EXPECT_TRUE(p->warnings.empty());
    EXPECT_TRUE(p->notes.empty()) << joined(p->notes);  // every module written out in full
  }
  const auto j = c.to_inner_json(v023().semantics);
  EXPECT_EQ(j["prefetch_ratio"]["attn"].size(), 2u);
  EXPECT_EQ(j["prefetch_ratio"]["mlp"].size(), 2u);
  // A module that is off is written with all its ratios 0, and reads back off.
  WeightPrefetchConfig mlp_off = c;
  mlp_off[RatioKey::kMlpGateUp] = kOff;
  mlp_off[RatioKey::kMlpDown] = kOff;
  const auto jo = mlp_off.to_inner_json(v023().semantics);
  EXPECT_EQ(jo["prefetch_ratio"]["mlp"]["gate_up"], 0.0);
  EXPECT_EQ(strict(jo.dump()).config, mlp_off);
  // Before v0.15 there is no mlp module to write.
  EXPECT_FALSE(c.to_inner_json(v013().semantics)["prefetch_ratio"].contains("mlp"));
}

TEST(LoadPrefetchConfig, ReadsInlineAndAtFile) {
  EXPECT_TRUE(load_prefetch_config(R"({"enabled": true})", false, v023()).config.enabled);
  const std::string dir = test::make_temp_dir();
  const std::string path = test::write_file(dir + "/cfg.json", R"({"weight_prefetch_config": {"enabled": true, "prefetch_ratio": {"moe": {"gate_up": 0.25}}}})");
  PrefetchConfigParse p = load_prefetch_config("@" + path, false, v023());
  EXPECT_TRUE(p.config.enabled);
  EXPECT_EQ(p.config[RatioKey::kMoeGateUp], on(0.25));
  // Errors in the file name the file, not "--additional-config".
  test::write_file(dir + "/bad.json", R"({"weight_prefetch_config": {"enable": true}})");
  EXPECT_PRED2(contains, error_of([&] { load_prefetch_config("@" + dir + "/bad.json", false, v023()); }),
               dir + "/bad.json: $.weight_prefetch_config.enable");
  EXPECT_PRED2(contains, error_of([&] { load_prefetch_config("@" + dir + "/missing.json", false, v023()); }), dir + "/missing.json");
  EXPECT_PRED2(contains, error_of([] { load_prefetch_config(R"({"enable": 1})", false, v023()); }), "--additional-config: $.enable");
  std::filesystem::remove_all(dir);
}

// --- legacy environment variables ---

TEST(ReadLegacyEnv, ReadsAssignments) {
  LegacyMlpVariables env = read_legacy_env({"VLLM_ASCEND_ENABLE_PREFETCH_MLP=1", "VLLM_ASCEND_MLP_GATE_UP_PREFETCH_SIZE=1000",
                                            "VLLM_ASCEND_MLP_DOWN_PREFETCH_SIZE=2048"},
                                           false);
  EXPECT_EQ(env.enable.value(), "1");
  EXPECT_EQ(env.gate_up_bytes.value(), 1000);
  EXPECT_EQ(env.down_bytes.value(), 2048);
  EXPECT_TRUE(env.any());
  EXPECT_FALSE(read_legacy_env({}, false).any());
  // A later assignment wins.
  EXPECT_EQ(read_legacy_env({"VLLM_ASCEND_MLP_DOWN_PREFETCH_SIZE=5", "VLLM_ASCEND_MLP_DOWN_PREFETCH_SIZE=7"}, false)
                .down_bytes.value(),
            7);
}

TEST(ReadLegacyEnv, RefusesBadValues) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"VLLM_ASCEND_MLP_GATE_UP_PREFETCH_SIZE=-1099511627777", "whole number of bytes"},
      {"VLLM_ASCEND_MLP_GATE_UP_PREFETCH_SIZE=abc", "whole number of bytes"},
      {"VLLM_ASCEND_MLP_GATE_UP_PREFETCH_SIZE=12x", "whole number of bytes"},
      {"VLLM_ASCEND_MLP_GATE_UP_PREFETCH_SIZE=1.5", "whole number of bytes"},
      {"VLLM_ASCEND_MLP_DOWN_PREFETCH_SIZE=", "whole number of bytes"},
      {"VLLM_ASCEND_MLP_DOWN_PREFETCH_SIZE=1099511627777", "whole number of bytes"},  // 2^40 + 1
      {"VLLM_ASCEND_ENABLE_PREFETCH_MLP", "expected NAME=VALUE"},
      {"VLLM_ASCEND_PREFETCH_MLP=1", "unknown variable"},
  };
  for (const auto& c : cases) {
    const std::string& assignment = c.first;  // not a binding: clang 14 cannot capture one
    EXPECT_PRED2(contains, error_of([&] { read_legacy_env({assignment}, false); }), c.second) << assignment;
  }
}

TEST(ReadLegacyEnv, ProcessEnvironmentOnlyWhenAsked) {
  ASSERT_EQ(setenv("VLLM_ASCEND_ENABLE_PREFETCH_MLP", "1", 1), 0);
  ASSERT_EQ(setenv("VLLM_ASCEND_MLP_DOWN_PREFETCH_SIZE", "4096", 1), 0);
  const LegacyMlpVariables ignored = read_legacy_env({}, false);
  const LegacyMlpVariables read = read_legacy_env({}, true);
  const LegacyMlpVariables overridden = read_legacy_env({"VLLM_ASCEND_MLP_DOWN_PREFETCH_SIZE=8"}, true);
  unsetenv("VLLM_ASCEND_ENABLE_PREFETCH_MLP");
  unsetenv("VLLM_ASCEND_MLP_DOWN_PREFETCH_SIZE");
  EXPECT_FALSE(ignored.any());
  EXPECT_EQ(read.enable.value(), "1");
  EXPECT_EQ(read.down_bytes.value(), 4096);
  EXPECT_EQ(overridden.down_bytes.value(), 8);
}

WeightPrefetchConfig with_env(const std::vector<std::string>& env, const Release& r, const char* config = R"({"enabled": true})",
                              std::vector<std::string>* notes = nullptr) {
  WeightPrefetchConfig c = strict(config, r).config;
  auto n = apply_legacy_env(read_legacy_env(env, false), r, c);
  if (notes) *notes = n;
  return c;
}

// v0.13.0:vllm_ascend/envs.py:104 bool(int(...)); v0.13.0:vllm_ascend/ops/register_custom_ops.py:136 passes
// the size straight to torch_npu.npu_prefetch: no 18 MiB cap on this path.
TEST(Rule, BeforeV015TheMlpPathRunsOnlyFromTheLegacyVariablesUncapped) {
  const WeightPrefetchConfig c = with_env({"VLLM_ASCEND_ENABLE_PREFETCH_MLP=1", "VLLM_ASCEND_MLP_DOWN_PREFETCH_SIZE=40000000"}, v013());
  EXPECT_TRUE(c[RatioKey::kMlpDown].on);
  EXPECT_EQ(c[RatioKey::kMlpDown].legacy_bytes.value(), 40000000.0);
  EXPECT_EQ(c[RatioKey::kMlpGateUp].legacy_bytes.value(), 18.0 * 1024 * 1024);  // envs.py default
  EXPECT_FALSE(find_release("v0.14.0rc1").semantics.mlp_capped);
  EXPECT_EQ(c.legacy_env(v013().semantics),
            (std::vector<std::string>{"VLLM_ASCEND_ENABLE_PREFETCH_MLP=1", "VLLM_ASCEND_MLP_GATE_UP_PREFETCH_SIZE=18874368",
                                      "VLLM_ASCEND_MLP_DOWN_PREFETCH_SIZE=40000000"}));
  // "2" is True for bool(int(...)); "true" fails int().
  EXPECT_TRUE(with_env({"VLLM_ASCEND_ENABLE_PREFETCH_MLP=2"}, v013())[RatioKey::kMlpDown].on);
  EXPECT_PRED2(contains, error_of([] { with_env({"VLLM_ASCEND_ENABLE_PREFETCH_MLP=true"}, v013()); }), "reads it with int()");
  EXPECT_PRED2(contains, error_of([] { with_env({"VLLM_ASCEND_ENABLE_PREFETCH_MLP=1", "VLLM_ASCEND_MLP_DOWN_PREFETCH_SIZE=0"}, v013()); }),
               "max_size > 0");
  EXPECT_FALSE(with_env({"VLLM_ASCEND_MLP_DOWN_PREFETCH_SIZE=5"}, v013())[RatioKey::kMlpDown].on);
}

// v0.15.0rc1:vllm_ascend/ascend_config.py:145 os.getenv(...) == "1" sets the compatible sizes, which
// v0.15.0rc1:vllm_ascend/ops/weight_prefetch.py:116 lets through even when the mlp module is off, and :156 caps.
TEST(Rule, FromV015ToV017TheLegacyVariablesOverrideTheMlpSizesAndTurnItOn) {
  for (const char* tag : {"v0.15.0rc1", "v0.16.0rc1", "v0.17.0rc1"}) {
    const Release& r = find_release(tag);
    EXPECT_TRUE(r.semantics.mlp_capped);
    std::vector<std::string> notes;
    const WeightPrefetchConfig c =
        with_env({"VLLM_ASCEND_ENABLE_PREFETCH_MLP=1", "VLLM_ASCEND_MLP_GATE_UP_PREFETCH_SIZE=1000"}, r, R"({"enabled": false})", &notes);
    EXPECT_TRUE(c[RatioKey::kMlpGateUp].on) << tag;
    EXPECT_EQ(c[RatioKey::kMlpGateUp].legacy_bytes.value(), 1000.0);
    EXPECT_FALSE(c[RatioKey::kAttnQkv].on);  // only the MLP path
    EXPECT_TRUE(any_contains(notes, "even if \"enabled\" is false")) << joined(notes);
    // Anything but the string "1" is ignored.
    EXPECT_FALSE(with_env({"VLLM_ASCEND_ENABLE_PREFETCH_MLP=2"}, r, R"({"enabled": false})")[RatioKey::kMlpGateUp].on);
  }
}

// v0.18.0rc1:vllm_ascend/ascend_config.py has no legacy handling (PR #7357).
TEST(Rule, FromV018TheLegacyVariablesAreIgnored) {
  std::vector<std::string> notes;
  const WeightPrefetchConfig c = with_env({"VLLM_ASCEND_ENABLE_PREFETCH_MLP=1"}, v018(), R"({"enabled": false})", &notes);
  EXPECT_EQ(c, WeightPrefetchConfig::disabled());
  EXPECT_TRUE(any_contains(notes, "no longer reads")) << joined(notes);
}

// Python's json keeps the last of a duplicated key without a word: strict mode refuses it, lenient
// mode warns; keys outside weight_prefetch_config are another feature's business.
TEST(ParsePrefetchConfig, DuplicateKeyIsAnErrorInStrictModeAndAWarningInLenientMode) {
  const std::string text = R"({"weight_prefetch_config": {"enabled": false, "enabled": true}})";
  EXPECT_PRED2(contains, error_of([&] { parse_prefetch_config(text, "c.json", false, v023()); }),
               "c.json: $.weight_prefetch_config.enabled: duplicate key");
  const PrefetchConfigParse lenient = parse_prefetch_config(text, "c.json", true, v023());
  EXPECT_TRUE(lenient.config.enabled);  // the last value, as vllm-ascend reads it
  ASSERT_EQ(lenient.warnings.size(), 1u);
  EXPECT_PRED2(contains, lenient.warnings[0], "$.weight_prefetch_config.enabled: duplicate key");
  const PrefetchConfigParse other = parse_prefetch_config(
      R"({"weight_prefetch_config": {"enabled": true}, "ascend_scheduler_config": {"x": 1, "x": 2}})", "c.json", false, v023());
  EXPECT_TRUE(other.config.enabled);
  EXPECT_TRUE(other.warnings.empty());
}

}  // namespace
}  // namespace pt
