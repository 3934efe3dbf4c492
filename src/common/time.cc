#include "common/time.h"

#include <fmt/format.h>

#include <cctype>
#include <charconv>
#include <cmath>

namespace carbonclock {
namespace {

using std::chrono::days;
using std::chrono::floor;
using std::chrono::hh_mm_ss;
using std::chrono::sys_days;
using std::chrono::year_month_day;

struct Fields {
  year_month_day ymd;
  hh_mm_ss<Nanos> hms;
};

Fields split(SysTime t) {
  auto day = floor<days>(t);
  return {year_month_day{sys_days{day}}, hh_mm_ss<Nanos>{t - day}};
}

// Reads exactly `n` digits at text[pos]; -1 when they are not all digits.
int digits(std::string_view text, size_t pos, size_t n) {
  if (pos + n > text.size()) return -1;
  int v = 0;
  for (size_t i = pos; i < pos + n; ++i) {
    if (!std::isdigit(static_cast<unsigned char>(text[i]))) return -1;
    v = v * 10 + (text[i] - '0');
  }
  return v;
}

constexpr int kFirstYear = 1900;
constexpr int kLastYear = 2199;
constexpr const char* kRangeText = "outside the supported range 1900-01-01 .. 2199-12-31";

}  // namespace

std::string format_utc(SysTime t) {
  auto [ymd, hms] = split(t);
  return fmt::format("{:04d}-{:02d}-{:02d}T{:02d}:{:02d}:{:02d}Z", int(ymd.year()),
                     unsigned(ymd.month()), unsigned(ymd.day()), hms.hours().count(),
                     hms.minutes().count(), hms.seconds().count());
}

std::string format_utc_minutes(SysTime t) {
  auto [ymd, hms] = split(t);
  return fmt::format("{:04d}-{:02d}-{:02d}T{:02d}:{:02d}Z", int(ymd.year()), unsigned(ymd.month()),
                     unsigned(ymd.day()), hms.hours().count(), hms.minutes().count());
}

std::string format_utc_millis(SysTime t) {
  auto [ymd, hms] = split(t);
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(hms.subseconds()).count();
  return fmt::format("{:04d}-{:02d}-{:02d}T{:02d}:{:02d}:{:02d}.{:03d}Z", int(ymd.year()),
                     unsigned(ymd.month()), unsigned(ymd.day()), hms.hours().count(),
                     hms.minutes().count(), hms.seconds().count(), ms);
}

// Hand-written rather than date::parse: importers call this millions of times and a
// stream-based parser costs several microseconds per call (see bench/grid_import_bench.cc).
Result<SysTime> parse_utc(std::string_view text) {
  auto bad = [&](const char* why) {
    return make_error("cannot parse time '{}': {} (expected e.g. 2023-03-01T00:00Z)", text, why);
  };
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back())))
    text.remove_suffix(1);
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front())))
    text.remove_prefix(1);
  int y = digits(text, 0, 4), mo = digits(text, 5, 2), d = digits(text, 8, 2);
  if (y < 0 || mo < 0 || d < 0 || text[4] != '-' || text[7] != '-') return bad("no date");
  year_month_day ymd{std::chrono::year{y}, std::chrono::month{unsigned(mo)},
                     std::chrono::day{unsigned(d)}};
  if (!ymd.ok()) return bad("no such date");
  Nanos tod{0};
  size_t pos = 10;
  if (pos < text.size() && (text[pos] == 'T' || text[pos] == ' ' || text[pos] == 't')) {
    int h = digits(text, pos + 1, 2), mi = digits(text, pos + 4, 2);
    if (h < 0 || mi < 0 || text[pos + 3] != ':') return bad("bad time of day");
    if (h > 24 || mi > 59) return bad("time of day out of range");
    tod = std::chrono::hours(h) + std::chrono::minutes(mi);
    pos += 6;
    if (pos < text.size() && text[pos] == ':') {
      int s = digits(text, pos + 1, 2);
      if (s < 0 || s > 60) return bad("bad seconds");
      tod += std::chrono::seconds(s);
      pos += 3;
      if (pos < text.size() && (text[pos] == '.' || text[pos] == ',')) {
        ++pos;
        int64_t frac = 0, scale = 1'000'000'000;
        while (pos < text.size() && std::isdigit(static_cast<unsigned char>(text[pos]))) {
          if (scale > 1) {
            scale /= 10;
            frac += (text[pos] - '0') * scale;
          }
          ++pos;
        }
        tod += Nanos(frac);
      }
    }
  }
  // Optional zone designator: Z, +HH:MM, +HHMM, +HH, " UTC".
  while (pos < text.size() && text[pos] == ' ') ++pos;
  Nanos offset{0};
  std::string_view rest = text.substr(pos);
  if (rest == "Z" || rest == "z" || rest == "UTC" || rest.empty()) {
    // UTC
  } else if (rest[0] == '+' || rest[0] == '-') {
    int oh = digits(rest, 1, 2);
    int om = 0;
    if (oh < 0) return bad("bad UTC offset");
    if (rest.size() == 6 && rest[3] == ':') {
      om = digits(rest, 4, 2);
    } else if (rest.size() == 5) {
      om = digits(rest, 3, 2);
    } else if (rest.size() != 3) {
      return bad("bad UTC offset");
    }
    if (om < 0) return bad("bad UTC offset");
    offset = std::chrono::hours(oh) + std::chrono::minutes(om);
    if (rest[0] == '-') offset = -offset;
  } else {
    return bad("unexpected trailing text");
  }
  // Checked before converting: days since the epoch times 86400e9 overflows 64 bits outside
  // 1677..2262 (undefined behaviour, and the result wrapped silently).
  if (y < kFirstYear || y > kLastYear) return bad(kRangeText);
  SysTime t = SysTime{sys_days{ymd}} + tod - offset;
  if (!in_time_range(t)) return bad(kRangeText);
  return t;
}

