#include "sim/op_time_table.h"

#include <filesystem>
#include <string>

#include <gtest/gtest.h>

#include "test_support.h"

namespace pt {
namespace {

using test::contains;
using test::error_of;

TEST(OpTimeTable, InterpolatesLinearlyAndClampsAtTheEnds) {
  OpTimeTable t;
  t.add("down_proj", 16, 11.0);  // added out of order: kept sorted
  t.add("down_proj", 4, 5.0);
  t.add("down_proj", 64, 20.0);
  EXPECT_EQ(t.lookup("down_proj", 4).value(), 5.0);
  EXPECT_EQ(t.lookup("down_proj", 16).value(), 11.0);
  EXPECT_DOUBLE_EQ(t.lookup("down_proj", 8).value(), 7.0);     // 5 + 6 * 4/12
  EXPECT_DOUBLE_EQ(t.lookup("down_proj", 40).value(), 15.5);   // 11 + 9 * 24/48
  EXPECT_EQ(t.lookup("down_proj", 1).value(), 5.0);            // below the first point
  EXPECT_EQ(t.lookup("down_proj", 1000).value(), 20.0);        // above the last point
  EXPECT_FALSE(t.lookup("o_proj", 8).has_value());
  EXPECT_FALSE(t.empty());
  EXPECT_EQ(t.size(), 1u);  // one op name
  EXPECT_TRUE(OpTimeTable{}.empty());
}

TEST(OpTimeTable, SinglePointIsConstant) {
  OpTimeTable t;
  t.add("act_fn", 72, 3.5);
  EXPECT_EQ(t.lookup("act_fn", 1).value(), 3.5);
  EXPECT_EQ(t.lookup("act_fn", 512).value(), 3.5);
}

TEST(ParseOpTimeTable, AcceptsBothColumnSpellings) {
  OpTimeTable a = parse_op_time_table("name,num_tokens,duration_us\nqkv_proj,8,4\nqkv_proj,72,10\n", "a.csv");
  EXPECT_DOUBLE_EQ(a.lookup("qkv_proj", 40).value(), 7.0);
  OpTimeTable b = parse_op_time_table("Name,num_tokens,Duration(us)\nqkv_proj,8,4.5\t\n", "b.csv");
  EXPECT_EQ(b.lookup("qkv_proj", 8).value(), 4.5);
}

TEST(ParseOpTimeTable, BadRowsNameFileAndLine) {
  EXPECT_PRED2(contains, error_of([] { parse_op_time_table("name,duration_us\nx,1\n", "m.csv"); }),
               "m.csv: line 1: missing column \"num_tokens\"");
  EXPECT_EQ(error_of([] { parse_op_time_table("name,num_tokens,duration_us\nx,0,1\n", "t.csv"); }),
            "t.csv: line 2: num_tokens must be >= 1");
  EXPECT_EQ(error_of([] { parse_op_time_table("name,num_tokens,duration_us\nx,8,1\ny,8,-1\n", "d.csv"); }),
            "d.csv: line 3: duration_us must be >= 0");
  EXPECT_EQ(error_of([] { parse_op_time_table("name,num_tokens,duration_us\n,8,1\n", "n.csv"); }),
            "n.csv: line 2: empty op name");
  EXPECT_PRED2(contains, error_of([] { parse_op_time_table("name,num_tokens,duration_us\nx,eight,1\n", "v.csv"); }),
               "v.csv: line 2: column \"num_tokens\": expected a number, got \"eight\"");
}

TEST(LoadOpTimeTable, FromFile) {
  const std::string dir = test::make_temp_dir();
  const std::string path = test::write_file(dir + "/ops.csv", "name,num_tokens,duration_us\nlm_head,72,190\n");
  EXPECT_EQ(load_op_time_table(path).lookup("lm_head", 72).value(), 190);
  EXPECT_PRED2(contains, error_of([&] { load_op_time_table(dir + "/none.csv"); }), dir + "/none.csv: cannot open");
  std::filesystem::remove_all(dir);
}

TEST(ParseOpTimeTable, APointGivenTwiceIsAmbiguous) {
  EXPECT_EQ(error_of([] { parse_op_time_table("name,num_tokens,duration_us\nx,8,1\ny,8,2\nx,8,3\n", "t.csv"); }),
            "t.csv: line 4: \"x\" at 8 tokens is already given on line 2");
}

// Each row used to re-sort its op's points: 100k rows of one op took minutes.
TEST(ParseOpTimeTable, ManyRowsOfOneOpAreFast) {
  std::string csv = "name,num_tokens,duration_us\n";
  for (int i = 100000; i >= 1; --i) csv += "norm," + std::to_string(i) + "," + std::to_string(i) + "\n";
  const OpTimeTable t = parse_op_time_table(csv, "big.csv");
  EXPECT_DOUBLE_EQ(t.lookup("norm", 1.5).value(), 1.5);
  EXPECT_DOUBLE_EQ(t.lookup("norm", 99999.5).value(), 99999.5);
}

}  // namespace
}  // namespace pt
