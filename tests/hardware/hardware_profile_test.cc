#include "hardware/hardware_profile.h"

#include <filesystem>
#include <functional>
#include <string>

#include <algorithm>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "test_support.h"
#include "util/embedded_files.h"

namespace pt {
namespace {

using test::contains;
using test::error_of;

std::string round_with(const std::function<void(nlohmann::json&)>& edit) {
  auto j = nlohmann::json::parse(test::round_hardware_json());
  edit(j);
  return j.dump(2);
}

TEST(HardwareProfile, ParameterNamesInSchemaOrder) {
  const auto& names = hardware_parameter_names();
  ASSERT_EQ(names.size(), 24u);
  EXPECT_EQ(names.front(), "cube_TFLOPS_bf16");
  EXPECT_EQ(names.back(), "hbm_capacity_bytes");  // the optional one comes last
  // The caps are vllm-ascend's, not the hardware's: they live in vllm_ascend/release.h.
  EXPECT_EQ(std::count(names.begin(), names.end(), "prefetch_cap_bytes"), 0);
}

TEST(HardwareProfile, EveryBundledProfileLoadsWithASourceForEveryParameter) {
  const auto names = bundled_hardware_names();
  EXPECT_EQ(names, (std::vector<std::string>{"910B1", "910B2", "910B3", "910B4", "a3-die"}));
  const auto base = nlohmann::json::parse(std::string(*find_embedded("hardware/910B1.json")));
  for (const auto& name : names) {
    SCOPED_TRACE(name);
    HardwareProfile hw = load_hardware(name);
    EXPECT_EQ(hw.name, name);
    EXPECT_TRUE(hw.family == "A2" || hw.family == "A3") << hw.family;
    EXPECT_FALSE(hw.description.empty());
    const auto json = nlohmann::json::parse(std::string(*find_embedded("hardware/" + name + ".json")));
    for (const auto& p : hardware_parameter_names()) {
      // A variant gives its deltas; the rest, source included, is its parent's (910B1).
      const nlohmann::json own = json["parameters"].contains(p)   ? json["parameters"][p]
                                 : base["parameters"].contains(p) ? base["parameters"][p]
                                                                  : nlohmann::json();
      if (own.is_null()) {
        EXPECT_TRUE(hardware_parameter_optional(p)) << p;
        continue;
      }
      ASSERT_EQ(hw.provenance.count(p), 1u) << p;
      EXPECT_FALSE(hw.provenance.at(p).source.empty()) << p;
      EXPECT_EQ(hw.provenance.at(p).source, own["source"].get<std::string>()) << p;
      EXPECT_EQ(hw.get(p), own["value"].get<double>()) << p;  // get() reads the right member
      // Every estimate has a plausible range and its reason; nothing else has one.
      const auto& prov = hw.provenance.at(p);
      EXPECT_EQ(prov.range.has_value(), prov.estimate) << p;
      if (prov.range) {
        EXPECT_LE(prov.range->first, hw.get(p)) << p;
        EXPECT_GE(prov.range->second, hw.get(p)) << p;
        EXPECT_FALSE(prov.range_reason.empty()) << p;
      }
      // Citations point at upstream sources or at this repository, never at notes outside it.
      EXPECT_EQ(prov.source.find("ascend-hardware-and-profile-formats"), std::string::npos) << p;
      EXPECT_EQ(prov.source.find("peer-tools-and-style"), std::string::npos) << p;
    }
    EXPECT_GT(hw.hbm_GBps, 0);
    EXPECT_LE(hw.cmo_GBps, hw.hbm_GBps);
    EXPECT_LT(hw.matmul_stream_efficiency, 1.0);  // a matmul alone does not reach the peak
  }
}

TEST(HardwareProfile, AVariantIsItsParentPlusDeltas) {
  const std::string dir = test::make_temp_dir();
  test::write_file(dir + "/base.json", test::round_hardware_json());
  const std::string child = test::write_file(dir + "/child.json", R"({"schema": "prefetch-tuner/hardware/1", "name": "child",
    "extends": "base.json", "parameters": {"cmo_GBps": {"value": 250, "source": "delta"}}})");
  HardwareProfile hw = load_hardware(child);
  EXPECT_EQ(hw.name, "child");
  EXPECT_EQ(hw.family, "A3");  // inherited
  EXPECT_EQ(hw.cmo_GBps, 250);
  EXPECT_EQ(hw.provenance.at("cmo_GBps").source, "delta");
  EXPECT_EQ(hw.hbm_GBps, 1000);
  EXPECT_EQ(hw.provenance.at("hbm_GBps").source, "test");
  // A bundled parent, by name.
  const std::string on_bundled = test::write_file(dir + "/b.json", R"({"name": "fast-a3", "extends": "a3-die",
    "parameters": {"hbm_GBps": {"value": 1800, "source": "mine"}}})");
  EXPECT_EQ(load_hardware(on_bundled).hbm_GBps, 1800);
  EXPECT_EQ(load_hardware(on_bundled).l2_size_bytes, 201326592);
  // A cycle is refused, not followed forever.
  const std::string loop = test::write_file(dir + "/loop.json", R"({"name": "loop", "extends": "loop.json", "parameters": {}})");
  EXPECT_PRED2(contains, error_of([&] { load_hardware(loop); }), "more than 8 levels of \"extends\"");
  std::filesystem::remove_all(dir);
}

