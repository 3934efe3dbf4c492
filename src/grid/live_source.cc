#include "grid/live_source.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>

#include "common/files.h"
#include "common/json_text.h"
#include "common/strings.h"
#include "grid/importers.h"
#include "http/redaction.h"

namespace carbonclock {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

std::string iso(SysTime t) { return format_utc(t); }

SysTime ceil_to(SysTime t, Nanos step) {
  SysTime f = floor_to(t, step);
  return f < t ? f + step : f;
}

const char* display_name(LiveSourceKind kind) {
  switch (kind) {
    case LiveSourceKind::kWattTime:
      return "WattTime";
    case LiveSourceKind::kElectricityMaps:
      return "Electricity Maps";
    case LiveSourceKind::kUkCarbonIntensity:
      return "UK Carbon Intensity";
  }
  return "?";
}

std::string credential_hint(LiveSourceKind kind) {
  switch (kind) {
    case LiveSourceKind::kWattTime:
      return "check WATTTIME_USERNAME and WATTTIME_PASSWORD (or watttime_username / "
             "watttime_password in the config file), and that your WattTime plan covers this "
             "region and endpoint (the free plan covers CAISO_NORTH only)";
    case LiveSourceKind::kElectricityMaps:
      return "check ELECTRICITYMAPS_API_KEY (or electricitymaps_api_key in the config file), and "
             "that your Electricity Maps plan covers this zone and endpoint";
    case LiveSourceKind::kUkCarbonIntensity:
      return "the UK Carbon Intensity API needs no key; check --base-url";
  }
  return {};
}

// A short, single-line excerpt of a response body for messages. `body` is already redacted
// (LiveSource::call redacts every body before anything reads it); control characters and
// escape sequences are stripped before the cut, and the cut falls between characters.
std::string body_excerpt(const std::string& body) {
  constexpr size_t kExcerptBytes = 200;
  // Escaped only once, with the whole message (LiveSource::redact).
  std::string text = strip_control_sequences(std::string_view(body).substr(0, 4 * kExcerptBytes));
  std::string out;
  for (char c : text) {
    if (c == ' ' && (out.empty() || out.back() == ' ')) continue;  // collapse runs of spaces
    out += c;
  }
  out = std::string(trim(out));
  bool cut = body.size() > 4 * kExcerptBytes || out.size() > kExcerptBytes;
  if (out.size() > kExcerptBytes) {
    size_t end = kExcerptBytes;
    while (end > 0 && (static_cast<unsigned char>(out[end]) & 0xC0) == 0x80) --end;
    out.resize(end);
  }
  if (cut) out += "...";
  return out;
}

Error http_error(LiveSourceKind kind, const HttpRequest& request, const HttpResponse& response,
                 const std::string& zone) {
  std::string where = fmt::format("{}: HTTP {} from {} {}", to_string(kind), response.status,
                                  request.method, url_for_messages(request.url));
  std::string hint;
  int s = response.status;
  if (s == 401 || s == 403) {
    hint = fmt::format("{} refused the request ({})", display_name(kind), credential_hint(kind));
  } else if (s == 404) {
    hint = fmt::format(
        "not found: is '{}' a zone/region known to {}? (`carbonclock regions` "
        "lists the catalogue's ids)",
        zone, display_name(kind));
  } else if (s == 429) {
    auto retry = response.header("Retry-After");
    hint = retry ? fmt::format(
                       "rate limited by {}; retry after {} (Retry-After: {})", display_name(kind),
                       std::all_of(
                           retry->begin(), retry->end(),
                           [](char c) { return std::isdigit(static_cast<unsigned char>(c)) != 0; })
                           ? *retry + " s"
                           : *retry,
                       *retry)
                 : fmt::format("rate limited by {}; retry later", display_name(kind));
  } else if (s >= 500) {
    hint = fmt::format("{} had a server error; try again later", display_name(kind));
  } else {
    hint = fmt::format("{} rejected the request", display_name(kind));
  }
  std::string excerpt = body_excerpt(response.body);
  return make_error("{}: {}{}", where, hint,
                    excerpt.empty() ? std::string() : fmt::format(" (server said: {})", excerpt));
}

bool is_uk_zone(std::string_view zone, int* region_id) {
  if (zone == "GB") {
    *region_id = 0;
    return true;
  }
  if (!zone.starts_with("GB-") || zone.size() > 5 || zone.size() < 4) return false;
  int id = 0;
  for (char c : zone.substr(3)) {
    if (!std::isdigit(static_cast<unsigned char>(c))) return false;
    id = id * 10 + (c - '0');
  }
  *region_id = id;
  return id >= 1 && id <= 17;
}

// Whether the store holds a series (actuals when `forecast` is false) for the query.
Result<std::optional<StoredSeriesInfo>> find_stored(GridStore& store, const SeriesQuery& q,
                                                    bool forecast) {
  auto all = store.list();
  if (!all.ok()) return all.error();
  std::optional<StoredSeriesInfo> best;
  for (const auto& info : *all) {
    if (info.zone != q.zone || info.signal != q.signal || info.factor != q.factor) continue;
    if (info.issued_at.has_value() != forecast) continue;
    if (!best || (forecast && info.issued_at > best->issued_at)) best = info;
  }
  return best;
}

// Keeps the points of `fresh` that overlap none of `stored` (sorted, non-overlapping): the
// store keeps the values it has, so a provider revising an estimate cannot make a fetch fail.
void drop_overlaps(IntensitySeries& fresh, const std::vector<IntensityPoint>& stored) {
  std::erase_if(fresh.points, [&](const IntensityPoint& p) {
    auto it = std::lower_bound(stored.begin(), stored.end(), p.end(),
                               [](const IntensityPoint& s, SysTime t) { return s.start < t; });
    return it != stored.begin() && std::prev(it)->end() > p.start;
  });
}

}  // namespace

