// simulate --uncertainty and tune-ratio --robust through the CLI: the JSON contract, the map files,
// and the errors for options that need the mode.
#include <algorithm>
#include <fstream>

#include <nlohmann/json.hpp>

#include <gtest/gtest.h>

#include "test_support.h"

namespace pt {
namespace {

using test::contains;

TEST(UncertaintyCli, SimulateJsonCarriesTheVerdictKeys) {
  const std::string dir = test::make_temp_dir();
  const auto r = test::run_cli("simulate --uncertainty --samples 16 --format json --break-even-csv " + dir +
                               "/map.csv --break-even-svg " + dir + "/map.svg");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  for (const char* k : {"p_gain", "gain_pct_p10", "gain_pct_p50", "gain_pct_p90"}) EXPECT_TRUE(j.at(k).is_number()) << k;
  EXPECT_TRUE(j.at("sensitivity").is_object());
  EXPECT_TRUE(j.at("uncertainty").at("samples").is_number_integer());
  EXPECT_TRUE(j.at("break_even").at("axes").at("x").at("parameter").is_string());
  EXPECT_EQ(j.at("break_even").at("grid_gain_pct").size(), 25u);
  EXPECT_TRUE(j.at("vllm_ascend_version").is_string());
  const std::string csv = test::read_file(dir + "/map.csv");
  const std::string x = j["break_even"]["axes"]["x"]["parameter"], y = j["break_even"]["axes"]["y"]["parameter"];
  EXPECT_EQ(csv.substr(0, csv.find('\n')), x + "," + y + ",gain_pct");
  EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), 1 + 25 * 25);
  EXPECT_PRED2(contains, test::read_file(dir + "/map.svg"), "bundled estimate");
}

TEST(UncertaintyCli, SameSeedSameReport) {
  const auto a = test::run_cli("simulate --uncertainty --samples 16 --seed 9");
  const auto b = test::run_cli("simulate --uncertainty --samples 16 --seed 9 --threads 1");
  ASSERT_EQ(a.exit_code, 0) << a.err;
  EXPECT_EQ(a.out, b.out);
  EXPECT_PRED2(contains, a.out, "p_gain");
}

TEST(UncertaintyCli, MapOptionsNeedTheModeAndNothingIsWritten) {
  const std::string dir = test::make_temp_dir();
  const auto r = test::run_cli("simulate --break-even-csv " + dir + "/map.csv");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_PRED2(contains, r.err, "--uncertainty");
  EXPECT_FALSE(std::ifstream(dir + "/map.csv").good());
  const auto t = test::run_cli("tune-ratio --break-even-svg " + dir + "/map.svg");
  EXPECT_NE(t.exit_code, 0);
  EXPECT_PRED2(contains, t.err, "--robust");
}

TEST(UncertaintyCli, RobustTunePrintsAPasteReadyLineAndJson) {
  const auto r = test::run_cli("tune-ratio --robust --samples 16 --robust-step 0.25 --num-tokens 8,72 --format json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_TRUE(j.at("robust").at("best_expected").at("expected_step_time_us").is_number());
  EXPECT_TRUE(j.at("robust").at("least_worst_case_regret").at("worst_case_regret_us").is_number());
  EXPECT_TRUE(j.at("robust").at("best_expected").at("config").is_object());
  EXPECT_TRUE(j.at("p_gain").is_number());
  EXPECT_TRUE(j.at("robust").at("candidates").is_number_integer());
  const auto text = test::run_cli("tune-ratio --robust --samples 16 --robust-step 0.25 --num-tokens 8,72");
  ASSERT_EQ(text.exit_code, 0) << text.err;
  EXPECT_EQ(text.out.rfind("--additional-config '", 0), 0u);
  EXPECT_PRED2(contains, text.out, j.at("recommended_additional_config_arg").get<std::string>());
}

}  // namespace
}  // namespace pt
