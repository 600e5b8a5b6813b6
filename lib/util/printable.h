#pragma once
// Strings taken from the user's input: UTF-8 checks, and a form safe to quote in a one-line
// error message, short even when the input is a 500 MB field.
#include <string>
#include <string_view>

namespace pt {

// Length of the well-formed UTF-8 sequence (RFC 3629) that starts at s[i], or 0 when the bytes
// there are not one.
inline size_t utf8_sequence_length(std::string_view s, size_t i) {
  const auto c = static_cast<unsigned char>(s[i]);
  if (c < 0x80) return 1;
  const size_t n = c >= 0xC2 && c <= 0xDF ? 2 : c >= 0xE0 && c <= 0xEF ? 3 : c >= 0xF0 && c <= 0xF4 ? 4 : 0;
  if (n == 0 || i + n > s.size()) return 0;
  const auto c1 = static_cast<unsigned char>(s[i + 1]);
  const unsigned char lo = c == 0xE0 ? 0xA0 : c == 0xF0 ? 0x90 : 0x80;  // no overlong forms
  const unsigned char hi = c == 0xED ? 0x9F : c == 0xF4 ? 0x8F : 0xBF;   // no surrogates, nothing above U+10FFFF
  if (c1 < lo || c1 > hi) return 0;
  for (size_t k = 2; k < n; ++k) {
    if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return 0;
  }
  return n;
}

// Offset of the first byte that is not part of well-formed UTF-8, or npos when `s` is valid.
inline size_t invalid_utf8_at(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    if (static_cast<unsigned char>(s[i]) < 0x80) {  // ASCII, the common case
      ++i;
      continue;
    }
    const size_t n = utf8_sequence_length(s, i);
    if (n == 0) return i;
    i += n;
  }
  return std::string_view::npos;
}

// Control characters become \n, \r, \t or \xNN, and so does every byte that is not part of
// well-formed UTF-8; everything else is kept as it is.
inline std::string printable(std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    const size_t n = utf8_sequence_length(s, i);
    if (n > 1) {
      out.append(s.substr(i, n));
      i += n;
      continue;
    }
    ++i;
    if (c == '\n') out += "\\n";
    else if (c == '\r') out += "\\r";
    else if (c == '\t') out += "\\t";
    else if (n == 1 && c >= 0x20 && c != 0x7f) out += static_cast<char>(c);
    else out += {'\\', 'x', kHex[c >> 4], kHex[c & 15]};
  }
  return out;
}

// A quote of user input in an error message: printable(), and when `s` is longer than
// `max_bytes`, its start (cut where no UTF-8 sequence is split) and its size. Every message
// already names the place (file, JSON path, CSV line), so the start is enough to recognize it.
constexpr size_t kMaxQuoteBytes = 64;
constexpr size_t kMaxErrorMessageBytes = 1024;  // a whole message, as main() prints it
inline std::string excerpt(std::string_view s, size_t max_bytes = kMaxQuoteBytes) {
  if (s.size() <= max_bytes) return printable(s);
  size_t cut = max_bytes;
  while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;
  return printable(s.substr(0, cut)) + "... (" + std::to_string(s.size()) + " bytes)";
}

}  // namespace pt
