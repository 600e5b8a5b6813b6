#pragma once
// Shared by the libFuzzer targets in this directory. A target may let only pt::InputError escape
// a parser: any other exception, a crash, a sanitizer report or a hang is a bug.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "util/error.h"
#include "util/printable.h"

namespace pt::fuzz {

inline std::string text_of(const uint8_t* data, size_t size) {
  return std::string(reinterpret_cast<const char*>(data), size);
}

// A broken invariant: print it and abort, so libFuzzer saves the input.
[[noreturn]] inline void invariant_failed(const char* what, const std::string& detail = "") {
  std::fprintf(stderr, "fuzz invariant failed: %s%s%s\n", what, detail.empty() ? "" : ": ", detail.c_str());
  std::abort();
}

// Runs `f`; a refusal of the input (InputError) is the expected outcome for most inputs. When
// `source` is given, the message must name it first ("<source>: ..."), as every parser error
// names its file. Returns true when `f` accepted the input.
template <typename F>
bool accepts(F&& f, std::string_view source = "") {
  try {
    f();
    return true;
  } catch (const InputError& e) {
    const std::string_view message = e.what();
    if (!source.empty() && !(message.starts_with(source) && message.substr(source.size()).starts_with(": "))) {
      invariant_failed("an error message does not name its source first", printable(message));
    }
    return false;
  }
}

}  // namespace pt::fuzz
