#pragma once
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace pt {

// ---- reading ----------------------------------------------------------------------------------

// Whole file as a string; InputError naming the path when it is missing, a directory, a device,
// unreadable or larger than `max_bytes`. Files are parsed whole, in several times their size of
// memory: what a person writes (configs, templates, workloads, op times) is small; a profiler's
// CSV may be large (a kernel_details.csv takes about 9 times its size once parsed). A pipe
// (`@<(cmd)`, a FIFO) is read under the same limit.
constexpr unsigned long long kMaxTextFileBytes = 64ull << 20;     // 64 MiB
constexpr unsigned long long kMaxProfileFileBytes = 1ull << 30;   // 1 GiB
std::string read_text_file(const std::string& path, unsigned long long max_bytes = kMaxTextFileBytes);

// A file opened for reading that cannot hang the run: the open never blocks (a FIFO with no
// writer reads as empty), and only a regular file or a pipe is accepted. A directory is an
// InputError "<path>: is a directory, expected <expected>"; a device (/dev/zero, a terminal) is
// refused too, since it has no end. Owns the descriptor.
class InputFile {
 public:
  explicit InputFile(const std::string& path, const char* expected = "a file");
  ~InputFile();
  InputFile(const InputFile&) = delete;
  InputFile& operator=(const InputFile&) = delete;
  int fd() const { return fd_; }
  bool regular() const { return regular_; }
  unsigned long long size() const { return size_; }  // a regular file's, when opened
  int release();                                      // the caller closes it from now on

 private:
  int fd_ = -1;
  bool regular_ = false;
  unsigned long long size_ = 0;
};

// Writes whole or not at all: the content goes to a temporary file beside `path`, which is
// renamed over it only once complete, so a failure leaves any existing file untouched.
void write_file_atomically(const std::string& path, const std::string& content);

// Several outputs of one run: every file is written to its temporary first, and only when all
// are complete are they renamed into place, so a failure leaves every existing file untouched.
// An empty path is skipped; "-" means standard output, written last.
void write_outputs_atomically(const std::vector<std::pair<std::string, std::string>>& outputs);

}  // namespace pt
