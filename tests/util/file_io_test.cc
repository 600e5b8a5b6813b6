#include "util/file_io.h"

#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstring>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "test_support.h"

namespace pt {
namespace {

namespace fs = std::filesystem;
using test::contains;
using test::error_of;

class FileIo : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = test::make_temp_dir(); }
  void TearDown() override { fs::remove_all(dir_); }
  size_t entries() const { return static_cast<size_t>(std::distance(fs::directory_iterator(dir_), fs::directory_iterator{})); }
  std::string dir_;
};

TEST_F(FileIo, ReadsWholeFileBytesUnchanged) {
  const std::string content = std::string("a\r\nb\0c", 6) + "\n";
  test::write_file(dir_ + "/f.bin", content);
  EXPECT_EQ(read_text_file(dir_ + "/f.bin"), content);
  test::write_file(dir_ + "/empty", "");
  EXPECT_EQ(read_text_file(dir_ + "/empty"), "");
}

// What a run wrote, in the order given, by the names given, with sizes; a failed set says nothing.
TEST_F(FileIo, ACommittedSetSaysWhatItWrote) {
  std::vector<std::string> told;
  set_output_summary_sink([&](const std::string& s) { told.push_back(s); });
  const std::string big(3 * 1024 + 512, 'x');
  const std::vector<std::pair<std::string, std::string>> files{{"a.csv", "1,2\n"}, {"sub/b.json", "{}"}};
  const std::string tuned(412, 'j');  // add_file keeps a view: the content must outlive the commit
  OutputSet set;
  set.add_file(dir_ + "/tuned.json", tuned);
  set.add_file("", "skipped");
  set.add_file(dir_ + "/tune.svg", big);
  set.add_directory(dir_ + "/run1", files);
  set.commit();
  const std::string expected = "wrote " + dir_ + "/tuned.json (412 B), " + dir_ + "/tune.svg (3.5 KiB), " + dir_ +
                               "/run1/ (2 files, 6 B)";
  EXPECT_EQ(set.summary(), expected);
  EXPECT_EQ(told, std::vector<std::string>{expected});
  // Nothing written, nothing said.
  OutputSet none;
  none.commit();
  EXPECT_EQ(none.summary(), "");
  OutputSet failing;
  failing.add_file(dir_ + "/missing/out.txt", "x");
  EXPECT_NE(error_of([&] { failing.commit(); }), "");
  set_output_summary_sink({});
  EXPECT_EQ(told.size(), 1u);
  EXPECT_EQ(size_in_words(1023), "1023 B");
  EXPECT_EQ(size_in_words(1536), "1.5 KiB");
  EXPECT_EQ(size_in_words(5u << 20), "5.0 MiB");
}

TEST_F(FileIo, ReadErrorsNameThePath) {
  EXPECT_PRED2(contains, error_of([&] { read_text_file(dir_ + "/missing.json"); }), dir_ + "/missing.json: cannot open for reading");
  EXPECT_EQ(error_of([&] { read_text_file(dir_); }), dir_ + ": is a directory, expected a file");
}

TEST_F(FileIo, WriteCreatesAndReplacesLeavingNoTempFile) {
  write_file_atomically(dir_ + "/out.txt", "first\n");
  EXPECT_EQ(test::read_file(dir_ + "/out.txt"), "first\n");
  write_file_atomically(dir_ + "/out.txt", "second\n");
  EXPECT_EQ(test::read_file(dir_ + "/out.txt"), "second\n");
  EXPECT_EQ(entries(), 1u);
}

TEST_F(FileIo, WriteIntoAMissingDirectoryFailsAndCreatesNothing) {
  EXPECT_EQ(error_of([&] { write_file_atomically(dir_ + "/no/out.txt", "x"); }),
            dir_ + "/no/out.txt: output directory '" + dir_ + "/no' does not exist");
  EXPECT_EQ(entries(), 0u);
}

TEST_F(FileIo, WriteOntoADirectoryFailsAndLeavesIt) {
  fs::create_directories(dir_ + "/d");
  EXPECT_EQ(error_of([&] { write_file_atomically(dir_ + "/d", "x"); }),
            dir_ + "/d: is a directory, expected a file path to write");
  EXPECT_TRUE(fs::is_directory(dir_ + "/d"));
  EXPECT_EQ(entries(), 1u);
}

// ---- inputs that are not regular files ----------------------------------------------------

