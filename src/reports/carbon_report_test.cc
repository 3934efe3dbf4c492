#include "reports/carbon_report.h"

#include <gtest/gtest.h>

#include <fstream>

#include "accounting/test_run.h"
#include "common/files.h"
#include "grid/store.h"
#include "grid/test_util.h"
#include "reports/schema_check.h"
#include "reports/svg_chart.h"

namespace carbonclock {
namespace {

using namespace std::chrono_literals;
using testing::make_run;
using testing::utc;

std::vector<std::string> split(const std::string& line) {
  std::vector<std::string> out(1);
  bool quoted = false;
  for (char c : line) {
    if (c == '"') {
      quoted = !quoted;
    } else if (c == ',' && !quoted) {
      out.emplace_back();
    } else if (c != '\n') {
      out.back() += c;
    }
  }
  return out;
}

// A 30-minute run of 3 kWh (one H100), marginal 400 g/kWh and average 200/300 g/kWh stored
// for US-CAL-CISO, PUE 1.2: marginal 1440 g (headline), average 900 g.
class CarbonReportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto s = GridStore::open(dir_.path() / "grid.db");
    ASSERT_TRUE(s.ok()) << s.error().message();
    auto imp = s->import({{"US-CAL-CISO",
                           Signal::kMarginal,
                           Factor::kDirect,
                           "test-marginal",
                           std::nullopt,
                           {{utc("2026-03-01T00:00Z"), 1h, 400, false}}},
                          {"US-CAL-CISO",
                           Signal::kAverage,
                           Factor::kLifecycle,
                           "test-average",
                           std::nullopt,
                           {{utc("2026-03-01T00:00Z"), 15min, 200, false},
                            {utc("2026-03-01T00:15Z"), 15min, 300, false}}}},
                         "test");
    ASSERT_TRUE(imp.ok()) << imp.error().message();
    AccountingInputs in;
    in.zone = "US-CAL-CISO";
    in.selection = select_zone(std::string("us-west-1"), std::nullopt).value();
    in.region = "us-west-1";
    in.zone_origin = "--region";
    in.pue = 1.2;
    in.pue_origin = "--pue";
    auto unit = parse_functional_unit("1000 inferences");
    ASSERT_TRUE(unit.ok());
    unit->work = 4000;
    in.unit = *unit;
    IntensityProvider provider(&*s);
    auto acc = account_run(run_, in, provider);
    ASSERT_TRUE(acc.ok()) << acc.error().message();
    account_ = std::move(*acc);
  }
  testing::TempDir dir_;
  RunRecord run_ =
      make_run(utc("2026-03-01T00:00Z"), 30min, 5min, std::vector<double>(6, 0.5 * 3.6e6));
  CarbonAccount account_;
};

TEST_F(CarbonReportTest, JsonHasTheHeadlineNumbersWithUnitsInTheirNames) {
  auto j = report_json(run_, account_, "runs/x");
  EXPECT_DOUBLE_EQ(j["energy_kwh"].get<double>(), 3.0);
  EXPECT_NEAR(j["facility_energy_kwh"].get<double>(), 3.6, 1e-12);
  EXPECT_NEAR(j["operational_g"].get<double>(), 1440, 1e-6);
  EXPECT_EQ(j["signal"], "marginal");
  EXPECT_EQ(j["zone"], "US-CAL-CISO");
  EXPECT_EQ(j["region"], "us-west-1");
  EXPECT_DOUBLE_EQ(j["pue"].get<double>(), 1.2);
  EXPECT_DOUBLE_EQ(j["coverage"]["stored_share"].get<double>(), 1.0);
  EXPECT_NEAR(j["signals"][1]["operational_g"].get<double>(), 900, 1e-6);
  // SCI = (1440 + M) / (4000 / 1000).
  const double m = j["embodied_g"].get<double>();
  EXPECT_GT(m, 0);
  EXPECT_NEAR(j["sci_g_per_unit"].get<double>(), (1440 + m) / 4, 1e-6);
  EXPECT_EQ(j["functional_unit"]["text"], "1000 inferences");
}

TEST_F(CarbonReportTest, JsonFollowsTheCommittedSchema) {
  auto text = read_file(std::string(CARBONCLOCK_SOURCE_DIR) + "/schemas/report.schema.json");
  ASSERT_TRUE(text.ok()) << text.error().message();
  auto schema = nlohmann::json::parse(*text);
  EXPECT_EQ(schema["properties"]["report_schema_version"]["const"], kReportSchemaVersion);
  check_schema(schema, report_json(run_, account_, "runs/x"), "$");
}

