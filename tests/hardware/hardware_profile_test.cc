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
  ASSERT_EQ(names.size(), 19u);
  EXPECT_EQ(names.front(), "cube_TFLOPS_bf16");
  EXPECT_EQ(names.back(), "hbm_capacity_bytes");  // the optional one comes last
  // The caps are vllm-ascend's, not the hardware's: they live in vllm_ascend/release.h.
  EXPECT_EQ(std::count(names.begin(), names.end(), "prefetch_cap_bytes"), 0);
}

TEST(HardwareProfile, EveryBundledProfileLoadsWithASourceForEveryParameter) {
  const auto names = bundled_hardware_names();
  EXPECT_EQ(names, (std::vector<std::string>{"910B1", "910B2", "910B3", "910B4", "a3-die"}));
  for (const auto& name : names) {
    SCOPED_TRACE(name);
    HardwareProfile hw = load_hardware(name);
    EXPECT_EQ(hw.name, name);
    EXPECT_TRUE(hw.family == "A2" || hw.family == "A3") << hw.family;
    EXPECT_FALSE(hw.description.empty());
    ASSERT_EQ(hw.provenance.size(), hardware_parameter_names().size());
    const auto json = nlohmann::json::parse(std::string(*find_embedded("hardware/" + name + ".json")));
    for (const auto& p : hardware_parameter_names()) {
      ASSERT_EQ(hw.provenance.count(p), 1u) << p;
      EXPECT_FALSE(hw.provenance.at(p).source.empty()) << p;
      EXPECT_EQ(hw.provenance.at(p).source, json["parameters"][p]["source"].get<std::string>()) << p;
      EXPECT_EQ(hw.get(p), json["parameters"][p]["value"].get<double>()) << p;  // get() reads the right member
    }
    EXPECT_GT(hw.hbm_GBps, 0);
    EXPECT_LE(hw.cmo_GBps, hw.hbm_GBps);  // the reference puts CMO at 0.5-1.0 x HBM
  }
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
  EXPECT_PRED2(contains, error_of([] { parse_hardware_profile(round_with([](nlohmann::json& j) { j["family"] = "A5"; }), "h"); }),
               "h: $.family: expected \"A2\" or \"A3\"");
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
