// Shared by the libFuzzer harnesses: what every harness checks after its target returns.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "common/error.h"
#include "common/json_text.h"

namespace carbonclock::fuzz {

/// Aborts (a libFuzzer finding) with `what` when `condition` is false: a broken promise is a
/// bug even when nothing crashed.
inline void require(bool condition, const char* what) {
  if (!condition) {
    std::fprintf(stderr, "fuzz property violated: %s\n", what);
    std::abort();
  }
}

/// Error messages are printed: they must be non-empty. (Bytes that are not UTF-8 may appear
/// in them, quoted from the input; the terminal-facing paths escape them.)
inline void check_error(const Error& e) { require(!e.message().empty(), "empty error message"); }

inline std::string_view as_text(const uint8_t* data, size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

}  // namespace carbonclock::fuzz
