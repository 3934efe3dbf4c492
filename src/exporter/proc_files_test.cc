#include "exporter/proc_files.h"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <latch>
#include <thread>

namespace carbonclock {
namespace {

namespace fs = std::filesystem;

// Field 20 of /proc/self/stat (num_threads).
int threads_in(const std::string& stat) {
  std::string_view rest(stat);
  rest.remove_prefix(rest.rfind(')') + 2);
  for (int field = 3; field < 20; ++field) rest.remove_prefix(rest.find(' ') + 1);
  return std::stoi(std::string(rest.substr(0, rest.find(' '))));
}

TEST(HeldFile, EachReadSeesTheFileAsItIsNow) {
  const fs::path path = fs::temp_directory_path() / fmt::format("cc_held_{}", ::getpid());
  fs::remove(path);
  HeldFile file(path);
  std::string text;
  EXPECT_FALSE(file.read(text, 1024));  // not there yet
  std::ofstream(path) << "first";
  ASSERT_TRUE(file.read(text, 1024));  // opened now
  EXPECT_EQ(text, "first");
  std::ofstream(path, std::ios::trunc) << std::string(5000, 'x');  // rewritten in place
  ASSERT_TRUE(file.read(text, 1 << 20));
  EXPECT_EQ(text, std::string(5000, 'x'));
  ASSERT_TRUE(file.read(text, 4096));  // at most max_bytes (whole chunks)
  EXPECT_EQ(text.size(), 4096u);
  fs::remove(path);
}

// The kernel regenerates a /proc file's text at each read from offset 0 through the same
// descriptor: a thread started between two reads shows in the second.
TEST(HeldFile, ProcFilesAreRegeneratedAtEveryRead) {
  HeldFile stat("/proc/self/stat");
  std::string text;
  ASSERT_TRUE(stat.read(text, 4096));
  const int before = threads_in(text);
  std::latch started(1), done(1);
  std::thread extra([&] {
    started.count_down();
    done.wait();
  });
  started.wait();
  ASSERT_TRUE(stat.read(text, 4096));
  // At least the new thread (a sanitizer's runtime may start its own with the first thread).
  EXPECT_GT(threads_in(text), before);
  done.count_down();
  extra.join();
}

}  // namespace
}  // namespace carbonclock
