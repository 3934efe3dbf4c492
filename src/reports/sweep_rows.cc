#include "reports/sweep_rows.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>

#include "shifting/plan.h"

namespace carbonclock {
namespace {

// GCC and Clang's 128-bit integers; __extension__ keeps -Wpedantic quiet about them.
__extension__ using Uint128 = unsigned __int128;

constexpr uint64_t kPow10[] = {1,       10,        100,        1'000,       10'000,
                               100'000, 1'000'000, 10'000'000, 100'000'000, 1'000'000'000};

/// "00" to "99": two digits per division.
constexpr auto kTwoDigits = [] {
  std::array<char, 200> digits{};
  for (size_t i = 0; i < 100; ++i) {
    digits[2 * i] = static_cast<char>('0' + i / 10);
    digits[2 * i + 1] = static_cast<char>('0' + i % 10);
  }
  return digits;
}();

/// Writes `v` as exactly `width` digits, zero-padded (v < 10^width), returns the end.
char* write_padded(char* p, uint64_t v, int width) {
  char* q = p + width;
  while (q - p >= 2) {
    q -= 2;
    std::copy_n(&kTwoDigits[2 * (v % 100)], 2, q);
    v /= 100;
  }
  if (q > p) *p = static_cast<char>('0' + v % 10);
  return p + width;
}

/// Writes `v` in decimal at `p`, returns the end.
char* write_u64(char* p, uint64_t v) {
  int width = 1;
  for (uint64_t bound = 10; width < 20 && v >= bound; bound *= 10) ++width;
  return write_padded(p, v, width);
}

/// The reference: fmt's correctly rounded fixed-point text.
std::string fixed_slow(double value, int decimals) {
  return fmt::format("{:.{}f}", value, decimals);
}

/// round(|value| × 10^D), half to even on the exact binary value; false when the result does
/// not fit in 64 bits or value is not finite.
template <int D>
bool scale_fixed(double value, uint64_t& scaled) {
  // Hand-written because fmt's general path costs several times more per number and a
  // streamed sweep prints three per row: |value| = m × 2^e exactly, so m × 10^D / 2^−e in
  // 128-bit integers, rounded half to even on the remainder, is the correctly rounded text.
  const auto bits = std::bit_cast<uint64_t>(value);
  const auto biased = static_cast<int>((bits >> 52) & 0x7ff);
  if (biased == 0x7ff) return false;  // inf, NaN
  uint64_t mantissa = bits & ((uint64_t{1} << 52) - 1);
  int exponent = -1074;
  if (biased != 0) {
    mantissa |= uint64_t{1} << 52;
    exponent = biased - 1075;
  }
  const Uint128 product = static_cast<Uint128>(mantissa) * kPow10[D];  // < 2^83
  Uint128 result = 0;
  if (exponent >= 0) {
    if (exponent > 40) return false;
    result = product << exponent;
  } else if (-exponent < 100) {
    const int shift = -exponent;
    result = product >> shift;
    const Uint128 remainder = product - (result << shift);
    const Uint128 half = static_cast<Uint128>(1) << (shift - 1);
    if (remainder > half || (remainder == half && (result & 1) != 0)) ++result;
  }  // else |value| × 10^D < 2^-17: rounds to 0
  if ((result >> 64) != 0) return false;
  scaled = static_cast<uint64_t>(result);
  return true;
}

/// Bytes write_fixed may write: DBL_MAX has 309 integer digits, plus sign, point, 9 decimals.
constexpr size_t kFixedRoom = 330;

/// Writes `value` with D decimals at `p` (kFixedRoom bytes of room), returns the end.
template <int D>
char* write_fixed(char* p, double value) {
  uint64_t scaled = 0;
  if (!scale_fixed<D>(value, scaled)) {
    const std::string text = fixed_slow(value, D);  // |value| > 2^93, inf or NaN
    return std::copy(text.begin(), text.end(), p);
  }
  // A negative value that rounds to zero is written "0.0000", never "-0.0000" (fmt keeps the
  // sign; a reader comparing reductions would see a loss where there is none).
  if (std::signbit(value) && scaled != 0) *p++ = '-';
  p = write_u64(p, scaled / kPow10[D]);
  if constexpr (D > 0) {
    *p++ = '.';
    p = write_padded(p, scaled % kPow10[D], D);
  }
  return p;
}

/// Writes `t` as YYYY-MM-DDTHH:MMZ at `p` (17 bytes); nullptr for years outside 0000–9999.
char* write_utc_minutes(char* p, SysTime t) {
  const int64_t total_minutes =
      std::chrono::floor<std::chrono::minutes>(t.time_since_epoch()).count();
  int64_t days = total_minutes / 1440;
  int64_t minute_of_day = total_minutes % 1440;
  if (minute_of_day < 0) {
    minute_of_day += 1440;
    --days;
  }
  // Civil date from days since 1970-01-01 (H. Hinnant's civil_from_days).
  const int64_t z = days + 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const int64_t doe = z - era * 146097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  const int64_t day = doy - (153 * mp + 2) / 5 + 1;
  const int64_t month = mp < 10 ? mp + 3 : mp - 9;
  const int64_t year = yoe + era * 400 + (month <= 2 ? 1 : 0);
  if (year < 0 || year > 9999) return nullptr;
  p = write_padded(p, static_cast<uint64_t>(year), 4);
  *p++ = '-';
  p = write_padded(p, static_cast<uint64_t>(month), 2);
  *p++ = '-';
  p = write_padded(p, static_cast<uint64_t>(day), 2);
  *p++ = 'T';
  p = write_padded(p, static_cast<uint64_t>(minute_of_day / 60), 2);
  *p++ = ':';
  p = write_padded(p, static_cast<uint64_t>(minute_of_day % 60), 2);
  *p++ = 'Z';
  return p;
}

template <int D>
void append_fixed_d(std::string& out, double value) {
  char buffer[kFixedRoom];
  out.append(buffer, static_cast<size_t>(write_fixed<D>(buffer, value) - buffer));
}

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

void append_fixed(std::string& out, double value, int decimals) {
  switch (decimals) {
    case 0:
      return append_fixed_d<0>(out, value);
    case 1:
      return append_fixed_d<1>(out, value);
    case 2:
      return append_fixed_d<2>(out, value);
    case 3:
      return append_fixed_d<3>(out, value);
    case 4:
      return append_fixed_d<4>(out, value);
    case 5:
      return append_fixed_d<5>(out, value);
    case 6:
      return append_fixed_d<6>(out, value);
    case 7:
      return append_fixed_d<7>(out, value);
    case 8:
      return append_fixed_d<8>(out, value);
    case 9:
      return append_fixed_d<9>(out, value);
    default:
      out += fixed_slow(value, decimals);
  }
}

void append_utc_minutes(std::string& out, SysTime t) {
  char buffer[17];
  char* end = write_utc_minutes(buffer, t);
  if (end == nullptr) {
    out += format_utc_minutes(t);
    return;
  }
  out.append(buffer, static_cast<size_t>(end - buffer));
}

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
  std::vector<char> rows;
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
      // Both rows in one buffer, then one append.
      const std::string& fs_label = flexible_start_[w];
      const std::string& pr_label = pause_resume_[w];
      rows.resize(2 * prefix.size() + fs_label.size() + pr_label.size() + 6 * kFixedRoom + 32);
      char* p = rows.data();
      auto put = [&p](const std::string& text) { p = std::copy(text.begin(), text.end(), p); };
      put(prefix);
      put(fs_label);
      char* base_text = p;
      p = write_fixed<6>(p, base);
      const auto base_size = static_cast<size_t>(p - base_text);
      *p++ = ',';
      p = write_fixed<6>(p, fs);
      *p++ = ',';
      p = write_fixed<4>(p, reduction_pct(base, fs));
      p = std::copy_n(",0\n", 3, p);
      put(prefix);
      put(pr_label);
      p = std::copy_n(base_text, base_size, p);
      *p++ = ',';
      p = write_fixed<6>(p, pr);
      *p++ = ',';
      p = write_fixed<4>(p, reduction_pct(base, pr));
      *p++ = ',';
      if (r.pr_pauses < 0) *p++ = '-';
      p = write_u64(p, static_cast<uint64_t>(std::abs(static_cast<int64_t>(r.pr_pauses))));
      *p++ = '\n';
      out.append(rows.data(), static_cast<size_t>(p - rows.data()));
    }
  }
}

}  // namespace carbonclock
