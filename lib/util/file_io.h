#pragma once
#include <functional>
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

// A streamed read of a large input reports how far it got (`done` of `total` bytes; total 0 when
// unknown) to the function set here (main: a progress line on a terminal); none by default.
using ReadProgress = std::function<void(const std::string& path, unsigned long long done, unsigned long long total)>;
void set_read_progress(ReadProgress progress);
void report_read_progress(const std::string& path, unsigned long long done, unsigned long long total);

// ---- writing ----------------------------------------------------------------------------------

// The outputs of one run, written all or nothing:
//  - each file is staged beside its target, written, checked and fsync'ed; only when every output
//    is complete are they renamed into place, and a rename that fails puts back the ones already
//    renamed. A failure leaves every existing file as it was;
//  - a symlink is followed: its target is replaced and the link kept;
//  - an existing target that is not a regular file (/dev/null, a FIFO, /dev/stdout) is written
//    in place, not replaced; "-" is standard output. Both are written after staging and before
//    the renames, so a failed write there commits nothing either;
//  - two outputs that name the same file are refused before anything is written.
// Staging names are ".NAME.prefetch-tuner.HOST.PID.tmp": they are removed on failure and, with
// install_output_cleanup(), on SIGINT/SIGTERM/SIGHUP/SIGQUIT; a later run removes those left in
// the directories it writes to by a process of this host that no longer exists (SIGKILL).
// Contents are held by reference: they must outlive commit().
class OutputSet {
 public:
  // An empty path is skipped; "-" is standard output.
  void add_file(const std::string& path, std::string_view content);
  // A directory of files (relative paths) that must be new or empty; `what` names it in errors
  // ("cannot write the profile").
  void add_directory(const std::string& path, const std::vector<std::pair<std::string, std::string>>& files,
                     std::string what = "the directory");
  // The same for a directory too large to hold: `write` writes its files into the staging
  // directory it is given (a 16-rank profile export streams gigabytes), when the set is staged.
  // A signal while it runs leaves the files it wrote: a later run removes them (as after SIGKILL).
  using DirectoryWriter = std::function<void(const std::string& staged_dir)>;
  void add_directory(const std::string& path, DirectoryWriter write, std::string what = "the directory");
  // A file whose content is known only once the directories before it are written (a summary of
  // what they hold): `render` is called after every directory is staged, before any file is.
  void add_file(const std::string& path, std::function<std::string()> render);
  void commit();
  // After commit(): what it wrote, "wrote tuned.json (412 B), tune.svg (21.3 KiB)", each file and
  // directory by the name it was given, standard output left out; "" when it wrote no file.
  std::string summary() const;

 private:
  struct Entry {
    std::string path;
    std::string_view content;
    const std::vector<std::pair<std::string, std::string>>* files = nullptr;
    std::string what;
    DirectoryWriter writer;
    std::function<std::string()> render;
  };
  std::vector<Entry> entries_;
  std::vector<std::pair<std::string, std::string>> written_;  // name, size in words
};

// Where every committed OutputSet tells its summary (main: one line on stderr, so that a report
// on stdout stays clean); none by default.
void set_output_summary_sink(std::function<void(const std::string& summary)> sink);

// A byte count as the summary gives it: "412 B", "21.3 KiB", "1.5 MiB".
std::string size_in_words(unsigned long long bytes);

// One file, whole or not at all (an OutputSet of one).
void write_file_atomically(const std::string& path, const std::string& content);

// Several outputs of one run (an OutputSet): {path, content}; an empty path is skipped, "-" is
// standard output.
void write_outputs_atomically(const std::vector<std::pair<std::string, std::string>>& outputs);

// ---- process set-up (main) --------------------------------------------------------------------

// A closed standard descriptor (`>&-`) would be reused by the next open() and a report meant for
// stdout would land in an output file: each closed one of 0, 1, 2 is opened on /dev/null, and
// writing the report to a closed stdout is refused. SIGPIPE is ignored, so a closed pipe is a
// write error with a message, not a silent death.
void guard_standard_streams();
bool stdout_was_closed();

// SIGINT, SIGTERM, SIGHUP and SIGQUIT remove the staged files of the OutputSet in progress, then
// end the process by the same signal.
void install_output_cleanup();

// Flushes and closes stdout; InputError naming the error (a full disk, a closed pipe).
void close_stdout();

}  // namespace pt
