#include "common/files.h"

#include <gtest/gtest.h>

#include <filesystem>

namespace carbonclock {
namespace {

TEST(Files, AtomicWriteThenRead) {
  auto dir = std::filesystem::temp_directory_path() / "cc_files_test";
  std::filesystem::create_directories(dir);
  auto p = dir / "a.txt";
  ASSERT_TRUE(write_file_atomic(p, "hello").ok());
  ASSERT_TRUE(write_file_atomic(p, "world").ok());
  EXPECT_EQ(read_file(p).value(), "world");
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir), {}), 1);
  std::filesystem::remove_all(dir);
}

TEST(Files, MissingFileNamesPath) {
  auto r = read_file("/nonexistent/x.csv");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message().find("/nonexistent/x.csv"), std::string::npos);
}

TEST(Files, UnwritableFolderIsAnError) {
  EXPECT_FALSE(write_file_atomic("/nonexistent/dir/x", "x").ok());
}

TEST(Files, MissingFileIsNotFoundAndOtherFailuresAreIo) {
  EXPECT_EQ(read_file("/nonexistent/x.csv").error().code(), ErrorCode::kNotFound);
  EXPECT_EQ(write_file_atomic("/nonexistent/dir/x", "x").error().code(), ErrorCode::kIo);
}

TEST(Files, AtomicFileWriterShowsNothingUntilCommitAndCleansUpWithoutIt) {
  auto dir = std::filesystem::temp_directory_path() / "cc_files_writer_test";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  auto p = dir / "out.csv";
  ASSERT_TRUE(write_file_atomic(p, "old").ok());
  {
    auto w = AtomicFileWriter::create(p);
    ASSERT_TRUE(w.ok());
    ASSERT_TRUE(w->write("a,").ok());
    ASSERT_TRUE(w->write("b\n").ok());
    EXPECT_EQ(read_file(p).value(), "old");  // not yet
    ASSERT_TRUE(w->commit().ok());
  }
  EXPECT_EQ(read_file(p).value(), "a,b\n");
  {
    auto w = AtomicFileWriter::create(p);
    ASSERT_TRUE(w->write("half").ok());
    // Dropped without commit (an error midway): the old file stays, no temporary is left.
  }
  EXPECT_EQ(read_file(p).value(), "a,b\n");
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir), {}), 1);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace carbonclock
