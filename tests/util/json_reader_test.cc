#include "util/json_reader.h"

#include <string>

#include <gtest/gtest.h>

#include "test_support.h"
#include "util/error.h"
#include "util/printable.h"

namespace pt {
namespace {

using test::error_of;

TEST(ParseJsonText, ParsesValidText) {
  Json j = parse_json_text(R"({"a": [1, 2.5, "x"], "b": null})", "src");
  ASSERT_TRUE(j.is_object());
  EXPECT_EQ(j["a"][0].get<int>(), 1);
  EXPECT_DOUBLE_EQ(j["a"][1].get<double>(), 2.5);
  EXPECT_TRUE(j["b"].is_null());
}

TEST(ParseJsonText, SyntaxErrorNamesSourceLineAndColumn) {
  // The '}' at line 3 column 8 is where a value was expected.
  const std::string msg = error_of([] { parse_json_text("{\n  \"a\": 1,\n  \"b\": }", "cfg.json"); });
  EXPECT_EQ(msg.rfind("cfg.json: invalid JSON at line 3 column 8", 0), 0u) << msg;
  // nlohmann's "[json.exception.parse_error.101]" prefix is stripped.
  EXPECT_EQ(msg.find("json.exception"), std::string::npos) << msg;
}

TEST(ParseJsonText, EmptyAndBlankInputSayEmpty) {
  EXPECT_EQ(error_of([] { parse_json_text("", "x.json"); }), "x.json: empty input, expected JSON");
  EXPECT_EQ(error_of([] { parse_json_text(" \n\t ", "x.json"); }), "x.json: empty input, expected JSON");
}

TEST(JsonReader, ChildPathsUseDotsForIdentifiersAndBracketsOtherwise) {
  Json j = Json::parse(R"({"a": {"b_1": {"x-y": 3}}})");
  JsonReader r(j, "src");
  EXPECT_EQ(r.path(), "$");
  JsonReader b = r.child("a").child("b_1");
  EXPECT_EQ(b.path(), "$.a.b_1");
  EXPECT_EQ(b.child("x-y").path(), "$.a.b_1[\"x-y\"]");
  EXPECT_EQ(b.child("x-y").number(), 3);
}

TEST(JsonReader, MissingChildNamesFullPath) {
  Json j = Json::parse(R"({"a": {}})");
  JsonReader r(j, "m.json");
  EXPECT_EQ(error_of([&] { r.child("a").child("hidden_size"); }), "m.json: $.a.hidden_size: missing required key");
}

TEST(JsonReader, ChildOfNonObjectFails) {
  Json j = Json::parse(R"({"a": [1]})");
  JsonReader r(j, "s");
  EXPECT_EQ(error_of([&] { r.child("a").child("b"); }), "s: $.a: expected an object, got an array");
}

TEST(JsonReader, ElementPathsAndRange) {
  Json j = Json::parse(R"({"list": [10, 20]})");
  JsonReader list = JsonReader(j, "s").child("list");
  EXPECT_EQ(list.element(1).path(), "$.list[1]");
  EXPECT_EQ(list.element(1).number(), 20);
  EXPECT_EQ(error_of([&] { list.element(2); }), "s: $.list: index 2 out of range");
  EXPECT_EQ(error_of([&] { JsonReader(j, "s").element(0); }), "s: $: expected an array, got an object");
}

TEST(JsonReader, ExpectOnlyKeysNamesTheUnknownKeyAndListsAccepted) {
  Json j = Json::parse(R"({"name": "x", "nmae": 1})");
  JsonReader r(j, "t.json");
  EXPECT_NO_THROW(r.expect_only_keys({"name", "nmae"}));
  EXPECT_EQ(error_of([&] { r.expect_only_keys({"name", "kind"}); }),
            "t.json: $.nmae: unknown key (expected one of \"name\", \"kind\")");
}

TEST(JsonReader, NumberRejectsOtherTypesNamingThem) {
  Json j = Json::parse(R"({"s": "0.5", "b": true, "n": null, "a": [], "o": {}})");
  JsonReader r(j, "s");
  EXPECT_EQ(error_of([&] { r.child("s").number(); }), "s: $.s: expected a number, got the string \"0.5\"");
  EXPECT_EQ(error_of([&] { r.child("b").number(); }), "s: $.b: expected a number, got a boolean");
  EXPECT_EQ(error_of([&] { r.child("n").number(); }), "s: $.n: expected a number, got null");
  EXPECT_EQ(error_of([&] { r.child("a").number(); }), "s: $.a: expected a number, got an array");
  EXPECT_EQ(error_of([&] { r.child("o").number(); }), "s: $.o: expected a number, got an object");
}

TEST(JsonReader, NumberInChecksBothEnds) {
  Json j = Json::parse(R"({"lo": -0.5, "mid": 0.25, "hi": 1.5, "edge": 1})");
  JsonReader r(j, "s");
  EXPECT_DOUBLE_EQ(r.child("mid").number_in(0, 1), 0.25);
  EXPECT_DOUBLE_EQ(r.child("edge").number_in(0, 1), 1.0);  // inclusive
  EXPECT_EQ(error_of([&] { r.child("lo").number_in(0, 1); }), "s: $.lo: expected a number in [0, 1], got -0.5");
  EXPECT_EQ(error_of([&] { r.child("hi").number_in(0, 1); }), "s: $.hi: expected a number in [0, 1], got 1.5");
}

TEST(JsonReader, IntegerAcceptsWholeFloatsAndRejectsFractions) {
  Json j = Json::parse(R"({"i": 7, "f": 8.0, "frac": 2.5, "big": 5000})");
  JsonReader r(j, "s");
  EXPECT_EQ(r.child("i").integer_in(0, 10), 7);
  EXPECT_EQ(r.child("f").integer_in(0, 10), 8);
  EXPECT_EQ(error_of([&] { r.child("frac").integer_in(0, 10); }), "s: $.frac: expected an integer, got a number");
  EXPECT_EQ(error_of([&] { r.child("big").integer_in(0, 4096); }), "s: $.big: expected an integer in [0, 4096], got 5000");
}

TEST(JsonReader, BooleanAndString) {
  Json j = Json::parse(R"({"t": true, "one": 1, "s": "x"})");
  JsonReader r(j, "s");
  EXPECT_TRUE(r.child("t").boolean());
  EXPECT_EQ(error_of([&] { r.child("one").boolean(); }), "s: $.one: expected true or false, got a number");
  EXPECT_EQ(r.child("s").string(), "x");
  EXPECT_EQ(error_of([&] { r.child("one").string(); }), "s: $.one: expected a string, got a number");
}

TEST(JsonReader, OptionalAccessorsTreatMissingAndNullAsAbsent) {
  Json j = Json::parse(R"({"n": null, "x": 2, "s": "v", "b": false})");
  JsonReader r(j, "s");
  EXPECT_FALSE(r.optional_number("n").has_value());
  EXPECT_FALSE(r.optional_number("missing").has_value());
  EXPECT_EQ(r.optional_number("x").value(), 2);
  EXPECT_EQ(r.optional_integer("x", 0, 3).value(), 2);
  EXPECT_FALSE(r.optional_integer("n", 0, 3).has_value());
  EXPECT_EQ(r.optional_string("s").value(), "v");
  EXPECT_FALSE(r.optional_string("n").has_value());
  EXPECT_EQ(r.optional_bool("b").value(), false);
  EXPECT_FALSE(r.optional_bool("missing").has_value());
  // Present but of the wrong type is an error, not "absent".
  EXPECT_EQ(error_of([&] { r.optional_string("x"); }), "s: $.x: expected a string, got a number");
  EXPECT_EQ(error_of([&] { r.optional_integer("x", 5, 9); }), "s: $.x: expected an integer in [5, 9], got 2");
}

TEST(JsonReader, HasIsFalseOnNonObjects) {
  Json j = Json::parse(R"([1, 2])");
  JsonReader r(j, "s");
  EXPECT_FALSE(r.has("a"));
  Json o = Json::parse(R"({"a": null})");
  EXPECT_TRUE(JsonReader(o, "s").has("a"));  // present, even when null
}

TEST(JsonReader, FailPrefixesSourceAndPath) {
  Json j = Json::parse(R"({"a": 1})");
  JsonReader r(j, "f.json");
  EXPECT_EQ(error_of([&] { r.child("a").fail("bad thing"); }), "f.json: $.a: bad thing");
}

// Hardening (fuzzing and the bad-input catalogue).

TEST(ParseJsonText, DuplicateKeyIsAnErrorNamingItsPath) {
  EXPECT_EQ(error_of([] { parse_json_text(R"({"a": 1, "a": 2})", "d.json"); }), "d.json: $.a: duplicate key");
  EXPECT_EQ(error_of([] { parse_json_text(R"({"a": [{"b": 1}, {"c": 1, "b": 2, "b": 3}]})", "d.json"); }),
            "d.json: $.a[1].b: duplicate key");
  EXPECT_EQ(error_of([] { parse_json_text(R"([[1, {"x y": 1, "x y": 2}]])", "d.json"); }),
            "d.json: $[0][1][\"x y\"]: duplicate key");
  // The same key in two objects is no duplicate.
  EXPECT_NO_THROW(parse_json_text(R"({"a": {"k": 1}, "b": {"k": 1}, "k": [{"k": 1}, {"k": 2}]})", "d.json"));
}

TEST(ParseJsonText, DuplicateKeysCanBeCollectedInsteadAndTheLastWins) {
  std::vector<std::string> duplicates;
  const Json j = parse_json_text(R"({"a": 1, "b": {"c": 1, "c": 2}, "a": 3})", "d.json", &duplicates);
  EXPECT_EQ(duplicates, (std::vector<std::string>{"$.b.c", "$.a"}));
  EXPECT_EQ(j["a"], 3);
  EXPECT_EQ(j["b"]["c"], 2);
}

TEST(ParseJsonText, NumberTooLargeForADoubleNamesItsPath) {
  EXPECT_EQ(error_of([] { parse_json_text(R"({"a": [1, -1e999]})", "n.json"); }),
            "n.json: $.a[1]: number out of range (larger than a double holds)");
  EXPECT_EQ(error_of([] { parse_json_text("1e400", "n.json"); }), "n.json: $: number out of range (larger than a double holds)");
}

// A 60 MB string or key in a 64 MiB config once made an error line as long.
TEST(JsonReader, LongStringsAndKeysAreQuotedAsShortExcerpts) {
  const std::string big(1'000'000, 'y');
  const Json value = parse_json_text("{\"enabled\": \"" + big + "\"}", "c.json");
  const std::string e = error_of([&] { JsonReader(value, "c.json").child("enabled").boolean(); });
  EXPECT_EQ(e, "c.json: $.enabled: expected true or false, got the string \"" + std::string(kMaxQuoteBytes, 'y') +
                   "... (1000000 bytes)\"");
  const Json key = parse_json_text("{\"" + big + "\": 1}", "k.json");
  const std::string k = error_of([&] { JsonReader(key, "k.json").expect_only_keys({"enabled"}); });
  EXPECT_LT(k.size(), 200u);
  EXPECT_PRED2(test::contains, k, "k.json: $[\"yyyy");
  EXPECT_PRED2(test::contains, k, "... (1000000 bytes)\"]: unknown key");
  // nlohmann quotes the last token whole: an unterminated string of 1 MB.
  const std::string u = error_of([&] { parse_json_text("{\"a\": \"" + big, "u.json"); });
  EXPECT_LT(u.size(), 300u);
  EXPECT_PRED2(test::contains, u, "u.json: invalid JSON at line 1 column");
}

TEST(ParseJsonText, NestingIsLimited) {
  EXPECT_NO_THROW(parse_json_text(std::string(kMaxJsonDepth, '[') + std::string(kMaxJsonDepth, ']'), "deep.json"));
  const std::string msg = error_of([] { parse_json_text(std::string(100000, '['), "deep.json"); });
  EXPECT_EQ(msg.rfind("deep.json: $[0][0]", 0), 0u) << msg;
  EXPECT_PRED2(test::contains, msg, "...: nesting deeper than 512 levels");
}

}  // namespace
}  // namespace pt
