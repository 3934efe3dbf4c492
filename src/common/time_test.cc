#include "common/time.h"

#include <gtest/gtest.h>

#include <limits>

namespace carbonclock {
namespace {

using namespace std::chrono_literals;

SysTime at(const char* s) { return parse_utc(s).value(); }

TEST(ParseUtc, AcceptsCommonShapes) {
  EXPECT_EQ(format_utc(at("2023-03-01T00:00Z")), "2023-03-01T00:00:00Z");
  EXPECT_EQ(format_utc(at("2023-03-01 12:34:56")), "2023-03-01T12:34:56Z");
  EXPECT_EQ(format_utc(at("2023-03-01T12:00:00+01:00")), "2023-03-01T11:00:00Z");
  EXPECT_EQ(format_utc(at("2023-03-01T12:00:00-0230")), "2023-03-01T14:30:00Z");
  EXPECT_EQ(format_utc(at("2023-03-01")), "2023-03-01T00:00:00Z");
  EXPECT_EQ(format_utc_millis(at("2025-07-27T00:22:27.858Z")), "2025-07-27T00:22:27.858Z");
  EXPECT_EQ(at("1970-01-01T00:00:01Z").time_since_epoch(), 1s);
}

TEST(ParseUtc, RejectsGarbageWithTheText) {
  auto r = parse_utc("2023-13-01T00:00Z");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message().find("2023-13-01T00:00Z"), std::string::npos);
  EXPECT_FALSE(parse_utc("yesterday").ok());
  EXPECT_FALSE(parse_utc("2023-03-01T00:00Zulu").ok());
}

TEST(ParseUtc, RefusesYearsOutsideTheSupportedRangeInsteadOfWrapping) {
  // 64-bit nanoseconds end in 2262; 2300 used to wrap silently to 1715.
  for (const char* text : {"2300-01-01T00:00Z", "9999-12-31", "1600-01-01", "0000-01-01",
                           "1899-12-31T23:59:59Z", "2200-01-01T00:00Z"}) {
    auto r = parse_utc(text);
    ASSERT_FALSE(r.ok()) << text << " gave " << format_utc(*r);
    EXPECT_NE(r.error().message().find("1900"), std::string::npos) << r.error().message();
    EXPECT_NE(r.error().message().find(text), std::string::npos) << r.error().message();
  }
  // An offset that moves an in-range local time across the edge is refused too.
  EXPECT_FALSE(parse_utc("1900-01-01T00:30+01:00").ok());
  EXPECT_FALSE(parse_utc("2199-12-31T23:30-01:00").ok());
  EXPECT_EQ(at("1900-01-01T00:00Z"), kMinTime);
  EXPECT_EQ(format_utc(at("2199-12-31T23:59:59Z")), "2199-12-31T23:59:59Z");
}

TEST(ParseUtc, TimesBeforeTheEpochPrintCorrectly) {
  EXPECT_EQ(format_utc(at("1969-12-31T23:59:59Z")), "1969-12-31T23:59:59Z");
  EXPECT_EQ(format_utc_millis(at("1969-07-20T20:17:40.250Z")), "1969-07-20T20:17:40.250Z");
  EXPECT_EQ(format_utc_minutes(at("1900-01-01T00:00Z")), "1900-01-01T00:00Z");
  EXPECT_EQ(format_utc(floor_to(at("1960-03-01T00:07:13Z"), 5min)), "1960-03-01T00:05:00Z");
}

TEST(TimeRange, AnyAcceptedTimePlusAnyAcceptedDurationIsRepresentable) {
  EXPECT_GT((kMaxTime + kMaxDuration).time_since_epoch(), kMaxTime.time_since_epoch());
  EXPECT_LT((kMinTime - kMaxDuration).time_since_epoch(), kMinTime.time_since_epoch());
  EXPECT_TRUE(in_time_range(kMinTime));
  EXPECT_FALSE(in_time_range(kMaxTime));
  EXPECT_TRUE(in_time_range(kMaxTime - 1ns));
  EXPECT_FALSE(in_time_range(kMinTime - 1ns));
}

TEST(CheckedFromSeconds, RefusesNonFiniteAndHugeValues) {
  EXPECT_EQ(checked_from_seconds(1.5).value(), 1500ms);
  EXPECT_EQ(checked_from_seconds(-2).value(), -2s);
  for (double bad : {1e300, -1e300, 1e10, std::numeric_limits<double>::infinity(),
                     std::numeric_limits<double>::quiet_NaN()}) {
    EXPECT_FALSE(checked_from_seconds(bad).ok()) << bad;
  }
  // The unchecked conversion saturates instead of overflowing (undefined behaviour).
  EXPECT_EQ(from_seconds(1e300), Nanos::max());
  EXPECT_EQ(from_seconds(-1e300), Nanos::min());
  EXPECT_EQ(from_seconds(std::numeric_limits<double>::quiet_NaN()), Nanos(0));
}

TEST(ParseDuration, RefusesDurationsLongerThanTheSupportedMaximum) {
  // 1e300 s used to overflow the nanosecond count (undefined behaviour).
  for (const char* text : {"1e300s", "1e12", "100000d", "60000d"}) {
    auto r = parse_duration(text);
    ASSERT_FALSE(r.ok()) << text;
    EXPECT_NE(r.error().message().find("20 years"), std::string::npos) << r.error().message();
  }
  EXPECT_EQ(parse_duration("7305d").value(), kMaxDuration);
}

TEST(ParseDuration, UnitsAndCombinations) {
  EXPECT_EQ(parse_duration("5m").value(), 300s);
  EXPECT_EQ(parse_duration("1h30m").value(), 5400s);
  EXPECT_EQ(parse_duration("100ms").value(), 100ms);
  EXPECT_EQ(parse_duration("2.5s").value(), 2500ms);
  EXPECT_EQ(parse_duration("45").value(), 45s);
  EXPECT_EQ(parse_duration("1d").value(), 86400s);
  EXPECT_FALSE(parse_duration("5 parsecs").ok());
  EXPECT_FALSE(parse_duration("-1s").ok());
  EXPECT_FALSE(parse_duration("").ok());
}

TEST(FloorTo, AlignsToUtcBoundaries) {
  EXPECT_EQ(format_utc(floor_to(at("2023-03-01T00:07:13Z"), 5min)), "2023-03-01T00:05:00Z");
  EXPECT_EQ(format_utc(floor_to(at("2023-03-01T00:05:00Z"), 5min)), "2023-03-01T00:05:00Z");
}

TEST(FormatDuration, Readable) {
  EXPECT_EQ(format_duration(350ms), "350ms");
  EXPECT_EQ(format_duration(4200ms), "4.2s");
  EXPECT_EQ(format_duration(3723s), "1h02m03s");
}

}  // namespace
}  // namespace carbonclock
