#pragma once
// One error type for every refusal of user input. The message names the file, JSON path or
// CSV line and what was expected; the CLI prints it once and exits non-zero.
#include <stdexcept>
#include <string>

namespace pt {

class InputError : public std::runtime_error {
 public:
  explicit InputError(const std::string& message) : std::runtime_error(message) {}
};

}  // namespace pt
