#include "reports/carbon_report.h"

#include <fmt/ranges.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <regex>

#include "accounting/test_run.h"
#include "common/files.h"
#include "grid/store.h"
#include "grid/test_util.h"
#include "reports/format.h"
#include "reports/model_card.h"
#include "reports/schema_check.h"
#include "reports/summary.h"
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
  // A real JSON Schema validator (python3-jsonschema), not a hand-written subset.
  EXPECT_EQ(testing::schema_errors("report.schema.json",
                                   json_text(report_json(run_, account_, "/runs/x"))),
            "");
  // It does reject what the schema forbids.
  auto broken = report_json(run_, account_, "/runs/x");
  broken["energy_kwh"] = "3 kWh";
  EXPECT_NE(testing::schema_errors("report.schema.json", json_text(broken)).find("energy_kwh"),
            std::string::npos);
}

// The column of `name` in a header/row pair.
std::string column(const std::vector<std::string>& header, const std::vector<std::string>& row,
                   const char* name) {
  for (size_t i = 0; i < header.size() && i < row.size(); ++i) {
    if (header[i] == name) return row[i];
  }
  ADD_FAILURE() << "no column " << name;
  return std::string();
}

std::vector<std::string> columns_of(const CodeCarbonLayout& layout) {
  return {layout.columns.begin(), layout.columns.end()};
}

TEST_F(CarbonReportTest, CsvHasCodeCarbonsCurrentColumnsAndUnits) {
  // CodeCarbon 3.2's EmissionsData: 38 columns, water, utilisation and wue added.
  auto header = split(codecarbon_csv_header());
  ASSERT_EQ(header.size(), 38u);
  EXPECT_EQ(header[0], "timestamp");
  EXPECT_EQ(header[5], "emissions");
  EXPECT_EQ(header[13], "energy_consumed");
  EXPECT_EQ(header[14], "water_consumed");
  EXPECT_EQ(header[31], "cpu_utilization_percent");
  EXPECT_EQ(header[34], "ram_used_gb");
  EXPECT_EQ(header[36], "pue");
  EXPECT_EQ(header[37], "wue");
  auto row = split(codecarbon_csv_row(run_, account_));
  ASSERT_EQ(row.size(), header.size());
  auto col = [&](const char* name) { return column(header, row, name); };
  EXPECT_EQ(col("timestamp"), "2026-03-01T00:30:00");
  EXPECT_NEAR(std::stod(col("duration")), 1800, 1e-9);
  EXPECT_NEAR(std::stod(col("emissions")), 1.44, 1e-9);               // kg
  EXPECT_NEAR(std::stod(col("emissions_rate")), 1.44 / 1800, 1e-12);  // kg/s
  // CodeCarbon multiplies every energy by the PUE (1.2 here), not the powers.
  EXPECT_NEAR(std::stod(col("gpu_energy")), 3.0 * 1.2, 1e-9);  // kWh
  EXPECT_NEAR(std::stod(col("energy_consumed")), 3.0 * 1.2, 1e-9);
  EXPECT_NEAR(std::stod(col("gpu_power")), 3.0 * 3.6e6 / 1800, 1e-9);  // W
  EXPECT_EQ(col("water_consumed"), "0");
  EXPECT_EQ(col("wue"), "0");
  EXPECT_EQ(col("cloud_provider"), "aws");
  EXPECT_EQ(col("cloud_region"), "us-west-1");
  EXPECT_EQ(col("on_cloud"), "Y");
  EXPECT_EQ(col("country_iso_code"), "USA");  // CodeCarbon writes ISO 3166-1 alpha-3
  EXPECT_EQ(col("country_name"), "United States");
  EXPECT_EQ(col("gpu_count"), "1");
  EXPECT_EQ(col("gpu_model"), "1 x NVIDIA H100 80GB HBM3");
  EXPECT_EQ(col("pue"), "1.2");
}

TEST(CodeCarbonCsvTest, HeaderIsCodeCarbon33sExactly) {
  // EmissionsData's fields in declaration order at mlco2/codecarbon tag 3.3.0 (commit
  // 4dde6e30f061f9fa718fa0396b284b3c965a5aad), the same since v3.2.1: the CSV's column order.
  EXPECT_EQ(codecarbon_csv_header(),
            "timestamp,project_name,run_id,experiment_id,duration,emissions,emissions_rate,"
            "cpu_power,gpu_power,ram_power,cpu_energy,gpu_energy,ram_energy,energy_consumed,"
            "water_consumed,country_name,country_iso_code,region,cloud_provider,cloud_region,os,"
            "python_version,codecarbon_version,cpu_count,cpu_model,gpu_count,gpu_model,longitude,"
            "latitude,ram_total_size,tracking_mode,cpu_utilization_percent,"
            "gpu_utilization_percent,ram_utilization_percent,ram_used_gb,on_cloud,pue,wue\n");
  EXPECT_STREQ(codecarbon_layouts().back().since, "3.2.1");
}

