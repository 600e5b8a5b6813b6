#include "util/json_reader.h"

#include <cmath>
#include <functional>
#include <set>

#include <fmt/format.h>

#include "util/error.h"
#include "util/printable.h"

namespace pt {

namespace {

// Converts nlohmann's byte offset into line:column for the message.
std::pair<size_t, size_t> line_column(std::string_view text, size_t byte) {
  size_t line = 1, column = 1;
  for (size_t i = 0; i < byte && i < text.size(); ++i) {
    if (text[i] == '\n') {
      ++line;
      column = 1;
    } else {
      ++column;
    }
  }
  return {line, column};
}

bool is_identifier(std::string_view key) {
  if (key.empty()) return false;
  for (char c : key) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_')) return false;
  }
  return true;
}

// Keys are quoted in messages: a key of 60 MB shows as its start.
std::string member_path(const std::string& parent, std::string_view key) {
  if (is_identifier(key) && key.size() <= kMaxQuoteBytes) return fmt::format("{}.{}", parent, key);
  return fmt::format("{}[\"{}\"]", parent, excerpt(key));
}

// Where the parser is, as a JSON path, for duplicate keys and numbers out of range: one frame per
// open object or array.
class KeyTracker {
 public:
  KeyTracker(const std::string& source, std::vector<std::string>* duplicates)
      : source_(source), duplicates_(duplicates) {}

  bool operator()(int depth, Json::parse_event_t event, Json& parsed) {
    switch (event) {
      case Json::parse_event_t::object_start:
      case Json::parse_event_t::array_start:
        if (depth >= kMaxJsonDepth) {
          std::string where = path();
          if (where.size() > 60) where = where.substr(0, 60) + "...";
          throw InputError(fmt::format("{}: {}: nesting deeper than {} levels", source_, where, kMaxJsonDepth));
        }
        frames_.push_back({event == Json::parse_event_t::array_start, 0, {}, {}});
        break;
      case Json::parse_event_t::key: {
        Frame& f = frames_.back();
        f.key = parsed.get<std::string>();
        if (!f.keys.insert(f.key).second) {
          if (!duplicates_) throw InputError(fmt::format("{}: {}: duplicate key", source_, path()));
          duplicates_->push_back(path());
        }
        break;
      }
      case Json::parse_event_t::object_end:
      case Json::parse_event_t::array_end:
        frames_.pop_back();
        next_element();
        break;
      case Json::parse_event_t::value: next_element(); break;
    }
    return true;
  }

  // The value being parsed: the current member of the innermost object, element of the innermost array.
  std::string path() const {
    std::string p = "$";
    for (const Frame& f : frames_) p = f.array ? fmt::format("{}[{}]", p, f.index) : member_path(p, f.key);
    return p;
  }

 private:
  struct Frame {
    bool array;
    size_t index;     // array: the element being parsed
    std::string key;  // object: the member being parsed
    std::set<std::string> keys;
  };

  void next_element() {
    if (!frames_.empty() && frames_.back().array) ++frames_.back().index;
  }

  const std::string& source_;
  std::vector<std::string>* duplicates_;
  std::vector<Frame> frames_;
};

}  // namespace

Json parse_json_text(std::string_view text, const std::string& source, std::vector<std::string>* duplicate_keys) {
  KeyTracker tracker(source, duplicate_keys);
  try {
    return Json::parse(text.begin(), text.end(), std::ref(tracker));
  } catch (const Json::out_of_range&) {
    // 1e999: nlohmann refuses a number that overflows a double.
    throw InputError(fmt::format("{}: {}: number out of range (larger than a double holds)", source, tracker.path()));
  } catch (const Json::parse_error& e) {
    if (text.find_first_not_of(" \t\r\n") == std::string_view::npos) {
      throw InputError(fmt::format("{}: empty input, expected JSON", source));
    }
    auto [line, column] = line_column(text, e.byte == 0 ? 0 : e.byte - 1);
    std::string what = e.what();
    // nlohmann prefixes "[json.exception.parse_error.101] parse error at line 1, column 2: "
    if (auto pos = what.find(": "); pos != std::string::npos) what = what.substr(pos + 2);
    // ... and quotes the last token whole ("last read: '<a string of 60 MB>'").
    throw InputError(fmt::format("{}: invalid JSON at line {} column {}: {}", source, line, column, excerpt(what, 160)));
  }
}

