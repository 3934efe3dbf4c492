// Time conventions: every timestamp inside carbonclock is UTC (`SysTime`); durations are
// std::chrono durations. Time zones appear only at the edges (parsing local-time files).
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "common/error.h"

namespace carbonclock {

using SysTime = std::chrono::time_point<std::chrono::system_clock, std::chrono::nanoseconds>;
using MonoTime = std::chrono::steady_clock::time_point;
using Nanos = std::chrono::nanoseconds;
using Seconds = std::chrono::seconds;

/// Seconds as a double.
inline double to_seconds(Nanos d) { return std::chrono::duration<double>(d).count(); }
/// A double number of seconds as nanoseconds (rounded).
inline Nanos from_seconds(double s) {
  return std::chrono::round<Nanos>(std::chrono::duration<double>(s));
}

/// Formats as "YYYY-MM-DDTHH:MM:SSZ" (seconds truncated).
std::string format_utc(SysTime t);
/// Formats as "YYYY-MM-DDTHH:MMZ" (the sweep CSV's layout).
std::string format_utc_minutes(SysTime t);
/// Formats as "YYYY-MM-DDTHH:MM:SS.mmmZ".
std::string format_utc_millis(SysTime t);

/// Parses an ISO-8601-like UTC or offset timestamp: "2023-03-01T00:00Z", "2023-03-01 00:00:00",
/// "2023-03-01T00:00:00.123+01:00", "2023-03-01". A timestamp without offset is read as UTC.
/// Returns an Error naming the text when it cannot be parsed.
Result<SysTime> parse_utc(std::string_view text);

/// Parses a duration: "5m", "1h30m", "100ms", "2.5s", "1d", "45" (seconds). Must be >= 0.
Result<Nanos> parse_duration(std::string_view text);

/// Formats a duration compactly for humans: "1h02m03s", "4.2s", "350ms".
std::string format_duration(Nanos d);

/// Rounds `t` down to a multiple of `step` counted from the Unix epoch (UTC-aligned buckets).
SysTime floor_to(SysTime t, Nanos step);

}  // namespace carbonclock