TEST_F(CarbonReportTest, CsvOlderLayoutsAreCodeCarbonsSince2) {
  auto layouts = codecarbon_layouts();
  ASSERT_EQ(layouts.size(), 6u);
  std::vector<size_t> sizes;
  for (const auto& l : layouts) sizes.push_back(l.columns.size());
  EXPECT_EQ(sizes, (std::vector<size_t>{29, 30, 31, 32, 34, 38}));
  // The 2.7 layout (32 columns) is the one carbonclock used to write.
  auto header = columns_of(layouts[3]);
  EXPECT_EQ(header[0], "timestamp");
  EXPECT_EQ(header[5], "emissions");
  EXPECT_EQ(header[13], "energy_consumed");
  EXPECT_EQ(header[31], "pue");
  auto row = split(codecarbon_csv_row(run_, account_, header));
  ASSERT_EQ(row.size(), header.size());
  EXPECT_NEAR(std::stod(column(header, row, "emissions")), 1.44, 1e-9);
  EXPECT_EQ(column(header, row, "pue"), "1.2");
}

// Host facts as run.json records them.
HostInfo test_host() {
  return {"Intel(R) Xeon(R) Platinum 8259CL CPU @ 2.50GHz", 2, 7.5,
          "Linux-6.1.0-18-amd64-x86_64-with-glibc2.36", "3.11.2"};
}

TEST_F(CarbonReportTest, CsvFieldsComeFromTheHostAndOnlyClaimACloudWhenOneWasGiven) {
  run_.host_info = test_host();
  auto header = split(codecarbon_csv_header());
  auto row = split(codecarbon_csv_row(run_, account_));
  auto col = [&](const char* name) { return column(header, row, name); };
  // The machine's logical CPUs and model, not a count of metered devices or a model name.
  EXPECT_EQ(col("cpu_count"), "2");
  EXPECT_EQ(col("cpu_model"), "Intel(R) Xeon(R) Platinum 8259CL CPU @ 2.50GHz");
  EXPECT_EQ(col("python_version"), "3.11.2");
  EXPECT_EQ(col("os"), "Linux-6.1.0-18-amd64-x86_64-with-glibc2.36");
  EXPECT_EQ(col("ram_total_size"), "7.5");
  EXPECT_EQ(col("tracking_mode"), "machine");

  // A zone without a cloud region: no provider, region or coordinates, not on a cloud.
  AccountingInputs in;
  in.zone = "DE";
  in.selection = select_zone(std::nullopt, std::string("DE")).value();
  in.zone_origin = "--zone";
  IntensityProvider embedded_only(nullptr);
  auto de = account_run(run_, in, embedded_only);
  ASSERT_TRUE(de.ok()) << de.error().message();
  row = split(codecarbon_csv_row(run_, *de));
  EXPECT_EQ(col("cloud_provider"), "");
  EXPECT_EQ(col("cloud_region"), "");
  EXPECT_EQ(col("longitude"), "");
  EXPECT_EQ(col("on_cloud"), "N");
  EXPECT_EQ(col("country_name"), "Germany");
  EXPECT_EQ(col("country_iso_code"), "DEU");
  EXPECT_EQ(col("region"), "DE");
  // PUE 1 (default): energies as measured.
  EXPECT_NEAR(std::stod(col("energy_consumed")), 3.0, 1e-9);
  EXPECT_EQ(col("pue"), "1");
}

TEST_F(CarbonReportTest, CsvAppendsWritesTheHeaderOnceReplacesARunAndRefusesForeignFiles) {
  auto path = dir_.path() / "emissions.csv";
  ASSERT_TRUE(append_codecarbon_csv(path, run_, account_).ok());
  ASSERT_TRUE(append_codecarbon_csv(path, run_, account_).ok());
  auto text = read_file(path).value();
  EXPECT_EQ(text.rfind(codecarbon_csv_header(), 0), 0u);
  // The same run appended twice is one row (CodeCarbon's "update" mode), not two.
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 2) << text;
  RunRecord other = run_;
  other.id = "20260301T010000Z-123456";
  ASSERT_TRUE(append_codecarbon_csv(path, other, account_).ok());
  text = read_file(path).value();
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 3) << text;
  EXPECT_LT(text.find(run_.id), text.find(other.id));

  auto foreign = dir_.path() / "other.csv";
  std::ofstream(foreign) << "timestamp,project_name,emissions\n2026-01-01,x,1\n";
  auto s = append_codecarbon_csv(foreign, run_, account_);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message().find("refusing to append"), std::string::npos);
  EXPECT_EQ(read_file(foreign).value(), "timestamp,project_name,emissions\n2026-01-01,x,1\n");
}

