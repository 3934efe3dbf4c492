// Importers: files and API responses → IntensitySeries (unit-normalised to gCO2eq/kWh, UTC,
// step-function points). Parsers take the bytes plus a name used in messages ("origin"), so
// live sources can hand them a response buffer. Nothing here touches the store.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"
#include "common/time.h"
#include "grid/series.h"

namespace carbonclock {

/// The formats `grid import` understands.
enum class ImportFormat {
  kAuto,                   ///< detect from the header / JSON keys (see detect_import_format)
  kElectricityMapsCsv,     ///< Electricity Maps data-portal export ("Datetime (UTC)", ...)
  kElectricityMapsJson,    ///< Electricity Maps API v3 carbon-intensity history/past-range/forecast
  kWattTimeJson,           ///< WattTime API v3 /historical or /forecast
  kUkCarbonIntensityJson,  ///< api.carbonintensity.org.uk /intensity... or /regional...
  kGenericCsv,             ///< any CSV with a time (or index) column and a value column
};

const char* to_string(ImportFormat f);
/// "auto", "electricitymaps-csv", "electricitymaps-json", "watttime-json", "ukci-json",
/// "csv". Error lists the names on an unknown one.
Result<ImportFormat> parse_import_format(std::string_view text);

/// Options of the generic CSV importer. Empty strings / nullopt mean "not given".
struct GenericCsvOptions {
  /// Column holding the timestamp. Empty: the first of Time, timestamp, datetime, date,
  /// "Datetime (UTC)", point_time, oootime (case-insensitive); if none, the first column.
  std::string time_column;
  /// Column holding the intensity. Empty: the only numeric column besides time/zone/duration,
  /// else an error listing the candidates.
  std::string value_column;
  /// Unit of the value column: g/kWh (default), kg/MWh, t/MWh, g/MWh, kg/kWh, lbs/MWh (also
  /// lb/MWh, lbs_co2_per_mwh), lbs/kWh. Unknown units are an error.
  std::string unit;
  /// Column with each point's duration (numbers in `duration_unit`). Empty: durations are
  /// inferred (see infer_durations).
  std::string duration_column;
  Nanos duration_unit = std::chrono::minutes(1);  ///< unit of duration_column values
  /// Column naming each row's zone (e.g. zeus' `location`); empty: the zone option.
  std::string zone_column;
  /// IANA time zone for timestamps without an offset ("Europe/Berlin"). Empty: UTC.
  /// Ambiguous local times (DST fall-back) map to the earlier instant unless that would not be
  /// after the previous row's instant, then to the later one (a repeated hour in file order
  /// reads correctly). Nonexistent local times (spring-forward gap) are an error naming line.
  std::string tz;
  /// Index-based files (no timestamps, e.g. interval number 0..8783): the time column holds an
  /// integer index i and the point starts at index_origin + i × step. Requires `step`.
  std::optional<SysTime> index_origin;
  /// Fixed step of every point; with index_origin: the index step; otherwise overrides
  /// inferred durations.
  std::optional<Nanos> step;
};

/// What `grid import` is told about a file. Unset fields fall back to what the file says, then
/// to the format's documented default.
struct ImportOptions {
  ImportFormat format = ImportFormat::kAuto;
  std::optional<std::string> zone;    ///< overrides / supplies the zone
  std::optional<Signal> signal;       ///< generic CSV default: average
  std::optional<Factor> factor;       ///< generic CSV default: direct for marginal, lifecycle for
                                      ///< average; filters EM CSV/JSON output
  std::optional<std::string> source;  ///< overrides the source label
  GenericCsvOptions csv;
};

/// Guesses the format from the content (first bytes / JSON keys) and the file name.
/// Returns kGenericCsv for anything CSV-like that is not an Electricity Maps export; an Error
/// when the content is neither CSV nor a known JSON shape.
Result<ImportFormat> detect_import_format(std::string_view content, std::string_view origin);

/// Electricity Maps portal CSV export → two series per zone (lifecycle from "(LCA)", direct from
/// "(direct)"), average signal, 1-hour points (or the inferred step), `Data Estimated` → estimated.
/// Source "electricitymaps-csv".
Result<std::vector<IntensitySeries>> parse_electricitymaps_csv(std::string_view content,
                                                               std::string origin);

/// Electricity Maps API v3 JSON (`history[]`, `data[]` or `forecast[]`). One series per
/// emissionFactorType (default lifecycle when absent); average signal; `isEstimated` →
/// estimated. Durations: from `temporalGranularity` when given ("5_minutes", "15_minutes",
/// "hourly", "daily"), else inferred. A `forecast[]` response is a forecast: issued_at is the
/// response's top-level `updatedAt`, else the first point's datetime. Source
/// "electricitymaps-api".
Result<std::vector<IntensitySeries>> parse_electricitymaps_json(std::string_view content,
                                                                std::string origin);

/// WattTime API v3 /historical or /forecast JSON. `meta.signal_type` co2_moer → marginal,
/// co2_aoer → average (other signals are an error); factor direct (WattTime rates are
/// operating, i.e. combustion, emissions). Units lbs_co2_per_mwh (× 0.45359237),
/// g_co2_per_kwh, kg_co2_per_mwh; others are an error. Duration =
/// meta.data_point_period_seconds (else inferred). A response with meta.generated_at is a
/// forecast issued then. Source "watttime-api".
Result<std::vector<IntensitySeries>> parse_watttime_json(std::string_view content,
                                                         std::string origin);

/// UK Carbon Intensity API JSON. National (`data[]` of {from, to, intensity}) → zone "GB";
/// regional (`data[]` of {regionid, shortname, data[]} or `data[]` of {from, to, regions[]},
/// or a single `data` object) → zone "GB-<regionid>". Average signal, direct factor (the API's
/// factors count wind, solar and nuclear as zero: operational emissions). Value = actual when
/// not null, else forecast with estimated = true. Duration = to − from. Source "ukci-api".
Result<std::vector<IntensitySeries>> parse_uk_carbon_intensity_json(std::string_view content,
                                                                    std::string origin);

/// Generic CSV (see GenericCsvOptions). zone: options.zone or the zone column (one series per
/// zone); an error when neither. Signal/factor: options, else average; factor direct for a marginal
/// signal, lifecycle for an average one. Source "csv".
Result<std::vector<IntensitySeries>> parse_generic_csv(std::string_view content, std::string origin,
                                                       const ImportOptions& options);

/// Detects (unless options.format is set) and dispatches, then applies options.zone / signal /
/// factor / source. For formats whose file states the signal or factor, a contradicting
/// option is an error, and options.factor selects one of the two EM series. Every returned
/// series passes validate_series.
Result<std::vector<IntensitySeries>> parse_series(std::string_view content, std::string origin,
                                                  const ImportOptions& options);

/// read_file + parse_series; origin is the file's name as given.
Result<std::vector<IntensitySeries>> read_series_file(const std::filesystem::path& path,
                                                      const ImportOptions& options);

/// Multiplier that turns a value in `unit` into gCO2eq/kWh: g/kWh 1, kg/MWh 1, g/MWh 0.001,
/// t/MWh 1000, kg/kWh 1000, mg/kWh 0.001, lbs/MWh 0.45359237, lbs/kWh 453.59237. Accepts
/// "CO2"/"CO2eq" in the name and WattTime's spelling ("lbs_co2_per_mwh"); case-insensitive.
/// Error on an unknown unit, listing the known ones.
Result<double> unit_to_g_per_kwh(std::string_view unit);

/// Checks the IntensitySeries invariants: non-empty zone, points sorted by start with no
/// overlap and no duplicate starts, durations > 0, values finite and >= 0. The error names
/// `origin`, the zone and the first offending time.
Status validate_series(const IntensitySeries& series, std::string_view origin);

/// Durations for points known only by their start times (sorted, strictly increasing):
/// duration_i = min(start_{i+1} − start_i, dominant step), the dominant step being the most
/// common gap (ties → the smaller); the last point gets min(previous gap, dominant step); a
/// single point gets `fallback`. So mixed 15/30-minute data keeps its steps, and a hole longer
/// than the dominant step stays a gap (reported by the importer) instead of being bridged.
std::vector<Nanos> infer_durations(const std::vector<SysTime>& starts, Nanos fallback);

}  // namespace carbonclock
