#include "util/file_io.h"

#include <filesystem>
#include <string>

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

}  // namespace
}  // namespace pt
