// Helpers shared by the grid tests.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "common/files.h"
#include "common/time.h"

namespace carbonclock::testing {

inline std::filesystem::path grid_testdata(const std::string& name) {
  return std::filesystem::path(CARBONCLOCK_SOURCE_DIR) / "src/grid/testdata" / name;
}

inline std::string read_testdata(const std::string& name) {
  auto content = read_file(grid_testdata(name));
  EXPECT_TRUE(content.ok()) << (content.ok() ? "" : content.error().message());
  return content.ok() ? *content : std::string();
}

inline SysTime utc(const char* text) {
  auto t = parse_utc(text);
  EXPECT_TRUE(t.ok()) << text;
  return t.ok() ? *t : SysTime{};
}

/// A fresh temporary folder, removed with its contents on destruction.
class TempDir {
 public:
  TempDir() {
    std::string tmpl =
        (std::filesystem::temp_directory_path() / "carbonclock-grid-XXXXXX").string();
    path_ = ::mkdtemp(tmpl.data());
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

}  // namespace carbonclock::testing
