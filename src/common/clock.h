// The clock edge: wall time labels data, monotonic time measures durations. Tests use
// ManualClock so nothing sleeps.
#pragma once

#include <chrono>
#include <mutex>

#include "common/time.h"

namespace carbonclock {

class Clock {
 public:
  virtual ~Clock() = default;
  /// Monotonic time, for durations.
  virtual MonoTime monotonic_now() = 0;
  /// Wall-clock UTC time, for labels.
  virtual SysTime system_now() = 0;
};

/// The operating system's clocks.
class RealClock final : public Clock {
 public:
  MonoTime monotonic_now() override { return std::chrono::steady_clock::now(); }
  SysTime system_now() override { return std::chrono::system_clock::now(); }
};

/// A clock that only moves when told; thread-safe.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(SysTime start) : wall_(start) {}
  MonoTime monotonic_now() override {
    std::lock_guard lock(mu_);
    return mono_;
  }
  SysTime system_now() override {
    std::lock_guard lock(mu_);
    return wall_;
  }
  void advance(Nanos d) {
    std::lock_guard lock(mu_);
    mono_ += d;
    wall_ += d;
  }

 private:
  std::mutex mu_;
  MonoTime mono_{};
  SysTime wall_;
};

}  // namespace carbonclock