TEST(HardwareProfile, CurvesParseAndShapeTheModel) {
  HardwareProfile hw = parse_hardware_profile(round_with([](nlohmann::json& j) {
    j["parameters"]["l2_saving_curve"] = {{"points", {{0, 0}, {0.25, 0.5}, {1, 1}}}, {"source", "fit"}, {"estimate", true}};
    j["parameters"]["cmo_GBps_by_bytes"] = {{"points", {{0, 100}, {1e6, 300}}}, {"source", "fit"}};
  }), "h");
  EXPECT_DOUBLE_EQ(hw.l2_saving_fraction(0.125), 0.25);
  EXPECT_DOUBLE_EQ(hw.l2_saving_fraction(0.625), 0.75);
  EXPECT_DOUBLE_EQ(hw.cmo_rate_GBps(5e5), 200);
  EXPECT_DOUBLE_EQ(hw.cmo_rate_GBps(1e9), 300);  // flat past the last point
  // Linear and constant when absent.
  HardwareProfile plain = parse_hardware_profile(test::round_hardware_json(), "h");
  EXPECT_DOUBLE_EQ(plain.l2_saving_fraction(0.3), 0.3);
  EXPECT_DOUBLE_EQ(plain.cmo_rate_GBps(1), 500);
  EXPECT_PRED2(contains, error_of([] {
                 parse_hardware_profile(round_with([](nlohmann::json& j) {
                   j["parameters"]["l2_saving_curve"] = {{"points", {{0, 0.1}, {1, 1}}}, {"source", "x"}};
                 }), "h");
               }),
               "h: $.parameters.l2_saving_curve.points[0]: the curve starts at [0, 0]");
  EXPECT_PRED2(contains, error_of([] {
                 parse_hardware_profile(round_with([](nlohmann::json& j) {
                   j["parameters"]["l2_saving_curve"] = {{"points", {{0, 0}, {0.5, 1}, {0.5, 1}}}, {"source", "x"}};
                 }), "h");
               }),
               "does not increase");
}

