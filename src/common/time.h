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

/// The instants carbonclock accepts anywhere (files, API responses, options):
/// kMinTime <= t < kMaxTime, i.e. 1900-01-01T00:00Z up to the end of 2199. SysTime counts
/// nanoseconds in 64 bits, which only reaches 1677-09-21 .. 2262-04-11; with durations of at
/// most 20 years (kMaxDuration), any accepted time plus or minus up to three accepted
/// durations (a start, a window and a job's length) is representable, so arithmetic on
/// checked values never wraps.
inline constexpr SysTime kMinTime{std::chrono::sys_days{std::chrono::year{1900} / 1 / 1}};
inline constexpr SysTime kMaxTime{std::chrono::sys_days{std::chrono::year{2200} / 1 / 1}};
/// The longest duration carbonclock accepts (20 years of 365.25 days): parse_duration,
/// checked_from_seconds and the importers refuse longer ones.
inline constexpr Nanos kMaxDuration{std::chrono::days{7305}};
static_assert(kMaxTime.time_since_epoch() <= Nanos::max() - 3 * kMaxDuration &&
                  kMinTime.time_since_epoch() >= Nanos::min() + 3 * kMaxDuration,
              "checked times and durations must not overflow 64-bit nanoseconds");

/// kMinTime <= t < kMaxTime.
inline bool in_time_range(SysTime t) { return t >= kMinTime && t < kMaxTime; }
/// Error "WHAT: TIME is outside the supported range 1900-01-01 .. 2199-12-31" unless
/// in_time_range(t).
Status check_time_range(SysTime t, std::string_view what);

/// Seconds as a double.
inline double to_seconds(Nanos d) { return std::chrono::duration<double>(d).count(); }
/// A double number of seconds as nanoseconds (rounded). Saturates at Nanos::min()/max()
/// instead of overflowing (undefined behaviour) and maps NaN to 0; values read from files or
/// options go through checked_from_seconds instead.
inline Nanos from_seconds(double s) {
  constexpr double kLimit = 9.2e9;  // seconds; just below 2^63 ns
  if (s != s) return Nanos(0);
  if (s >= kLimit) return Nanos::max();
  if (s <= -kLimit) return Nanos::min();
  return std::chrono::round<Nanos>(std::chrono::duration<double>(s));
}
/// from_seconds for untrusted numbers: Error unless `s` is finite and |s| <= kMaxDuration.
Result<Nanos> checked_from_seconds(double s);

/// Formats as "YYYY-MM-DDTHH:MM:SSZ" (seconds truncated).
std::string format_utc(SysTime t);
/// Formats as "YYYY-MM-DDTHH:MMZ" (the sweep CSV's layout).
std::string format_utc_minutes(SysTime t);
/// Formats as "YYYY-MM-DDTHH:MM:SS.mmmZ".
std::string format_utc_millis(SysTime t);

/// Parses an ISO-8601-like UTC or offset timestamp: "2023-03-01T00:00Z", "2023-03-01 00:00:00",
/// "2023-03-01T00:00:00.123+01:00", "2023-03-01". A timestamp without offset is read as UTC.
/// Returns an Error naming the text when it cannot be parsed or lies outside
/// [kMinTime, kMaxTime).
Result<SysTime> parse_utc(std::string_view text);

/// Parses a duration: "5m", "1h30m", "100ms", "2.5s", "1d", "45" (seconds). Must be >= 0 and
/// at most kMaxDuration.
Result<Nanos> parse_duration(std::string_view text);

/// Formats a duration compactly for humans: "1h02m03s", "4.2s", "350ms".
std::string format_duration(Nanos d);

/// Rounds `t` down to a multiple of `step` counted from the Unix epoch (UTC-aligned buckets).
/// `step` must be positive.
SysTime floor_to(SysTime t, Nanos step);

}  // namespace carbonclock
