// Test helper for every library's tests: a fresh folder per test, named after it.
#pragma once

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

namespace carbonclock {

/// A fresh folder under the system temp dir, PREFIX_PID_TEST (TEST: the running test's name);
/// removed and re-created.
inline std::filesystem::path fresh_test_dir(const char* prefix) {
  auto dir = std::filesystem::temp_directory_path() /
             fmt::format("{}_{}_{}", prefix, ::getpid(),
                         ::testing::UnitTest::GetInstance()->current_test_info()->name());
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

}  // namespace carbonclock
