// Carbon reports of a run: the account (accounting/accounting.h) rendered as text, JSON
// (schemas/report.schema.json), CodeCarbon's emissions.csv layout, a Markdown carbon statement
// and a self-contained HTML page with SVG charts. Reports only read.
#pragma once

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "accounting/accounting.h"
#include "common/error.h"
#include "metering/run_record.h"

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

/// CodeCarbon's emissions.csv header (v2 layout, 32 columns), with a trailing newline.
std::string codecarbon_csv_header();
/// One emissions.csv row for the run (kg, kWh, W, s as CodeCarbon writes them), with a newline.
std::string codecarbon_csv_row(const RunRecord& run, const CarbonAccount& account);
/// Appends the run's row to `path` atomically, writing the header first when the file is new or
/// empty. Refuses (Error naming the file) a file whose first line is not exactly our header.
Status append_codecarbon_csv(const std::filesystem::path& path, const RunRecord& run,
                             const CarbonAccount& account);

/// A carbon statement for a paper: a paragraph (hardware, hours, kWh, region, signal and
/// source, gCO2eq, method reference) and a small table.
std::string report_markdown(const RunRecord& run, const CarbonAccount& account);

/// What the HTML charts need beyond the account.
struct HtmlExtras {
  std::vector<ZoneEmissions> by_zone;  ///< this job in every catalogued zone
  std::vector<double> by_hour;         ///< this job started at each UTC hour of its day
  std::string run_dir;
};

/// One self-contained HTML page (inline CSS and SVG, no network): summary, power per device,
/// grid intensity with the run's energy overlaid, the job in every zone on a log scale with
/// equivalents marked, and emissions by start hour.
std::string report_html(const RunRecord& run, const CarbonAccount& account,
                        const HtmlExtras& extras);

}  // namespace carbonclock
