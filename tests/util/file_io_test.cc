#include "util/file_io.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstring>
#include <filesystem>
#include <string>
#include <thread>

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

}  // namespace
}  // namespace pt