TEST(HardwareProfile, RangesBelongToEstimatesAndContainTheValue) {
  EXPECT_PRED2(contains, error_of([] {
                 parse_hardware_profile(round_with([](nlohmann::json& j) {
                   j["parameters"]["cmo_GBps"] = {{"value", 500}, {"source", "x"}, {"estimate", true}, {"range", {600, 900}}, {"range_reason", "r"}};
                 }), "h");
               }),
               "h: $.parameters.cmo_GBps.range: the value 500 lies outside [600, 900]");
  EXPECT_PRED2(contains, error_of([] {
                 parse_hardware_profile(round_with([](nlohmann::json& j) {
                   j["parameters"]["cmo_GBps"] = {{"value", 500}, {"source", "x"}, {"estimate", true}, {"range", {400, 900}}};
                 }), "h");
               }),
               "h: $.parameters.cmo_GBps.range_reason: missing required key");
  HardwareProfile hw = parse_hardware_profile(round_with([](nlohmann::json& j) {
    j["parameters"]["cmo_GBps"] = {{"value", 500}, {"source", "x"}, {"estimate", true}, {"range", {400, 900}}, {"range_reason", "r"}};
  }), "h");
  EXPECT_EQ(hw.provenance.at("cmo_GBps").range, std::make_pair(400.0, 900.0));
}

TEST(HardwareProfile, A3DieValues) {
  HardwareProfile hw = load_hardware("A3-DIE");  // bundled names are case-insensitive
  EXPECT_EQ(hw.name, "a3-die");
  EXPECT_EQ(hw.family, "A3");
  EXPECT_EQ(hw.hbm_GBps, 1600);
  EXPECT_EQ(hw.l2_size_bytes, 201326592);  // 192 MiB
  EXPECT_EQ(hw.cmo_GBps, 1200);
  EXPECT_EQ(hw.cmo_qos_weight, 0.3);
  EXPECT_TRUE(hw.provenance.at("hbm_GBps").estimate);
  EXPECT_FALSE(hw.provenance.at("l2_size_bytes").estimate);
  EXPECT_EQ(load_hardware("910B3").family, "A2");
}

TEST(HardwareProfile, BundledProfilesGiveTheirHbmCapacityFromThePlatformConfig) {
  constexpr double kGiB = 1024.0 * 1024.0 * 1024.0;
  for (const auto& [name, gib] : std::vector<std::pair<std::string, double>>{
           {"910B1", 64}, {"910B2", 64}, {"910B3", 64}, {"910B4", 32}, {"a3-die", 64}}) {
    SCOPED_TRACE(name);
    const HardwareProfile hw = load_hardware(name);
    EXPECT_EQ(hw.hbm_capacity_bytes, gib * kGiB);
    EXPECT_FALSE(hw.provenance.at("hbm_capacity_bytes").estimate);
    EXPECT_PRED2(contains, hw.provenance.at("hbm_capacity_bytes").source, "[SoCInfo] memory_size=");
  }
}

TEST(HardwareProfile, HbmCapacityIsOptionalAndCanBeSet) {
  HardwareProfile hw = parse_hardware_profile(test::round_hardware_json(), "round.json");  // written without it
  EXPECT_EQ(hw.hbm_capacity_bytes, 0);
  EXPECT_EQ(hw.provenance.count("hbm_capacity_bytes"), 0u);
  apply_hardware_overrides(hw, {"hbm_capacity_bytes=34359738368"});
  EXPECT_EQ(hw.hbm_capacity_bytes, 34359738368.0);
  EXPECT_PRED2(contains, error_of([] {
                 parse_hardware_profile(round_with([](nlohmann::json& j) {
                                          j["parameters"]["hbm_capacity_bytes"] = {{"value", 0}, {"source", "x"}};
                                        }),
                                        "hw.json");
               }),
               "hw.json: $.parameters.hbm_capacity_bytes.value");
}

TEST(HardwareProfile, RoundTestProfileParses) {
  HardwareProfile hw = parse_hardware_profile(test::round_hardware_json(), "round.json");
  EXPECT_EQ(hw.name, "round");
  EXPECT_EQ(hw.hbm_GBps, 1000);
  EXPECT_EQ(hw.cmo_GBps, 500);
  EXPECT_EQ(hw.fork_us, 0);
  EXPECT_FALSE(hw.provenance.at("l2_size_bytes").estimate);
  EXPECT_TRUE(hw.provenance.at("comm_latency_us").estimate);
  EXPECT_FALSE(hw.provenance.at("hbm_GBps").estimate);  // "estimate" defaults to false
}

