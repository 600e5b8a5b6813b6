#include "util/expression.h"

#include <map>
#include <string>

#include <gtest/gtest.h>

#include "test_support.h"
#include "util/error.h"

namespace pt {
namespace {

using test::error_of;

const std::map<std::string, double> kVars = {{"T", 72}, {"TP", 4}, {"H", 5120}, {"NKV", 0.5}, {"FC1", 0}};

Expression::Lookup lookup() {
  return [](std::string_view name, double& value) {
    auto it = kVars.find(std::string(name));
    if (it == kVars.end()) return false;
    value = it->second;
    return true;
  };
}

double eval(const std::string& text) { return Expression::parse(text, "where").evaluate(lookup()); }

TEST(Expression, Precedence) {
  EXPECT_EQ(eval("2+3*4"), 14);
  EXPECT_EQ(eval("(2+3)*4"), 20);
  EXPECT_EQ(eval("-2*3"), -6);
  EXPECT_EQ(eval("2*-3"), -6);
  EXPECT_EQ(eval("+5"), 5);
  EXPECT_EQ(eval("10/4"), 2.5);
  EXPECT_EQ(eval("1 + 2 * 3 - 4 / 2"), 5);  // 1 + 6 - 2
}

TEST(Expression, LeftAssociative) {
  EXPECT_EQ(eval("2-3-4"), -5);   // (2-3)-4, not 2-(3-4) = 3
  EXPECT_EQ(eval("12/3/2"), 2);   // (12/3)/2, not 12/(3/2) = 8
}

TEST(Expression, Numbers) {
  EXPECT_EQ(eval("1.5e3"), 1500);
  EXPECT_EQ(eval(".5"), 0.5);
  EXPECT_EQ(eval("  7  "), 7);
}

TEST(Expression, Variables) {
  EXPECT_EQ(eval("T*H*2"), 72.0 * 5120 * 2);
  EXPECT_EQ(eval("ceil(T/TP)*H"), 18.0 * 5120);
  EXPECT_EQ(eval("max(1, NKV)"), 1);
}

TEST(Expression, ComparisonsGiveOneOrZero) {
  EXPECT_EQ(eval("TP > 1"), 1);
  EXPECT_EQ(eval("TP > 4"), 0);
  EXPECT_EQ(eval("TP >= 4"), 1);
  EXPECT_EQ(eval("TP < 4"), 0);
  EXPECT_EQ(eval("TP <= 4"), 1);
  EXPECT_EQ(eval("FC1 == 0"), 1);
  EXPECT_EQ(eval("FC1 == 1"), 0);
  // The comparison binds loosest: (1+2) == 3.
  EXPECT_EQ(eval("1 + 2 == 3"), 1);
  // ... and a parenthesised comparison is a value.
  EXPECT_EQ(eval("T*(1-(TP==4))"), 0);
}

TEST(Expression, OnlyOneComparison) {
  const std::string msg = error_of([] { Expression::parse("1 < 2 < 3", "w"); });
  EXPECT_NE(msg.find("unexpected '<'"), std::string::npos) << msg;
}

TEST(Expression, Functions) {
  EXPECT_EQ(eval("min(3, 1, 2)"), 1);
  EXPECT_EQ(eval("max(3, 1, 7, 2)"), 7);
  EXPECT_EQ(eval("ceil(7/2)"), 4);
  EXPECT_EQ(eval("floor(7/2)"), 3);
  EXPECT_EQ(eval("ceil(-0.5)"), 0);
  EXPECT_EQ(eval("floor(-0.5)"), -1);
  EXPECT_EQ(eval("ceil(4)"), 4);
  EXPECT_EQ(eval("floor(4)"), 4);
}

TEST(Expression, CeilAndFloorTolerateRoundingNoise) {
  // 0.1*3 = 0.30000000000000004 and 0.7+0.1 = 0.7999999999999999 in binary: a whole number
  // computed with noise must not jump to the next integer.
  EXPECT_EQ(eval("ceil(0.1*3*10)"), 3);
  EXPECT_EQ(eval("floor((0.7+0.1)*10)"), 8);
}

TEST(Expression, UnknownVariableNamesWhereAndWhich) {
  Expression e = Expression::parse("T*ZZ", "layers.json: $.ops[3].bytes");
  EXPECT_EQ(error_of([&] { e.evaluate(lookup()); }),
            "layers.json: $.ops[3].bytes: in expression \"T*ZZ\": unknown variable 'ZZ'");
}

TEST(Expression, SyntaxErrorsNameThePosition) {
  EXPECT_EQ(error_of([] { Expression::parse("2+", "w"); }), "w: in expression \"2+\" at character 3: unexpected end");
  EXPECT_EQ(error_of([] { Expression::parse("2 3", "w"); }), "w: in expression \"2 3\" at character 3: unexpected '3'");
  EXPECT_EQ(error_of([] { Expression::parse("(1+2", "w"); }), "w: in expression \"(1+2\" at character 5: expected ')'");
  EXPECT_EQ(error_of([] { Expression::parse("$", "w"); }), "w: in expression \"$\" at character 1: unexpected '$'");
  EXPECT_EQ(error_of([] { Expression::parse("", "w"); }), "w: in expression \"\" at character 1: unexpected end");
}

TEST(Expression, BadFunctionCalls) {
  EXPECT_NE(error_of([] { Expression::parse("sqrt(4)", "w"); }).find("unknown function 'sqrt' (known: min, max, ceil, floor)"),
            std::string::npos);
  EXPECT_NE(error_of([] { Expression::parse("ceil(1, 2)", "w"); }).find("ceil() takes 1 argument(s), got 2"), std::string::npos);
  EXPECT_NE(error_of([] { Expression::parse("floor()", "w"); }).find("floor() takes 1 argument(s), got 0"), std::string::npos);
  EXPECT_NE(error_of([] { Expression::parse("min(1)", "w"); }).find("min() takes at least 2 arguments"), std::string::npos);
  EXPECT_NE(error_of([] { Expression::parse("max(1, 2", "w"); }).find("expected ')' after function arguments"),
            std::string::npos);
}

TEST(Expression, DivisionByZeroIsAnError) {
  EXPECT_EQ(error_of([] { eval("T/(TP-4)"); }), "where: in expression \"T/(TP-4)\": division by zero");
}

TEST(Expression, NonFiniteResultIsAnError) {
  EXPECT_EQ(error_of([] { eval("1e308*10"); }), "where: expression \"1e308*10\" is not finite");
}

// inf - inf is NaN, and NaN > 0 is 0: a "when" like this once dropped its op without a word.
TEST(Expression, NonFiniteIntermediateIsAnErrorEvenWhenTheResultIsFinite) {
  EXPECT_EQ(error_of([] { eval("(1e400-1e400) > 0"); }), "where: expression \"(1e400-1e400) > 0\" is not finite");
  EXPECT_EQ(error_of([] { eval("min(1e308*10, 1)"); }), "where: expression \"min(1e308*10, 1)\" is not finite");
  EXPECT_EQ(error_of([] { eval("0*(1e308*1e308)"); }), "where: expression \"0*(1e308*1e308)\" is not finite");
  EXPECT_EQ(eval("1e300 > 0"), 1);  // large but finite is the caller's to judge
}

TEST(Expression, VariablesListsNamesInOrder) {
  Expression e = Expression::parse("ceil(T/TP)*H + max(1, NKV)", "w");
  EXPECT_EQ(e.variables(), (std::vector<std::string>{"T", "TP", "H", "NKV"}));
  EXPECT_TRUE(Expression::parse("2*3", "w").variables().empty());
  EXPECT_EQ(e.text(), "ceil(T/TP)*H + max(1, NKV)");
}

TEST(Expression, ConstantEvaluatesWithoutLookup) {
  Expression c = Expression::constant(2.5);
  EXPECT_EQ(c.evaluate([](std::string_view, double&) { return false; }), 2.5);
  EXPECT_EQ(c.text(), "2.5");
}

// Parsing and evaluation recurse per nesting level and operator: the length bounds the stack.
TEST(Expression, LengthIsLimited) {
  const std::string deep = std::string(600, '(') + "T" + std::string(600, ')');
  EXPECT_PRED2(test::contains, test::error_of([&] { Expression::parse(deep, "t.json: $.x"); }),
               "t.json: $.x: expression of 1201 characters; at most 1024");
  std::string sum = "T";
  while (sum.size() < 1000) sum += "+T";
  EXPECT_NO_THROW(Expression::parse(sum, "t.json: $.x"));
}

}  // namespace
}  // namespace pt