TEST_F(CarbonReportTest, CsvHasCodeCarbonsColumnsAndUnits) {
  auto header = split(codecarbon_csv_header());
  ASSERT_EQ(header.size(), 32u);
  EXPECT_EQ(header[0], "timestamp");
  EXPECT_EQ(header[5], "emissions");
  EXPECT_EQ(header[13], "energy_consumed");
  EXPECT_EQ(header[31], "pue");
  auto row = split(codecarbon_csv_row(run_, account_));
  ASSERT_EQ(row.size(), header.size());
  auto col = [&](const char* name) {
    for (size_t i = 0; i < header.size(); ++i) {
      if (header[i] == name) return row[i];
    }
    ADD_FAILURE() << name;
    return std::string();
  };
  EXPECT_EQ(col("timestamp"), "2026-03-01T00:30:00");
  EXPECT_NEAR(std::stod(col("duration")), 1800, 1e-9);
  EXPECT_NEAR(std::stod(col("emissions")), 1.44, 1e-9);               // kg
  EXPECT_NEAR(std::stod(col("emissions_rate")), 1.44 / 1800, 1e-12);  // kg/s
  EXPECT_NEAR(std::stod(col("gpu_energy")), 3.0, 1e-9);               // kWh
  EXPECT_NEAR(std::stod(col("energy_consumed")), 3.0, 1e-9);
  EXPECT_NEAR(std::stod(col("gpu_power")), 3.0 * 3.6e6 / 1800, 1e-9);  // W
  EXPECT_EQ(col("cloud_provider"), "aws");
  EXPECT_EQ(col("cloud_region"), "us-west-1");
  EXPECT_EQ(col("country_iso_code"), "US");
  EXPECT_EQ(col("gpu_count"), "1");
  EXPECT_EQ(col("pue"), "1.2");
}

TEST_F(CarbonReportTest, CsvAppendsWritesTheHeaderOnceAndRefusesForeignFiles) {
  auto path = dir_.path() / "emissions.csv";
  ASSERT_TRUE(append_codecarbon_csv(path, run_, account_).ok());
  ASSERT_TRUE(append_codecarbon_csv(path, run_, account_).ok());
  auto text = read_file(path).value();
  EXPECT_EQ(text.rfind(codecarbon_csv_header(), 0), 0u);
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 3);

  auto foreign = dir_.path() / "other.csv";
  std::ofstream(foreign) << "timestamp,project_name,emissions\n2026-01-01,x,1\n";
  auto s = append_codecarbon_csv(foreign, run_, account_);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message().find("refusing to append"), std::string::npos);
  EXPECT_EQ(read_file(foreign).value(), "timestamp,project_name,emissions\n2026-01-01,x,1\n");
}

TEST_F(CarbonReportTest, MarkdownIsACarbonStatementWithATable) {
  auto md = report_markdown(run_, account_);
  for (const char* s : {"1 × NVIDIA H100 80GB HBM3", "0.50 hours", "3.000 kWh", "US-CAL-CISO",
                        "us-west-1", "marginal", "test-marginal", "1440 gCO2eq",
                        "Dodge et al. (2022)", "| quantity | value |", "PUE of 1.20"}) {
    EXPECT_NE(md.find(s), std::string::npos) << s << "\n" << md;
  }
}

TEST_F(CarbonReportTest, TextShowsBothSignalsSciAndCoverage) {
  auto t = report_text(run_, account_, "runs/x");
  for (const char* s : {"1.440 kg", "900.00 g", "headline marginal", "why this signal",
                        "PUE 1.20 (--pue)", "per 1000 inferences", "smartphone charges",
                        "100.0% of the energy priced with stored data"}) {
    EXPECT_NE(t.find(s), std::string::npos) << s << "\n" << t;
  }
  auto summary = emissions_summary_text(account_);
  EXPECT_NE(summary.find("1.440 kg CO2eq operational (marginal signal"), std::string::npos)
      << summary;
}

TEST_F(CarbonReportTest, HtmlIsSelfContainedWithFourCharts) {
  HtmlExtras x;
  IntensityProvider embedded_only(nullptr);
  x.by_zone = emissions_by_zone(run_, 1.2, embedded_only);
  x.by_hour = std::vector<double>(24, 100.0);
  auto html = report_html(run_, account_, x);
  size_t svgs = 0;
  for (size_t p = html.find("<svg"); p != std::string::npos; p = html.find("<svg", p + 1)) ++svgs;
  EXPECT_EQ(svgs, 4u);
  EXPECT_EQ(html.find("src="), std::string::npos);
  EXPECT_EQ(html.find("href="), std::string::npos);
  EXPECT_EQ(html.find("https://"), std::string::npos);
  // The zone chart names the run's zone in bold, and equivalents are marked.
  EXPECT_NE(html.find("font-weight=\"bold\">US-CAL-CISO"), std::string::npos);
  EXPECT_NE(html.find(">1 smartphone charge<"), std::string::npos);
  EXPECT_NE(html.find(">1 mile driven<"), std::string::npos);
}

TEST(SvgChartTest, EscapesTextAndScalesBars) {
  EXPECT_EQ(html_escape("<a & 'b'>"), "&lt;a &amp; &#39;b&#39;&gt;");
  BarChart c{"t", "g", {{"x", 10, false}, {"y", 1000, true}}, true, {{"far", 1e9}}};
  auto svg = svg_bar_chart(c);
  // Decades 10..1000 span the 650-pixel plot: 10 at x=210, 1000 at the right edge.
  EXPECT_NE(svg.find("width=\"0.0\""), std::string::npos) << svg;
  EXPECT_NE(svg.find("width=\"650.0\""), std::string::npos) << svg;
  EXPECT_EQ(svg.find("far"), std::string::npos);  // marker outside the range is skipped
}

}  // namespace
}  // namespace carbonclock
