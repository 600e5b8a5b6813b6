#include "util/file_io.h"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/error.h"

namespace pt {

namespace fs = std::filesystem;

namespace {

std::string errno_text(int e) { return std::strerror(e); }

const char* kind_of(mode_t mode) {
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISSOCK(mode)) return "a socket";
  return "not a regular file";
}

}  // namespace

// ---- reading ----------------------------------------------------------------------------------

InputFile::InputFile(const std::string& path, const char* expected) {
  // O_NONBLOCK: opening a FIFO for reading waits for a writer otherwise.
  fd_ = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
  if (fd_ < 0) throw InputError(fmt::format("{}: cannot open for reading ({})", path, errno_text(errno)));
  struct stat st {};
  if (::fstat(fd_, &st) != 0) {
    const int e = errno;
    ::close(fd_);
    throw InputError(fmt::format("{}: cannot open for reading ({})", path, errno_text(e)));
  }
  if (S_ISDIR(st.st_mode)) {
    ::close(fd_);
    throw InputError(fmt::format("{}: is a directory, expected {}", path, expected));
  }
  regular_ = S_ISREG(st.st_mode);
  if (!regular_ && !S_ISFIFO(st.st_mode)) {
    ::close(fd_);
    throw InputError(fmt::format("{}: is {}, expected a regular file or a pipe", path, kind_of(st.st_mode)));
  }
  if (regular_) size_ = static_cast<unsigned long long>(st.st_size);
  // Reads then wait for data as usual; with no writer left a pipe reads as at its end.
  const int flags = ::fcntl(fd_, F_GETFL);
  if (flags >= 0) ::fcntl(fd_, F_SETFL, flags & ~O_NONBLOCK);
}

InputFile::~InputFile() {
  if (fd_ >= 0) ::close(fd_);
}

int InputFile::release() {
  const int fd = fd_;
  fd_ = -1;
  return fd;
}

std::string read_text_file(const std::string& path, unsigned long long max_bytes) {
  InputFile in(path);
  auto too_large = [&](const std::string& size) {
    return InputError(fmt::format("{}: {} bytes; at most {} MiB for this input", path, size, max_bytes >> 20));
  };
  if (in.regular() && in.size() > max_bytes) throw too_large(std::to_string(in.size()));
  std::string text;
  // A regular file is read in one piece; a pipe (or a file that grows) in chunks, up to one byte
  // past the limit, so that an endless source stops at the limit.
  text.resize(in.regular() ? static_cast<size_t>(in.size()) + 1 : size_t{64} << 10);
  size_t used = 0;
  while (true) {
    if (used == text.size()) {
      if (used > max_bytes) break;
      text.resize(std::min<size_t>(text.size() * 2, static_cast<size_t>(max_bytes) + 1));
    }
    const ssize_t n = ::read(in.fd(), text.data() + used, text.size() - used);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw InputError(fmt::format("{}: read error ({})", path, errno_text(errno)));
    }
    if (n == 0) break;
    used += static_cast<size_t>(n);
  }
  if (used > max_bytes) throw too_large(in.regular() ? std::to_string(used) : fmt::format("more than {}", max_bytes));
  text.resize(used);
  return text;
}

namespace {
ReadProgress& read_progress() {
  static ReadProgress progress;
  return progress;
}
}  // namespace

void set_read_progress(ReadProgress progress) { read_progress() = std::move(progress); }

void report_read_progress(const std::string& path, unsigned long long done, unsigned long long total) {
  if (read_progress()) read_progress()(path, done, total);
}

// ---- standard streams and signals -------------------------------------------------------------

namespace {

bool g_stdout_closed = false;

// Paths staged by the OutputSet in progress, newest last; read by the signal handler. Changed only
// with the cleanup signals blocked, so the handler never sees it half-updated.
std::vector<std::string> g_staged;

constexpr int kCleanupSignals[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT};

sigset_t cleanup_signal_set() {
  sigset_t set;
  sigemptyset(&set);
  for (int s : kCleanupSignals) sigaddset(&set, s);
  return set;
}

class CleanupSignalsBlocked {
 public:
  CleanupSignalsBlocked() {
    const sigset_t set = cleanup_signal_set();
    sigprocmask(SIG_BLOCK, &set, &old_);
  }
  ~CleanupSignalsBlocked() { sigprocmask(SIG_SETMASK, &old_, nullptr); }
  CleanupSignalsBlocked(const CleanupSignalsBlocked&) = delete;
  CleanupSignalsBlocked& operator=(const CleanupSignalsBlocked&) = delete;

