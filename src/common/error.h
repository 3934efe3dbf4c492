// Errors as values, after LevelDB's Status: expected failures (bad data files, missing
// permissions, unknown regions) travel as Error/Result/Status; exceptions are reserved
// for programming errors.
#pragma once

#include <fmt/format.h>

#include <cassert>
#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace carbonclock {

/// What kind of failure an Error is, so front ends can decide what to do (exit code, Python
/// exception class) without parsing the message. After LevelDB's Status codes.
enum class ErrorCode {
  kInvalidInput,  ///< bad option, malformed file or response, out-of-range value (the default)
  kNotFound,      ///< a file, run, zone or series that does not exist
  kIo,            ///< the OS refused a read or write (permissions, disk full, database)
  kUnavailable,   ///< a provider, device or service could not be reached or answered an error
  kInternal,      ///< a broken invariant: a bug in carbonclock
};

/// "invalid input" | "not found" | "I/O error" | "unavailable" | "internal error".
const char* to_string(ErrorCode code);

/// A failure a user can act on: the message names the file, line and cause where known.
class Error {
 public:
  explicit Error(std::string message, ErrorCode code = ErrorCode::kInvalidInput)
      : message_(std::move(message)), code_(code) {}
  const std::string& message() const { return message_; }
  ErrorCode code() const { return code_; }
  /// Returns a copy with `context` prepended ("context: message"), same code.
  Error with_context(const std::string& context) const {
    return Error(context + ": " + message_, code_);
  }
  /// Returns a copy with another code.
  Error with_code(ErrorCode code) const { return Error(message_, code); }

 private:
  std::string message_;
  ErrorCode code_;
};

/// Builds an invalid-input Error from a fmt format string.
template <typename... Args>
Error make_error(fmt::format_string<Args...> format, Args&&... args) {
  return Error(fmt::format(format, std::forward<Args>(args)...));
}

/// Builds an Error of a given code from a fmt format string.
template <typename... Args>
Error make_error(ErrorCode code, fmt::format_string<Args...> format, Args&&... args) {
  return Error(fmt::format(format, std::forward<Args>(args)...), code);
}

/// Either a value or an Error.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}      // NOLINT(google-explicit-constructor)
  Result(Error error) : v_(std::move(error)) {}  // NOLINT(google-explicit-constructor)

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & {
    assert(ok());
    return std::get<0>(v_);
  }
  const T& value() const& {
    assert(ok());
    return std::get<0>(v_);
  }
  T&& value() && {
    assert(ok());
    return std::get<0>(std::move(v_));
  }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

  const Error& error() const {
    assert(!ok());
    return std::get<1>(v_);
  }

 private:
  std::variant<T, Error> v_;
};

/// Success or an Error.
class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(Error error) : error_(std::move(error)) {}  // NOLINT(google-explicit-constructor)
  static Status ok_status() { return {}; }

  bool ok() const { return !error_.has_value(); }
  explicit operator bool() const { return ok(); }
  const Error& error() const {
    assert(!ok());
    return *error_;
  }

 private:
  std::optional<Error> error_;
};

}  // namespace carbonclock