const char* to_string(LiveSourceKind kind) {
  switch (kind) {
    case LiveSourceKind::kWattTime:
      return "watttime";
    case LiveSourceKind::kElectricityMaps:
      return "electricitymaps";
    case LiveSourceKind::kUkCarbonIntensity:
      return "ukci";
  }
  return "?";
}

Result<LiveSourceKind> parse_live_source(std::string_view text) {
  if (text == "watttime") return LiveSourceKind::kWattTime;
  if (text == "electricitymaps" || text == "em") return LiveSourceKind::kElectricityMaps;
  if (text == "ukci" || text == "uk") return LiveSourceKind::kUkCarbonIntensity;
  return make_error("unknown live source '{}' (watttime, electricitymaps or ukci)", text);
}

const std::string& source_base_url(const LiveSettings& settings, LiveSourceKind kind) {
  switch (kind) {
    case LiveSourceKind::kWattTime:
      return settings.watttime_base_url;
    case LiveSourceKind::kElectricityMaps:
      return settings.electricitymaps_base_url;
    case LiveSourceKind::kUkCarbonIntensity:
      return settings.ukci_base_url;
  }
  return settings.ukci_base_url;
}

SourceLimits source_limits(LiveSourceKind kind) {
  switch (kind) {
    // /v3/historical: at most 32 days per request; 5-minute data; forecasts every 5 minutes.
    case LiveSourceKind::kWattTime:
      return {std::chrono::hours(24 * 32), 5min, 5min};
    // past-range: at most 10 days per request (hourly data); forecasts are updated hourly.
    case LiveSourceKind::kElectricityMaps:
      return {std::chrono::hours(24 * 10), 1h, 1h};
    // /intensity/{from}/{to}: at most 14 days; half-hourly data and forecasts.
    case LiveSourceKind::kUkCarbonIntensity:
      return {std::chrono::hours(24 * 14), 30min, 30min};
  }
  return {std::chrono::hours(24), 1h, 1h};
}

SeriesQuery live_series_query(const FetchRequest& request) {
  switch (request.source) {
    case LiveSourceKind::kWattTime:
      return {request.zone, Signal::kMarginal, Factor::kDirect};
    case LiveSourceKind::kElectricityMaps:
      return {request.zone, Signal::kAverage, request.electricitymaps_factor};
    case LiveSourceKind::kUkCarbonIntensity:
      return {request.zone, Signal::kAverage, Factor::kDirect};
  }
  return {request.zone, std::nullopt, std::nullopt};
}