 private:
  sigset_t old_;
};

void untrack(const fs::path& p) {
  CleanupSignalsBlocked blocked;
  const std::string s = p.string();
  for (size_t i = g_staged.size(); i-- > 0;) {
    if (g_staged[i] == s) {
      g_staged.erase(g_staged.begin() + static_cast<std::ptrdiff_t>(i));
      return;
    }
  }
}

extern "C" void remove_staged_and_reraise(int sig) {
  // Newest first: a staged directory's files before the directory. Only async-signal-safe calls.
  for (size_t i = g_staged.size(); i-- > 0;) {
    const char* p = g_staged[i].c_str();
    if (::unlink(p) != 0) ::rmdir(p);
  }
  ::signal(sig, SIG_DFL);
  ::raise(sig);  // delivered when the handler returns: the process ends by the signal it got
}

}  // namespace

void guard_standard_streams() {
  for (int fd = 0; fd <= 2; ++fd) {
    if (::fcntl(fd, F_GETFD) >= 0 || errno != EBADF) continue;
    const int null = ::open("/dev/null", fd == 0 ? O_RDONLY : O_WRONLY);
    if (null >= 0 && null != fd) {
      ::dup2(null, fd);
      ::close(null);
    }
    if (fd == 1) g_stdout_closed = true;
  }
  std::signal(SIGPIPE, SIG_IGN);
}

bool stdout_was_closed() { return g_stdout_closed; }

void install_output_cleanup() {
  struct sigaction action {};
  action.sa_handler = remove_staged_and_reraise;
  action.sa_mask = cleanup_signal_set();
  for (int s : kCleanupSignals) {
    struct sigaction old {};
    // A signal the parent set to be ignored (nohup, a background job's SIGINT) stays ignored.
    if (sigaction(s, nullptr, &old) == 0 && old.sa_handler == SIG_IGN) continue;
    sigaction(s, &action, nullptr);
  }
}

void close_stdout() {
  errno = 0;
  const bool flushed = std::fflush(stdout) == 0 && !std::ferror(stdout);
  int e = errno;
  const bool closed = std::fclose(stdout) == 0;
  if (flushed && !closed) e = errno;
  if (!flushed || !closed) {
    throw InputError(fmt::format("standard output: write failed ({})", e ? errno_text(e) : "error on the stream"));
  }
}

// ---- writing ----------------------------------------------------------------------------------

namespace {

const std::string& host_name() {
  static const std::string host = [] {
    char buf[256] = {};
    if (::gethostname(buf, sizeof buf - 1) != 0 || buf[0] == '\0') return std::string("localhost");
    std::string h(buf);
    for (char& c : h) {
      if (c == '/') c = '_';
    }
    return h;
  }();
  return host;
}

constexpr std::string_view kMarker = ".prefetch-tuner.";

// ".NAME.prefetch-tuner.HOST.PID.SUFFIX", short enough for any name (NAME_MAX is 255).
std::string staging_name(const std::string& target_name, const char* suffix) {
  return fmt::format(".{}{}{}.{}.{}", target_name.substr(0, 64), kMarker, host_name(), ::getpid(), suffix);
}

// The process that staged `name` on this host, or 0 when `name` is no staging name of this host.
pid_t stager_of(std::string_view name) {
  if (!name.starts_with('.') || !(name.ends_with(".tmp") || name.ends_with(".old"))) return 0;
  name.remove_suffix(4);
  const size_t dot = name.rfind('.');
  const size_t marker = name.rfind(kMarker);
  if (dot == std::string_view::npos || marker == std::string_view::npos || marker + kMarker.size() > dot) return 0;
  if (name.substr(marker + kMarker.size(), dot - marker - kMarker.size()) != host_name()) return 0;
  pid_t pid = 0;
  const std::string_view digits = name.substr(dot + 1);
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), pid);
  if (ec != std::errc() || end != digits.data() + digits.size() || pid <= 0) return 0;
  return pid;
}

