#pragma once
// Strict, path-aware access to JSON input. Every failure names the source and the JSON path
// (e.g. `config.json: $.weight_prefetch_config.prefetch_ratio.mlp.down: expected a number in [0, 1], got 1.5`).
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace pt {

using Json = nlohmann::json;

// Parses JSON text; a syntax error becomes an InputError with line and column, and so does
// nesting deeper than kMaxJsonDepth. A key given twice in one object is an InputError naming its
// JSON path ("duplicate key"), unless `duplicate_keys` is given: then the path of every
// duplicate is appended to it and the last value wins, as in Python's json module.
constexpr int kMaxJsonDepth = 512;
Json parse_json_text(std::string_view text, const std::string& source,
                     std::vector<std::string>* duplicate_keys = nullptr);

class JsonReader {
 public:
  JsonReader(const Json& node, std::string source, std::string path = "$")
      : node_(&node), source_(std::move(source)), path_(std::move(path)) {}

  const Json& node() const { return *node_; }
  const std::string& path() const { return path_; }
  const std::string& source() const { return source_; }
  bool has(std::string_view key) const;
  JsonReader child(std::string_view key) const;  // must exist
  JsonReader element(size_t index) const;
  std::string child_path(std::string_view key) const;

  void expect_object() const;
  void expect_array() const;
  // Unknown keys are refused, with the list of accepted ones.
  void expect_only_keys(std::initializer_list<std::string_view> allowed) const;

  double number() const;
  double number_in(double min, double max) const;
  long long integer_in(long long min, long long max) const;
  bool boolean() const;
  std::string string() const;

  double number(std::string_view key) const { return child(key).number(); }
  std::optional<double> optional_number(std::string_view key) const;
  std::optional<long long> optional_integer(std::string_view key, long long min, long long max) const;
  std::optional<std::string> optional_string(std::string_view key) const;
  std::optional<bool> optional_bool(std::string_view key) const;

  [[noreturn]] void fail(const std::string& what) const;
  std::string type_name() const;

 private:
  const Json* node_;
  std::string source_;
  std::string path_;
};

}  // namespace pt
