// Exit codes, decided here and nowhere else.
//
// `carbonclock run -- CMD` passes the job's own status on, so its own failures must never look
// like the job's: as `env`, `timeout` and `nice` do, it exits 125 when carbonclock itself fails
// (bad option, unknown zone, unusable run directory), 126 when CMD cannot be executed, 127 when
// CMD is not found, and otherwise the job's code (128+N when signal N ended it).
//
// `carbonclock exporter` exits 0 when stopped by SIGTERM or SIGINT and 125 when it cannot
// start (bad option, unknown zone, an address already in use).
//
// The other commands exit 0 on success, and on failure by error category:
//   2  invalid input (bad option or value, malformed file or response)
//   3  not found (no such run, zone, series or data)
//   4  I/O error (the OS refused a read or write, the database failed)
//   5  unavailable (a provider or device could not be reached or refused)
//   70 internal error (a bug: please report it)
#pragma once

#include "common/error.h"

namespace carbonclock::cli {

/// Whether a command wraps a job (its own failures must not look like the job's), or is a
/// long-running service (`exporter`): its own failures exit 125 too, so a supervisor tells a
/// failure to start (bad option, address in use) from a death by signal.
enum class CommandKind { kTool, kJobWrapper, kDaemon };

inline constexpr int kExitWrapperFailure = 125;
inline constexpr int kExitUsage = 2;

/// The exit code for an error of `code` in a command of `kind`.
int exit_code_for(ErrorCode code, CommandKind kind);

}  // namespace carbonclock::cli