// Staging files of processes of this host that died before they could remove them (SIGKILL, a
// crash, a power cut). A process that no longer exists cannot be writing them.
void remove_stale_staging(const fs::path& dir) {
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const pid_t pid = stager_of(it->path().filename().string());
    if (pid == 0 || pid == ::getpid()) continue;
    if (::kill(pid, 0) != 0 && errno == ESRCH) {
      std::error_code rm;
      fs::remove_all(it->path(), rm);
    }
  }
}

void write_all(int fd, std::string_view data, const std::string& what) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      throw InputError(fmt::format("{}: write failed ({})", what, errno_text(errno)));
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
}

// Creates `path` (which must not exist), writes `content`, fsyncs and closes it, all checked.
// Tracked from the moment it exists; on failure removed again.
void write_new_file(const fs::path& path, std::string_view content, mode_t mode, const struct stat* owner,
                    const std::string& what) {
  int fd;
  {
    CleanupSignalsBlocked blocked;  // created and tracked as one step
    fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
    if (fd < 0 && errno == EEXIST) {  // left by an earlier process with this pid
      ::unlink(path.c_str());
      fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
    }
    if (fd < 0) throw InputError(fmt::format("{}: cannot create output file ({})", what, errno_text(errno)));
    g_staged.push_back(path.string());
  }
  try {
    if (owner) {
      // The replacement keeps the replaced file's owner (when we may set it) and permissions;
      // failing to is not fatal: the content is what matters.
      if (::geteuid() == 0) (void)!::fchown(fd, owner->st_uid, owner->st_gid);
      ::fchmod(fd, owner->st_mode & 07777);
    }
    write_all(fd, content, what);
    if (::fsync(fd) != 0 && errno != EINVAL) {
      throw InputError(fmt::format("{}: write failed ({})", what, errno_text(errno)));
    }
    const int closed = ::close(fd);
    fd = -1;
    if (closed != 0) throw InputError(fmt::format("{}: write failed ({})", what, errno_text(errno)));
  } catch (...) {
    if (fd >= 0) ::close(fd);
    ::unlink(path.c_str());
    untrack(path);
    throw;
  }
}

void sync_directory(const fs::path& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;
  ::fsync(fd);  // the renames reach the disk; best effort (some file systems refuse)
  ::close(fd);
}

// /proc/PID/fd (or .../task/TID/fd): /dev/stdout and /dev/fd/N lead there. Such a name is a
// descriptor of this process, to be written in place, never replaced.
bool is_descriptor_directory(const fs::path& dir) {
  const std::string s = dir.string();
  return s.starts_with("/proc/") && s.ends_with("/fd");
}

enum class Kind { kStdout, kNew, kReplace, kInPlace, kDirectory };

struct Target {
  Kind kind = Kind::kNew;
  std::string given;   // as the user wrote it, for messages
  fs::path path;       // resolved: the real directory and final name
  fs::path dir;
  struct stat existing {};   // kReplace: the file replaced
  bool dir_existed = false;  // kDirectory: an empty directory is replaced
  std::string_view content;
  const std::vector<std::pair<std::string, std::string>>* files = nullptr;
  std::string what;
  const OutputSet::DirectoryWriter* writer = nullptr;
  const std::function<std::string()>* render = nullptr;
  std::string rendered;
  fs::path staged, backup;
  bool committed = false;
};

