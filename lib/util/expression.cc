#include "util/expression.h"

#include <cctype>
#include <cmath>
#include <cstdlib>

#include <fmt/format.h>

#include "util/error.h"

namespace pt {

struct Expression::Node {
  enum class Kind { kNumber, kVariable, kAdd, kSub, kMul, kDiv, kNeg, kMin, kMax, kCeil, kFloor, kLt, kLe, kGt, kGe, kEq };
  Kind kind = Kind::kNumber;
  double number = 0;
  std::string name;
  std::vector<std::shared_ptr<const Node>> args;
};

namespace {

using NodePtr = std::shared_ptr<const Expression::Node>;
using Kind = Expression::Node::Kind;

class Parser {
 public:
  Parser(std::string_view text, const std::string& where) : text_(text), where_(where) {}

  NodePtr parse_all() {
    NodePtr node = parse_comparison();
    skip_space();
    if (pos_ != text_.size()) fail(fmt::format("unexpected '{}'", text_[pos_]));
    return node;
  }

 private:
  [[noreturn]] void fail(const std::string& what) const {
    throw InputError(fmt::format("{}: in expression \"{}\" at character {}: {}", where_, text_, pos_ + 1, what));
  }
  void skip_space() {
    while (pos_ < text_.size() && std::isspace(static_cast<unsigned char>(text_[pos_]))) ++pos_;
  }
  bool accept(char c) {
    skip_space();
    if (pos_ < text_.size() && text_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }
  static NodePtr make(Kind kind, std::vector<NodePtr> args) {
    auto node = std::make_shared<Expression::Node>();
    node->kind = kind;
    node->args = std::move(args);
    return node;
  }
  // Comparisons give 1 or 0, for an op's "when" condition.
  NodePtr parse_comparison() {
    NodePtr left = parse_sum();
    skip_space();
    if (text_.substr(pos_).starts_with(">=")) { pos_ += 2; return make(Kind::kGe, {left, parse_sum()}); }
    if (text_.substr(pos_).starts_with("<=")) { pos_ += 2; return make(Kind::kLe, {left, parse_sum()}); }
    if (text_.substr(pos_).starts_with("==")) { pos_ += 2; return make(Kind::kEq, {left, parse_sum()}); }
    if (accept('>')) return make(Kind::kGt, {left, parse_sum()});
    if (accept('<')) return make(Kind::kLt, {left, parse_sum()});
    return left;
  }
  NodePtr parse_sum() {
    NodePtr left = parse_product();
    for (;;) {
      if (accept('+')) left = make(Kind::kAdd, {left, parse_product()});
      else if (accept('-')) left = make(Kind::kSub, {left, parse_product()});
      else return left;
    }
  }
  NodePtr parse_product() {
    NodePtr left = parse_unary();
    for (;;) {
      if (accept('*')) left = make(Kind::kMul, {left, parse_unary()});
      else if (accept('/')) left = make(Kind::kDiv, {left, parse_unary()});
      else return left;
    }
  }
  NodePtr parse_unary() {
    if (accept('-')) return make(Kind::kNeg, {parse_unary()});
    if (accept('+')) return parse_unary();
    return parse_primary();
  }
  NodePtr parse_primary() {
    skip_space();
    if (pos_ >= text_.size()) fail("unexpected end");
    char c = text_[pos_];
    if (c == '(') {
      ++pos_;
      NodePtr inner = parse_comparison();
      if (!accept(')')) fail("expected ')'");
      return inner;
    }
    if (std::isdigit(static_cast<unsigned char>(c)) || c == '.') {
      const char* begin = text_.data() + pos_;
      char* end = nullptr;
      std::string copy(text_.substr(pos_));
      double value = std::strtod(copy.c_str(), &end);
      size_t used = static_cast<size_t>(end - copy.c_str());
      if (used == 0) fail("bad number");
      (void)begin;
      pos_ += used;
      auto node = std::make_shared<Expression::Node>();
      node->number = value;
      return node;
    }
    if (std::isalpha(static_cast<unsigned char>(c)) || c == '_') {
      size_t start = pos_;
      while (pos_ < text_.size() &&
             (std::isalnum(static_cast<unsigned char>(text_[pos_])) || text_[pos_] == '_')) {
        ++pos_;
      }
      std::string name(text_.substr(start, pos_ - start));
      if (accept('(')) return parse_call(name);
      auto node = std::make_shared<Expression::Node>();
      node->kind = Kind::kVariable;
      node->name = name;
      return node;
    }
    fail(fmt::format("unexpected '{}'", c));
  }
  NodePtr parse_call(const std::string& name) {
    std::vector<NodePtr> args;
    if (!accept(')')) {
      do {
        args.push_back(parse_sum());
      } while (accept(','));
      if (!accept(')')) fail("expected ')' after function arguments");
    }
    auto want = [&](size_t n) {
      if (args.size() != n) fail(fmt::format("{}() takes {} argument(s), got {}", name, n, args.size()));
    };
    if (name == "min" || name == "max") {
      if (args.size() < 2) fail(fmt::format("{}() takes at least 2 arguments", name));
      NodePtr acc = args[0];
      for (size_t i = 1; i < args.size(); ++i) acc = make(name == "min" ? Kind::kMin : Kind::kMax, {acc, args[i]});
      return acc;
    }
    if (name == "ceil") { want(1); return make(Kind::kCeil, args); }
    if (name == "floor") { want(1); return make(Kind::kFloor, args); }
    fail(fmt::format("unknown function '{}' (known: min, max, ceil, floor)", name));
  }

  std::string_view text_;
  const std::string& where_;
  size_t pos_ = 0;
};

double eval_node(const Expression::Node& node, const Expression::Lookup& lookup, const std::string& where,
                 const std::string& text);

// Every intermediate value must be finite: inf - inf is NaN, and NaN > 0 is a silent 0 (an op
// dropped by its "when").
double eval_finite(const Expression::Node& node, const Expression::Lookup& lookup, const std::string& where,
                   const std::string& text) {
  const double v = eval_node(node, lookup, where, text);
  if (!std::isfinite(v)) throw InputError(fmt::format("{}: expression \"{}\" is not finite", where, text));
  return v;
}

double eval_node(const Expression::Node& node, const Expression::Lookup& lookup, const std::string& where,
                 const std::string& text) {
  auto arg = [&](size_t i) { return eval_finite(*node.args[i], lookup, where, text); };
  switch (node.kind) {
    case Kind::kNumber: return node.number;
    case Kind::kVariable: {
      double value = 0;
      if (!lookup(node.name, value)) {
        throw InputError(fmt::format("{}: in expression \"{}\": unknown variable '{}'", where, text, node.name));
      }
      return value;
    }
    case Kind::kAdd: return arg(0) + arg(1);
    case Kind::kSub: return arg(0) - arg(1);
    case Kind::kMul: return arg(0) * arg(1);
    case Kind::kDiv: {
      double d = arg(1);
      if (d == 0) throw InputError(fmt::format("{}: in expression \"{}\": division by zero", where, text));
      return arg(0) / d;
    }
    case Kind::kNeg: return -arg(0);
    case Kind::kMin: return std::min(arg(0), arg(1));
    case Kind::kMax: return std::max(arg(0), arg(1));
    case Kind::kCeil: return std::ceil(arg(0) - 1e-9);
    case Kind::kFloor: return std::floor(arg(0) + 1e-9);
    case Kind::kLt: return arg(0) < arg(1) ? 1 : 0;
    case Kind::kLe: return arg(0) <= arg(1) ? 1 : 0;
    case Kind::kGt: return arg(0) > arg(1) ? 1 : 0;
    case Kind::kGe: return arg(0) >= arg(1) ? 1 : 0;
    case Kind::kEq: return arg(0) == arg(1) ? 1 : 0;
  }
  return 0;
}

void collect(const Expression::Node& node, std::vector<std::string>& out) {
  if (node.kind == Kind::kVariable) out.push_back(node.name);
  for (const auto& a : node.args) collect(*a, out);
}

}  // namespace

Expression Expression::parse(std::string_view text, const std::string& where) {
  // Parsing and evaluation recurse once per nesting level or operator: a bound on the length
  // bounds the stack (the bundled templates' longest expression has under 200 characters).
  constexpr size_t kMaxChars = 1024;
  if (text.size() > kMaxChars) {
    throw InputError(fmt::format("{}: expression of {} characters; at most {}", where, text.size(), kMaxChars));
  }
  Expression e;
  e.text_ = std::string(text);
  e.where_ = where;
  Parser parser(e.text_, where);
  e.root_ = parser.parse_all();
  return e;
}

Expression Expression::constant(double value) {
  Expression e;
  auto node = std::make_shared<Node>();
  node->number = value;
  e.root_ = node;
  e.text_ = fmt::format("{}", value);
  return e;
}

double Expression::evaluate(const Lookup& lookup) const {
  double v = eval_node(*root_, lookup, where_, text_);
  if (!std::isfinite(v)) {
    throw InputError(fmt::format("{}: expression \"{}\" is not finite", where_, text_));
  }
  return v;
}

std::vector<std::string> Expression::variables() const {
  std::vector<std::string> out;
  collect(*root_, out);
  return out;
}

}  // namespace pt
