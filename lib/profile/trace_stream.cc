#include "profile/trace_stream.h"

#include "profile/profile.h"

#include <bit>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <unordered_map>

#include <fmt/format.h>

#include "util/error.h"
#include "util/file_io.h"
#include "util/printable.h"

namespace pt {

namespace {

// Thrown when a unit (one event, one top-level member) runs past the bytes held: the driver
// reads more and parses the unit again from its start. Never escapes the parser.
struct Underflow {};

constexpr int kMaxDepth = 512;

constexpr bool is_ws(unsigned char c) { return c == ' ' || c == '\n' || c == '\r' || c == '\t'; }
constexpr bool is_digit(unsigned char c) { return c >= '0' && c <= '9'; }
constexpr bool is_number_char(unsigned char c) {
  return is_digit(c) || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E';
}

// Eight bytes at a time (SWAR): a mask with the high bit set in the first byte that is a quote,
// a backslash or (when asked) a control character. Bits above the first hit may be spurious
// (borrows), so only the lowest set bit is used.
static_assert(std::endian::native == std::endian::little, "the SWAR string scan assumes little endian");
constexpr uint64_t kOnes = 0x0101010101010101ull;
constexpr uint64_t kHigh = 0x8080808080808080ull;
inline uint64_t load8(const char* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}
inline uint64_t zero_bytes(uint64_t v) { return (v - kOnes) & ~v & kHigh; }
inline uint64_t quote_or_backslash(uint64_t v) { return zero_bytes(v ^ (kOnes * '"')) | zero_bytes(v ^ (kOnes * '\\')); }
inline uint64_t string_special(uint64_t v) { return quote_or_backslash(v) | ((v - kOnes * 0x20) & ~v & kHigh); }
inline size_t first_hit(uint64_t mask) { return static_cast<size_t>(std::countr_zero(mask)) / 8; }

std::string describe_byte(char c) {
  const auto u = static_cast<unsigned char>(c);
  if (u >= 0x20 && u < 0x7f) return fmt::format("'{}'", c);
  return fmt::format("byte 0x{:02x}", u);
}

// Appends code point `cp` as UTF-8.
void append_utf8(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

// Number in `text` (a JSON number or the content of a numeric string, surrounding blanks
// allowed); false when it is not one.
bool to_double(std::string_view text, double& out) {
  while (!text.empty() && is_ws(static_cast<unsigned char>(text.front()))) text.remove_prefix(1);
  while (!text.empty() && is_ws(static_cast<unsigned char>(text.back()))) text.remove_suffix(1);
  if (text.empty()) return false;
  if (text.front() == '+') text.remove_prefix(1);
  const char* first = text.data();
  const char* last = first + text.size();
  auto [ptr, ec] = std::from_chars(first, last, out, std::chars_format::general);
  return ec == std::errc() && ptr == last && std::isfinite(out);
}

bool to_int(std::string_view text, int64_t& out) {
  while (!text.empty() && is_ws(static_cast<unsigned char>(text.front()))) text.remove_prefix(1);
  while (!text.empty() && is_ws(static_cast<unsigned char>(text.back()))) text.remove_suffix(1);
  if (text.empty()) return false;
  const char* first = text.data();
  const char* last = first + text.size();
  auto [ptr, ec] = std::from_chars(first, last, out);
  if (ec == std::errc() && ptr == last) return true;
  double d = 0;  // 3.0, 1e3, or out of int64 range
  if (!to_double(text, d) || !(d > -9.2e18 && d < 9.2e18)) return false;
  out = static_cast<int64_t>(d);
  return true;
}

class Parser {
 public:
  Parser(std::string source, const TraceEventCallback& on_event, const TraceEventFilter* filter)
      : source_(std::move(source)), on_event_(on_event), filter_(filter) {}

  void run_text(std::string_view text) {
    begin_ = text.data();
    end_ = text.data() + text.size();
    eof_ = true;
    drive();
  }

  void run_file(std::FILE* file, size_t chunk_bytes) {
    file_ = file;
    capacity_ = std::max<size_t>(chunk_bytes, 16);
    storage_ = std::make_unique_for_overwrite<char[]>(capacity_);
    begin_ = end_ = storage_.get();
    eof_ = false;
    drive();
  }

 private:
  enum class State { kStart, kObjectFirst, kObjectMember, kObjectNext, kArrayFirst, kArrayElement, kArrayNext, kDone };

  // ---- buffer -------------------------------------------------------------------------------

  uint64_t offset(const char* p) const { return base_ + static_cast<uint64_t>(p - begin_); }

  [[noreturn]] void fail(const char* p, std::string_view what) const { fail_at(offset(p), what); }
  [[noreturn]] void fail_at(uint64_t at, std::string_view what) const {
    throw InputError(fmt::format("{}: invalid JSON at byte {}: {}", source_, at, what));
  }

  [[noreturn]] void underflow(const char* p) const {
    if (eof_) fail(p, "unexpected end of input (file truncated?)");
    throw Underflow{};
  }
  // At least one byte at p.
  void need(const char* p) const {
    if (p >= end_) [[unlikely]]
      underflow(p);
  }

  // Keeps [pos, end) and appends the next bytes of the file after them; returns the new pos.
  const char* refill(const char* pos) {
    char* buf = storage_.get();
    const size_t keep = static_cast<size_t>(end_ - pos);
    base_ += static_cast<uint64_t>(pos - begin_);
    if (pos == buf && keep == capacity_) {
      // One unit fills the whole buffer: grow it, up to the largest unit a trace may hold.
      if (capacity_ >= kMaxTraceUnitBytes) {
        fail_at(base_, fmt::format("an event (or top-level member) larger than {} MiB: not a profiler's trace", kMaxTraceUnitBytes >> 20));
      }
      const size_t bigger = capacity_ * 2;
      auto grown = std::make_unique_for_overwrite<char[]>(bigger);
      std::memcpy(grown.get(), buf, keep);
      storage_ = std::move(grown);
      capacity_ = bigger;
      buf = storage_.get();
    } else if (keep > 0 && pos != buf) {
      std::memmove(buf, pos, keep);
    }
    const size_t want = capacity_ - keep;
    const size_t got = std::fread(buf + keep, 1, want, file_);
    report_read_progress(source_, base_ + keep + got, total_bytes_);
    if (got < want) {
      if (std::ferror(file_)) throw InputError(fmt::format("{}: read error ({})", source_, std::strerror(errno)));
      eof_ = true;
    }
    begin_ = buf;
    end_ = buf + keep + got;
    return buf;
  }

  void drive() {
    const char* pos = begin_;
    for (;;) {
      try {
        for (;;) {
          const char* p = pos;
          if (step(p)) return;
          pos = p;  // the unit is complete: never parsed again
        }
      } catch (const Underflow&) {
        pos = refill(pos);
      }
    }
  }

  // ---- tokens -------------------------------------------------------------------------------

  const char* ws(const char* p) const {
    for (;;) {
      need(p);
      if (!is_ws(static_cast<unsigned char>(*p))) return p;
      ++p;
    }
  }

  void expect(const char*& p, char c, const char* what) const {
    p = ws(p);
    if (*p != c) fail(p, fmt::format("expected {}, found {}", what, describe_byte(*p)));
    ++p;
  }

  // p at '"'. Returns the content, unescaped into `scratch` when it has escapes.
  std::string_view read_string(const char*& p, std::string& scratch) const {
    const char* s = p + 1;
    const char* q = s;
    for (;;) {
      while (end_ - q >= 8) {
        const uint64_t m = string_special(load8(q));
        if (m) {
          q += first_hit(m);
          break;
        }
        q += 8;
      }
      need(q);
      const auto c = static_cast<unsigned char>(*q);
      if (c == '"') {
        p = q + 1;
        return {s, static_cast<size_t>(q - s)};
      }
      if (c == '\\') break;
      if (c < 0x20) fail(q, "control character inside a string (escape it)");
      ++q;
    }
    scratch.assign(s, q);
    for (;;) {
      need(q);
      const auto c = static_cast<unsigned char>(*q);
      if (c == '"') {
        p = q + 1;
        return scratch;
      }
      if (c < 0x20) fail(q, "control character inside a string (escape it)");
      if (c != '\\') {
        scratch += static_cast<char>(c);
        ++q;
        continue;
      }
      need(q + 1);
      const char e = q[1];
      switch (e) {
        case '"': scratch += '"'; break;
        case '\\': scratch += '\\'; break;
        case '/': scratch += '/'; break;
        case 'b': scratch += '\b'; break;
        case 'f': scratch += '\f'; break;
        case 'n': scratch += '\n'; break;
        case 'r': scratch += '\r'; break;
        case 't': scratch += '\t'; break;
        case 'u': {
          uint32_t cp = hex4(q + 2);
          q += 6;
          if (cp >= 0xD800 && cp < 0xDC00) {  // high surrogate: a low one must follow
            need(q + 1);
            if (q[0] != '\\' || q[1] != 'u') fail(q, "unpaired UTF-16 surrogate in \\u escape");
            const uint32_t low = hex4(q + 2);
            if (low < 0xDC00 || low >= 0xE000) fail(q, "unpaired UTF-16 surrogate in \\u escape");
            cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
            q += 6;
          } else if (cp >= 0xDC00 && cp < 0xE000) {
            fail(q - 6, "unpaired UTF-16 surrogate in \\u escape");
          }
          append_utf8(scratch, cp);
          continue;
        }
        default: fail(q, fmt::format("invalid escape \\{}", e));
      }
      q += 2;
    }
  }

  uint32_t hex4(const char* p) const {
    uint32_t v = 0;
    for (int i = 0; i < 4; ++i) {
      need(p + i);
      const char c = p[i];
      v <<= 4;
      if (c >= '0' && c <= '9') v |= static_cast<uint32_t>(c - '0');
      else if (c >= 'a' && c <= 'f') v |= static_cast<uint32_t>(c - 'a' + 10);
      else if (c >= 'A' && c <= 'F') v |= static_cast<uint32_t>(c - 'A' + 10);
      else fail(p + i, "invalid \\u escape (expected 4 hex digits)");
    }
    return v;
  }

  // p at '"'; skips to after the closing quote without decoding.
  void skip_string(const char*& p) const {
    const char* q = p + 1;
    for (;;) {
      while (end_ - q >= 8) {
        const uint64_t m = quote_or_backslash(load8(q));
        if (m) {
          q += first_hit(m);
          break;
        }
        q += 8;
      }
      need(q);
      if (*q == '"') {
        p = q + 1;
        return;
      }
      if (*q == '\\') {
        need(q + 1);
        q += 2;  // the escaped character, whatever it is
      } else {
        ++q;
      }
    }
  }

  // p at the first character of a number; returns its text.
  std::string_view number_token(const char*& p) const {
    const char* q = p;
    for (;;) {
      need(q);  // a number is always followed by a delimiter inside the top-level value
      if (!is_number_char(static_cast<unsigned char>(*q))) break;
      ++q;
    }
    std::string_view text(p, static_cast<size_t>(q - p));
    const char first = text.front();
    if (!(first == '-' || is_digit(static_cast<unsigned char>(first))) ||
        !is_digit(static_cast<unsigned char>(text.back()))) {
      fail(p, fmt::format("malformed number \"{}\"", excerpt(text)));
    }
    p = q;
    return text;
  }

  // p at '-' or a digit. A plain integer straight from its digits; a fraction, an exponent or
  // more than 18 digits take the general path.
  int64_t read_integer(const char*& p) const {
    const char* q = p;
    const bool negative = *q == '-';
    if (negative) ++q;
    const char* digits = q;
    uint64_t v = 0;
    for (;;) {
      need(q);
      const unsigned d = static_cast<unsigned>(static_cast<unsigned char>(*q)) - '0';
      if (d > 9) break;
      v = v * 10 + d;
      ++q;
    }
    if (q == digits || q - digits > 18 || is_number_char(static_cast<unsigned char>(*q))) {
      const char* at = p;
      const std::string_view text = number_token(p);
      int64_t out = 0;
      if (!to_int(text, out)) fail(at, fmt::format("malformed number \"{}\"", excerpt(text)));
      return out;
    }
    p = q;
    return negative ? -static_cast<int64_t>(v) : static_cast<int64_t>(v);
  }

  void literal(const char*& p, std::string_view word) const {
    for (size_t i = 0; i < word.size(); ++i) {
      need(p + i);
      if (p[i] != word[i]) fail(p, fmt::format("unexpected {} (expected a JSON value)", describe_byte(*p)));
    }
    p += word.size();
  }

  void skip_value(const char*& p, int depth) const {
    p = ws(p);
    switch (*p) {
      case '"': skip_string(p); return;
      case '{': skip_object(p, depth + 1); return;
      case '[': skip_array(p, depth + 1); return;
      case 't': literal(p, "true"); return;
      case 'f': literal(p, "false"); return;
      case 'n': literal(p, "null"); return;
      default:
        if (*p == '-' || is_digit(static_cast<unsigned char>(*p))) {
          number_token(p);
          return;
        }
        fail(p, fmt::format("unexpected {} (expected a JSON value)", describe_byte(*p)));
    }
  }

  void check_depth(const char* p, int depth) const {
    if (depth > kMaxDepth) fail(p, fmt::format("nesting deeper than {} levels", kMaxDepth));
  }

  void skip_object(const char*& p, int depth) const {
    check_depth(p, depth);
    ++p;
    p = ws(p);
    if (*p == '}') {
      ++p;
      return;
    }
    for (;;) {
      if (*p != '"') fail(p, fmt::format("expected a string key, found {}", describe_byte(*p)));
      skip_string(p);
      expect(p, ':', "':' after an object key");
      skip_value(p, depth);
      p = ws(p);
      if (*p == ',') {
        p = ws(p + 1);
        continue;
      }
      if (*p == '}') {
        ++p;
        return;
      }
      fail(p, fmt::format("expected ',' or '}}' in an object, found {}", describe_byte(*p)));
    }
  }

  void skip_array(const char*& p, int depth) const {
    check_depth(p, depth);
    ++p;
    p = ws(p);
    if (*p == ']') {
      ++p;
      return;
    }
    for (;;) {
      skip_value(p, depth);
      p = ws(p);
      if (*p == ',') {
        ++p;
        continue;
      }
      if (*p == ']') {
        ++p;
        return;
      }
      fail(p, fmt::format("expected ',' or ']' in an array, found {}", describe_byte(*p)));
    }
  }

  // ---- typed values -------------------------------------------------------------------------

  // A number or a numeric string into `out`; null leaves `present` false. Anything else fails
  // when `strict` (ts, dur), else is skipped.
  void read_double(const char*& p, double& out, bool& present, const char* key, bool strict) {
    p = ws(p);
    const char* at = p;
    if (*p == '"') {
      std::string_view s = read_string(p, tmp_);
      if (to_double(s, out)) {
        present = true;
        return;
      }
      if (strict) fail(at, fmt::format("\"{}\" must be a number or a numeric string, found \"{}\"", key, excerpt(s)));
      return;
    }
    if (*p == '-' || is_digit(static_cast<unsigned char>(*p))) {
      std::string_view s = number_token(p);
      if (!to_double(s, out)) {
        double ignored = 0;
        const bool range = std::from_chars(s.data(), s.data() + s.size(), ignored).ec == std::errc::result_out_of_range;
        fail(at, fmt::format("{} \"{}\"", range ? "number out of range" : "malformed number", excerpt(s)));
      }
      present = true;
      return;
    }
    if (*p == 'n') {
      literal(p, "null");
      return;
    }
    if (strict) fail(at, fmt::format("\"{}\" must be a number or a numeric string", key));
    skip_value(p, 2);
  }

  // pid / tid: a number, a numeric string, or any other string (which gets an id of its own).
  void read_id(const char*& p, int64_t& out, bool& present) {
    p = ws(p);
    if (*p == '"') {
      std::string_view s = read_string(p, tmp_);
      if (!to_int(s, out)) {
        auto [it, inserted] = string_ids_.try_emplace(std::string(s), -2 - static_cast<int64_t>(string_ids_.size()));
        out = it->second;
      }
      present = true;
      return;
    }
    if (*p == '-' || is_digit(static_cast<unsigned char>(*p))) {
      out = read_integer(p);
      present = true;
      return;
    }
    skip_value(p, 2);
  }

  // An integer argument ("Task Id": 12 or "12"); "N/A" and other values leave `out` alone.
  void read_int_arg(const char*& p, int64_t& out) {
    p = ws(p);
    if (*p == '"') {
      std::string_view s = read_string(p, tmp_);
      int64_t v = 0;
      if (to_int(s, v)) out = v;
      return;
    }
    if (*p == '-' || is_digit(static_cast<unsigned char>(*p))) {
      out = read_integer(p);
      return;
    }
    skip_value(p, 3);
  }

  void read_string_value(const char*& p, std::string_view& out, std::string& scratch, int depth) {
    p = ws(p);
    if (*p == '"') {
      out = read_string(p, scratch);
      return;
    }
    skip_value(p, depth);
  }

  // ---- events -------------------------------------------------------------------------------

  void parse_args(const char*& p) {
    TraceEventFields& e = event_;
    check_depth(p, 2);
    ++p;
    p = ws(p);
    if (*p == '}') {
      ++p;
      return;
    }
    for (;;) {
      if (*p != '"') fail(p, fmt::format("expected a string key, found {}", describe_byte(*p)));
      const std::string_view key = read_string(p, key_buf_);
      expect(p, ':', "':' after an object key");
      bool handled = true;
      switch (key.size()) {
        case 4:
          if (key == "name") read_string_value(p, e.arg_name, arg_name_buf_, 2);
          else if (key == "Site") read_string_value(p, e.site, site_buf_, 2);
          else handled = false;
          break;
        case 5:
          if (key == "Layer") read_int_arg(p, e.layer);
          else handled = false;
          break;
        case 7:
          if (key == "Task Id") read_int_arg(p, e.task_id);
          else handled = false;
          break;
        case 9:
          if (key == "Task Type") read_string_value(p, e.task_type, task_type_buf_, 2);
          else if (key == "Stream Id") read_int_arg(p, e.stream_id);
          else handled = false;
          break;
        case 14:
          if (key == "Prefetch Bytes") {
            bool present = false;
            read_double(p, e.prefetch_bytes, present, "Prefetch Bytes", false);
          } else {
            handled = false;
          }
          break;
        case 16:
          if (key == "Physic Stream Id") read_int_arg(p, e.physic_stream_id);
          else handled = false;
          break;
        default: handled = false;
      }
      if (!handled) skip_value(p, 2);
      p = ws(p);
      if (*p == ',') {
        p = ws(p + 1);
        continue;
      }
      if (*p == '}') {
        ++p;
        return;
      }
      fail(p, fmt::format("expected ',' or '}}' in an object, found {}", describe_byte(*p)));
    }
  }

  // Whether the filter drops the event, from what is read of it so far.
  bool unwanted(const TraceEventFields& e) const {
    if (e.ph == 0) return false;
    if (e.ph != 'X') return e.ph != 'M' && filter_->complete_and_metadata_only;
    return e.has_pid && filter_->skip_complete && filter_->skip_complete(e.pid);
  }

  // After a member of an unwanted event: skips the others and the closing brace.
  void skip_members(const char*& p) const {
    for (;;) {
      p = ws(p);
      if (*p == '}') {
        ++p;
        return;
      }
      if (*p != ',') fail(p, fmt::format("expected ',' or '}}' in an event object, found {}", describe_byte(*p)));
      p = ws(p + 1);
      if (*p != '"') fail(p, fmt::format("expected a string key, found {}", describe_byte(*p)));
      skip_string(p);
      expect(p, ':', "':' after an object key");
      skip_value(p, 1);
    }
  }

  // Parses one event into event_; false when the filter dropped it.
  bool parse_event(const char*& p) {
    TraceEventFields& e = event_;
    e = TraceEventFields{};
    e.offset = offset(p);
    ++p;
    p = ws(p);
    if (*p == '}') {
      ++p;
      return true;
    }
    for (;;) {
      if (*p != '"') fail(p, fmt::format("expected a string key, found {}", describe_byte(*p)));
      const std::string_view key = read_string(p, key_buf_);
      expect(p, ':', "':' after an object key");
      bool handled = true, decides = false;
      switch (key.size()) {
        case 2:
          if (key == "ph") {
            std::string_view ph;
            read_string_value(p, ph, tmp_, 1);
            e.ph = ph.empty() ? 0 : ph.front();
            decides = true;
          } else if (key == "ts") {
            // Epoch microseconds lose precision in a double: keep the exact nanoseconds too.
            const char* start = ws(p);
            read_double(p, e.ts, e.has_ts, "ts", true);
            const std::string_view text(start, static_cast<size_t>(p - start));
            if (e.has_ts && !parse_timestamp_ns(text, e.ts_ns)) {
              // 9e15 us is the year 2255: beyond it, nanoseconds no longer fit an int64.
              if (!(std::abs(e.ts) <= 9e15)) {
                fail(start, fmt::format("\"ts\" {} is out of range (microseconds since the epoch)", text));
              }
              e.ts_ns = static_cast<int64_t>(std::llround(e.ts * 1000.0));
            }
          } else {
            handled = false;
          }
          break;
        case 3:
          if (key == "pid") {
            read_id(p, e.pid, e.has_pid);
            decides = true;
          } else if (key == "tid") read_id(p, e.tid, e.has_tid);
          else if (key == "dur") {
            bool present = false;
            read_double(p, e.dur, present, "dur", true);
          } else {
            handled = false;
          }
          break;
        case 4:
          if (key == "name") {
            read_string_value(p, e.name, name_buf_, 1);
          } else if (key == "args") {
            p = ws(p);
            if (*p == '{') parse_args(p);
            else handled = false;
          } else {
            handled = false;
          }
          break;
        default: handled = false;
      }
      if (!handled) skip_value(p, 1);
      if (decides && filter_ && unwanted(e)) {
        skip_members(p);
        return false;
      }
      p = ws(p);
      if (*p == ',') {
        p = ws(p + 1);
        continue;
      }
      if (*p == '}') {
        ++p;
        return true;
      }
      fail(p, fmt::format("expected ',' or '}}' in an event object, found {}", describe_byte(*p)));
    }
  }

  // ---- top level ----------------------------------------------------------------------------

  // Parses one unit from p; true when the whole input is done.
  bool step(const char*& p) {
    switch (state_) {
      case State::kStart: {
        while (p < end_ && is_ws(static_cast<unsigned char>(*p))) ++p;
        if (p >= end_) {
          if (eof_) {
            fail(p, "empty file, expected a Chrome trace (a JSON array of events or an object with \"traceEvents\")");
          }
          throw Underflow{};
        }
        if (*p == '\xEF') {  // UTF-8 byte order mark
          need(p + 2);
          if (p[1] == '\xBB' && p[2] == '\xBF') {
            p += 3;
            return false;
          }
        }
        if (*p == '[') {
          ++p;
          in_object_ = false;
          state_ = State::kArrayFirst;
          return false;
        }
        if (*p == '{') {
          ++p;
          state_ = State::kObjectFirst;
          return false;
        }
        fail(p, fmt::format("expected '[' or '{{' at the start of a Chrome trace, found {}", describe_byte(*p)));
      }
      case State::kObjectFirst:
        p = ws(p);
        if (*p == '}') {
          ++p;
          state_ = State::kDone;
        } else {
          state_ = State::kObjectMember;
        }
        return false;
      case State::kObjectMember: {
        p = ws(p);
        if (*p != '"') fail(p, fmt::format("expected a string key, found {}", describe_byte(*p)));
        const std::string_view key = read_string(p, key_buf_);
        expect(p, ':', "':' after an object key");
        if (key == "traceEvents") {
          p = ws(p);
          if (*p != '[') fail(p, "\"traceEvents\" must be an array of events");
          ++p;
          in_object_ = true;
          state_ = State::kArrayFirst;
        } else {
          skip_value(p, 1);
          state_ = State::kObjectNext;
        }
        return false;
      }
      case State::kObjectNext:
        p = ws(p);
        if (*p == ',') {
          ++p;
          state_ = State::kObjectMember;
        } else if (*p == '}') {
          ++p;
          state_ = State::kDone;
        } else {
          fail(p, fmt::format("expected ',' or '}}' in the top-level object, found {}", describe_byte(*p)));
        }
        return false;
      case State::kArrayFirst:
        p = ws(p);
        if (*p == ']') {
          ++p;
          state_ = in_object_ ? State::kObjectNext : State::kDone;
        } else {
          state_ = State::kArrayElement;
        }
        return false;
      case State::kArrayElement:
        p = ws(p);
        if (*p == '{') {
          if (parse_event(p)) on_event_(event_);
        } else {
          skip_value(p, 1);
        }
        state_ = State::kArrayNext;
        return false;
      case State::kArrayNext:
        p = ws(p);
        if (*p == ',') {
          ++p;
          state_ = State::kArrayElement;
        } else if (*p == ']') {
          ++p;
          state_ = in_object_ ? State::kObjectNext : State::kDone;
        } else {
          fail(p, fmt::format("expected ',' or ']' between events, found {}", describe_byte(*p)));
        }
        return false;
      case State::kDone: {
        const char* start = p;
        while (p < end_ && is_ws(static_cast<unsigned char>(*p))) ++p;
        if (p < end_) fail(p, fmt::format("unexpected {} after the end of the trace", describe_byte(*p)));
        if (eof_) return true;
        if (p == start) throw Underflow{};
        return false;
      }
    }
    return true;
  }

  const char* begin_ = nullptr;
  const char* end_ = nullptr;
  uint64_t base_ = 0;  // byte offset of begin_ in the input

 public:
  uint64_t total_bytes_ = 0;  // the file's size, for report_read_progress (0: a pipe)

 private:
  bool eof_ = true;
  std::FILE* file_ = nullptr;
  std::unique_ptr<char[]> storage_;
  size_t capacity_ = 0;

  std::string source_;
  const TraceEventCallback& on_event_;
  const TraceEventFilter* filter_;
  State state_ = State::kStart;
  bool in_object_ = false;  // the event array is the "traceEvents" member of a top-level object

  TraceEventFields event_;
  std::string key_buf_, name_buf_, arg_name_buf_, task_type_buf_, site_buf_, tmp_;
  std::unordered_map<std::string, int64_t> string_ids_;
};

struct FileCloser {
  void operator()(std::FILE* f) const { std::fclose(f); }
};

}  // namespace

void parse_trace_file(const std::string& path, const TraceEventCallback& on_event, size_t chunk_bytes,
                      const TraceEventFilter* filter) {
  // InputFile: a FIFO or a device cannot hang the run or feed it without end.
  InputFile in(path, "a trace file");
  std::unique_ptr<std::FILE, FileCloser> file(::fdopen(in.fd(), "rb"));
  if (!file) throw InputError(fmt::format("{}: cannot open for reading ({})", path, std::strerror(errno)));
  const uint64_t size = in.regular() ? in.size() : 0;
  in.release();
  Parser parser(path, on_event, filter);
  parser.total_bytes_ = size;
  parser.run_file(file.get(), chunk_bytes);
}

void parse_trace_text(std::string_view text, const std::string& source, const TraceEventCallback& on_event,
                      const TraceEventFilter* filter) {
  Parser parser(source, on_event, filter);
  parser.run_text(text);
}

}  // namespace pt
