#include "shifting/sweep_rows.h"

#include <fmt/format.h>

#include <bit>
#include <cmath>
#include <cstring>

#include "shifting/plan.h"

namespace carbonclock {
namespace {

// GCC and Clang's 128-bit integers; __extension__ keeps -Wpedantic quiet about them.
__extension__ using Uint128 = unsigned __int128;

constexpr uint64_t kPow10[] = {1,       10,        100,        1'000,       10'000,
                               100'000, 1'000'000, 10'000'000, 100'000'000, 1'000'000'000};

/// Writes `v` in decimal at `p`, returns the end.
char* write_u64(char* p, uint64_t v) {
  char digits[20];
  int n = 0;
  do {
    digits[n++] = static_cast<char>('0' + v % 10);
    v /= 10;
  } while (v != 0);
  while (n > 0) *p++ = digits[--n];
  return p;
}

/// Writes `v` as exactly `width` digits, zero-padded (v < 10^width).
char* write_padded(char* p, uint64_t v, int width) {
  for (int i = width - 1; i >= 0; --i) {
    p[i] = static_cast<char>('0' + v % 10);
    v /= 10;
  }
  return p + width;
}

void append_fixed_slow(std::string& out, double value, int decimals) {
  fmt::format_to(std::back_inserter(out), "{:.{}f}", value, decimals);
}

}  // namespace

void append_fixed(std::string& out, double value, int decimals) {
  // Hand-written because fmt's general path costs several times more per number, and a
  // streamed sweep prints three per row: |value| = m × 2^e exactly, so m × 10^d / 2^−e with
  // 128-bit integers, rounded half to even on the remainder, is the correctly rounded text.
  if (!std::isfinite(value) || decimals < 0 || decimals > 9) {
    append_fixed_slow(out, value, decimals);
    return;
  }
  const auto bits = std::bit_cast<uint64_t>(value);
  const bool negative = (bits >> 63) != 0;
  const auto biased = static_cast<int>((bits >> 52) & 0x7ff);
  uint64_t mantissa = bits & ((uint64_t{1} << 52) - 1);
  int exponent = -1074;
  if (biased != 0) {
    mantissa |= uint64_t{1} << 52;
    exponent = biased - 1075;
  }
  const uint64_t scale = kPow10[decimals];
  Uint128 scaled = 0;  // round(|value| × 10^d)
  if (exponent >= 0) {
    if (exponent > 40) {  // beyond 2^93: not worth a fast path
      append_fixed_slow(out, value, decimals);
      return;
    }
    scaled = (static_cast<Uint128>(mantissa) * scale) << exponent;
  } else {
    const Uint128 product = static_cast<Uint128>(mantissa) * scale;  // < 2^83
    const int shift = -exponent;
    if (shift < 100) {
      Uint128 quotient = product >> shift;
      const Uint128 remainder = product - (quotient << shift);
      const Uint128 half = static_cast<Uint128>(1) << (shift - 1);
      if (remainder > half || (remainder == half && (quotient & 1) != 0)) ++quotient;
      scaled = quotient;
    }  // else |value| × 10^d < 2^-17: rounds to 0
  }
  const Uint128 integer = scaled / scale;
  if (integer > UINT64_MAX) {
    append_fixed_slow(out, value, decimals);
    return;
  }
  char buffer[48];
  char* p = buffer;
  if (negative) *p++ = '-';
  p = write_u64(p, static_cast<uint64_t>(integer));
  if (decimals > 0) {
    *p++ = '.';
    p = write_padded(p, static_cast<uint64_t>(scaled % scale), decimals);
  }
  out.append(buffer, static_cast<size_t>(p - buffer));
}

void append_utc_minutes(std::string& out, SysTime t) {
  using std::chrono::minutes;
  const int64_t total_minutes = std::chrono::floor<minutes>(t.time_since_epoch()).count();
  int64_t days = total_minutes / 1440;
  int64_t minute_of_day = total_minutes % 1440;
  if (minute_of_day < 0) {
    minute_of_day += 1440;
    --days;
  }
  // Civil date from days since 1970-01-01 (H. Hinnant's days_from_civil inverse).
  const int64_t z = days + 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const int64_t doe = z - era * 146097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  const int64_t day = doy - (153 * mp + 2) / 5 + 1;
  const int64_t month = mp < 10 ? mp + 3 : mp - 9;
  const int64_t year = yoe + era * 400 + (month <= 2 ? 1 : 0);
  if (year < 0 || year > 9999) {
    out += format_utc_minutes(t);
    return;
  }
  char buffer[17];
  char* p = write_padded(buffer, static_cast<uint64_t>(year), 4);
  *p++ = '-';
  p = write_padded(p, static_cast<uint64_t>(month), 2);
  *p++ = '-';
  p = write_padded(p, static_cast<uint64_t>(day), 2);
  *p++ = 'T';
  p = write_padded(p, static_cast<uint64_t>(minute_of_day / 60), 2);
  *p++ = ':';
  p = write_padded(p, static_cast<uint64_t>(minute_of_day % 60), 2);
  *p++ = 'Z';
  out.append(buffer, static_cast<size_t>(p - buffer));
}

namespace {

std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\n") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

}  // namespace

SweepCsvRows::SweepCsvRows(const std::vector<std::string>& jobs,
                           const std::vector<std::string>& zones,
                           const std::vector<std::string>& windows) {
  for (const std::string& j : jobs) jobs_.push_back(csv_field(j) + ",");
  for (const std::string& z : zones) zones_.push_back(csv_field(z) + ",");
  for (const std::string& w : windows) {
    flexible_start_.push_back("," + w + ",flexible-start,");
    pause_resume_.push_back("," + w + ",pause-resume,");
  }
}

void SweepCsvRows::append(const SweepBlock& block, std::string& out) const {
  const size_t windows = block.windows();
  std::string prefix;  // job,zone,start
  for (size_t i = 0; i < block.starts(); ++i) {
    bool any = false;
    for (size_t w = 0; w < windows; ++w) any |= block.result(i, w).status == StartStatus::kOk;
    if (!any) continue;
    prefix.assign(jobs_[block.job]);
    prefix += zones_[block.zone];
    append_utc_minutes(prefix, block.start_utc(i));
    for (size_t w = 0; w < windows; ++w) {
      const SweepResult& r = block.result(i, w);
      if (r.status != StartStatus::kOk) continue;
      const double base = block.grams(r.baseline_ug);
      const double fs = block.grams(r.fs_ug);
      const double pr = block.grams(r.pr_ug);
      out += prefix;
      out += flexible_start_[w];
      append_fixed(out, base, 6);
      out += ',';
      append_fixed(out, fs, 6);
      out += ',';
      append_fixed(out, reduction_pct(base, fs), 4);
      out += ",0\n";
      out += prefix;
      out += pause_resume_[w];
      append_fixed(out, base, 6);
      out += ',';
      append_fixed(out, pr, 6);
      out += ',';
      append_fixed(out, reduction_pct(base, pr), 4);
      out += ',';
      char digits[16];
      char* end = fmt::format_to(digits, "{}", r.pr_pauses);
      out.append(digits, static_cast<size_t>(end - digits));
      out += '\n';
    }
  }
}

}  // namespace carbonclock