TEST(HardwareProfile, MissingParameterNamesItsPath) {
  EXPECT_EQ(error_of([] { parse_hardware_profile(round_with([](nlohmann::json& j) { j["parameters"].erase("join_us"); }), "hw.json"); }),
            "hw.json: $.parameters.join_us: missing required parameter");
}

TEST(HardwareProfile, UnknownParameterNamesItsPath) {
  const std::string msg = error_of([] {
    parse_hardware_profile(round_with([](nlohmann::json& j) { j["parameters"]["hbm_TBps"] = {{"value", 1}, {"source", "x"}}; }),
                           "hw.json");
  });
  EXPECT_PRED2(contains, msg, "hw.json: $.parameters.hbm_TBps: unknown hardware parameter");
  EXPECT_PRED2(contains, msg, "hbm_GBps");  // lists the known ones
}

TEST(HardwareProfile, ValueOutOfRangeNamesItsPath) {
  EXPECT_EQ(error_of([] {
              parse_hardware_profile(round_with([](nlohmann::json& j) { j["parameters"]["matmul_efficiency"]["value"] = 1.5; }),
                                     "hw.json");
            }),
            "hw.json: $.parameters.matmul_efficiency.value: expected a number in [0.001, 1], got 1.5");
  EXPECT_PRED2(contains, error_of([] {
                 parse_hardware_profile(round_with([](nlohmann::json& j) { j["parameters"]["l2_read_speedup"]["value"] = 0.5; }),
                                        "hw.json");
               }),
               "hw.json: $.parameters.l2_read_speedup.value: expected a number in [1, 1000]");
  EXPECT_PRED2(contains, error_of([] {
                 parse_hardware_profile(round_with([](nlohmann::json& j) { j["parameters"]["hbm_GBps"]["value"] = "1600"; }),
                                        "hw.json");
               }),
               "hw.json: $.parameters.hbm_GBps.value: expected a number");
}

TEST(HardwareProfile, MissingSourceNamesItsPath) {
  EXPECT_EQ(error_of([] {
              parse_hardware_profile(round_with([](nlohmann::json& j) { j["parameters"]["hbm_GBps"].erase("source"); }), "hw.json");
            }),
            "hw.json: $.parameters.hbm_GBps.source: missing required key");
  EXPECT_PRED2(contains, error_of([] {
                 parse_hardware_profile(round_with([](nlohmann::json& j) { j["parameters"]["hbm_GBps"]["source"] = ""; }), "hw.json");
               }),
               "hw.json: $.parameters.hbm_GBps.source: empty");
}

TEST(HardwareProfile, OtherStructuralErrors) {
  EXPECT_PRED2(contains, error_of([] { parse_hardware_profile(round_with([](nlohmann::json& j) { j["family"] = ""; }), "h"); }),
               "h: $.family: empty");
  // Analog hardware names its own family.
  EXPECT_EQ(parse_hardware_profile(round_with([](nlohmann::json& j) { j["family"] = "H200 (analog)"; }), "h").family, "H200 (analog)");
  EXPECT_PRED2(contains, error_of([] { parse_hardware_profile(round_with([](nlohmann::json& j) { j["vendor"] = "x"; }), "h"); }),
               "h: $.vendor: unknown key");
  EXPECT_PRED2(contains,
               error_of([] { parse_hardware_profile(round_with([](nlohmann::json& j) { j["schema"] = "prefetch-tuner/hardware/2"; }), "h"); }),
               "h: $.schema: unsupported schema");
  EXPECT_PRED2(contains,
               error_of([] { parse_hardware_profile(round_with([](nlohmann::json& j) { j["parameters"]["fork_us"]["unit"] = "us"; }), "h"); }),
               "h: $.parameters.fork_us.unit: unknown key");
  EXPECT_PRED2(contains, error_of([] { parse_hardware_profile(round_with([](nlohmann::json& j) { j.erase("name"); }), "h"); }),
               "h: $.name: missing required key");
  EXPECT_PRED2(contains, error_of([] { parse_hardware_profile("{", "h"); }), "h: invalid JSON");
}

