// Carbon reports of a run: the account (accounting/accounting.h) rendered as text, JSON
// (schemas/report.schema.json), a Markdown carbon statement
// and a self-contained HTML page with SVG charts. Reports only read.
#pragma once

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "accounting/accounting.h"
#include "app/report.h"
#include "common/error.h"
#include "metering/run_record.h"
#include "reports/codecarbon_csv.h"

namespace carbonclock {

/// Version of the report JSON document (report_schema_version).
inline constexpr int kReportSchemaVersion = 2;

/// "850 mg", "12.3 g", "4.56 kg", "1.23 t".
std::string format_grams(double grams);

/// The emissions lines `carbonclock run` prints after the energy summary: headline operational
/// emissions with signal, zone, PUE and coverage, the other signal, embodied, SCI, equivalents.
std::string emissions_summary_text(const CarbonAccount& account);

/// The terminal report: energy by device, emissions per signal, embodied, SCI, equivalents,
/// coverage and notes.
std::string report_text(const RunRecord& run, const CarbonAccount& account,
                        const std::string& run_dir);

/// The report document described by schemas/report.schema.json.
nlohmann::json report_json(const RunRecord& run, const CarbonAccount& account,
                           const std::string& run_dir);

/// Phone charges, miles, gallons and home-years, each to three significant figures in plain
/// decimals ("0.000243 gallons", never "2.43e-04"); below 0.0001 of one, "< 0.0001".
std::string equivalents_text(double grams);

/// A carbon statement for a paper: a paragraph (hardware, hours, kWh, region, signal and
/// source, gCO2eq, method reference) and a small table.
std::string report_markdown(const RunRecord& run, const CarbonAccount& account);

/// What the HTML charts need beyond the account.
struct HtmlExtras {
  std::vector<ZoneEmissions> by_zone;  ///< this job in every catalogued zone
  std::vector<double> by_hour;         ///< this job started at each UTC hour of its day
  std::string run_dir;
  /// Power between journal samples (app/report.h), for runs too short for the buckets to show
  /// a shape; empty: power per timeline bucket.
  std::vector<PowerSample> power;
};

/// One self-contained HTML page (inline CSS and SVG, no script, no network): summary, energy
/// per device (one unit) with the measured and estimated shares, the carbon-aware schedule if
/// any, power per device (journal samples for short runs), grid intensity with the run's energy
/// overlaid (stored and embedded data told apart), the job in every zone on a log scale (each
/// bar saying whether stored data or an embedded profile priced it, equivalents drawn where
/// they fall in range), and emissions by start hour.
std::string report_html(const RunRecord& run, const CarbonAccount& account,
                        const HtmlExtras& extras);

}  // namespace carbonclock
