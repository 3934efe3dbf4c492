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

}  // namespace
}  // namespace carbonclock