TEST_F(CarbonReportTest, CsvAppendsToEveryCodeCarbonLayoutUnderItsOwnHeader) {
  for (const auto& layout : codecarbon_layouts()) {
    SCOPED_TRACE(layout.since);
    auto header = columns_of(layout);
    std::string header_line;
    for (const auto& c : header) header_line += (header_line.empty() ? "" : ",") + c;
    // A row CodeCarbon wrote, with a quoted field holding a comma, and CRLF line ends.
    std::vector<std::string> theirs(header.size(), "0");
    for (size_t i = 0; i < header.size(); ++i) {
      if (header[i] == "run_id") theirs[i] = "5b0fa12a-3dd7-45bb-9766-cc326314d9f1";
      if (header[i] == "cpu_model") theirs[i] = "\"AMD EPYC 7R13, 48-Core\"";
    }
    std::string their_line;
    for (const auto& f : theirs) their_line += (their_line.empty() ? "" : ",") + f;
    auto path = dir_.path() / fmt::format("cc_{}.csv", layout.since);
    std::ofstream(path) << header_line << "\r\n" << their_line << "\r\n";
    ASSERT_TRUE(append_codecarbon_csv(path, run_, account_).ok());
    ASSERT_TRUE(append_codecarbon_csv(path, run_, account_).ok());
    auto text = read_file(path).value();
    // Their header and row untouched, ours once, CRLF kept.
    EXPECT_EQ(text.rfind(header_line + "\r\n" + their_line + "\r\n", 0), 0u) << text;
    EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 3) << text;
    EXPECT_EQ(std::count(text.begin(), text.end(), '\r'), 3) << text;
    std::string ours = text.substr(header_line.size() + their_line.size() + 4);
    auto row = split(ours.substr(0, ours.find('\r')));
    ASSERT_EQ(row.size(), header.size());
    EXPECT_EQ(column(header, row, "run_id"), run_.id);
    EXPECT_NEAR(std::stod(column(header, row, "emissions")), 1.44, 1e-9);
    EXPECT_NEAR(std::stod(column(header, row, "energy_consumed")), 3.6, 1e-9);
  }
  // Columns in another order are CodeCarbon's too (it compares them sorted): ours follow them.
  auto path = dir_.path() / "reordered.csv";
  auto header = columns_of(codecarbon_layouts().back());
  std::reverse(header.begin(), header.end());
  std::string header_line;
  for (const auto& c : header) header_line += (header_line.empty() ? "" : ",") + c;
  std::ofstream(path) << header_line << "\n";
  ASSERT_TRUE(append_codecarbon_csv(path, run_, account_).ok());
  auto text = read_file(path).value();
  auto row = split(text.substr(text.find('\n') + 1));
  EXPECT_EQ(row.front(), "0");                   // wue
  EXPECT_EQ(row.back(), "2026-03-01T00:30:00");  // timestamp
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

TEST_F(CarbonReportTest, MarkdownStatementNamesWhatItRestsOn) {
  // Item 5: a run that was 0% measured by counters must not read "as measured by carbonclock".
  RunRecord run = run_;
  run.host_info = test_host();
  run.carbonclock_version = "0.1.0";
  run.timeline.devices = {{"cpu-estimate", DeviceKind::kCpu, "job CPU time model",
                           Method::kEstimate, "",
                           "job process-tree CPU seconds x 10 W per busy core"}};
  auto md = report_markdown(run, account_);
  for (const char* s :
       {"on Intel(R) Xeon(R) Platinum 8259CL CPU @ 2.50GHz CPU (2 logical CPUs)",
        "0.0% was measured by hardware energy counters",
        "100.0% was estimated (cpu-estimate (estimate: job process-tree CPU seconds x 10 W per "
        "busy core))",
        "zone US-CAL-CISO", "cloud region us-west-1",
        "marginal carbon-intensity signal (direct "
        "emission factors)",
        "test-marginal, 2026", "PUE of 1.20 (given with --pue)", "ISO/IEC 21031:2024",
        "doi:10.1145/3531146.3533234", "carbonclock 0.1.0", "With the average signal instead"}) {
    EXPECT_NE(md.find(s), std::string::npos) << s << "\n" << md;
  }
  EXPECT_EQ(md.find("job CPU time model"), std::string::npos) << md;
  EXPECT_EQ(md.find("as measured by carbonclock"), std::string::npos) << md;
  // The counters' share when they measured it all.
  auto measured = report_markdown(run_, account_);
  EXPECT_NE(measured.find("100.0% was measured by hardware energy counters or power readings "
                          "(gpu0 (NVML energy counter)) and 0.0% was estimated"),
            std::string::npos)
      << measured;
}

