#include "grid/importers.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "grid/query.h"
#include "grid/test_util.h"

namespace carbonclock {
namespace {

using std::chrono::hours;
using std::chrono::minutes;
using ::testing::HasSubstr;
using testing::read_testdata;
using testing::utc;

std::string error_of(const Result<std::vector<IntensitySeries>>& r) {
  return r.ok() ? std::string("(no error)") : r.error().message();
}

ImportOptions csv_options(std::string zone = "XX") {
  ImportOptions o;
  o.format = ImportFormat::kGenericCsv;
  o.zone = std::move(zone);
  return o;
}

// --- Electricity Maps CSV ----------------------------------------------------------------

TEST(ElectricityMapsCsv, GivesLifecycleAndDirectSeriesFromOneFile) {
  auto r = parse_electricitymaps_csv(read_testdata("em_hourly.csv"), "em_hourly.csv");
  ASSERT_TRUE(r.ok()) << error_of(r);
  ASSERT_EQ(r->size(), 2u);
  const IntensitySeries& lca = (*r)[0];
  const IntensitySeries& direct = (*r)[1];
  EXPECT_EQ(lca.zone, "DE");
  EXPECT_EQ(lca.factor, Factor::kLifecycle);
  EXPECT_EQ(direct.factor, Factor::kDirect);
  EXPECT_EQ(lca.signal, Signal::kAverage);
  EXPECT_EQ(lca.source, "electricitymaps-csv");
  ASSERT_EQ(lca.points.size(), 3u);
  EXPECT_EQ(lca.points[0].start, utc("2022-01-01T00:00Z"));
  EXPECT_EQ(lca.points[0].duration, hours(1));
  EXPECT_DOUBLE_EQ(lca.points[1].g_per_kwh, 218.0);
  EXPECT_DOUBLE_EQ(direct.points[1].g_per_kwh, 166.66);
  EXPECT_FALSE(lca.points[1].estimated);
  EXPECT_TRUE(lca.points[2].estimated);
  EXPECT_EQ(lca.points[2].duration, hours(1));
}

TEST(ElectricityMapsCsv, IsDetectedFromItsHeader) {
  auto f = detect_import_format(read_testdata("em_hourly.csv"), "em_hourly.csv");
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(*f, ImportFormat::kElectricityMapsCsv);
}

TEST(ElectricityMapsCsv, FactorOptionPicksOneSeries) {
  ImportOptions o;
  o.factor = Factor::kDirect;
  auto r = parse_series(read_testdata("em_hourly.csv"), "em_hourly.csv", o);
  ASSERT_TRUE(r.ok()) << error_of(r);
  ASSERT_EQ(r->size(), 1u);
  EXPECT_EQ((*r)[0].factor, Factor::kDirect);
  EXPECT_DOUBLE_EQ((*r)[0].points[0].g_per_kwh, 163.46);
}

TEST(ElectricityMapsCsv, ContradictingSignalIsAnError) {
  ImportOptions o;
  o.signal = Signal::kMarginal;
  auto r = parse_series(read_testdata("em_hourly.csv"), "em_hourly.csv", o);
  EXPECT_THAT(error_of(r), HasSubstr("contradicts"));
}

TEST(ElectricityMapsCsv, BadIntensityNamesLineAndColumn) {
  std::string text = read_testdata("em_hourly.csv");
  text.replace(text.find("218.0"), 5, "abc");
  auto r = parse_electricitymaps_csv(text, "de.csv");
  EXPECT_THAT(error_of(r), HasSubstr("de.csv:3: bad intensity 'abc'"));
  EXPECT_THAT(error_of(r), HasSubstr("(LCA)"));
}

// --- Generic CSV ---------------------------------------------------------------------------

TEST(GenericCsv, MixedStepsKeepTheirDurationsAndGapsAreNotBridged) {
  auto r = parse_series(read_testdata("mixed_steps.csv"), "mixed_steps.csv", csv_options("GB"));
  ASSERT_TRUE(r.ok()) << error_of(r);
  ASSERT_EQ(r->size(), 1u);
  const auto& p = (*r)[0].points;
  ASSERT_EQ(p.size(), 7u);
  // Steps 30, 30, 15, 15, 90, 30: dominant 30 min; the 90-minute hole keeps 60 min uncovered.
  EXPECT_EQ(p[0].duration, minutes(30));
  EXPECT_EQ(p[2].duration, minutes(15));
  EXPECT_EQ(p[3].duration, minutes(15));
  EXPECT_EQ(p[4].duration, minutes(30));
  EXPECT_EQ(p[6].duration, minutes(30));
  auto gaps = find_gaps((*r)[0]);
  ASSERT_EQ(gaps.size(), 1u);
  EXPECT_EQ(gaps[0].start, utc("2020-01-01T02:00Z"));
  EXPECT_EQ(gaps[0].duration, minutes(60));
  EXPECT_EQ((*r)[0].signal, Signal::kAverage);
  EXPECT_EQ((*r)[0].factor, Factor::kLifecycle);
}

TEST(InferDurations, LastPointTakesPreviousStepAndTiesPickTheSmallerStep) {
  std::vector<SysTime> starts = {utc("2020-01-01T00:00Z"), utc("2020-01-01T00:15Z"),
                                 utc("2020-01-01T00:45Z"), utc("2020-01-01T01:00Z")};
  // Gaps 15, 30, 15: dominant 15.
  auto d = infer_durations(starts, hours(1));
  EXPECT_EQ(d, (std::vector<Nanos>{minutes(15), minutes(15), minutes(15), minutes(15)}));
  std::vector<SysTime> tie = {utc("2020-01-01T00:00Z"), utc("2020-01-01T00:30Z"),
                              utc("2020-01-01T00:45Z")};
  // Gaps 30 and 15 tie: 15 wins; the last point takes min(15, 15).
  EXPECT_EQ(infer_durations(tie, hours(1)),
            (std::vector<Nanos>{minutes(15), minutes(15), minutes(15)}));
  EXPECT_EQ(infer_durations({utc("2020-01-01T00:00Z")}, hours(1)), std::vector<Nanos>{hours(1)});
}

TEST(GenericCsv, ConvertsUnits) {
  ImportOptions o = csv_options();
  o.csv.unit = "lbs/MWh";
  auto r = parse_series("time,value\n2020-01-01T00:00Z,1000\n2020-01-01T00:05Z,500\n", "u.csv", o);
  ASSERT_TRUE(r.ok()) << error_of(r);
  EXPECT_DOUBLE_EQ((*r)[0].points[0].g_per_kwh, 453.59237);
  EXPECT_DOUBLE_EQ((*r)[0].points[1].g_per_kwh, 226.796185);
  o.csv.unit = "t/MWh";
  r = parse_series("time,value\n2020-01-01T00:00Z,0.25\n2020-01-01T00:05Z,0.5\n", "u.csv", o);
  ASSERT_TRUE(r.ok()) << error_of(r);
  EXPECT_DOUBLE_EQ((*r)[0].points[0].g_per_kwh, 250.0);
}

TEST(UnitToGPerKwh, KnowsTheCommonSpellingsAndRejectsOthers) {
  EXPECT_DOUBLE_EQ(*unit_to_g_per_kwh("gCO2eq/kWh"), 1.0);
  EXPECT_DOUBLE_EQ(*unit_to_g_per_kwh("kg/MWh"), 1.0);
  EXPECT_DOUBLE_EQ(*unit_to_g_per_kwh("lbs_co2_per_mwh"), 0.45359237);
  EXPECT_DOUBLE_EQ(*unit_to_g_per_kwh("kgCO2/kWh"), 1000.0);
  auto bad = unit_to_g_per_kwh("furlongs");
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(bad.error().message(), HasSubstr("unknown unit 'furlongs'"));
}

TEST(GenericCsv, UnknownUnitIsAnError) {
  ImportOptions o = csv_options();
  o.csv.unit = "MJ/kWh";
  auto r = parse_series("time,value\n2020-01-01T00:00Z,1\n", "u.csv", o);
  EXPECT_THAT(error_of(r), HasSubstr("u.csv: unknown unit 'MJ/kWh'"));
}

TEST(GenericCsv, LocalTimesInBerlinCrossBothDstChanges) {
  ImportOptions o = csv_options("DE");
  o.csv.tz = "Europe/Berlin";
  // Spring forward 2020-03-29: 02:00 local does not exist; 01:45 CET → 00:45Z, 03:00 CEST → 01:00Z.
  auto spring = parse_series(
      "Time,ci\n2020-03-29 01:30:00,10\n2020-03-29 01:45:00,11\n2020-03-29 03:00:00,12\n"
      "2020-03-29 03:15:00,13\n",
      "spring.csv", o);
  ASSERT_TRUE(spring.ok()) << error_of(spring);
  const auto& sp = (*spring)[0].points;
  EXPECT_EQ(sp[1].start, utc("2020-03-29T00:45Z"));
  EXPECT_EQ(sp[2].start, utc("2020-03-29T01:00Z"));
  EXPECT_EQ(sp[1].duration, minutes(15));
  EXPECT_TRUE(find_gaps((*spring)[0]).empty());
  // Fall back 2020-10-25: 02:00-02:59 local happens twice; file order picks CEST then CET.
  auto fall = parse_series(
      "Time,ci\n2020-10-25 01:30:00,1\n2020-10-25 02:00:00,2\n2020-10-25 02:30:00,3\n"
      "2020-10-25 02:00:00,4\n2020-10-25 02:30:00,5\n2020-10-25 03:00:00,6\n",
      "fall.csv", o);
  ASSERT_TRUE(fall.ok()) << error_of(fall);
  const auto& fp = (*fall)[0].points;
  ASSERT_EQ(fp.size(), 6u);
  EXPECT_EQ(fp[0].start, utc("2020-10-24T23:30Z"));
  EXPECT_EQ(fp[1].start, utc("2020-10-25T00:00Z"));
  EXPECT_EQ(fp[3].start, utc("2020-10-25T01:00Z"));
  EXPECT_EQ(fp[5].start, utc("2020-10-25T02:00Z"));
  for (const auto& p : fp) EXPECT_EQ(p.duration, minutes(30));
}

TEST(GenericCsv, NonexistentLocalTimeIsAnErrorNamingTheLine) {
  ImportOptions o = csv_options("DE");
  o.csv.tz = "Europe/Berlin";
  auto r = parse_series("Time,ci\n2020-03-29 01:45:00,1\n2020-03-29 02:30:00,2\n", "gap.csv", o);
  EXPECT_THAT(error_of(r), HasSubstr("gap.csv:3"));
  EXPECT_THAT(error_of(r), HasSubstr("does not exist in Europe/Berlin"));
}

TEST(GenericCsv, ExplicitOffsetsWinOverTheTimeZone) {
  ImportOptions o = csv_options("DE");
  o.csv.tz = "Europe/Berlin";
  auto r = parse_series("Time,ci\n2020-06-01T00:00Z,1\n2020-06-01T01:00+00:00,2\n", "z.csv", o);
  ASSERT_TRUE(r.ok()) << error_of(r);
  EXPECT_EQ((*r)[0].points[0].start, utc("2020-06-01T00:00Z"));
}

TEST(GenericCsv, UnknownTimeZoneIsAnError) {
  ImportOptions o = csv_options("DE");
  o.csv.tz = "Mars/Olympus";
  auto r = parse_series("Time,ci\n2020-06-01 00:00,1\n", "z.csv", o);
  EXPECT_THAT(error_of(r), HasSubstr("unknown time zone 'Mars/Olympus'"));
}

TEST(GenericCsv, IndexOriginAndStepGiveTimes) {
  ImportOptions o = csv_options("NL");
  o.csv.index_origin = utc("2020-01-01T00:00+01:00");
  o.csv.step = hours(1);
  o.csv.value_column = "MEFs";
  o.csv.unit = "kg/MWh";
  o.signal = Signal::kMarginal;
  auto r = parse_series("T,MEFs,XEFs\n0,977.8,554.8\n1,452.0,552.2\n2,500,550\n", "cef.csv", o);
  ASSERT_TRUE(r.ok()) << error_of(r);
  const auto& s = (*r)[0];
  EXPECT_EQ(s.signal, Signal::kMarginal);
  ASSERT_EQ(s.points.size(), 3u);
  EXPECT_EQ(s.points[0].start, utc("2019-12-31T23:00Z"));
  EXPECT_EQ(s.points[2].start, utc("2020-01-01T01:00Z"));
  EXPECT_EQ(s.points[2].duration, hours(1));
  EXPECT_DOUBLE_EQ(s.points[1].g_per_kwh, 452.0);
}

TEST(GenericCsv, BadIndexIsAnError) {
  ImportOptions o = csv_options("NL");
  o.csv.index_origin = utc("2020-01-01T00:00Z");
  o.csv.step = hours(1);
  o.csv.value_column = "v";
  auto r = parse_series("T,v\n0,1\nx,2\n", "cef.csv", o);
  EXPECT_THAT(error_of(r), HasSubstr("cef.csv:3: bad interval index 'x'"));
}

TEST(GenericCsv, ZoneAndDurationColumnsAreUsed) {
  ImportOptions o;
  o.format = ImportFormat::kGenericCsv;
  o.signal = Signal::kMarginal;
  auto r = parse_series(
      "location,timestamp,duration,value,hist\n"
      "A,2022-10-20T06:20:00+00:00,30,646.5,619.2\n"
      "B,2022-10-20T06:20:00+00:00,30,100,90\n"
      "A,2022-10-20T06:50:00+00:00,20,639.5,618.7\n",
      "zeus.csv", o);
  ASSERT_TRUE(r.ok()) << error_of(r);
  ASSERT_EQ(r->size(), 2u);
  EXPECT_EQ((*r)[0].zone, "A");
  EXPECT_EQ((*r)[1].zone, "B");
  EXPECT_EQ((*r)[0].points[1].duration, minutes(20));
  EXPECT_DOUBLE_EQ((*r)[0].points[1].g_per_kwh, 639.5);
  EXPECT_EQ((*r)[1].points[0].duration, minutes(30));
}

TEST(GenericCsv, SinglePointNeedsAStep) {
  auto r = parse_series("time,value\n2020-01-01T00:00Z,1\n", "one.csv", csv_options());
  EXPECT_THAT(error_of(r), HasSubstr("give --step"));
  ImportOptions o = csv_options();
  o.csv.step = minutes(5);
  r = parse_series("time,value\n2020-01-01T00:00Z,1\n", "one.csv", o);
  ASSERT_TRUE(r.ok()) << error_of(r);
  EXPECT_EQ((*r)[0].points[0].duration, minutes(5));
}

TEST(GenericCsv, EmptyValueCellIsAGap) {
  auto r = parse_series(
      "time,value\n2020-01-01T00:00Z,1\n2020-01-01T00:05Z,\n2020-01-01T00:10Z,3\n"
      "2020-01-01T00:15Z,4\n",
      "holes.csv", csv_options());
  ASSERT_TRUE(r.ok()) << error_of(r);
  EXPECT_EQ((*r)[0].points.size(), 3u);
  ASSERT_EQ(find_gaps((*r)[0]).size(), 1u);
}

// --- Bad input: each names file, line and cause -----------------------------------------

struct BadCase {
  const char* name;
  const char* content;
  const char* expected;
};

class GenericCsvBadInput : public ::testing::TestWithParam<BadCase> {};

TEST_P(GenericCsvBadInput, FailsNamingFileLineAndCause) {
  const BadCase& c = GetParam();
  auto r = parse_series(c.content, "bad.csv", csv_options());
  ASSERT_FALSE(r.ok()) << c.name;
  EXPECT_THAT(r.error().message(), HasSubstr(c.expected)) << c.name;
}

INSTANTIATE_TEST_SUITE_P(
    Cases, GenericCsvBadInput,
    ::testing::Values(
        BadCase{"too_few_columns", "Time,ci\n2020-01-01 00:00,1\n2020-01-01 01:00\n",
                "bad.csv:3: expected 2 columns, found 1"},
        BadCase{"bad_time", "Time,ci\n2020-01-01 00:00,1\nyesterday,2\n",
                "bad.csv:3: cannot parse time 'yesterday'"},
        BadCase{"backwards",
                "Time,ci\n2020-03-29 01:00,1\n2020-03-29 02:00,2\n2020-03-29 01:00,3\n",
                "bad.csv:4: timestamp goes backwards (2020-03-29T01:00:00Z after "
                "2020-03-29T02:00:00Z)"},
        BadCase{"duplicate_different",
                "Time,ci\n2020-01-01 00:00,1\n2020-01-01 01:00,2\n2020-01-01 01:00,3\n",
                "bad.csv:4: duplicate timestamp 2020-01-01T01:00:00Z with different values (2 "
                "and 3 g/kWh)"},
        BadCase{"negative", "Time,ci\n2020-01-01 00:00,1\n2020-01-01 01:00,-5\n",
                "bad.csv:3: negative value -5"},
        BadCase{"non_numeric", "Time,ci\n2020-01-01 00:00,1\n2020-01-01 01:00,lots\n",
                "bad.csv:3: non-numeric value 'lots'"},
        BadCase{"nan", "Time,ci\n2020-01-01 00:00,1\n2020-01-01 01:00,nan\n",
                "bad.csv:3: non-numeric value 'nan'"},
        BadCase{"unterminated_quote", "Time,ci\n2020-01-01 00:00,\"1\n",
                "bad.csv:2: unterminated quote"},
        BadCase{"wrong_columns", "when,a,b\n2020-01-01 00:00,1,2\n",
                "cannot tell which column holds the intensity"},
        BadCase{"empty", "", "bad.csv: empty file"}),
    [](const auto& param_info) { return std::string(param_info.param.name); });

TEST(GenericCsv, IdenticalDuplicateRowsAreDropped) {
  auto r = parse_series("Time,ci\n2020-01-01 00:00,1\n2020-01-01 01:00,2\n2020-01-01 01:00,2\n",
                        "dup.csv", csv_options());
  ASSERT_TRUE(r.ok()) << error_of(r);
  EXPECT_EQ((*r)[0].points.size(), 2u);
}

TEST(GenericCsv, MissingNamedColumnListsTheColumns) {
  ImportOptions o = csv_options();
  o.csv.value_column = "intensity";
  auto r = parse_series("Time,ci\n2020-01-01 00:00,1\n", "cols.csv", o);
  EXPECT_THAT(error_of(r),
              HasSubstr("cols.csv:1: no value column 'intensity' (columns: 'Time', 'ci')"));
}

TEST(GenericCsv, NoZoneIsAnError) {
  ImportOptions o;
  o.format = ImportFormat::kGenericCsv;
  auto r = parse_series("Time,ci\n2020-01-01 00:00,1\n", "nozone.csv", o);
  EXPECT_THAT(error_of(r), HasSubstr("give --zone"));
}

TEST(Import, WrongColumnsForElectricityMapsIsAnError) {
  ImportOptions o;
  o.format = ImportFormat::kElectricityMapsCsv;
  auto r = parse_series("Time,ci\n2020-01-01 00:00,1\n", "em.csv", o);
  EXPECT_THAT(error_of(r), HasSubstr("em.csv:1: no time column 'Datetime (UTC)'"));
}

// --- JSON ------------------------------------------------------------------------------------

TEST(ElectricityMapsJson, HistoryResponse) {
  std::string text = read_testdata("em_history.json");
  auto f = detect_import_format(text, "h.json");
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(*f, ImportFormat::kElectricityMapsJson);
  auto r = parse_electricitymaps_json(text, "h.json");
  ASSERT_TRUE(r.ok()) << error_of(r);
  ASSERT_EQ(r->size(), 1u);
  const auto& s = (*r)[0];
  EXPECT_EQ(s.zone, "US-MIDW-MISO");
  EXPECT_EQ(s.factor, Factor::kLifecycle);
  EXPECT_EQ(s.signal, Signal::kAverage);
  EXPECT_FALSE(s.issued_at.has_value());
  ASSERT_EQ(s.points.size(), 3u);
  EXPECT_TRUE(s.points[0].estimated);
  EXPECT_FALSE(s.points[1].estimated);
  EXPECT_DOUBLE_EQ(s.points[1].g_per_kwh, 419);
  EXPECT_EQ(s.points[2].duration, hours(1));
}

TEST(ElectricityMapsJson, ForecastKeepsItsIssueTime) {
  auto r = parse_electricitymaps_json(read_testdata("em_forecast.json"), "f.json");
  ASSERT_TRUE(r.ok()) << error_of(r);
  const auto& s = (*r)[0];
  ASSERT_TRUE(s.issued_at.has_value());
  EXPECT_EQ(format_utc(*s.issued_at), "2022-12-03T11:41:57Z");
  EXPECT_EQ(s.points.size(), 3u);
  EXPECT_EQ(s.zone, "DE");
}

TEST(ElectricityMapsJson, BadValueNamesTheItem) {
  auto r = parse_electricitymaps_json(
      R"({"zone":"DE","history":[{"carbonIntensity":"high","datetime":"2022-01-01T00:00Z"}]})",
      "bad.json");
  EXPECT_THAT(error_of(r), HasSubstr("bad.json: history[0]: 'carbonIntensity' is not a number"));
  r = parse_electricitymaps_json(R"({"zone":"DE","history":[)", "trunc.json");
  EXPECT_THAT(error_of(r), HasSubstr("trunc.json: invalid JSON"));
}

TEST(WattTimeJson, HistoricalConvertsPoundsPerMwh) {
  std::string text = read_testdata("watttime_historical.json");
  auto f = detect_import_format(text, "wt.json");
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(*f, ImportFormat::kWattTimeJson);
  auto r = parse_watttime_json(text, "wt.json");
  ASSERT_TRUE(r.ok()) << error_of(r);
  const auto& s = (*r)[0];
  EXPECT_EQ(s.zone, "CAISO_NORTH");
  EXPECT_EQ(s.signal, Signal::kMarginal);
  EXPECT_EQ(s.factor, Factor::kDirect);
  EXPECT_FALSE(s.issued_at.has_value());
  ASSERT_EQ(s.points.size(), 3u);
  EXPECT_DOUBLE_EQ(s.points[0].g_per_kwh, 453.59237);
  EXPECT_EQ(s.points[2].duration, minutes(5));
}

TEST(WattTimeJson, ForecastHasGeneratedAt) {
  auto r = parse_watttime_json(read_testdata("watttime_forecast.json"), "wtf.json");
  ASSERT_TRUE(r.ok()) << error_of(r);
  ASSERT_TRUE((*r)[0].issued_at.has_value());
  EXPECT_EQ(*(*r)[0].issued_at, utc("2023-06-08T11:55Z"));
}

TEST(WattTimeJson, UnknownUnitsAndSignalsAreErrors) {
  std::string text = read_testdata("watttime_historical.json");
  std::string units = text;
  units.replace(units.find("lbs_co2_per_mwh"), 15, "percentile");
  EXPECT_THAT(error_of(parse_watttime_json(units, "wt.json")),
              HasSubstr("unknown unit 'percentile'"));
  std::string signal = text;
  signal.replace(signal.find("co2_moer"), 8, "health_damage");
  EXPECT_THAT(error_of(parse_watttime_json(signal, "wt.json")),
              HasSubstr("unsupported signal_type 'health_damage'"));
}

TEST(UkCarbonIntensityJson, NationalUsesActualElseForecastFlaggedEstimated) {
  std::string text = read_testdata("ukci_national.json");
  auto f = detect_import_format(text, "uk.json");
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(*f, ImportFormat::kUkCarbonIntensityJson);
  auto r = parse_uk_carbon_intensity_json(text, "uk.json");
  ASSERT_TRUE(r.ok()) << error_of(r);
  const auto& s = (*r)[0];
  EXPECT_EQ(s.zone, "GB");
  ASSERT_EQ(s.points.size(), 2u);
  EXPECT_DOUBLE_EQ(s.points[0].g_per_kwh, 263);
  EXPECT_FALSE(s.points[0].estimated);
  EXPECT_DOUBLE_EQ(s.points[1].g_per_kwh, 270);
  EXPECT_TRUE(s.points[1].estimated);
  EXPECT_EQ(s.points[1].duration, minutes(30));
}

TEST(UkCarbonIntensityJson, RegionalShapesGiveOneSeriesPerRegion) {
  auto all = parse_uk_carbon_intensity_json(read_testdata("ukci_regional.json"), "r.json");
  ASSERT_TRUE(all.ok()) << error_of(all);
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[0].zone, "GB-1");
  EXPECT_EQ((*all)[1].zone, "GB-13");
  ASSERT_EQ((*all)[1].points.size(), 2u);
  EXPECT_DOUBLE_EQ((*all)[1].points[1].g_per_kwh, 190);
  auto one = parse_uk_carbon_intensity_json(read_testdata("ukci_region.json"), "r3.json");
  ASSERT_TRUE(one.ok()) << error_of(one);
  ASSERT_EQ(one->size(), 1u);
  EXPECT_EQ((*one)[0].zone, "GB-3");
  EXPECT_TRUE((*one)[0].points[0].estimated);
}

TEST(Import, UnknownJsonShapeIsAnError) {
  auto f = detect_import_format(R"({"hello":"world"})", "x.json");
  ASSERT_FALSE(f.ok());
  EXPECT_THAT(f.error().message(), HasSubstr("x.json: JSON of unknown shape"));
}

// --- Hostile input (issue 15): clear errors, never a crash or a silent wrap ---------------

struct HostileCase {
  const char* name;
  ImportFormat format;
  const char* content;
  const char* expected;
};

class HostileInput : public ::testing::TestWithParam<HostileCase> {};

TEST_P(HostileInput, IsAnErrorNamingTheCause) {
  const HostileCase& c = GetParam();
  ImportOptions o;
  o.format = c.format;
  if (c.format == ImportFormat::kGenericCsv) o.zone = "XX";
  auto r = parse_series(c.content, "in.txt", o);
  ASSERT_FALSE(r.ok()) << c.name;
  EXPECT_THAT(r.error().message(), HasSubstr(c.expected)) << c.name;
}

INSTANTIATE_TEST_SUITE_P(
    Cases, HostileInput,
    ::testing::Values(
        // Numbers outside the range of a double threw out of the JSON parser (abort).
        HostileCase{"em_overflow", ImportFormat::kElectricityMapsJson,
                    R"({"zone":"DE","history":[{"datetime":"2024-01-01T00:00Z",)"
                    R"("carbonIntensity":1e999}]})",
                    "in.txt: invalid JSON: number overflow parsing '1e999'"},
        HostileCase{"em_overflow_detected", ImportFormat::kAuto,
                    R"({"zone":"DE","history":[{"datetime":"2024-01-01T00:00Z",)"
                    R"("carbonIntensity":1e999}]})",
                    "number overflow"},
        HostileCase{"watttime_overflow", ImportFormat::kWattTimeJson,
                    R"({"meta":{"region":"X","signal_type":"co2_moer","units":"g_co2_per_kwh"},)"
                    R"("data":[{"point_time":"2024-01-01T00:00Z","value":-1e400}]})",
                    "number overflow"},
        HostileCase{"ukci_overflow", ImportFormat::kUkCarbonIntensityJson,
                    R"({"data":[{"from":"2024-01-01T00:00Z","to":"2024-01-01T00:30Z",)"
                    R"("intensity":{"forecast":1E+309,"actual":null}}]})",
                    "number overflow"},
        // A non-string from/to in the regional shape threw a type_error (abort).
        HostileCase{"ukci_regional_from_number", ImportFormat::kUkCarbonIntensityJson,
                    R"({"data":[{"from":5,"to":"2024-01-01T00:30Z","regions":[)"
                    R"({"regionid":1,"intensity":{"forecast":1,"actual":2}}]}]})",
                    "in.txt: data[0].regions[0]: missing string 'from'"},
        HostileCase{"ukci_regional_to_object", ImportFormat::kUkCarbonIntensityJson,
                    R"({"data":[{"from":"2024-01-01T00:00Z","to":{"x":[1]},"regions":[)"
                    R"({"regionid":1,"intensity":{"forecast":1,"actual":2}}]}]})",
                    "missing string 'to'"},
        HostileCase{"watttime_huge_period", ImportFormat::kWattTimeJson,
                    R"({"meta":{"region":"X","signal_type":"co2_moer","units":"g_co2_per_kwh",)"
                    R"("data_point_period_seconds":1e300},)"
                    R"("data":[{"point_time":"2024-01-01T00:00Z","value":1}]})",
                    "in.txt: meta: bad data_point_period_seconds"},
        HostileCase{"value_not_a_number", ImportFormat::kElectricityMapsJson,
                    R"({"zone":"DE","history":[{"datetime":"2024-01-01T00:00Z",)"
                    R"("carbonIntensity":[[[1]]]}]})",
                    "'carbonIntensity' is not a number (array)"},
        // Timestamps beyond 2262 wrapped to the 17th century and were stored.
        HostileCase{"em_json_year_2300", ImportFormat::kElectricityMapsJson,
                    R"({"zone":"DE","history":[{"datetime":"2300-01-01T00:00Z",)"
                    R"("carbonIntensity":1}]})",
                    "outside the supported range"},
        HostileCase{"csv_year_2300", ImportFormat::kGenericCsv,
                    "Time,ci\n2020-01-01 00:00,1\n2300-01-01 01:00,2\n",
                    "in.txt:3: cannot parse time '2300-01-01 01:00': outside the supported "
                    "range"},
        HostileCase{"csv_huge_duration", ImportFormat::kGenericCsv,
                    "Time,ci,duration\n2020-01-01 00:00,1,1e300\n",
                    "in.txt:2: bad duration '1e300'"},
        // More fields than the header: the columns shifted silently.
        HostileCase{"csv_extra_field", ImportFormat::kGenericCsv,
                    "Time,ci\n2020-01-01 00:00,1\n2020-01-01 01:00,2,3\n",
                    "in.txt:3: expected 2 columns, found 3"},
        HostileCase{"em_csv_extra_field", ImportFormat::kElectricityMapsCsv,
                    "Datetime (UTC),Zone Id,Carbon Intensity gCO2eq/kWh (direct),"
                    "Carbon Intensity gCO2eq/kWh (LCA)\n"
                    "2022-01-01 00:00:00,DE,1,163.46,213.79\n",
                    "in.txt:2: expected 4 columns, found 5"}),
    [](const auto& param_info) { return std::string(param_info.param.name); });

TEST(HostileImport, DeepNestingIsAnErrorNotAStackOverflow) {
  std::string deep = R"({"data":)" + std::string(100000, '[') + std::string(100000, ']') + "}";
  for (ImportFormat f : {ImportFormat::kAuto, ImportFormat::kUkCarbonIntensityJson,
                         ImportFormat::kElectricityMapsJson, ImportFormat::kWattTimeJson}) {
    ImportOptions o;
    o.format = f;
    auto r = parse_series(deep, "deep.json", o);
    ASSERT_FALSE(r.ok());
    EXPECT_THAT(r.error().message(), HasSubstr("deep.json: JSON nested deeper than 256 levels"));
  }
}

TEST(HostileImport, IndexBeyondTheSupportedRangeIsAnErrorNotAWrap) {
  ImportOptions o = csv_options();
  o.csv.index_origin = utc("2020-01-01T00:00Z");
  o.csv.step = hours(1);
  // 2,000,000 hours after 2020 is the year 2248; 9e15 hours overflows 64-bit nanoseconds.
  for (const char* index : {"2000000", "9000000000000000"}) {
    auto r = parse_series(std::string("i,ci\n0,1\n") + index + ",2\n", "idx.csv", o);
    ASSERT_FALSE(r.ok()) << index;
    EXPECT_THAT(r.error().message(), HasSubstr("idx.csv:3: interval index"));
    EXPECT_THAT(r.error().message(), HasSubstr("outside the supported range"));
  }
}

TEST(HostileImport, ExtraFieldInAQuotedValueIsNotAnExtraField) {
  auto r =
      parse_series("Time,ci,note\n2020-01-01 00:00,1,\"a,b\"\n2020-01-01 01:00,2,c\n", "q.csv", [] {
        ImportOptions o = csv_options();
        o.csv.value_column = "ci";
        return o;
      }());
  ASSERT_TRUE(r.ok()) << error_of(r);
  EXPECT_EQ((*r)[0].points.size(), 2u);
}

TEST(ValidateSeries, RejectsOverlapAndBadValues) {
  IntensitySeries s;
  s.zone = "Z";
  s.points = {{utc("2020-01-01T00:00Z"), hours(1), 1, false},
              {utc("2020-01-01T00:30Z"), hours(1), 1, false}};
  auto st = validate_series(s, "o");
  ASSERT_FALSE(st.ok());
  EXPECT_THAT(st.error().message(), HasSubstr("starts before the previous one ends"));
  s.points = {{utc("2020-01-01T00:00Z"), hours(1), -1, false}};
  EXPECT_FALSE(validate_series(s, "o").ok());
  s.points = {{utc("2020-01-01T00:00Z"), Nanos(0), 1, false}};
  EXPECT_FALSE(validate_series(s, "o").ok());
  // Times and durations outside the supported range, which arithmetic on them could wrap.
  s.points = {{kMaxTime - hours(1), hours(2), 1, false}};
  EXPECT_TRUE(validate_series(s, "o").ok());  // ends after kMaxTime: still representable
  s.points = {{kMaxTime, hours(1), 1, false}};
  EXPECT_THAT(validate_series(s, "o").error().message(), HasSubstr("outside the supported range"));
  s.points = {{utc("2020-01-01T00:00Z"), kMaxDuration + hours(1), 1, false}};
  EXPECT_THAT(validate_series(s, "o").error().message(), HasSubstr("longer than"));
}

}  // namespace
}  // namespace carbonclock
