// Small file helpers shared by every domain.
#pragma once

#include <filesystem>
#include <string>

#include "common/error.h"

namespace carbonclock {

/// Reads a whole file. Error names the path and the OS cause.
Result<std::string> read_file(const std::filesystem::path& path);

/// Writes `content` to `path` atomically: a temporary file in the same folder, fsync, rename.
/// Readers see either the old file or the new one, never half of it.
Status write_file_atomic(const std::filesystem::path& path, const std::string& content);

/// Describes errno as "No such file or directory (errno 2)".
std::string errno_text(int err);

}  // namespace carbonclock