TEST_F(FileIo, ADeviceIsRefusedWithoutReadingIt) {
  EXPECT_EQ(error_of([] { read_text_file("/dev/zero"); }), "/dev/zero: is a character device, expected a regular file or a pipe");
  EXPECT_EQ(error_of([] { read_text_file("/dev/urandom", kMaxProfileFileBytes); }),
            "/dev/urandom: is a character device, expected a regular file or a pipe");
}

// Opening a FIFO for reading waits for a writer: a FIFO nobody writes to hung the run. Checked in a
// child with an alarm, so that a hang fails the test instead of stalling the suite.
TEST_F(FileIo, AFifoWithNoWriterReadsAsEmptyWithoutWaiting) {
  const std::string fifo = dir_ + "/fifo.json";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0644), 0);
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::alarm(10);
    try {
      ::_exit(read_text_file(fifo).empty() ? 0 : 1);
    } catch (...) {
      ::_exit(2);
    }
  }
  const int status = test::wait_for(pid);
  ASSERT_FALSE(WIFSIGNALED(status)) << "read_text_file blocked on a FIFO with no writer (killed by signal "
                                    << WTERMSIG(status) << ")";
  EXPECT_EQ(WEXITSTATUS(status), 0);
}

// `--additional-config @<(cmd)`: a pipe is read whole, and one that does not end stops at the limit.
TEST_F(FileIo, APipeIsReadUpToTheLimit) {
  std::signal(SIGPIPE, SIG_IGN);
  auto read_pipe = [](size_t bytes, unsigned long long limit) {
    int fds[2];
    EXPECT_EQ(::pipe(fds), 0);
    std::thread writer([&, w = fds[1]] {
      const std::string chunk(4096, 'p');
      for (size_t left = bytes; left > 0;) {
        const ssize_t n = ::write(w, chunk.data(), std::min(left, chunk.size()));
        if (n <= 0) break;  // the reader gave up (EPIPE)
        left -= static_cast<size_t>(n);
      }
      ::close(w);
    });
    std::string got, error;
    try {
      got = read_text_file("/proc/self/fd/" + std::to_string(fds[0]), limit);
    } catch (const InputError& e) {
      error = e.what();
    }
    ::close(fds[0]);
    writer.join();
    return std::pair{got, error};
  };
  const auto [whole, no_error] = read_pipe(300'000, 1 << 20);
  EXPECT_EQ(whole, std::string(300'000, 'p'));
  EXPECT_EQ(no_error, "");
  const auto [none, too_long] = read_pipe(3 << 20, 1 << 20);
  EXPECT_EQ(none, "");
  EXPECT_PRED2(contains, too_long, ": more than 1048576 bytes; at most 1 MiB for this input");
}

// ---- outputs that are not plain new files ---------------------------------------------------

TEST_F(FileIo, ASymlinkIsFollowedItsTargetReplacedAndTheLinkKept) {
  fs::create_directories(dir_ + "/real");
  test::write_file(dir_ + "/real/report.txt", "old\n");
  fs::create_symlink("real/report.txt", dir_ + "/link.txt");          // relative to the link
  fs::create_symlink(dir_ + "/link.txt", dir_ + "/link2.txt");        // a chain, absolute
  write_file_atomically(dir_ + "/link2.txt", "new\n");
  EXPECT_TRUE(fs::is_symlink(dir_ + "/link.txt"));
  EXPECT_TRUE(fs::is_symlink(dir_ + "/link2.txt"));
  EXPECT_EQ(test::read_file(dir_ + "/real/report.txt"), "new\n");
  // A dangling link creates its target.
  fs::create_symlink("real/new.txt", dir_ + "/dangling.txt");
  write_file_atomically(dir_ + "/dangling.txt", "created\n");
  EXPECT_TRUE(fs::is_symlink(dir_ + "/dangling.txt"));
  EXPECT_EQ(test::read_file(dir_ + "/real/new.txt"), "created\n");
  EXPECT_EQ(entries(), 4u);  // real, link, link2, dangling: no staging file left
  fs::create_symlink("loop.txt", dir_ + "/loop.txt");
  EXPECT_PRED2(contains, error_of([&] { write_file_atomically(dir_ + "/loop.txt", "x"); }), "too many levels of symbolic links");
}

TEST_F(FileIo, ADirectoryOutputFollowsASymlinkAndTakesATrailingSlash) {
  const std::vector<std::pair<std::string, std::string>> files = {{"sub/a.txt", "a\n"}};
  fs::create_directories(dir_ + "/empty");
  fs::create_symlink("empty", dir_ + "/link");
  OutputSet through_link;
  through_link.add_directory(dir_ + "/link", files);
  through_link.commit();
  EXPECT_TRUE(fs::is_symlink(dir_ + "/link"));
  EXPECT_EQ(test::read_file(dir_ + "/empty/sub/a.txt"), "a\n");
  OutputSet slash;
  slash.add_directory(dir_ + "/new/", files);
  slash.commit();
  EXPECT_EQ(test::read_file(dir_ + "/new/sub/a.txt"), "a\n");
  EXPECT_EQ(entries(), 3u);  // empty, link, new: no staging directory left
  OutputSet root;
  root.add_directory("/", files);
  EXPECT_PRED2(contains, error_of([&] { root.commit(); }), "/: directory is not empty");
}

TEST_F(FileIo, AReplacedFileKeepsItsPermissions) {
  test::write_file(dir_ + "/out.txt", "old\n");
  fs::permissions(dir_ + "/out.txt", fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read);
  write_file_atomically(dir_ + "/out.txt", "new\n");
  EXPECT_EQ(fs::status(dir_ + "/out.txt").permissions(), fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read);
  EXPECT_EQ(test::read_file(dir_ + "/out.txt"), "new\n");
}

// /dev/null as root was replaced by a regular file; /dev/full "succeeded". A device node of their
// numbers here, so the test never touches the machine's own.
TEST_F(FileIo, ADeviceIsWrittenInPlaceAndItsErrorsAreErrors) {
  const std::string null = dir_ + "/null", full = dir_ + "/full";
  if (::mknod(null.c_str(), S_IFCHR | 0666, makedev(1, 3)) != 0 || ::mknod(full.c_str(), S_IFCHR | 0666, makedev(1, 7)) != 0) {
    GTEST_SKIP() << "mknod is not permitted here (" << std::strerror(errno) << "): no device node to write to";
  }
  write_file_atomically(null, "report\n");
  EXPECT_TRUE(fs::is_character_file(null));
  test::write_file(dir_ + "/other.txt", "keep\n");
  EXPECT_EQ(error_of([&] { write_outputs_atomically({{dir_ + "/other.txt", "new\n"}, {full, "report\n"}}); }),
            full + ": write failed (No space left on device)");
  EXPECT_TRUE(fs::is_character_file(full));
  EXPECT_EQ(test::read_file(dir_ + "/other.txt"), "keep\n");  // staged, never committed
  EXPECT_EQ(entries(), 3u);
}

TEST_F(FileIo, AFifoIsWrittenInPlace) {
  const std::string fifo = dir_ + "/fifo";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0644), 0);
  std::string got;
  std::thread reader([&] { got = test::read_file(fifo); });
  write_file_atomically(fifo, "through the pipe\n");
  reader.join();
  EXPECT_EQ(got, "through the pipe\n");
  EXPECT_TRUE(fs::is_fifo(fifo));
  EXPECT_EQ(entries(), 1u);
}

TEST_F(FileIo, OneFileForTwoOutputsIsRefusedBeforeEitherIsWritten) {
  test::write_file(dir_ + "/a.txt", "keep\n");
  fs::create_symlink("a.txt", dir_ + "/alias.txt");
  EXPECT_EQ(error_of([&] { write_outputs_atomically({{dir_ + "/a.txt", "1"}, {dir_ + "/a.txt", "2"}}); }),
            dir_ + "/a.txt: named for two outputs; give each output its own file");
  EXPECT_EQ(error_of([&] { write_outputs_atomically({{dir_ + "/a.txt", "1"}, {dir_ + "/./alias.txt", "2"}}); }),
            dir_ + "/a.txt and " + dir_ + "/./alias.txt: the same file for two outputs; give each output its own file");
  EXPECT_EQ(test::read_file(dir_ + "/a.txt"), "keep\n");
  EXPECT_EQ(entries(), 2u);
}

// ---- staging files left by a process that died ----------------------------------------------

std::string host() {
  char buf[256] = {};
  ::gethostname(buf, sizeof buf - 1);
  return buf;
}

pid_t dead_pid() {
  const pid_t pid = ::fork();
  if (pid == 0) ::_exit(0);
  test::wait_for(pid);
  return pid;  // reaped: no process has it (until the kernel reuses it, far later)
}

TEST_F(FileIo, TheNextWriteRemovesStagingFilesOfDeadProcessesOnly) {
  const std::string dead = std::to_string(dead_pid()), alive = std::to_string(::getppid());
  const std::string stale_file = ".report.txt.prefetch-tuner." + host() + "." + dead + ".tmp";
  const std::string stale_dir = ".run1.prefetch-tuner." + host() + "." + dead + ".tmp";
  const std::string stale_backup = ".report.txt.prefetch-tuner." + host() + "." + dead + ".old";
  const std::string live = ".report.txt.prefetch-tuner." + host() + "." + alive + ".tmp";
  const std::string other_host = ".report.txt.prefetch-tuner.elsewhere." + dead + ".tmp";
  const std::string not_ours = ".report.txt.tmp." + dead;
  for (const auto& f : {stale_file, stale_backup, live, other_host, not_ours}) test::write_file(dir_ + "/" + f, "x");
  fs::create_directories(dir_ + "/" + stale_dir + "/ASCEND_PROFILER_OUTPUT");
  test::write_file(dir_ + "/" + stale_dir + "/ASCEND_PROFILER_OUTPUT/trace_view.json", "{}");
  write_file_atomically(dir_ + "/out.txt", "new\n");
  EXPECT_FALSE(fs::exists(dir_ + "/" + stale_file));
  EXPECT_FALSE(fs::exists(dir_ + "/" + stale_backup));
  EXPECT_FALSE(fs::exists(dir_ + "/" + stale_dir));
  EXPECT_TRUE(fs::exists(dir_ + "/" + live)) << "a live process's staging file was removed";
  EXPECT_TRUE(fs::exists(dir_ + "/" + other_host)) << "another host's process may be alive";
  EXPECT_TRUE(fs::exists(dir_ + "/" + not_ours));
  EXPECT_EQ(test::read_file(dir_ + "/out.txt"), "new\n");
}

// ---- a set of outputs commits all or none ---------------------------------------------------

// A rename that fails after others succeeded (here: onto a mount point, EBUSY) puts the committed
// ones back. Needs a private mount namespace: run in a child that makes one.
TEST_F(FileIo, AFailedRenamePutsBackTheOutputsAlreadyCommitted) {
  test::write_file(dir_ + "/first.csv", "old first\n");
  test::write_file(dir_ + "/second.txt", "old second\n");
  test::write_file(dir_ + "/mounted", "mounted over second\n");
  int report[2];
  ASSERT_EQ(::pipe(report), 0);
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::close(report[0]);
    auto say = [&](const std::string& m) { (void)!::write(report[1], m.data(), m.size()); };
    if (::unshare(CLONE_NEWNS) != 0 || ::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0 ||
        ::mount((dir_ + "/mounted").c_str(), (dir_ + "/second.txt").c_str(), nullptr, MS_BIND, nullptr) != 0) {
      say(std::string("SKIP ") + std::strerror(errno));
      ::_exit(0);
    }
    try {
      write_outputs_atomically({{dir_ + "/first.csv", "new first\n"}, {dir_ + "/second.txt", "new second\n"}});
      say("no error");
    } catch (const InputError& e) {
      say(e.what());
    }
    ::umount((dir_ + "/second.txt").c_str());
    ::_exit(0);
  }
  ::close(report[1]);
  std::string said;
  char buf[512];
  for (ssize_t n; (n = ::read(report[0], buf, sizeof buf)) > 0;) said.append(buf, static_cast<size_t>(n));
  ::close(report[0]);
  test::wait_for(pid);
  if (said.starts_with("SKIP")) {
    GTEST_SKIP() << "cannot make a private mount namespace with a bind mount here (" << said.substr(5)
                 << "): the rename failure cannot be produced";
  }
  EXPECT_EQ(said, dir_ + "/second.txt: cannot move the finished file into place (Device or resource busy); no output was changed");
  EXPECT_EQ(test::read_file(dir_ + "/first.csv"), "old first\n");
  EXPECT_EQ(test::read_file(dir_ + "/second.txt"), "old second\n");
  EXPECT_EQ(entries(), 3u) << "a staging or backup file was left";
}

}  // namespace
}  // namespace pt