std::string redact_secrets(std::string text, const std::vector<std::string>& secrets) {
  Redactor redactor;
  for (const auto& secret : secrets) redactor.add_secret(secret);
  return redactor.redact(text);
}

LiveSource::LiveSource(HttpTransport& transport, LiveSettings settings, Clock& clock)
    : transport_(transport), settings_(std::move(settings)), clock_(clock) {
  redactor_.add_secret(settings_.electricitymaps_api_key);
  redactor_.add_basic_auth(settings_.watttime_username, settings_.watttime_password);
}

Error LiveSource::redact(const Error& error) const {
  return Error(printable_server_text(redactor_.redact(error.message())));
}

Result<HttpResponse> LiveSource::call(LiveSourceKind kind, HttpRequest request,
                                      FetchReport& report) {
  ++report.requests;
  auto response = transport_.send(request);
  if (!response.ok()) return redact(response.error().with_context(to_string(kind)));
  // Redacted whole, before anything (parser messages, excerpts) can quote part of it.
  response->body = redactor_.redact(response->body);
  for (auto& [name, value] : response->headers) {
    value = strip_control_sequences(redactor_.redact(value));
  }
  return response;
}

Result<std::string> LiveSource::watttime_token(FetchReport& report, bool renew) {
  if (watttime_token_ && !renew) return *watttime_token_;
  if (settings_.watttime_username.empty() || settings_.watttime_password.empty()) {
    return make_error(
        "watttime: no credentials: set WATTTIME_USERNAME and WATTTIME_PASSWORD, or "
        "watttime_username and watttime_password in the config file (mode 600; see "
        "docs/live-sources.md)");
  }
  HttpRequest login = HttpRequest::get(build_url(settings_.watttime_base_url, "/login"));
  login.basic_auth = BasicAuth{settings_.watttime_username, settings_.watttime_password};
  auto response = call(LiveSourceKind::kWattTime, login, report);
  if (!response.ok()) return response.error();
  if (response->status != 200) {
    return redact(http_error(LiveSourceKind::kWattTime, login, *response, ""));
  }
  auto parsed = parse_json(response->body, "watttime /login");
  nlohmann::json body = parsed.ok() ? std::move(*parsed) : nlohmann::json();
  if (!body.is_object() || !body.contains("token") || !body["token"].is_string() ||
      body["token"].get_ref<const std::string&>().empty()) {
    return make_error("watttime: the login answer from {} has no token",
                      url_for_messages(login.url));
  }
  watttime_token_ = body["token"].get<std::string>();
  redactor_.add_secret(*watttime_token_);  // a bearer token is a credential too
  return *watttime_token_;
}

Result<std::string> LiveSource::get_body(LiveSourceKind kind, HttpRequest request,
                                         const std::string& zone, FetchReport& report) {
  if (kind == LiveSourceKind::kElectricityMaps) {
    if (settings_.electricitymaps_api_key.empty()) {
      return make_error(
          "electricitymaps: no API key: set ELECTRICITYMAPS_API_KEY, or electricitymaps_api_key "
          "in the config file (mode 600; see docs/live-sources.md)");
    }
    request.headers.emplace_back("auth-token", settings_.electricitymaps_api_key);
  }
  for (int attempt = 0;; ++attempt) {
    HttpRequest sent = request;
    if (kind == LiveSourceKind::kWattTime) {
      auto token = watttime_token(report, attempt > 0);
      if (!token.ok()) return token.error();
      sent.headers.emplace_back("Authorization", "Bearer " + *token);
    }
    auto response = call(kind, sent, report);
    if (!response.ok()) return response.error();
    // WattTime tokens expire after 30 minutes: sign in again once.
    if (kind == LiveSourceKind::kWattTime && response->status == 401 && attempt == 0) continue;
    if (response->status != 200) return redact(http_error(kind, sent, *response, zone));
    return std::move(response->body);
  }
}

