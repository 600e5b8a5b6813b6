#pragma once
#include <string>
#include <utility>
#include <vector>

namespace pt {

// Whole file as a string; InputError naming the path when it is missing, a directory, unreadable
// or larger than `max_bytes`. Files are parsed whole, in several times their size of memory:
// what a person writes (configs, templates, workloads, op times) is small; a profiler's CSV may
// be large (a kernel_details.csv takes about 9 times its size once parsed).
constexpr unsigned long long kMaxTextFileBytes = 64ull << 20;     // 64 MiB
constexpr unsigned long long kMaxProfileFileBytes = 1ull << 30;   // 1 GiB
std::string read_text_file(const std::string& path, unsigned long long max_bytes = kMaxTextFileBytes);

// Writes whole or not at all: the content goes to a temporary file beside `path`, which is
// renamed over it only once complete, so a failure leaves any existing file untouched.
void write_file_atomically(const std::string& path, const std::string& content);

// Several outputs of one run: every file is written to its temporary first, and only when all
// are complete are they renamed into place, so a failure leaves every existing file untouched.
// An empty path is skipped; "-" means standard output, written last.
void write_outputs_atomically(const std::vector<std::pair<std::string, std::string>>& outputs);

}  // namespace pt
