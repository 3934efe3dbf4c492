// Small file helpers shared by every domain.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

#include "common/error.h"

namespace carbonclock {

/// Reads a whole file. Error names the path and the OS cause.
Result<std::string> read_file(const std::filesystem::path& path);

/// Writes `content` to `path` atomically: a temporary file in the same folder, fsync, rename.
/// Readers see either the old file or the new one, never half of it.
Status write_file_atomic(const std::filesystem::path& path, const std::string& content);

/// Writes a file in pieces, atomically: the pieces go to a temporary file in the same folder,
/// which commit() flushes and renames over `path`. Until then (and if commit() is never called,
/// e.g. after an error) `path` is untouched and the temporary file is removed.
class AtomicFileWriter {
 public:
  static Result<AtomicFileWriter> create(const std::filesystem::path& path);
  AtomicFileWriter(AtomicFileWriter&& other) noexcept;
  AtomicFileWriter& operator=(AtomicFileWriter&&) = delete;
  ~AtomicFileWriter();
  Status write(std::string_view data);
  Status commit();

 private:
  AtomicFileWriter(std::filesystem::path path, std::filesystem::path tmp, int fd)
      : path_(std::move(path)), tmp_(std::move(tmp)), fd_(fd) {}
  std::filesystem::path path_, tmp_;
  int fd_ = -1;
};

/// Describes errno as "No such file or directory (errno 2)".
std::string errno_text(int err);

}  // namespace carbonclock
