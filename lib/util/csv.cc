#include "util/csv.h"

#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "util/error.h"
#include "util/file_io.h"
#include "util/printable.h"

namespace pt {

namespace {

// A row longer than this is not a profiler's: refused, so that memory stays bounded.
constexpr size_t kMaxRowBytes = size_t{64} << 20;

std::optional<size_t> find_column(const std::vector<std::string>& header, std::string_view name) {
  for (size_t i = 0; i < header.size(); ++i) {
    if (header[i] == name) return i;
  }
  return std::nullopt;
}

[[noreturn]] void missing_column(const std::string& source, const std::vector<std::string>& header,
                                 std::initializer_list<std::string_view> names) {
  std::vector<std::string> quoted;
  for (auto n : names) quoted.push_back(fmt::format("\"{}\"", n));
  throw InputError(fmt::format("{}: line 1: missing column {} (header has: {})", source, fmt::join(quoted, " or "),
                               excerpt(fmt::format("{}", fmt::join(header, ", ")), 256)));
}

double parse_number(std::string_view field, const std::string& source, size_t line, std::string_view column) {
  std::string_view text = field;
  while (!text.empty() && (text.back() == '\t' || text.back() == ' ')) text.remove_suffix(1);
  while (!text.empty() && (text.front() == '\t' || text.front() == ' ')) text.remove_prefix(1);
  double v = 0;
  bool ok = false;
  // The common case, a plain decimal: from_chars (correctly rounded, like strtod, and far faster).
  if (!text.empty() && text.front() != '+') {
    const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (ec == std::errc() && ptr == text.data() + text.size() && std::isfinite(v)) return v;
  }
  char buf[64];
  if (!text.empty() && text.size() < sizeof(buf)) {
    std::memcpy(buf, text.data(), text.size());
    buf[text.size()] = '\0';
    char* end = nullptr;
    v = std::strtod(buf, &end);
    ok = *end == '\0' && std::isfinite(v);
  }
  if (!ok) {
    throw InputError(fmt::format("{}: line {}: column \"{}\": expected a number, got \"{}\"", source, line,
                                 excerpt(column), excerpt(field)));
  }
  return v;
}

struct Underflow {};

class Parser {
 public:
  Parser(std::string source, const CsvHeaderCallback& on_header, const CsvRowCallback& on_row)
      : source_(std::move(source)), on_header_(on_header), on_row_(on_row) {
    header_.source = source_;
  }

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
  const char* refill(const char* pos) {
    char* buf = storage_.get();
    const size_t keep = static_cast<size_t>(end_ - pos);
    if (pos == buf && keep == capacity_) {
      if (capacity_ >= kMaxRowBytes) {
        throw InputError(fmt::format("{}: line {}: a row longer than {} MiB (not a profiler's CSV?)", source_, line_,
                                     kMaxRowBytes >> 20));
      }
      auto grown = std::make_unique_for_overwrite<char[]>(capacity_ * 2);
      std::memcpy(grown.get(), buf, keep);
      storage_ = std::move(grown);
      capacity_ *= 2;
      buf = storage_.get();
    } else if (keep > 0 && pos != buf) {
      std::memmove(buf, pos, keep);
    }
    const size_t want = capacity_ - keep;
    const size_t got = std::fread(buf + keep, 1, want, file_);
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
        if (!bom_checked_) {
          if (end_ - pos < 3 && !eof_) throw Underflow{};
          if (end_ - pos >= 3 && std::memcmp(pos, "\xEF\xBB\xBF", 3) == 0) pos += 3;
          bom_checked_ = true;
        }
        while (pos < end_ || !done_) {
          const char* p = pos;
          if (!record(p)) break;
          pos = p;
        }
        if (!header_seen_) throw InputError(fmt::format("{}: empty file, expected a CSV header line", source_));
        return;
      } catch (const Underflow&) {
        if (eof_) {
          // Cannot happen: every underflow at eof resolves inside record().
          throw InputError(fmt::format("{}: unexpected end of input", source_));
        }
        pos = refill(pos);
      }
    }
  }

