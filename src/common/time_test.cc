#include "common/time.h"

#include <gtest/gtest.h>

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