TEST_F(CarbonReportTest, EveryTableHasOneUnitAndNoNegativeZero) {
  // Item 13: gpu0 3572.7 J next to gpu1 1.06 Wh.
  auto run = make_run(utc("2026-03-01T00:00Z"), 10min, 5min, {3572.7, 3816},
                      {"NVIDIA A100", "NVIDIA A100"});
  run.timeline.buckets[0].energy_j = {3572.7, 0};
  run.timeline.buckets[1].energy_j = {0, 3816};
  auto lines = device_energy_lines(run);
  EXPECT_EQ(lines.find(" J "), std::string::npos) << lines;
  EXPECT_NE(lines.find("0.99 Wh"), std::string::npos) << lines;  // 3572.7 J
  EXPECT_NE(lines.find("1.06 Wh"), std::string::npos) << lines;  // 3816 J
  auto summary = run_summary_text(run, "");
  EXPECT_NE(summary.find("total 2.05 Wh"), std::string::npos) << summary;
  EXPECT_EQ(fixed(-0.0, 2), "0.00");
  EXPECT_EQ(fixed(-1e-9, 2), "0.00");
  EXPECT_EQ(fixed(-0.004, 2), "0.00");
  EXPECT_EQ(fixed(-0.006, 2), "-0.01");
  EXPECT_EQ(format_grams(-0.0), "0.00 g");
  // The embodied component table shares one unit.
  auto text = report_text(run_, account_, "");
  EXPECT_EQ(text.find("-0.0"), std::string::npos) << text;
}

TEST_F(CarbonReportTest, SmallNumbersArePlainDecimalsNeverExponents) {
  // Seen on a 7-second 8-GPU run's HTML page: "2.6e-07 US homes' energy use for one year".
  EXPECT_EQ(significant(0.000243, 3), "0.000243");
  EXPECT_EQ(significant(2.6e-7, 3), "0.00000026");
  EXPECT_EQ(significant(12.2345, 3), "12.2");
  EXPECT_EQ(significant(100, 3), "100");
  EXPECT_EQ(significant(1234567.0, 3), "1234567");
  EXPECT_EQ(significant(-0.0, 3), "0");
  EXPECT_EQ(significant(0.10, 3), "0.1");
  const std::string text = equivalents_text(2.159);
  EXPECT_EQ(text,
            "0.263 smartphone charges, 0.00542 miles driven by an average car, 0.000243 gallons "
            "of gasoline burned, < 0.0001 US homes' energy use for one year");
  const std::regex exponent("[0-9]e[-+][0-9]");
  for (double g : {1e-6, 0.002, 2.159, 822.0, 5e9}) {
    EXPECT_FALSE(std::regex_search(equivalents_text(g), exponent)) << equivalents_text(g);
  }
}

// A run under Pause and Resume: run.json's `schedule` as execution/schedule_record.cc writes it.
nlohmann::json test_schedule() {
  return nlohmann::json::parse(R"({
    "algorithm": "pause-resume", "window": "50%",
    "requested_start_utc": "2026-03-01T00:00:00.000Z", "deadline_utc": "2026-03-01T00:45:00.000Z",
    "expected_duration_s": 1800, "pause": {"method": "sigstop"},
    "plan": {"planned_at_utc": "2026-03-01T00:00:00.000Z",
             "runs": [{"start_utc": "2026-03-01T00:00:00.000Z", "end_utc": "2026-03-01T00:10:00.000Z"},
                      {"start_utc": "2026-03-01T00:25:00.000Z", "end_utc": "2026-03-01T00:45:00.000Z"}],
             "expected_saving_pct": 12.5,
             "intensity": {"zone": "US-CAL-CISO", "signal": "average", "factor": "lifecycle",
                           "slot_s": 300, "basis": [{"basis": "forecast"}], "forecast": null,
                           "notes": []}},
    "events": [{"at_utc": "2026-03-01T00:00:00.000Z", "action": "start"},
               {"at_utc": "2026-03-01T00:10:00.000Z", "action": "pause", "note": "cleaner at 00:25"},
               {"at_utc": "2026-03-01T00:25:00.000Z", "action": "resume"},
               {"at_utc": "2026-03-01T00:45:00.000Z", "action": "exit"}],
    "running": [{"start_utc": "2026-03-01T00:00:00.000Z", "end_utc": "2026-03-01T00:10:00.000Z"},
                {"start_utc": "2026-03-01T00:25:00.000Z", "end_utc": "2026-03-01T00:45:00.000Z"}],
    "pauses": 1,
    "savings": {"emitted_g": 700, "immediate_g": 800, "saved_g": 100, "saved_pct": 12.5,
                "paused_energy_j": 0, "intensity_basis": "actual",
                "intensity_source": "test-average", "computed_at_utc": "2026-03-02T00:00:00Z"}
  })");
}