std::string JsonReader::child_path(std::string_view key) const { return member_path(path_, key); }

std::string JsonReader::type_name() const {
  if (node_->is_null()) return "null";
  if (node_->is_boolean()) return "a boolean";
  if (node_->is_number()) return "a number";
  if (node_->is_string()) return fmt::format("the string \"{}\"", excerpt(node_->get_ref<const std::string&>()));
  if (node_->is_array()) return "an array";
  return "an object";
}

void JsonReader::fail(const std::string& what) const {
  throw InputError(fmt::format("{}: {}: {}", source_, path_, what));
}

bool JsonReader::has(std::string_view key) const {
  return node_->is_object() && node_->contains(key);
}

JsonReader JsonReader::child(std::string_view key) const {
  expect_object();
  auto it = node_->find(key);
  if (it == node_->end()) {
    throw InputError(fmt::format("{}: {}: missing required key", source_, child_path(key)));
  }
  return JsonReader(*it, source_, child_path(key));
}

JsonReader JsonReader::element(size_t index) const {
  expect_array();
  if (index >= node_->size()) fail(fmt::format("index {} out of range", index));
  return JsonReader((*node_)[index], source_, fmt::format("{}[{}]", path_, index));
}

void JsonReader::expect_object() const {
  if (!node_->is_object()) fail(fmt::format("expected an object, got {}", type_name()));
}

void JsonReader::expect_array() const {
  if (!node_->is_array()) fail(fmt::format("expected an array, got {}", type_name()));
}

void JsonReader::expect_only_keys(std::initializer_list<std::string_view> allowed) const {
  expect_object();
  for (auto it = node_->begin(); it != node_->end(); ++it) {
    bool known = false;
    for (auto a : allowed) known = known || a == it.key();
    if (!known) {
      std::string list;
      for (auto a : allowed) list += fmt::format("{}\"{}\"", list.empty() ? "" : ", ", a);
      throw InputError(fmt::format("{}: {}: unknown key (expected one of {})", source_,
                                   child_path(it.key()), list));
    }
  }
}

double JsonReader::number() const {
  if (!node_->is_number()) fail(fmt::format("expected a number, got {}", type_name()));
  double v = node_->get<double>();
  if (!std::isfinite(v)) fail("expected a finite number");
  return v;
}

double JsonReader::number_in(double min, double max) const {
  double v = number();
  if (v < min || v > max) fail(fmt::format("expected a number in [{}, {}], got {}", min, max, v));
  return v;
}

long long JsonReader::integer_in(long long min, long long max) const {
  if (!node_->is_number_integer() && !(node_->is_number_float() && std::floor(number()) == number())) {
    fail(fmt::format("expected an integer, got {}", type_name()));
  }
  double v = number();
  if (v < static_cast<double>(min) || v > static_cast<double>(max)) {
    fail(fmt::format("expected an integer in [{}, {}], got {}", min, max, v));
  }
  return static_cast<long long>(v);
}

bool JsonReader::boolean() const {
  if (!node_->is_boolean()) fail(fmt::format("expected true or false, got {}", type_name()));
  return node_->get<bool>();
}

std::string JsonReader::string() const {
  if (!node_->is_string()) fail(fmt::format("expected a string, got {}", type_name()));
  return node_->get<std::string>();
}

std::optional<double> JsonReader::optional_number(std::string_view key) const {
  if (!has(key) || (*node_)[std::string(key)].is_null()) return std::nullopt;
  return child(key).number();
}

std::optional<long long> JsonReader::optional_integer(std::string_view key, long long min,
                                                      long long max) const {
  if (!has(key) || (*node_)[std::string(key)].is_null()) return std::nullopt;
  return child(key).integer_in(min, max);
}

std::optional<std::string> JsonReader::optional_string(std::string_view key) const {
  if (!has(key) || (*node_)[std::string(key)].is_null()) return std::nullopt;
  return child(key).string();
}

std::optional<bool> JsonReader::optional_bool(std::string_view key) const {
  if (!has(key) || (*node_)[std::string(key)].is_null()) return std::nullopt;
  return child(key).boolean();
}

}  // namespace pt