Status check_time_range(SysTime t, std::string_view what) {
  if (in_time_range(t)) return {};
  return make_error("{}: {} is {}", what, format_utc(t), kRangeText);
}

Result<Nanos> checked_from_seconds(double s) {
  if (!std::isfinite(s)) return make_error("{} is not a finite number of seconds", s);
  if (std::abs(s) > to_seconds(kMaxDuration)) {
    return make_error("{} s is longer than the supported maximum of 20 years", s);
  }
  return from_seconds(s);
}

Result<Nanos> parse_duration(std::string_view text) {
  std::string_view s = text;
  if (s.empty()) return make_error("empty duration");
  double total_s = 0;
  bool any = false;
  while (!s.empty()) {
    double v = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || v < 0 || !std::isfinite(v)) {
      return make_error("cannot parse duration '{}' (expected e.g. 5m, 1h30m, 100ms, 2.5s)", text);
    }
    s.remove_prefix(static_cast<size_t>(p - s.data()));
    size_t n = 0;
    while (n < s.size() && std::isalpha(static_cast<unsigned char>(s[n]))) ++n;
    std::string_view unit = s.substr(0, n);
    s.remove_prefix(n);
    double mult = 0;
    if (unit.empty()) {
      if (any || !s.empty()) {
        return make_error("cannot parse duration '{}': a number needs a unit", text);
      }
      mult = 1;
    } else if (unit == "ms") {
      mult = 1e-3;
    } else if (unit == "s") {
      mult = 1;
    } else if (unit == "m" || unit == "min") {
      mult = 60;
    } else if (unit == "h") {
      mult = 3600;
    } else if (unit == "d") {
      mult = 86400;
    } else {
      return make_error("cannot parse duration '{}': unknown unit '{}' (ms, s, m, h, d)", text,
                        unit);
    }
    total_s += v * mult;
    any = true;
    if (total_s > to_seconds(kMaxDuration)) {
      return make_error("duration '{}' is longer than the supported maximum of 20 years", text);
    }
  }
  return from_seconds(total_s);
}

std::string format_duration(Nanos d) {
  using namespace std::chrono;
  if (d < seconds(1)) return fmt::format("{}ms", duration_cast<milliseconds>(d).count());
  if (d < minutes(1)) return fmt::format("{:.1f}s", to_seconds(d));
  auto total = duration_cast<seconds>(d).count();
  if (total < 3600) return fmt::format("{}m{:02d}s", total / 60, total % 60);
  return fmt::format("{}h{:02d}m{:02d}s", total / 3600, (total / 60) % 60, total % 60);
}

SysTime floor_to(SysTime t, Nanos step) {
  auto since = t.time_since_epoch();
  auto r = since % step;
  if (r < Nanos(0)) r += step;
  return t - r;
}

}  // namespace carbonclock
