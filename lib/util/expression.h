#pragma once
// Arithmetic over named shape variables, used by layer templates so the op sequence stays data:
// "T*H*2", "ceil(T/TP)*H", "max(1, NKV)", "TP > 1". Operators + - * / and parentheses, one
// comparison (< <= > >= ==, giving 1 or 0); functions min, max, ceil, floor. Evaluated once per scenario when a template is instantiated, never
// in the simulation loop.
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace pt {

class Expression {
 public:
  using Lookup = std::function<bool(std::string_view name, double& value)>;

  // Throws InputError("<where>: ...") on a syntax error.
  static Expression parse(std::string_view text, const std::string& where);
  static Expression constant(double value);

  // Throws InputError("<where>: unknown variable ...") for a name the lookup does not know.
  double evaluate(const Lookup& lookup) const;
  const std::string& text() const { return text_; }
  std::vector<std::string> variables() const;

  struct Node;

 private:
  std::shared_ptr<const Node> root_;
  std::string text_;
  std::string where_;
};

}  // namespace pt