Result<std::vector<IntensitySeries>> LiveSource::fetch_range(const FetchRequest& request,
                                                             SysTime from, SysTime to,
                                                             FetchReport& report) {
  const std::string& base = source_base_url(settings_, request.source);
  HttpRequest http;
  ImportOptions options;
  switch (request.source) {
    case LiveSourceKind::kWattTime:
      http.url = build_url(base, "/v3/historical",
                           {{"region", request.zone},
                            {"start", iso(from)},
                            {"end", iso(to)},
                            {"signal_type", "co2_moer"}});
      options.format = ImportFormat::kWattTimeJson;
      options.zone = request.zone;
      break;
    case LiveSourceKind::kElectricityMaps: {
      // The free tier has only /history (the last 24 hours); use it when that is enough.
      SysTime now = clock_.system_now();
      bool recent = from >= floor_to(now, 1h) - 24h && to <= ceil_to(now, 1h);
      std::vector<std::pair<std::string, std::string>> query = {
          {"zone", request.zone},
          {"emissionFactorType", to_string(request.electricitymaps_factor)}};
      if (!recent) {
        query.emplace_back("start", iso(from));
        query.emplace_back("end", iso(to));
      }
      http.url = build_url(
          base, recent ? "/v3/carbon-intensity/history" : "/v3/carbon-intensity/past-range", query);
      options.format = ImportFormat::kElectricityMapsJson;
      options.zone = request.zone;
      break;
    }
    case LiveSourceKind::kUkCarbonIntensity: {
      int region = 0;
      is_uk_zone(request.zone, &region);
      std::string range = format_utc_minutes(from) + "/" + format_utc_minutes(to);
      http.url =
          region == 0
              ? build_url(base, "/intensity/" + range)
              : build_url(base, fmt::format("/regional/intensity/{}/regionid/{}", range, region));
      options.format = ImportFormat::kUkCarbonIntensityJson;
      break;
    }
  }
  auto body = get_body(request.source, http, request.zone, report);
  if (!body.ok()) return body.error();
  report.fetched.emplace_back(from, to);
  std::string origin = fmt::format("{} {}", to_string(request.source), url_for_messages(http.url));
  auto parsed = parse_series(*body, origin, options);
  if (!parsed.ok()) return redact(parsed.error());
  return parsed;
}

Result<std::vector<IntensitySeries>> LiveSource::fetch_forecast(const FetchRequest& request,
                                                                FetchReport& report) {
  const std::string& base = source_base_url(settings_, request.source);
  SysTime now = clock_.system_now();
  HttpRequest http;
  ImportOptions options;
  bool stamp_issue = false;
  switch (request.source) {
    case LiveSourceKind::kWattTime: {
      auto hours = std::chrono::ceil<std::chrono::hours>(request.to - now).count();
      http.url = build_url(base, "/v3/forecast",
                           {{"region", request.zone},
                            {"signal_type", "co2_moer"},
                            {"horizon_hours", std::to_string(std::clamp<int64_t>(hours, 1, 72))}});
      options.format = ImportFormat::kWattTimeJson;
      options.zone = request.zone;
      break;
    }
    case LiveSourceKind::kElectricityMaps:
      http.url = build_url(base, "/v3/carbon-intensity/forecast",
                           {{"zone", request.zone},
                            {"emissionFactorType", to_string(request.electricitymaps_factor)}});
      options.format = ImportFormat::kElectricityMapsJson;
      options.zone = request.zone;
      break;
    case LiveSourceKind::kUkCarbonIntensity: {
      int region = 0;
      is_uk_zone(request.zone, &region);
      std::string from = format_utc_minutes(floor_to(request.from, 30min));
      http.url = region == 0
                     ? build_url(base, "/intensity/" + from + "/fw48h")
                     : build_url(base, fmt::format("/regional/intensity/{}/fw48h/regionid/{}", from,
                                                   region));
      options.format = ImportFormat::kUkCarbonIntensityJson;
      stamp_issue = true;  // the API does not say when its forecast was made
      break;
    }
  }
  auto body = get_body(request.source, http, request.zone, report);
  if (!body.ok()) return body.error();
  std::string origin = fmt::format("{} {}", to_string(request.source), url_for_messages(http.url));
  auto parsed = parse_series(*body, origin, options);
  if (!parsed.ok()) return redact(parsed.error());
  for (auto& s : *parsed) {
    if (stamp_issue || !s.issued_at) s.issued_at = floor_to(now, 1s);
  }
  return parsed;
}

