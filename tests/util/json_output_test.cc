// json_output: the one way every subcommand writes JSON. Byte counts are integers, rounding noise
// is 0, ratios are left alone.
#include "util/json_output.h"

#include <gtest/gtest.h>

namespace pt {
namespace {

using nlohmann::json;

TEST(JsonOutput, ByteCountsBecomeIntegers) {
  const json j = tidy_json({{"issued_bytes", 13107200.0}, {"Prefetch Bytes", 4.6}, {"weights_bytes", {1.0, 2.5e9}},
                            {"nested", {{"peak_l2_prefetched_bytes", 32768000.0}}}, {"window_us", 3.5}});
  EXPECT_TRUE(j.at("issued_bytes").is_number_integer());
  EXPECT_EQ(j.at("issued_bytes").get<long long>(), 13107200);
  EXPECT_EQ(j.at("Prefetch Bytes").get<long long>(), 5);
  EXPECT_TRUE(j.at("weights_bytes")[1].is_number_integer());
  EXPECT_EQ(j.at("weights_bytes")[1].get<long long>(), 2500000000LL);
  EXPECT_TRUE(j.at("nested").at("peak_l2_prefetched_bytes").is_number_integer());
  EXPECT_TRUE(j.at("window_us").is_number_float());
  EXPECT_EQ(tidy_json({{"x", 13107200.0}}).dump(), "{\"x\":13107200.0}");  // only byte counts
  EXPECT_EQ(json_output({{"issued_bytes", 13107200.0}}), "{\n  \"issued_bytes\": 13107200\n}\n");
}

TEST(JsonOutput, RoundingNoiseIsZeroButRatiosAndRealValuesStay) {
  const json j = tidy_json({{"difference_pct", -4.28e-13}, {"stall_us", -0.0}, {"gain_pct", 1e-6},
                            {"ratio", 5e-10}, {"best_ratios", {4e-10}}, {"list", {1e-12, -3.0}}});
  EXPECT_EQ(j.at("difference_pct").dump(), "0.0");
  EXPECT_EQ(j.at("stall_us").dump(), "0.0");
  EXPECT_DOUBLE_EQ(j.at("gain_pct").get<double>(), 1e-6);
  EXPECT_DOUBLE_EQ(j.at("ratio").get<double>(), 5e-10);
  EXPECT_DOUBLE_EQ(j.at("best_ratios")[0].get<double>(), 4e-10);
  EXPECT_EQ(j.at("list")[0].dump(), "0.0");
  EXPECT_DOUBLE_EQ(j.at("list")[1].get<double>(), -3.0);
}

TEST(JsonOutput, InvalidUtf8IsReplacedNotFatal) {
  const std::string out = json_output({{"source", std::string("a\xff" "b")}});
  EXPECT_NE(out.find("\xef\xbf\xbd"), std::string::npos);
}

}  // namespace
}  // namespace pt