// Follows symlinks to the file that will be written and classifies it; every refusal happens here,
// before anything is written.
Target resolve(const std::string& given, bool directory) {
  Target t;
  t.given = given;
  fs::path p = given;
  if (directory && !p.has_filename() && p.has_parent_path()) p = p.parent_path();  // "run1/" is run1
  for (int hop = 0; hop <= 40; ++hop) {
    const fs::path parent = p.has_parent_path() ? p.parent_path() : fs::path(".");
    std::error_code ec;
    const fs::path dir = fs::canonical(parent, ec);
    if (ec || !fs::is_directory(dir, ec)) {
      throw InputError(fmt::format("{}: {} '{}' does not exist", given, directory ? "parent directory" : "output directory",
                                   parent.string()));
    }
    const fs::path name = p.filename();
    if (name.empty() || name == "." || name == "..") {
      if (!directory) throw InputError(fmt::format("{}: is a directory, expected a file path to write", given));
      p = fs::canonical(dir / name, ec);  // "." or "..": that directory, by its name in its parent
      if (ec || !p.has_filename()) throw InputError(fmt::format("{}: directory is not empty; name a new or empty directory", given));
      continue;
    }
    const fs::path full = dir / name;
    t.dir = dir;
    t.path = full;
    if (is_descriptor_directory(dir)) {
      if (directory) throw InputError(fmt::format("{}: exists and is not a directory", given));
      t.kind = Kind::kInPlace;
      return t;
    }
    struct stat st {};
    if (::lstat(full.c_str(), &st) != 0) {
      if (errno != ENOENT) throw InputError(fmt::format("{}: cannot write here ({})", given, errno_text(errno)));
      t.kind = directory ? Kind::kDirectory : Kind::kNew;
      return t;
    }
    if (S_ISLNK(st.st_mode)) {
      const fs::path link = fs::read_symlink(full, ec);
      if (ec) throw InputError(fmt::format("{}: cannot read the symbolic link ({})", given, ec.message()));
      p = link.is_absolute() ? link : dir / link;
      continue;
    }
    if (directory) {
      if (!S_ISDIR(st.st_mode)) throw InputError(fmt::format("{}: exists and is not a directory", given));
      if (!fs::is_empty(full, ec) || ec) {
        throw InputError(fmt::format("{}: directory is not empty; name a new or empty directory", given));
      }
      t.kind = Kind::kDirectory;
      t.dir_existed = true;
      return t;
    }
    if (S_ISDIR(st.st_mode)) throw InputError(fmt::format("{}: is a directory, expected a file path to write", given));
    if (S_ISREG(st.st_mode)) {
      t.kind = Kind::kReplace;
      t.existing = st;
    } else {
      t.kind = Kind::kInPlace;  // a device or a FIFO: written as it is
    }
    return t;
  }
  throw InputError(fmt::format("{}: too many levels of symbolic links", given));
}

void stage_directory(Target& t) {
  t.staged = t.dir / staging_name(t.path.filename().string(), "tmp");
  std::error_code ec;
  fs::remove_all(t.staged, ec);
  auto make_dir = [&](const fs::path& d) {
    CleanupSignalsBlocked blocked;
    if (::mkdir(d.c_str(), 0777) == 0) {
      g_staged.push_back(d.string());
      return;
    }
    int e = errno;
    if (e == EEXIST) {
      if (fs::is_directory(fs::symlink_status(d, ec))) return;
      e = ENOTDIR;  // a file of the set where another needs a directory
    }
    throw InputError(fmt::format("{}: cannot write {} ({})", t.given, t.what, errno_text(e)));
  };
  make_dir(t.staged);
  if (t.writer) {
    (*t.writer)(t.staged.string());
    return;
  }
  for (const auto& [rel, content] : *t.files) {
    const fs::path rel_path(rel);
    fs::path d = t.staged;
    for (const auto& part : rel_path.parent_path()) {
      d /= part;
      make_dir(d);
    }
    write_new_file(t.staged / rel_path, content, 0666, nullptr, (fs::path(t.given) / rel_path).string());
  }
}

// Removes what `t` staged and has not committed.
void discard(Target& t) {
  std::error_code ec;
  if (!t.staged.empty() && !t.committed) {
    fs::remove_all(t.staged, ec);
    CleanupSignalsBlocked blocked;
    const std::string prefix = t.staged.string();
    std::erase_if(g_staged, [&](const std::string& s) { return s.starts_with(prefix); });
  }
  if (!t.backup.empty()) {
    ::unlink(t.backup.c_str());
    untrack(t.backup);
  }
}

// Puts a committed target back as it was.
void roll_back(Target& t) {
  std::error_code ec;
  if (t.kind == Kind::kDirectory) {
    fs::rename(t.path, t.staged, ec);  // back to its staging name; removed with it
    if (t.dir_existed) ::mkdir(t.path.c_str(), 0777);
  } else if (!t.backup.empty()) {
    if (::rename(t.backup.c_str(), t.path.c_str()) == 0) untrack(t.backup);
    t.backup.clear();
  } else if (t.kind == Kind::kNew) {
    ::unlink(t.path.c_str());
  }
  t.committed = false;
}

