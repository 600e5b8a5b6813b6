// The calibration file format: what calibrate writes and --calibration reads.
#include "config/calibration_file.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "test_support.h"

namespace pt {
namespace {

using test::contains;

TEST(CalibrationParse, RefusesBadFilesNamingTheJsonPath) {
  const std::string ok_op = R"({"key": "SwiGlu", "intercept_us": 1, "per_token_us": 0.01})";
  auto doc = [&](const std::string& schema, const std::string& hardware, const std::string& ops) {
    std::string s = "{\"schema\": \"" + schema + "\", \"hardware\": " + hardware;
    if (!ops.empty()) s += ", \"op_durations\": " + ops;
    return s + "}";
  };
  const std::string good = doc("prefetch-tuner/calibration/1", R"({"hbm_GBps": {"value": 1500, "basis": "x"}})", "[" + ok_op + "]");
  const Calibration c = parse_calibration(good, "good.json");
  ASSERT_EQ(c.hardware.size(), 1u);
  EXPECT_EQ(c.hardware[0].parameter, "hbm_GBps");
  EXPECT_EQ(c.hardware[0].value, 1500);
  ASSERT_EQ(c.ops.size(), 1u);
  EXPECT_EQ(c.ops[0].key, "SwiGlu");

  struct Case {
    std::string text, mentions[2];
  };
  const std::vector<Case> cases = {
      {doc("prefetch-tuner/calibration/2", "{}", "[]"), {"$.schema", "prefetch-tuner/calibration/1"}},
      {doc("prefetch-tuner/calibration/1", R"({"hbm_speed": {"value": 1}})", "[]"), {"$.hardware.hbm_speed", "unknown hardware parameter"}},
      {doc("prefetch-tuner/calibration/1", R"({"hbm_GBps": {"value": -5}})", "[]"), {"$.hardware.hbm_GBps", "outside the accepted range"}},
      {doc("prefetch-tuner/calibration/1", "{}", ""), {"$.op_durations", "missing"}},
      {doc("prefetch-tuner/calibration/1", "{}", R"([{"key": "", "intercept_us": 1, "per_token_us": 0}])"), {"$.op_durations[0].key", "empty"}},
  };
  for (const auto& c2 : cases) {
    SCOPED_TRACE(c2.text);
    const std::string e = test::error_of([&] { parse_calibration(c2.text, "cal.json"); });
    EXPECT_EQ(e.rfind("cal.json: ", 0), 0u) << e;
    EXPECT_PRED2(contains, e, c2.mentions[0]);
    EXPECT_PRED2(contains, e, c2.mentions[1]);
  }
}

TEST(CalibrationFile, FitErrorRoundTripsAndOlderFilesLoad) {
  Calibration c;
  c.hardware.push_back({"cmo_GBps", 900, "fit", 45});
  c.hardware.push_back({"op_overhead_us", 2.1, "fit"});
  const Calibration back = parse_calibration(calibration_to_json(c).dump(), "t.json");
  ASSERT_EQ(back.hardware.size(), 2u);
  EXPECT_EQ(back.hardware[0].error, 45);
  EXPECT_EQ(back.hardware[1].error, 0);  // no "error" key written, none read
  EXPECT_FALSE(calibration_to_json(c)["hardware"]["op_overhead_us"].contains("error"));
  const std::string e = test::error_of([] {
    parse_calibration(R"({"schema":"prefetch-tuner/calibration/1","hardware":{"cmo_GBps":{"value":900,"error":-1}},"op_durations":[]})",
                      "bad.json");
  });
  EXPECT_PRED2(test::contains, e, "bad.json");
  EXPECT_PRED2(test::contains, e, "error");
}

TEST(CalibrationParse, FittedOnRoundTripsAndIsChecked) {
  Calibration c;
  c.fitted_on = {"Qwen3-8B", "0123456789abcdef", 4, 1, false, "w8a8", "decode", "v0.23.0", "a3-die"};
  c.ops.push_back({"SwiGlu", 1, 0.01, 3, 1, 0, 0});
  const Calibration back = parse_calibration(calibration_to_json(c).dump(), "c.json");
  EXPECT_EQ(back.fitted_on.model, "Qwen3-8B");
  EXPECT_EQ(back.fitted_on.model_shape_hash, "0123456789abcdef");
  EXPECT_EQ(back.fitted_on.tensor_parallel, 4);
  EXPECT_EQ(back.fitted_on.quantization, "w8a8");
  EXPECT_EQ(back.fitted_on.vllm_ascend_version, "v0.23.0");
  EXPECT_TRUE(back.fitted_on.known());
  // A file without it (written before calibrations recorded their model) still reads.
  EXPECT_FALSE(parse_calibration(R"({"schema": "prefetch-tuner/calibration/1", "hardware": {}, "op_durations": []})", "old.json")
                   .fitted_on.known());
  nlohmann::json bad = calibration_to_json(c);
  bad["fitted_on"]["model_shape_hash"] = "xyz";
  const std::string e = test::error_of([&] { parse_calibration(bad.dump(), "bad.json"); });
  EXPECT_PRED2(contains, e, "$.fitted_on.model_shape_hash");
  bad = calibration_to_json(c);
  bad["fitted_on"]["tensor_parallel_size"] = 0;
  EXPECT_PRED2(contains, test::error_of([&] { parse_calibration(bad.dump(), "bad.json"); }), "$.fitted_on.tensor_parallel_size");
}

}  // namespace
}  // namespace pt