TEST_F(CarbonReportTest, TextMarkdownAndHtmlShowTheScheduleEveryPauseAndTheSaving) {
  // Item 7: the schedule was only in JSON.
  run_.schedule = test_schedule();
  HtmlExtras x;
  x.by_hour = std::vector<double>(24, 1.0);
  const std::string text = report_text(run_, account_, "");
  const std::string md = report_markdown(run_, account_);
  const std::string html = report_html(run_, account_, x);
  for (const std::string* out : {&text, &md, &html}) {
    for (const char* s : {"pause-resume within +50%", "2026-03-01T00:10:00.000Z",
                          "2026-03-01T00:25:00.000Z", "pause", "resume", "cleaner at 00:25",
                          "expected saving 12.5%", "100.00 g saved (12.5%)", "from actual"}) {
      if (out == &md && std::string(s) == "expected saving 12.5%") s = "expecting to save 12.5%";
      EXPECT_NE(out->find(s), std::string::npos) << s << "\n" << *out;
    }
  }
  EXPECT_NE(md.find("| 2026-03-01T00:10:00.000Z | pause | cleaner at 00:25 |"), std::string::npos)
      << md;
  EXPECT_NE(html.find("<h2>Carbon-aware schedule</h2>"), std::string::npos);
  // An unscheduled run shows none.
  run_.schedule.reset();
  EXPECT_EQ(report_text(run_, account_, "").find("schedule:"), std::string::npos);
}

TEST_F(CarbonReportTest, TextMarkdownAndHtmlSayWhatQuantileTheScheduleWasPlannedOn) {
  run_.schedule = test_schedule();
  const std::string note =
      "planned on p90 of carbonclock's own forecast (carbonclock-forecast-regression-p90) for 9 of "
      "9 slots";
  (*run_.schedule)["plan"]["risk"] = {
      {"quantile", "p90"}, {"slots", 9}, {"slots_on_quantile", 9}, {"note", note}};
  const std::string text = report_text(run_, account_, "");
  EXPECT_NE(text.find("  risk: " + note + "\n"), std::string::npos) << text;
  const std::string md = report_markdown(run_, account_);
  EXPECT_NE(md.find("Risk: " + note + ".\n"), std::string::npos) << md;
  const std::string html = report_html(run_, account_, HtmlExtras{});
  EXPECT_NE(html.find("<tr><th>risk</th><td>" + html_escape(note) + "</td></tr>"),
            std::string::npos)
      << html;
  // run.json written before the risk was recorded: no risk line anywhere.
  run_.schedule = test_schedule();
  EXPECT_EQ(report_text(run_, account_, "").find("risk:"), std::string::npos);
  EXPECT_EQ(report_markdown(run_, account_).find("Risk:"), std::string::npos);
  EXPECT_EQ(report_html(run_, account_, HtmlExtras{}).find("<th>risk</th>"), std::string::npos);
}

TEST_F(CarbonReportTest, ModelCardIsTheHuggingFaceCo2Block) {
  run_.host_info = test_host();
  run_.carbonclock_version = "0.1.0";
  auto card = report_model_card(run_, account_, "fine-tuning");
  const std::string head = "co2_eq_emissions:\n  emissions: ";
  ASSERT_EQ(card.rfind(head, 0), 0u) << card;
  EXPECT_NEAR(std::stod(card.substr(head.size())), 1440, 1e-9) << card;  // grams
  for (const char* s : {"  training_type: \"fine-tuning\"\n",
                        "  geographical_location: \"US-CAL-CISO (", "cloud region us-west-1)\"\n",
                        "  hardware_used: \"1 × NVIDIA H100 80GB HBM3 GPU and Intel(R) Xeon(R)",
                        "  source: \"carbonclock 0.1.0: 3 kWh measured (100.0% by hardware "
                        "counters, 0.0% estimated) x marginal grid intensity"}) {
    EXPECT_NE(card.find(s), std::string::npos) << s << "\n" << card;
  }
  auto without = report_model_card(run_, account_, "");
  EXPECT_NE(without.find("  # training_type:"), std::string::npos) << without;
  EXPECT_EQ(yaml_quoted("a \"b\"\\c\nd"), "\"a \\\"b\\\"\\\\c\\nd\"");
}