Result<FetchReport> LiveSource::fetch(const FetchRequest& request, GridStore& store) {
  FetchReport report;
  report.query = live_series_query(request);
  const SeriesQuery& query = report.query;
  if (request.zone.empty()) return make_error("{}: no zone given", to_string(request.source));
  int uk_region = 0;
  if (request.source == LiveSourceKind::kUkCarbonIntensity &&
      !is_uk_zone(request.zone, &uk_region)) {
    return make_error(
        "ukci: zone '{}' is not GB (national) or GB-1 .. GB-17 (the API's regions, e.g. GB-13 "
        "London)",
        request.zone);
  }
  if (request.to <= request.from) {
    return make_error("{}: empty time range {} .. {}", to_string(request.source), iso(request.from),
                      iso(request.to));
  }
  const SourceLimits limits = source_limits(request.source);

  std::vector<IntensitySeries> fetched;
  if (request.forecast) {
    auto stored = find_stored(store, query, true);
    if (!stored.ok()) return stored.error();
    SysTime now = clock_.system_now();
    if (*stored && (*stored)->issued_at && *(*stored)->issued_at >= now - limits.forecast_refresh) {
      report.from_cache = true;
      return report;
    }
    auto series = fetch_forecast(request, report);
    if (!series.ok()) return series.error();
    fetched = std::move(*series);
  } else {
    SysTime from = floor_to(request.from, limits.granularity);
    SysTime to = ceil_to(request.to, limits.granularity);
    auto stored = find_stored(store, query, false);
    if (!stored.ok()) return stored.error();
    std::vector<Gap> gaps = {{from, to - from}};
    std::vector<IntensityPoint> existing;
    if (*stored) {
      auto cover = store.coverage(query, from, to);
      if (!cover.ok()) return cover.error();
      gaps = cover->gaps;
      auto have = store.read(query, from, to);
      if (!have.ok()) return have.error();
      existing = std::move(have->points);
    }
    if (gaps.empty()) {
      report.from_cache = true;
      return report;
    }
    for (const Gap& gap : gaps) {
      // Widen to the source's steps so a partial step at either end is asked for whole.
      SysTime gap_end = ceil_to(gap.end(), limits.granularity);
      for (SysTime t = floor_to(gap.start, limits.granularity); t < gap_end;) {
        SysTime chunk_end = std::min(gap_end, t + limits.max_range);
        auto series = fetch_range(request, t, chunk_end, report);
        if (!series.ok()) return series.error();
        for (auto& s : *series) fetched.push_back(std::move(s));
        t = chunk_end;
      }
    }
    // Chunks and widened gaps may overlap each other and stored points: keep each start once.
    for (auto& s : fetched) drop_overlaps(s, existing);
  }

  // Keep the series asked for (a response may carry others, e.g. several UK regions).
  std::vector<IntensitySeries> keep;
  for (auto& s : fetched) {
    if (s.zone != query.zone || s.signal != query.signal || s.factor != query.factor) continue;
    auto same = std::find_if(keep.begin(), keep.end(),
                             [&](const IntensitySeries& k) { return k.issued_at == s.issued_at; });
    if (same == keep.end()) {
      keep.push_back(std::move(s));
      continue;
    }
    // Merge chunk answers into one series, dropping repeated starts.
    for (auto& p : s.points) same->points.push_back(p);
    std::sort(same->points.begin(), same->points.end(),
              [](const auto& a, const auto& b) { return a.start < b.start; });
    std::vector<IntensityPoint> merged;
    for (const auto& p : same->points) {
      if (merged.empty() || p.start >= merged.back().end()) merged.push_back(p);
    }
    same->points = std::move(merged);
  }
  std::erase_if(keep, [](const IntensitySeries& s) { return s.points.empty(); });
  if (keep.empty()) return report;
  std::string origin = fmt::format("{} fetch", to_string(request.source));
  auto imported = store.import(keep, origin);
  if (!imported.ok()) return redact(imported.error());
  report.stored = std::move(*imported);
  return report;
}

}  // namespace carbonclock
