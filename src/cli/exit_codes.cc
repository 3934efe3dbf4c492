#include "cli/exit_codes.h"

namespace carbonclock::cli {

int exit_code_for(ErrorCode code, CommandKind kind) {
  if (kind == CommandKind::kJobWrapper || kind == CommandKind::kDaemon) {
    return kExitWrapperFailure;
  }
  switch (code) {
    case ErrorCode::kInvalidInput:
      return kExitUsage;
    case ErrorCode::kNotFound:
      return 3;
    case ErrorCode::kIo:
      return 4;
    case ErrorCode::kUnavailable:
      return 5;
    case ErrorCode::kInternal:
      return 70;
  }
  return 70;
}

}  // namespace carbonclock::cli