TEST_F(CarbonReportTest, ModelCardParsesAsYaml) {
  run_.tags = {"tag with \"quotes\": and colon"};
  auto card = report_model_card(run_, account_, "pre-training");
  auto path = dir_.path() / "card.yaml";
  std::ofstream(path) << card;
  // Debian's python3-yaml reads it back into the fields Hugging Face expects.
  std::string cmd =
      "/usr/bin/python3 -c \"import sys, yaml; d = yaml.safe_load(open(sys.argv[1]))"
      "['co2_eq_emissions']; assert abs(d['emissions'] - 1440) < 1e-9, d; "
      "assert d['training_type'] == 'pre-training'; "
      "assert set(d) == {'emissions', 'source', 'training_type', "
      "'geographical_location', 'hardware_used'}, d\" '" +
      path.string() + "' 2>&1";
  EXPECT_EQ(std::system(cmd.c_str()), 0) << card;
}

TEST_F(CarbonReportTest, HtmlHasTheDeviceTableSharesAndNoDebugOrExponents) {
  // Item 6: a per-device energy table, the measured-vs-estimated share, no debug line, no
  // 1e-03 values, every zone bar saying whether stored data or an embedded profile priced it.
  auto run = make_run(utc("2026-03-01T00:00Z"), 10min, 5min, {0.036, 0.036}, {"NVIDIA T4"}, true);
  HtmlExtras x;
  IntensityProvider embedded_only(nullptr);
  x.by_zone = emissions_by_zone(run, 1.0, embedded_only);
  x.by_zone.push_back({"STORED-ZONE", "", 2e-5, 1.0});
  x.by_zone.push_back({"HALF-ZONE", "", 3e-5, 0.5});
  x.by_hour = std::vector<double>(24, 0.002);
  auto html = report_html(run, account_, x);
  EXPECT_EQ(html.find("rendered"), std::string::npos);
  EXPECT_EQ(html.find("<script"), std::string::npos);
  // A number in exponent notation (not "package-0"): a digit, e, a sign, a digit.
  std::smatch exponent;
  EXPECT_FALSE(std::regex_search(html, exponent, std::regex("[0-9]e[-+][0-9]")))
      << "exponent notation in the page: " << exponent.str();
  EXPECT_NE(html.find("<h2>Energy by device</h2>"), std::string::npos);
  EXPECT_NE(html.find("<th>energy (J)</th>"), std::string::npos) << html.substr(0, 3000);
  EXPECT_NE(html.find("<td>gpu0</td><td>NVIDIA T4</td><td>counter</td>"), std::string::npos);
  EXPECT_NE(html.find("100.0% measured by counters or power readings, 0.0% estimated"),
            std::string::npos);
  EXPECT_NE(html.find("priced with the zone&#39;s embedded typical profile"), std::string::npos);
  EXPECT_NE(html.find("fill=\"#4c78a8\"><title>STORED-ZONE"), std::string::npos);
  EXPECT_NE(html.find("HALF-ZONE [50% stored]"), std::string::npos);
  EXPECT_NE(html.find("0.002"), std::string::npos);  // the hour chart's axis, written out
}

TEST_F(CarbonReportTest, HtmlClaimsEquivalentsOnlyWhenItDrawsThem) {
  HtmlExtras x;
  x.by_zone = {{"TINY", "", 1e-7, 0}};  // far below a smartphone charge (8.22 g)
  x.by_hour = std::vector<double>(24, 1.0);
  auto html = report_html(run_, account_, x);
  EXPECT_EQ(html.find("dashed lines"), std::string::npos);
  EXPECT_EQ(html.find("stroke-dasharray"), std::string::npos);
  x.by_zone = {{"BIG", "", 500, 0}};
  html = report_html(run_, account_, x);
  EXPECT_NE(html.find("dashed lines: everyday equivalents"), std::string::npos);
  EXPECT_NE(html.find("stroke-dasharray"), std::string::npos);
}