  struct Span {
    const char* ptr;  // nullptr: in scratch_ at `offset`
    size_t offset, size;
  };

  // Parses one record at p (advancing it); false at the end of the input. Throws Underflow when
  // the record runs past the bytes held and more may come.
  bool record(const char*& p) {
    if (p >= end_) {
      if (!eof_) throw Underflow{};
      done_ = true;
      return false;
    }
    const char* start = p;
    size_t line = line_;
    spans_.clear();
    scratch_.clear();
    for (;;) {
      // One field.
      Span span{p, 0, 0};
      bool quoted = false;
      if (p < end_ && *p == '"') {
        quoted = true;
        const size_t quote_line = line;
        span.ptr = nullptr;
        span.offset = scratch_.size();
        ++p;
        for (;;) {
          const char* q = static_cast<const char*>(std::memchr(p, '"', static_cast<size_t>(end_ - p)));
          const char* stop = q ? q : end_;
          for (const char* c = p; c < stop; ++c) {
            if (*c == '\n') ++line;
          }
          scratch_.append(p, stop);
          if (!q) {
            if (!eof_) throw Underflow{};
            throw InputError(fmt::format("{}: line {}: unterminated quoted field (file truncated?)", source_, quote_line));
          }
          if (q + 1 >= end_ && !eof_) throw Underflow{};
          if (q + 1 < end_ && q[1] == '"') {
            scratch_ += '"';
            p = q + 2;
            continue;
          }
          p = q + 1;
          break;
        }
        // Text after the closing quote belongs to the field (as the whole-table parser has it).
        const char* stop = p;
        while (stop < end_ && *stop != ',' && *stop != '\n' && *stop != '\r') ++stop;
        scratch_.append(p, stop);
        p = stop;
        span.size = scratch_.size() - span.offset;
      } else {
        const char* q = p;
        while (q < end_ && *q != ',' && *q != '\n' && *q != '\r') ++q;
        span.size = static_cast<size_t>(q - p);
        p = q;
      }
      (void)quoted;
      spans_.push_back(span);
      // The delimiter.
      if (p >= end_) {
        if (!eof_) throw Underflow{};
        break;  // last row without a final newline
      }
      if (*p == ',') {
        ++p;
        continue;
      }
      if (*p == '\r') {
        if (p + 1 >= end_ && !eof_) throw Underflow{};
        p += (p + 1 < end_ && p[1] == '\n') ? 2 : 1;
      } else {
        ++p;  // '\n'
      }
      ++line;
      break;
    }
    check_utf8(start, p, line_);
    const size_t row_line = line_;
    line_ = line;
    fields_.clear();
    for (const Span& s : spans_) {
      fields_.emplace_back(s.ptr ? std::string_view(s.ptr, s.size) : std::string_view(scratch_.data() + s.offset, s.size));
    }
    if (fields_.size() == 1 && fields_[0].empty()) return true;  // blank line
    record_.line = row_line;
    record_.fields.swap(fields_);
    if (!header_seen_) {
      header_seen_ = true;
      header_.names.clear();
      for (auto f : record_.fields) {
        std::string h(f);
        while (!h.empty() && (h.back() == ' ' || h.back() == '\t')) h.pop_back();
        header_.names.push_back(std::move(h));
      }
      on_header_(header_);
    } else {
      on_row_(record_);
    }
    record_.fields.swap(fields_);
    return true;
  }

  void check_utf8(const char* from, const char* to, size_t first_line) const {
    const std::string_view span(from, static_cast<size_t>(to - from));
    bool ascii = true;
    for (unsigned char c : span) {
      if (c >= 0x80) {
        ascii = false;
        break;
      }
    }
    if (ascii) return;
    const size_t bad = invalid_utf8_at(span);
    if (bad == std::string_view::npos) return;
    size_t line = first_line;
    for (size_t i = 0; i < bad; ++i) {
      if (span[i] == '\n' || (span[i] == '\r' && (i + 1 >= span.size() || span[i + 1] != '\n'))) ++line;
    }
    throw InputError(fmt::format("{}: line {}: not valid UTF-8 (byte 0x{:02x}); save the file as UTF-8", source_, line,
                                 static_cast<unsigned char>(span[bad])));
  }

