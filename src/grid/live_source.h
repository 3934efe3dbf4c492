// Live grid sources: fetch carbon intensity from WattTime (API v3), Electricity Maps (API v3) and
// the UK Carbon Intensity API over an HttpTransport, parse the responses with the grid importers
// and keep them in the GridStore, which doubles as the cache: times the store already covers
// are never requested again. Credentials come from the environment or a private config file and
// never appear in messages (see docs/live-sources.md).
#pragma once

#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/error.h"
#include "common/time.h"
#include "config/config.h"
#include "grid/series.h"
#include "grid/store.h"
#include "http/http_transport.h"
#include "http/redaction.h"

namespace carbonclock {

enum class LiveSourceKind { kWattTime, kElectricityMaps, kUkCarbonIntensity };

const char* to_string(LiveSourceKind kind);  ///< "watttime" | "electricitymaps" | "ukci"
/// "watttime" | "electricitymaps" | "ukci" (also "em", "uk"). Error lists them.
Result<LiveSourceKind> parse_live_source(std::string_view text);

/// The base URL of a source in `settings`.
const std::string& source_base_url(const LiveSettings& settings, LiveSourceKind kind);

/// What to fetch.
struct FetchRequest {
  LiveSourceKind source = LiveSourceKind::kElectricityMaps;
  /// The provider's id: an Electricity Maps zone ("DE"), a WattTime region ("CAISO_NORTH"),
  /// "GB" (UK national) or "GB-<regionid>" (UK regions 1..17).
  std::string zone;
  SysTime from;
  SysTime to;
  /// Fetch the provider's current forecast instead of history; from/to then only select what
  /// is reported, the provider decides the horizon (WattTime: horizon_hours up to 72 to cover
  /// `to`; Electricity Maps: its default; UK: 48 h from `from`).
  bool forecast = false;
  Factor electricitymaps_factor = Factor::kLifecycle;  ///< emissionFactorType to ask for
};

/// What a fetch did.
struct FetchReport {
  int requests = 0;                                  ///< HTTP requests sent, sign-in included
  std::vector<std::pair<SysTime, SysTime>> fetched;  ///< the ranges requested (history)
  std::vector<SeriesImportResult> stored;            ///< per series stored
  bool from_cache = false;                           ///< true when the store already had everything
  SeriesQuery query;                                 ///< the stored series' zone, signal and factor
};

/// Per-request limits of the providers (documented maxima), and the granularity requests are
/// aligned to.
struct SourceLimits {
  Nanos max_range;         ///< longest [start, end) one request may ask for
  Nanos granularity;       ///< requests are widened to multiples of this
  Nanos forecast_refresh;  ///< a forecast issued less than this ago is reused
};
SourceLimits source_limits(LiveSourceKind kind);

/// Fetches through `transport` into `store`. Not thread-safe (it caches the WattTime token).
class LiveSource {
 public:
  /// `clock` dates forecasts and judges their freshness.
  LiveSource(HttpTransport& transport, LiveSettings settings, Clock& clock);

  /// History: requests only the parts of [from, to) (widened to the source's granularity) that
  /// the store does not cover, split into requests of at most the source's max_range, and
  /// stores what comes back; nothing is requested when the store covers it all. Forecast: reuses
  /// a stored forecast issued within forecast_refresh, else fetches and stores a new one.
  /// Errors name the source and the HTTP status (401/403 credentials, 404 unknown zone, 429 with
  /// Retry-After, 5xx) or the transport failure; they never contain a credential in any form
  /// (raw, base64 Basic, bearer token, URL- or JSON-encoded, any letter case) nor a control
  /// character or escape sequence sent by the server. Every response body is redacted before it
  /// is parsed or quoted.
  Result<FetchReport> fetch(const FetchRequest& request, GridStore& store);

 private:
  Result<HttpResponse> call(LiveSourceKind kind, HttpRequest request, FetchReport& report);
  Result<std::string> watttime_token(FetchReport& report, bool renew);
  Result<std::string> get_body(LiveSourceKind kind, HttpRequest request, const std::string& zone,
                               FetchReport& report);
  Result<std::vector<IntensitySeries>> fetch_range(const FetchRequest& request, SysTime from,
                                                   SysTime to, FetchReport& report);
  Result<std::vector<IntensitySeries>> fetch_forecast(const FetchRequest& request,
                                                      FetchReport& report);
  Error redact(const Error& error) const;

  HttpTransport& transport_;
  LiveSettings settings_;
  Clock& clock_;
  std::optional<std::string> watttime_token_;
  Redactor redactor_;  ///< the configured credentials and the WattTime token, every form
};

/// The zone, signal and factor a source's data is stored under.
SeriesQuery live_series_query(const FetchRequest& request);

/// Replaces every occurrence of each non-empty secret in `text` by "***", in every form
/// Redactor::add_secret knows.
std::string redact_secrets(std::string text, const std::vector<std::string>& secrets);

}  // namespace carbonclock