TEST(HardwareProfile, LoadFromFileAndUnknownName) {
  const std::string dir = test::make_temp_dir();
  const std::string path = test::write_file(dir + "/mine.json", test::round_hardware_json());
  EXPECT_EQ(load_hardware(path).hbm_GBps, 1000);
  const std::string msg = error_of([] { load_hardware("910C"); });
  EXPECT_PRED2(contains, msg, "--hardware 910C: no such file, and not a bundled profile");
  EXPECT_PRED2(contains, msg, "a3-die");
  std::filesystem::remove_all(dir);
}

TEST(HardwareOverrides, SetsValuesAndMarksTheirSource) {
  HardwareProfile hw = load_hardware("a3-die");
  apply_hardware_overrides(hw, {"hbm_GBps=1200", "cmo_qos_weight=0.5", "l2_size_bytes=1e8"});
  EXPECT_EQ(hw.hbm_GBps, 1200);
  EXPECT_EQ(hw.cmo_qos_weight, 0.5);
  EXPECT_EQ(hw.l2_size_bytes, 1e8);
  EXPECT_EQ(hw.provenance.at("hbm_GBps").source, "set on the command line");
  EXPECT_FALSE(hw.provenance.at("hbm_GBps").estimate);
  EXPECT_NE(hw.provenance.at("cmo_GBps").source, "set on the command line");  // untouched
}

TEST(HardwareOverrides, RejectsUnknownNamesAndNonNumbers) {
  HardwareProfile hw = load_hardware("a3-die");
  const std::string unknown = error_of([&] { apply_hardware_overrides(hw, {"hbm_bw=1200"}); });
  EXPECT_PRED2(contains, unknown, "--hw-set hbm_bw=1200: unknown hardware parameter \"hbm_bw\"");
  EXPECT_PRED2(contains, unknown, "hbm_GBps");
  EXPECT_EQ(error_of([&] { apply_hardware_overrides(hw, {"hbm_GBps=fast"}); }), "--hw-set hbm_GBps=fast: the value is not a number");
  EXPECT_EQ(error_of([&] { apply_hardware_overrides(hw, {"hbm_GBps=12x"}); }), "--hw-set hbm_GBps=12x: the value is not a number");
  EXPECT_EQ(error_of([&] { apply_hardware_overrides(hw, {"hbm_GBps="}); }), "--hw-set hbm_GBps=: the value is not a number");
  EXPECT_PRED2(contains, error_of([&] { apply_hardware_overrides(hw, {"hbm_GBps"}); }), "--hw-set hbm_GBps: expected NAME=VALUE");
  EXPECT_PRED2(contains, error_of([&] { apply_hardware_overrides(hw, {"matmul_efficiency=2"}); }),
               "--hw-set matmul_efficiency=2: matmul_efficiency = 2 is outside the accepted range [0.001, 1]");
  EXPECT_PRED2(contains, error_of([&] { apply_hardware_overrides(hw, {"hbm_GBps=nan"}); }), "outside the accepted range");
  // Nothing was changed by the refused overrides.
  EXPECT_EQ(hw.hbm_GBps, 1600);
  EXPECT_EQ(hw.matmul_efficiency, 0.6);
}

TEST(HardwareProfile, SetAndGet) {
  HardwareProfile hw;
  hw.set("fork_us", 3.5, "here");
  EXPECT_EQ(hw.fork_us, 3.5);
  EXPECT_EQ(hw.get("fork_us"), 3.5);
  EXPECT_EQ(hw.get("no_such"), 0.0);
  EXPECT_PRED2(contains, error_of([&] { hw.set("fork_us", -1, "here"); }), "here: fork_us = -1 is outside the accepted range");
}

}  // namespace
}  // namespace pt