void write_in_place(const Target& t) {
  const int fd = ::open(t.path.c_str(), O_WRONLY | O_APPEND | O_NOCTTY | O_CLOEXEC);
  if (fd < 0) throw InputError(fmt::format("{}: cannot open for writing ({})", t.given, errno_text(errno)));
  try {
    write_all(fd, t.content, t.given);
  } catch (...) {
    ::close(fd);
    throw;
  }
  if (::close(fd) != 0) throw InputError(fmt::format("{}: write failed ({})", t.given, errno_text(errno)));
}

void write_stdout(std::string_view content) {
  if (stdout_was_closed()) {
    throw InputError("standard output is closed: the report has nowhere to go (redirect it, or give -o FILE)");
  }
  errno = 0;
  const size_t n = std::fwrite(content.data(), 1, content.size(), stdout);
  if (n != content.size() || std::fflush(stdout) != 0) {
    const int e = errno;
    throw InputError(fmt::format("standard output: write failed ({})", e ? errno_text(e) : "error on the stream"));
  }
}

}  // namespace

namespace {
std::function<void(const std::string&)>& summary_sink() {
  static std::function<void(const std::string&)> sink;
  return sink;
}
}  // namespace

void set_output_summary_sink(std::function<void(const std::string& summary)> sink) { summary_sink() = std::move(sink); }

std::string size_in_words(unsigned long long bytes) {
  if (bytes < 1024) return fmt::format("{} B", bytes);
  if (bytes < (1ull << 20)) return fmt::format("{:.1f} KiB", bytes / 1024.0);
  if (bytes < (1ull << 30)) return fmt::format("{:.1f} MiB", bytes / 1048576.0);
  return fmt::format("{:.2f} GiB", bytes / 1073741824.0);
}

std::string OutputSet::summary() const {
  if (written_.empty()) return "";
  std::string out = "wrote ";
  for (size_t i = 0; i < written_.size(); ++i) {
    out += fmt::format("{}{} ({})", i > 0 ? ", " : "", written_[i].first, written_[i].second);
  }
  return out;
}

void OutputSet::add_file(const std::string& path, std::string_view content) {
  if (path.empty()) return;
  entries_.push_back({path, content, nullptr, "", {}, {}});
}

void OutputSet::add_directory(const std::string& path, const std::vector<std::pair<std::string, std::string>>& files,
                              std::string what) {
  entries_.push_back({path, {}, &files, std::move(what), {}, {}});
}

void OutputSet::add_directory(const std::string& path, DirectoryWriter write, std::string what) {
  entries_.push_back({path, {}, nullptr, std::move(what), std::move(write), {}});
}

void OutputSet::add_file(const std::string& path, std::function<std::string()> render) {
  if (path.empty()) return;
  entries_.push_back({path, {}, nullptr, "", {}, std::move(render)});
}