TEST_F(CarbonReportTest, HtmlDrawsAShortRunsPowerFromTheJournalSamples) {
  // A 6-second run lies in one 5-minute bucket: its power comes from the samples.
  auto run = make_run(utc("2026-03-01T21:16:53Z"), 6s, 5min, {600}, {"NVIDIA A100"});
  HtmlExtras x;
  x.by_hour = std::vector<double>(24, 1.0);
  for (int i = 0; i < 6; ++i) {
    x.power.push_back({double(i), double(i + 1), {i < 3 ? 50.0 : 150.0}});
  }
  const std::string page = report_html(run, account_, x);
  const std::string html = page.substr(0, page.find("</svg>"));  // the power chart
  EXPECT_NE(html.find("Power by device (between the journal&#39;s samples)"), std::string::npos);
  // Distinct tick labels in seconds, not "21:16:53" five times.
  std::vector<std::string> ticks;
  for (size_t p = html.find("class=\"cc-xtick\""); p != std::string::npos;
       p = html.find("class=\"cc-xtick\"", p + 1)) {
    size_t a = html.find('>', p) + 1;
    ticks.push_back(html.substr(a, html.find('<', a) - a));
  }
  ASSERT_GE(ticks.size(), 3u);
  auto sorted = ticks;
  std::sort(sorted.begin(), sorted.end());
  EXPECT_EQ(std::unique(sorted.begin(), sorted.end()), sorted.end())
      << fmt::format("{}", fmt::join(ticks, " | "));
  EXPECT_EQ(ticks.front(), "0 s");
  EXPECT_NE(html.find("seconds since 21:16:53 UTC"), std::string::npos);
  // The step from 50 W to 150 W is drawn (a flat line from one bucket would not have it).
  EXPECT_NE(html.find("<title>gpu0 NVIDIA A100</title>"), std::string::npos);
}

TEST(SvgChartTest, LegendsOfEightDevicesStayInsideTheChart) {
  LineChart c{"Power by device", "W", "", utc("2026-03-01T00:00Z"), {}};
  for (int d = 0; d < 8; ++d) {
    c.series.push_back({fmt::format("gpu{} NVIDIA H100 80GB HBM3", d),
                        "#4c78a8",
                        {{0, 100}, {3600, 200}},
                        true,
                        false});
  }
  auto svg = svg_line_chart(c);
  const double width = 900;
  size_t entries = 0;
  double max_y = 0;
  for (size_t p = svg.find("<g class=\"cc-legend\">"); p != std::string::npos;
       p = svg.find("<g class=\"cc-legend\">", p + 1)) {
    ++entries;
    size_t tx = svg.find("<text x=\"", p) + 9;
    double x = std::stod(svg.substr(tx));
    size_t ty = svg.find("y=\"", tx) + 3;
    max_y = std::max(max_y, std::stod(svg.substr(ty)));
    size_t a = svg.find('>', tx) + 1;
    std::string label = svg.substr(a, svg.find('<', a) - a);
    // The text's right end at a generous 7 px per character stays inside the 900 px chart.
    EXPECT_LE(x + 7.0 * static_cast<double>(label.size()), width) << label;
  }
  EXPECT_EQ(entries, 8u);
  size_t h = svg.find("height=\"") + 8;
  EXPECT_LT(max_y, std::stod(svg.substr(h))) << "legend below the chart's height";
}

TEST(SvgChartTest, AxisNumbersNeverUseExponents) {
  EXPECT_EQ(axis_number(0.001), "0.001");
  EXPECT_EQ(axis_number(0.00025), "0.00025");
  EXPECT_EQ(axis_number(2.5), "2.5");
  EXPECT_EQ(axis_number(100000), "100,000");
  EXPECT_EQ(axis_number(3.5e6), "3.5 M");
  EXPECT_EQ(axis_number(0), "0");
}

// A run priced from mixed provenance: marginal (direct) data for the first half of the run, the
// embedded average profile for the rest; average data from a lifecycle series for the first 20
// minutes extended by a direct one.
class MixedProvenanceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto s = GridStore::open(dir_.path() / "grid.db");
    ASSERT_TRUE(s.ok()) << s.error().message();
    auto imp = s->import({{"DE",
                           Signal::kMarginal,
                           Factor::kDirect,
                           "test-marginal",
                           std::nullopt,
                           {{utc("2026-03-01T00:00Z"), 30min, 600, false}}},
                          {"DE",
                           Signal::kAverage,
                           Factor::kLifecycle,
                           "test-lca",
                           std::nullopt,
                           {{utc("2026-03-01T00:00Z"), 20min, 300, false}}},
                          {"DE",
                           Signal::kAverage,
                           Factor::kDirect,
                           "test-direct",
                           std::nullopt,
                           {{utc("2026-03-01T00:20Z"), 40min, 250, false}}}},
                         "test");
    ASSERT_TRUE(imp.ok()) << imp.error().message();
    AccountingInputs in;
    in.zone = "DE";
    in.selection = select_zone(std::nullopt, std::string("DE")).value();
    in.zone_origin = "--zone";
    IntensityProvider provider(&*s);
    auto acc = account_run(run_, in, provider);
    ASSERT_TRUE(acc.ok()) << acc.error().message();
    account_ = std::move(*acc);
  }
  testing::TempDir dir_;
  RunRecord run_ =
      make_run(utc("2026-03-01T00:00Z"), 60min, 5min, std::vector<double>(12, 0.1 * 3.6e6));
  CarbonAccount account_;
};

