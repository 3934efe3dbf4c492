#include "reports/forecast_render.h"

#include <gtest/gtest.h>

#include <cmath>

namespace carbonclock {
namespace {

const SysTime kIssued = parse_utc("2024-03-01T00:00:00Z").value();

/// One hourly slot forecast of `g_per_kwh` with the interval [p10, p90], and its actual.
ZoneForecast one_slot(double g_per_kwh, double p10, double p90, double actual) {
  ZoneForecast z;
  z.zone = "SE";
  z.forecast.series = {"SE", Signal::kAverage, Factor::kLifecycle, "test"};
  z.forecast.issued_at = kIssued;
  z.forecast.data_end_utc = kIssued;
  z.forecast.slot = std::chrono::hours(1);
  z.forecast.model = ModelKind::kRegression;
  ForecastSlot s;
  s.start_utc = kIssued;
  s.step = 1;
  s.g_per_kwh = g_per_kwh;
  s.p10_g_per_kwh = p10;
  s.p50_g_per_kwh = g_per_kwh;
  s.p90_g_per_kwh = p90;
  s.model = ModelKind::kRegression;
  z.forecast.slots = {s};
  z.history = {"SE",
               Signal::kAverage,
               Factor::kLifecycle,
               "test",
               kIssued - std::chrono::days(21),
               kIssued,
               std::chrono::hours(1),
               504,
               0};
  z.actual_g_per_kwh = {actual};
  return z;
}

TEST(ForecastRenderTest, CsvAndTextNeverPrintNegativeZero) {
  // A regression near zero: −0.0001 and −0.0 g/kWh round to zero and print without a sign.
  ZoneForecast z = one_slot(-0.0001, -0.0, 2.5, -0.04);
  const std::string csv = render_forecast(z, Format::kCsv);
  EXPECT_EQ(csv, forecast_csv_header() +
                     "SE,2024-03-01T00:00:00Z,1,0.000,0.000,0.000,2.500,regression,-0.040\n");
  const std::string text = render_forecast(z, Format::kText);
  EXPECT_NE(text.find("      0.0       0.0       0.0       2.5  regression        0.0"),
            std::string::npos)
      << text;
  EXPECT_EQ(text.find("-0.0"), std::string::npos) << text;
}

}  // namespace
}  // namespace carbonclock