void OutputSet::commit() {
  // 1. Resolve and check every target before writing anything.
  std::vector<Target> targets;
  for (const Entry& e : entries_) {
    Target t;
    const bool directory = e.files != nullptr || e.writer;
    if (e.path == "-" && !directory) {
      t.kind = Kind::kStdout;
      t.given = e.path;
    } else {
      t = resolve(e.path, directory);
    }
    t.content = e.content;
    t.files = e.files;
    t.what = e.what;
    if (e.writer) t.writer = &e.writer;
    if (e.render) t.render = &e.render;
    for (const Target& other : targets) {
      const bool same = t.kind == Kind::kStdout ? other.kind == Kind::kStdout : other.kind != Kind::kStdout && other.path == t.path;
      if (!same) continue;
      if (other.given == t.given) {
        throw InputError(fmt::format("{}: named for two outputs; give each output its own file", t.given));
      }
      throw InputError(fmt::format("{} and {}: the same file for two outputs; give each output its own file", other.given,
                                   t.given));
    }
    targets.push_back(std::move(t));
  }
  try {
    // 2. Stage: every file complete and on disk before any is committed; directories first, then
    // the contents rendered from what they hold, then files.
    for (Target& t : targets) {
      if (t.kind != Kind::kDirectory) continue;
      remove_stale_staging(t.dir);
      try {
        stage_directory(t);
      } catch (const fs::filesystem_error& e) {
        throw InputError(fmt::format("{}: cannot write {} ({})", t.given, t.what, e.code().message()));
      }
    }
    for (Target& t : targets) {
      if (!t.render) continue;
      t.rendered = (*t.render)();
      t.content = t.rendered;
    }
    for (Target& t : targets) {
      if (t.kind == Kind::kStdout || t.kind == Kind::kInPlace || t.kind == Kind::kDirectory) continue;
      remove_stale_staging(t.dir);
      t.staged = t.dir / staging_name(t.path.filename().string(), "tmp");
      write_new_file(t.staged, t.content, 0666, t.kind == Kind::kReplace ? &t.existing : nullptr, t.given);
    }
    // 3. What cannot be staged: devices, FIFOs, standard output.
    for (const Target& t : targets) {
      if (t.kind == Kind::kInPlace) write_in_place(t);
    }
    for (const Target& t : targets) {
      if (t.kind == Kind::kStdout) write_stdout(t.content);
    }
    // 4. Commit. A signal now would leave some outputs committed and others not: they wait until
    // the set is in place (or rolled back).
    CleanupSignalsBlocked blocked;
    for (size_t i = 0; i < targets.size(); ++i) {
      Target& t = targets[i];
      if (t.staged.empty()) continue;
      if (t.kind == Kind::kReplace) {
        // A second name for the file replaced, to put it back if a later rename fails.
        t.backup = t.dir / staging_name(t.path.filename().string(), "old");
        ::unlink(t.backup.c_str());
        if (::link(t.path.c_str(), t.backup.c_str()) == 0) {
          g_staged.push_back(t.backup.string());
        } else {
          t.backup.clear();  // no hard links here: no way back for this one
        }
      }
      if (::rename(t.staged.c_str(), t.path.c_str()) != 0) {
        const int e = errno;
        for (size_t j = i; j-- > 0;) {
          if (targets[j].committed) roll_back(targets[j]);
        }
        throw InputError(fmt::format("{}: cannot move the finished file into place ({}); no output was changed", t.given,
                                     errno_text(e)));
      }
      t.committed = true;
    }
    for (Target& t : targets) {
      if (!t.committed) continue;
      const std::string prefix = t.staged.string();
      std::erase_if(g_staged, [&](const std::string& s) { return s.starts_with(prefix); });
      if (!t.backup.empty()) {
        ::unlink(t.backup.c_str());
        std::erase(g_staged, t.backup.string());
        t.backup.clear();
      }
    }
  } catch (...) {
    for (Target& t : targets) discard(t);
    throw;
  }
  std::vector<fs::path> synced;
  for (const Target& t : targets) {
    if (!t.committed || std::find(synced.begin(), synced.end(), t.dir) != synced.end()) continue;
    sync_directory(t.dir);
    synced.push_back(t.dir);
  }
  written_.clear();
  for (const Target& t : targets) {
    if (t.kind == Kind::kStdout) continue;
    if (t.files) {
      unsigned long long bytes = 0;
      for (const auto& [rel, content] : *t.files) bytes += content.size();
      std::string name = t.given;
      if (!name.ends_with('/')) name += '/';
      written_.emplace_back(name, fmt::format("{} file{}, {}", t.files->size(), t.files->size() == 1 ? "" : "s",
                                              size_in_words(bytes)));
    } else if (t.writer) {  // streamed into its directory: count what it wrote
      unsigned long long bytes = 0;
      size_t files = 0;
      std::error_code ec;
      for (fs::recursive_directory_iterator it(t.path, ec), end; !ec && it != end; it.increment(ec)) {
        if (it->is_regular_file(ec)) {
          ++files;
          bytes += it->file_size(ec);
        }
      }
      std::string name = t.given;
      if (!name.ends_with('/')) name += '/';
      written_.emplace_back(name, fmt::format("{} file{}, {}", files, files == 1 ? "" : "s", size_in_words(bytes)));
    } else {
      written_.emplace_back(t.given, size_in_words(t.content.size()));
    }
  }
  if (summary_sink() && !written_.empty()) summary_sink()(summary());
}

void write_file_atomically(const std::string& path, const std::string& content) {
  OutputSet set;
  set.add_file(path, content);
  set.commit();
}

void write_outputs_atomically(const std::vector<std::pair<std::string, std::string>>& outputs) {
  OutputSet set;
  for (const auto& [path, content] : outputs) set.add_file(path, content);
  set.commit();
}

}  // namespace pt