TEST_F(MixedProvenanceTest, EveryFormatSaysTheNumbersAreMixed) {
  ASSERT_EQ(account_.signals.size(), 2u);
  const SignalAccount& marginal = account_.signals[0];
  const SignalAccount& average = account_.signals[1];
  ASSERT_EQ(marginal.signal, Signal::kMarginal);
  EXPECT_EQ(marginal.signal_label(), "mixed");  // half marginal, half the average profile
  EXPECT_NEAR(marginal.stored_share(), 0.5, 1e-12);
  EXPECT_EQ(average.signal_label(), "average");
  EXPECT_EQ(average.factor_label(), "mixed");  // lifecycle extended by direct

  // text
  auto text = report_text(run_, account_, "");
  EXPECT_NE(text.find("priced with mixed/mixed data (MIXED"), std::string::npos) << text;
  EXPECT_NE(text.find("priced with average/mixed data (MIXED"), std::string::npos) << text;
  EXPECT_NE(text.find("50.0% stored actual marginal/direct data (test-marginal, 2026"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("50.0% the embedded typical profile"), std::string::npos) << text;
  // json
  auto j = report_json(run_, account_, "/runs/x");
  EXPECT_EQ(j["signals"][0]["priced_signal"], "mixed");
  EXPECT_EQ(j["signals"][0]["mixed"], true);
  EXPECT_EQ(j["signals"][1]["factor"], "mixed");
  EXPECT_EQ(j["signals"][1]["mixed"], true);
  EXPECT_EQ(j["signals"][0]["provenance"].size(), 2u);
  EXPECT_EQ(testing::schema_errors("report.schema.json", json_text(j)), "");
  // md
  auto md = report_markdown(run_, account_);
  EXPECT_NE(md.find("a MIXED figure resting on mixed signals and mixed emission factors"),
            std::string::npos)
      << md;
  EXPECT_NE(md.find("(MIXED: more than one signal or factor)"), std::string::npos) << md;
  // html
  HtmlExtras x;
  x.by_hour = std::vector<double>(24, 1.0);
  auto html = report_html(run_, account_, x);
  EXPECT_NE(html.find("priced with mixed/mixed data (MIXED sources)"), std::string::npos);
  EXPECT_NE(html.find("priced with average/mixed data (MIXED sources)"), std::string::npos);
  // model card
  EXPECT_NE(report_model_card(run_, account_, "").find("mixed sources"), std::string::npos);
  // csv: fixed columns cannot say it; the row is still CodeCarbon's, and the docs say so.
  auto row = split(codecarbon_csv_row(run_, account_));
  EXPECT_EQ(row.size(), 38u);
  auto doc = read_file(std::string(CARBONCLOCK_SOURCE_DIR) + "/docs/accounting.md").value();
  EXPECT_NE(doc.find("The CSV has fixed columns, so it cannot say that a\n    number is mixed"),
            std::string::npos);
}

TEST(SvgChartTest, EscapesTextAndScalesBars) {
  EXPECT_EQ(html_escape("<a & 'b'>"), "&lt;a &amp; &#39;b&#39;&gt;");
  BarChart c{"t", "g", {{"x", 10, false, ""}, {"y", 1000, true, ""}}, true, {{"far", 1e9}}, {}};
  auto svg = svg_bar_chart(c);
  // Decades 10..1000 span the 650-pixel plot: 10 at x=210, 1000 at the right edge.
  EXPECT_NE(svg.find("width=\"0.0\""), std::string::npos) << svg;
  EXPECT_NE(svg.find("width=\"650.0\""), std::string::npos) << svg;
  EXPECT_EQ(svg.find("far"), std::string::npos);  // marker outside the range is skipped
}

}  // namespace
}  // namespace carbonclock