  std::string source_;
  const CsvHeaderCallback& on_header_;
  const CsvRowCallback& on_row_;
  CsvHeader header_;
  CsvRecord record_;
  std::vector<std::string_view> fields_;
  std::vector<Span> spans_;
  std::string scratch_;
  size_t line_ = 1;
  bool header_seen_ = false, bom_checked_ = false, done_ = false;

  const char* begin_ = nullptr;
  const char* end_ = nullptr;
  bool eof_ = true;
  std::FILE* file_ = nullptr;
  std::unique_ptr<char[]> storage_;
  size_t capacity_ = 0;
};

struct FileCloser {
  void operator()(std::FILE* f) const { std::fclose(f); }
};

}  // namespace

std::optional<size_t> CsvTable::column(std::string_view name) const { return find_column(header, name); }

size_t CsvTable::require_column(std::initializer_list<std::string_view> names) const {
  for (auto n : names) {
    if (auto c = column(n)) return *c;
  }
  missing_column(source, header, names);
}

std::optional<size_t> CsvHeader::column(std::string_view name) const { return find_column(names, name); }

std::optional<size_t> CsvHeader::first_of(std::initializer_list<std::string_view> candidates) const {
  for (auto n : candidates) {
    if (auto c = column(n)) return c;
  }
  return std::nullopt;
}

size_t CsvHeader::require_column(std::initializer_list<std::string_view> candidates) const {
  if (auto c = first_of(candidates)) return *c;
  missing_column(source, names, candidates);
}

double CsvHeader::number(const CsvRecord& record, size_t column) const {
  const std::string name = column < names.size() ? names[column] : fmt::format("#{}", column + 1);
  if (column >= record.fields.size()) {
    throw InputError(fmt::format("{}: line {}: column \"{}\" is missing (row has {} fields, header {})", source, record.line, name,
                                 record.fields.size(), names.size()));
  }
  return parse_number(record.fields[column], source, record.line, name);
}

void stream_csv_text(std::string_view text, const std::string& source, const CsvHeaderCallback& on_header,
                     const CsvRowCallback& on_row) {
  Parser parser(source, on_header, on_row);
  parser.run_text(text);
}

void stream_csv_file(const std::string& path, const CsvHeaderCallback& on_header, const CsvRowCallback& on_row,
                     size_t chunk_bytes) {
  // InputFile: a FIFO or a device cannot hang the run or feed it without end.
  InputFile in(path, "a CSV file");
  std::unique_ptr<std::FILE, FileCloser> file(::fdopen(in.fd(), "rb"));
  if (!file) throw InputError(fmt::format("{}: cannot open for reading ({})", path, std::strerror(errno)));
  in.release();
  Parser parser(path, on_header, on_row);
  parser.run_file(file.get(), chunk_bytes);
}

CsvTable parse_csv(std::string_view text, const std::string& source) {
  CsvTable table;
  table.source = source;
  stream_csv_text(
      text, source, [&](const CsvHeader& h) { table.header = h.names; },
      [&](const CsvRecord& r) {
        CsvRow row;
        row.line = r.line;
        row.fields.reserve(r.fields.size());
        for (auto f : r.fields) row.fields.emplace_back(f);
        table.rows.push_back(std::move(row));
      });
  return table;
}

double csv_number(const CsvTable& table, const CsvRow& row, size_t column) {
  const std::string name = column < table.header.size() ? table.header[column] : fmt::format("#{}", column + 1);
  if (column >= row.fields.size()) {
    throw InputError(fmt::format("{}: line {}: column \"{}\" is missing (row has {} fields, header {})", table.source,
                                 row.line, excerpt(name), row.fields.size(), table.header.size()));
  }
  return parse_number(row.fields[column], table.source, row.line, name);
}

std::string csv_escape(std::string_view field) {
  if (field.find_first_of(",\"\n\r") == std::string_view::npos) return std::string(field);
  std::string out = "\"";
  for (char c : field) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
  return out;
}

}  // namespace pt
