#include "common/files.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace carbonclock {

std::string errno_text(int err) { return fmt::format("{} (errno {})", std::strerror(err), err); }

Result<std::string> read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    int err = errno;
    return make_error(err == ENOENT ? ErrorCode::kNotFound : ErrorCode::kIo, "{}: cannot open: {}",
                      path.string(), errno_text(err));
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) return make_error(ErrorCode::kIo, "{}: read failed", path.string());
  return ss.str();
}

Status write_file_atomic(const std::filesystem::path& path, const std::string& content) {
  auto tmp = path;
  tmp += fmt::format(".tmp.{}", ::getpid());
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0)
    return make_error(ErrorCode::kIo, "{}: cannot create: {}", tmp.string(), errno_text(errno));
  size_t done = 0;
  while (done < content.size()) {
    ssize_t n = ::write(fd, content.data() + done, content.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      int err = errno;
      ::close(fd);
      ::unlink(tmp.c_str());
      return make_error(ErrorCode::kIo, "{}: write failed: {}", tmp.string(), errno_text(err));
    }
    done += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    return make_error(ErrorCode::kIo, "{}: cannot flush: {}", tmp.string(), errno_text(err));
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    return make_error(ErrorCode::kIo, "{}: cannot rename into place: {}", path.string(),
                      errno_text(err));
  }
  return {};
}

Result<AtomicFileWriter> AtomicFileWriter::create(const std::filesystem::path& path) {
  auto tmp = path;
  tmp += fmt::format(".tmp.{}", ::getpid());
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    return make_error(ErrorCode::kIo, "{}: cannot create: {}", tmp.string(), errno_text(errno));
  }
  return AtomicFileWriter(path, tmp, fd);
}

AtomicFileWriter::AtomicFileWriter(AtomicFileWriter&& o) noexcept
    : path_(std::move(o.path_)), tmp_(std::move(o.tmp_)), fd_(o.fd_) {
  o.fd_ = -1;
  o.tmp_.clear();
}

AtomicFileWriter::~AtomicFileWriter() {
  if (fd_ >= 0) ::close(fd_);
  if (!tmp_.empty()) ::unlink(tmp_.c_str());
}

Status AtomicFileWriter::write(std::string_view data) {
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd_, data.data() + done, data.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return make_error(ErrorCode::kIo, "{}: write failed: {}", tmp_.string(), errno_text(errno));
    }
    done += static_cast<size_t>(n);
  }
  return {};
}

Status AtomicFileWriter::commit() {
  int fd = fd_;
  fd_ = -1;
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    return make_error(ErrorCode::kIo, "{}: cannot flush: {}", tmp_.string(), errno_text(errno));
  }
  if (::rename(tmp_.c_str(), path_.c_str()) != 0) {
    return make_error(ErrorCode::kIo, "{}: cannot rename into place: {}", path_.string(),
                      errno_text(errno));
  }
  tmp_.clear();
  return {};
}

}  // namespace carbonclock
