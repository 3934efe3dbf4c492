#include "grid/live_source.h"

#include <gtest/gtest.h>
#include <httplib.h>
#include <sys/stat.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "common/files.h"

namespace carbonclock {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

constexpr const char* kWattTimeUser = "wt-user-SECRET-7f3a";
constexpr const char* kWattTimePassword = "wt-pass-SECRET-91c2";
constexpr const char* kEmKey = "em-key-SECRET-55d0";

SysTime at(const char* s) { return parse_utc(s).value(); }

std::string fixture(const std::string& name) {
  return read_file(fs::path(CARBONCLOCK_SOURCE_DIR) / "src/grid/testdata/live" / name).value();
}

// What the server saw of one request.
struct Seen {
  std::string path;
  std::map<std::string, std::string> params;
  std::map<std::string, std::string> headers;
};

// A real HTTP server on 127.0.0.1 (ephemeral port) that records every request.
class FakeProvider {
 public:
  using Handler = std::function<void(const httplib::Request&, httplib::Response&)>;

  void on(const std::string& path, Handler handler) {
    server_.Get(path, [this, handler](const httplib::Request& req, httplib::Response& res) {
      Seen seen{req.path, {}, {}};
      for (const auto& [k, v] : req.params) seen.params[k] = v;
      for (const auto& [k, v] : req.headers) seen.headers[k] = v;
      {
        std::lock_guard lock(mu_);
        seen_.push_back(std::move(seen));
      }
      handler(req, res);
    });
  }
  void serve(const std::string& path, const std::string& fixture_name) {
    std::string body = fixture(fixture_name);
    on(path, [body](const httplib::Request&, httplib::Response& res) {
      res.set_content(body, "application/json");
    });
  }
  void start() {
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    while (!server_.is_running()) std::this_thread::sleep_for(1ms);
  }
  ~FakeProvider() {
    if (thread_.joinable()) {
      server_.stop();
      thread_.join();
    }
  }
  std::string base_url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  std::vector<Seen> seen() {
    std::lock_guard lock(mu_);
    return seen_;
  }
  size_t count() { return seen().size(); }

 private:
  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
  std::mutex mu_;
  std::vector<Seen> seen_;
};

class LiveSourceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::path(CARBONCLOCK_BINARY_DIR) / "live_source_test" /
           ::testing::UnitTest::GetInstance()->current_test_info()->name();
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    store_.emplace(GridStore::open(dir_ / "grid.db").value());
  }

  LiveSettings settings() const {
    LiveSettings s;
    s.watttime_username = kWattTimeUser;
    s.watttime_password = kWattTimePassword;
    s.electricitymaps_api_key = kEmKey;
    s.watttime_base_url = s.electricitymaps_base_url = s.ukci_base_url = provider_.base_url();
    return s;
  }

  // Fetches with a libcurl transport (short timeouts) against the fake provider.
  Result<FetchReport> fetch(const FetchRequest& request, Nanos total_timeout = 5s) {
    CurlOptions options;
    options.connect_timeout = 2s;
    options.total_timeout = total_timeout;
    CurlTransport transport(options);
    LiveSource source(transport, settings(), clock_);
    return source.fetch(request, *store_);
  }

  static FetchRequest history(LiveSourceKind kind, std::string zone, const char* from,
                              const char* to) {
    FetchRequest r;
    r.source = kind;
    r.zone = std::move(zone);
    r.from = at(from);
    r.to = at(to);
    return r;
  }

  static void expect_no_secret(const std::string& message) {
    for (const char* secret : {kWattTimeUser, kWattTimePassword, kEmKey}) {
      EXPECT_EQ(message.find(secret), std::string::npos) << "secret leaked: " << message;
    }
  }

  fs::path dir_;
  FakeProvider provider_;
  ManualClock clock_{at("2024-03-10T00:00Z")};
  std::optional<GridStore> store_;
};

TEST_F(LiveSourceTest, WattTimeSignsInThenFetchesHistoryWithTheToken) {
  provider_.serve("/login", "watttime_login.json");
  provider_.serve("/v3/historical", "watttime_historical.json");
  provider_.start();
  auto report = fetch(
      history(LiveSourceKind::kWattTime, "CAISO_NORTH", "2024-03-01T00:00Z", "2024-03-01T01:00Z"));
  ASSERT_TRUE(report.ok()) << report.error().message();
  EXPECT_EQ(report->requests, 2);
  auto seen = provider_.seen();
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[0].path, "/login");
  // base64("wt-user-SECRET-7f3a:wt-pass-SECRET-91c2")
  EXPECT_EQ(seen[0].headers["Authorization"],
            "Basic d3QtdXNlci1TRUNSRVQtN2YzYTp3dC1wYXNzLVNFQ1JFVC05MWMy");
  EXPECT_EQ(seen[1].path, "/v3/historical");
  EXPECT_EQ(seen[1].headers["Authorization"], "Bearer wt-token-from-login");
  EXPECT_EQ(seen[1].params["region"], "CAISO_NORTH");
  EXPECT_EQ(seen[1].params["signal_type"], "co2_moer");
  EXPECT_EQ(seen[1].params["start"], "2024-03-01T00:00:00Z");
  EXPECT_EQ(seen[1].params["end"], "2024-03-01T01:00:00Z");

  auto stored = store_->read({"CAISO_NORTH", Signal::kMarginal, Factor::kDirect},
                             at("2024-03-01T00:00Z"), at("2024-03-01T01:00Z"));
  ASSERT_TRUE(stored.ok()) << stored.error().message();
  ASSERT_EQ(stored->points.size(), 12u);
  EXPECT_NEAR(stored->points[0].g_per_kwh, 1000 * 0.45359237, 1e-9);  // lbs/MWh → g/kWh
  EXPECT_EQ(stored->points[0].duration, 5min);
  EXPECT_EQ(stored->points[11].start, at("2024-03-01T00:55Z"));
}

TEST_F(LiveSourceTest, RepeatedFetchMakesNoRequestAndExtensionsAskOnlyForTheMissingPart) {
  provider_.serve("/login", "watttime_login.json");
  // Answers with 5-minute points for whatever range is asked.
  provider_.on("/v3/historical", [](const httplib::Request& req, httplib::Response& res) {
    nlohmann::json data = nlohmann::json::array();
    for (SysTime t = at(req.get_param_value("start").c_str());
         t < at(req.get_param_value("end").c_str()); t += 5min) {
      data.push_back({{"point_time", format_utc(t)}, {"value", 900.0}});
    }
    nlohmann::json body = {{"data", data},
                           {"meta",
                            {{"region", req.get_param_value("region")},
                             {"signal_type", "co2_moer"},
                             {"units", "lbs_co2_per_mwh"},
                             {"data_point_period_seconds", 300}}}};
    res.set_content(body.dump(), "application/json");
  });
  provider_.start();
  auto first = history(LiveSourceKind::kWattTime, "BPA", "2024-03-01T00:00Z", "2024-03-01T06:00Z");
  ASSERT_TRUE(fetch(first).ok());
  size_t after_first = provider_.count();
  EXPECT_EQ(after_first, 2u);

  auto again = fetch(first);
  ASSERT_TRUE(again.ok()) << again.error().message();
  EXPECT_TRUE(again->from_cache);
  EXPECT_EQ(again->requests, 0);
  EXPECT_EQ(provider_.count(), after_first);

  auto inside =
      fetch(history(LiveSourceKind::kWattTime, "BPA", "2024-03-01T01:07Z", "2024-03-01T02:00Z"));
  ASSERT_TRUE(inside.ok());
  EXPECT_EQ(inside->requests, 0);

  auto longer =
      fetch(history(LiveSourceKind::kWattTime, "BPA", "2024-03-01T03:00Z", "2024-03-01T08:00Z"));
  ASSERT_TRUE(longer.ok()) << longer.error().message();
  auto seen = provider_.seen();
  ASSERT_EQ(seen.size(), after_first + 2);  // a new login (new LiveSource) and one range
  EXPECT_EQ(seen.back().params["start"], "2024-03-01T06:00:00Z");
  EXPECT_EQ(seen.back().params["end"], "2024-03-01T08:00:00Z");
  auto stored = store_->read({"BPA", Signal::kMarginal, Factor::kDirect}, at("2024-03-01T00:00Z"),
                             at("2024-03-01T08:00Z"));
  ASSERT_TRUE(stored.ok());
  EXPECT_EQ(stored->points.size(), 8u * 12);
}

TEST_F(LiveSourceTest, ElectricityMapsPastRangeSendsTheKeyHeader) {
  provider_.serve("/v3/carbon-intensity/past-range", "em_past_range.json");
  provider_.start();
  auto report = fetch(
      history(LiveSourceKind::kElectricityMaps, "DE", "2024-03-01T00:00Z", "2024-03-02T00:00Z"));
  ASSERT_TRUE(report.ok()) << report.error().message();
  auto seen = provider_.seen();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].headers["auth-token"], kEmKey);
  EXPECT_EQ(seen[0].params["zone"], "DE");
  EXPECT_EQ(seen[0].params["start"], "2024-03-01T00:00:00Z");
  EXPECT_EQ(seen[0].params["end"], "2024-03-02T00:00:00Z");
  EXPECT_EQ(seen[0].params["emissionFactorType"], "lifecycle");
  auto stored = store_->read({"DE", Signal::kAverage, Factor::kLifecycle}, at("2024-03-01T00:00Z"),
                             at("2024-03-02T00:00Z"));
  ASSERT_TRUE(stored.ok()) << stored.error().message();
  ASSERT_EQ(stored->points.size(), 24u);
  EXPECT_EQ(stored->points[5].g_per_kwh, 395);
  EXPECT_FALSE(stored->points[19].estimated);
  EXPECT_TRUE(stored->points[20].estimated);
}

TEST_F(LiveSourceTest, LongRangesAreSplitIntoRequestsWithinTheProviderLimit) {
  provider_.on(
      "/v3/carbon-intensity/past-range", [](const httplib::Request& req, httplib::Response& res) {
        nlohmann::json data = nlohmann::json::array();
        for (SysTime t = at(req.get_param_value("start").c_str());
             t < at(req.get_param_value("end").c_str()); t += 1h) {
          data.push_back({{"carbonIntensity", 250},
                          {"datetime", format_utc(t)},
                          {"emissionFactorType", "lifecycle"},
                          {"isEstimated", false}});
        }
        res.set_content(nlohmann::json{{"zone", "FR"}, {"data", data}}.dump(), "application/json");
      });
  provider_.start();
  auto report = fetch(
      history(LiveSourceKind::kElectricityMaps, "FR", "2024-01-01T00:00Z", "2024-01-26T00:00Z"));
  ASSERT_TRUE(report.ok()) << report.error().message();
  auto seen = provider_.seen();
  ASSERT_EQ(seen.size(), 3u);  // 10 + 10 + 5 days
  for (const auto& s : seen) {
    auto span = at(s.params.at("end").c_str()) - at(s.params.at("start").c_str());
    EXPECT_LE(span, source_limits(LiveSourceKind::kElectricityMaps).max_range);
  }
  EXPECT_EQ(seen[2].params["start"], "2024-01-21T00:00:00Z");
  auto stored = store_->read({"FR", Signal::kAverage, Factor::kLifecycle}, at("2024-01-01T00:00Z"),
                             at("2024-01-26T00:00Z"));
  ASSERT_TRUE(stored.ok());
  EXPECT_EQ(stored->points.size(), 25u * 24);
}

TEST_F(LiveSourceTest, ElectricityMapsRecentHistoryReplaysARealResponse) {
  fs::path zeus = fs::path(CARBONCLOCK_SHARED_DATA) / "zeus" / "carbon_history_file1.json";
  if (!fs::exists(zeus)) GTEST_SKIP() << "shared data not found at " << zeus;
  std::string body = read_file(zeus).value();
  provider_.on("/v3/carbon-intensity/history",
               [body](const httplib::Request&, httplib::Response& res) {
                 res.set_content(body, "application/json");
               });
  provider_.start();
  clock_.advance(at("2024-12-01T06:10Z") - clock_.system_now());
  auto report = fetch(history(LiveSourceKind::kElectricityMaps, "US-MIDW-MISO", "2024-11-30T06:00Z",
                              "2024-12-01T06:00Z"));
  ASSERT_TRUE(report.ok()) << report.error().message();
  auto seen = provider_.seen();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].params["zone"], "US-MIDW-MISO");
  EXPECT_EQ(seen[0].params.count("start"), 0u);
  auto stored = store_->read({"US-MIDW-MISO", Signal::kAverage, Factor::kLifecycle},
                             at("2024-11-30T06:00Z"), at("2024-12-01T06:00Z"));
  ASSERT_TRUE(stored.ok()) << stored.error().message();
  EXPECT_EQ(stored->points.size(), 24u);
}

TEST_F(LiveSourceTest, UkCarbonIntensityNeedsNoKeyNationalAndRegional) {
  provider_.serve("/intensity/2024-03-01T00:00Z/2024-03-01T02:00Z", "ukci_intensity.json");
  provider_.serve("/regional/intensity/2024-03-01T00:00Z/2024-03-01T02:00Z/regionid/13",
                  "ukci_regional.json");
  provider_.start();
  auto national = fetch(
      history(LiveSourceKind::kUkCarbonIntensity, "GB", "2024-03-01T00:00Z", "2024-03-01T02:00Z"));
  ASSERT_TRUE(national.ok()) << national.error().message();
  auto regional = fetch(history(LiveSourceKind::kUkCarbonIntensity, "GB-13", "2024-03-01T00:00Z",
                                "2024-03-01T02:00Z"));
  ASSERT_TRUE(regional.ok()) << regional.error().message();
  for (const auto& s : provider_.seen()) {
    EXPECT_EQ(s.headers.count("Authorization"), 0u);
    EXPECT_EQ(s.headers.count("auth-token"), 0u);
  }
  auto gb = store_->read({"GB", Signal::kAverage, Factor::kDirect}, at("2024-03-01T00:00Z"),
                         at("2024-03-01T02:00Z"));
  ASSERT_TRUE(gb.ok()) << gb.error().message();
  ASSERT_EQ(gb->points.size(), 4u);
  EXPECT_EQ(gb->points[0].g_per_kwh, 148);
  auto london = store_->read({"GB-13", Signal::kAverage, Factor::kDirect}, at("2024-03-01T00:00Z"),
                             at("2024-03-01T02:00Z"));
  ASSERT_TRUE(london.ok()) << london.error().message();
  EXPECT_EQ(london->points.size(), 4u);
  EXPECT_FALSE(fetch(history(LiveSourceKind::kUkCarbonIntensity, "GB-99", "2024-03-01T00:00Z",
                             "2024-03-01T02:00Z"))
                   .ok());
}

TEST_F(LiveSourceTest, ForecastsAreStoredWithTheirIssueTimeAndReusedWhileFresh) {
  provider_.serve("/login", "watttime_login.json");
  provider_.serve("/v3/forecast", "watttime_forecast.json");
  provider_.start();
  clock_.advance(at("2024-03-01T12:01Z") - clock_.system_now());
  FetchRequest r =
      history(LiveSourceKind::kWattTime, "CAISO_NORTH", "2024-03-01T12:00Z", "2024-03-01T14:00Z");
  r.forecast = true;
  auto first = fetch(r);
  ASSERT_TRUE(first.ok()) << first.error().message();
  auto seen = provider_.seen();
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[1].params["horizon_hours"], "2");
  EXPECT_EQ(seen[1].params["region"], "CAISO_NORTH");
  auto forecast = store_->latest_forecast({"CAISO_NORTH", Signal::kMarginal, Factor::kDirect},
                                          clock_.system_now(), r.from, r.to);
  ASSERT_TRUE(forecast.ok()) << forecast.error().message();
  ASSERT_TRUE(forecast->has_value());
  EXPECT_EQ((*forecast)->issued_at, at("2024-03-01T12:00Z"));
  EXPECT_EQ((*forecast)->points.size(), 24u);

  clock_.advance(2min);
  auto again = fetch(r);
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->from_cache);
  EXPECT_EQ(provider_.count(), 2u);

  clock_.advance(10min);  // older than WattTime's 5-minute refresh: ask again
  auto later = fetch(r);
  ASSERT_TRUE(later.ok()) << later.error().message();
  EXPECT_EQ(provider_.count(), 4u);
}

TEST_F(LiveSourceTest, ExpiredWattTimeTokenIsRenewedOnce) {
  provider_.serve("/login", "watttime_login.json");
  std::string body = fixture("watttime_historical.json");
  auto calls = std::make_shared<std::atomic<int>>(0);
  provider_.on("/v3/historical", [body, calls](const httplib::Request&, httplib::Response& res) {
    if ((*calls)++ == 0) {
      res.status = 401;
      res.set_content(R"({"error":"token expired"})", "application/json");
      return;
    }
    res.set_content(body, "application/json");
  });
  provider_.start();
  auto report = fetch(
      history(LiveSourceKind::kWattTime, "CAISO_NORTH", "2024-03-01T00:00Z", "2024-03-01T01:00Z"));
  ASSERT_TRUE(report.ok()) << report.error().message();
  EXPECT_EQ(report->requests, 4);  // login, 401, login, data
}

TEST_F(LiveSourceTest, UnauthorizedNamesSourceStatusAndVariableButNeverTheKey) {
  // A hostile server echoing the credentials it received.
  provider_.on("/v3/carbon-intensity/past-range",
               [](const httplib::Request& req, httplib::Response& res) {
                 res.status = 401;
                 res.set_content("bad token " + req.get_header_value("auth-token"), "text/plain");
               });
  provider_.on("/login", [](const httplib::Request& req, httplib::Response& res) {
    res.status = 403;
    res.set_content("denied " + req.get_header_value("Authorization"), "text/plain");
  });
  provider_.start();
  auto em = fetch(
      history(LiveSourceKind::kElectricityMaps, "DE", "2024-03-01T00:00Z", "2024-03-02T00:00Z"));
  ASSERT_FALSE(em.ok());
  const std::string& m = em.error().message();
  EXPECT_NE(m.find("electricitymaps"), std::string::npos) << m;
  EXPECT_NE(m.find("HTTP 401"), std::string::npos) << m;
  EXPECT_NE(m.find("ELECTRICITYMAPS_API_KEY"), std::string::npos) << m;
  expect_no_secret(m);

  auto wt = fetch(
      history(LiveSourceKind::kWattTime, "CAISO_NORTH", "2024-03-01T00:00Z", "2024-03-01T01:00Z"));
  ASSERT_FALSE(wt.ok());
  EXPECT_NE(wt.error().message().find("watttime: HTTP 403"), std::string::npos)
      << wt.error().message();
  EXPECT_NE(wt.error().message().find("WATTTIME_PASSWORD"), std::string::npos);
  expect_no_secret(wt.error().message());
}

TEST_F(LiveSourceTest, RateLimitReportsRetryAfter) {
  provider_.on("/v3/carbon-intensity/past-range",
               [](const httplib::Request&, httplib::Response& res) {
                 res.status = 429;
                 res.set_header("Retry-After", "120");
               });
  provider_.start();
  auto r = fetch(
      history(LiveSourceKind::kElectricityMaps, "DE", "2024-03-01T00:00Z", "2024-03-02T00:00Z"));
  ASSERT_FALSE(r.ok());
  const std::string& m = r.error().message();
  EXPECT_NE(m.find("HTTP 429"), std::string::npos) << m;
  EXPECT_NE(m.find("retry after 120 s"), std::string::npos) << m;
  expect_no_secret(m);
}

TEST_F(LiveSourceTest, ServerErrorAndNotFound) {
  provider_.on("/intensity/2024-03-01T00:00Z/2024-03-01T02:00Z",
               [](const httplib::Request&, httplib::Response& res) { res.status = 500; });
  provider_.on("/v3/historical", [](const httplib::Request&, httplib::Response& res) {
    res.status = 404;
    res.set_content(R"({"error":"region not found"})", "application/json");
  });
  provider_.serve("/login", "watttime_login.json");
  provider_.start();
  auto uk = fetch(
      history(LiveSourceKind::kUkCarbonIntensity, "GB", "2024-03-01T00:00Z", "2024-03-01T02:00Z"));
  ASSERT_FALSE(uk.ok());
  EXPECT_NE(uk.error().message().find("ukci: HTTP 500"), std::string::npos) << uk.error().message();
  EXPECT_NE(uk.error().message().find("try again later"), std::string::npos);
  auto wt = fetch(
      history(LiveSourceKind::kWattTime, "NOWHERE", "2024-03-01T00:00Z", "2024-03-01T01:00Z"));
  ASSERT_FALSE(wt.ok());
  EXPECT_NE(wt.error().message().find("HTTP 404"), std::string::npos) << wt.error().message();
  EXPECT_NE(wt.error().message().find("'NOWHERE'"), std::string::npos) << wt.error().message();
  EXPECT_NE(wt.error().message().find("region not found"), std::string::npos);
  expect_no_secret(wt.error().message());
}

TEST_F(LiveSourceTest, MalformedResponsesAreErrorsNotCrashes) {
  // The bodies that crashed importers (issue 15, item 3) reach parse_series through fetch as
  // well: `grid fetch`, `plan` and `run --forecast-source` must get an error back.
  const std::string deep =
      R"({"data":)" + std::string(100000, '[') + std::string(100000, ']') + "}";
  struct Case {
    std::string path;
    LiveSourceKind kind;
    std::string zone;
    std::string body;
    std::string expected;
  };
  const std::vector<Case> cases = {
      {"/v3/carbon-intensity/past-range", LiveSourceKind::kElectricityMaps, "DE",
       R"({"zone":"DE","data":[{"datetime":"2024-03-01T00:00Z","carbonIntensity":1e999}]})",
       "number overflow"},
      {"/regional/intensity/2024-03-01T00:00Z/2024-03-01T02:00Z/regionid/13",
       LiveSourceKind::kUkCarbonIntensity, "GB-13",
       R"({"data":[{"from":7,"to":[],"regions":[{"regionid":13,"intensity":{"forecast":1}}]}]})",
       "missing string 'from'"},
      {"/intensity/2024-03-01T00:00Z/2024-03-01T02:00Z", LiveSourceKind::kUkCarbonIntensity, "GB",
       deep, "JSON nested deeper than 256 levels"},
  };
  for (const Case& c : cases) {
    provider_.on(c.path, [body = c.body](const httplib::Request&, httplib::Response& res) {
      res.set_content(body, "application/json");
    });
  }
  provider_.on("/login", [deep](const httplib::Request&, httplib::Response& res) {
    res.set_content(deep, "application/json");
  });
  provider_.start();
  for (const Case& c : cases) {
    auto r = fetch(history(c.kind, c.zone, "2024-03-01T00:00Z", "2024-03-01T02:00Z"));
    ASSERT_FALSE(r.ok()) << c.path;
    EXPECT_NE(r.error().message().find(c.expected), std::string::npos) << r.error().message();
    expect_no_secret(r.error().message());
  }
  auto wt = fetch(
      history(LiveSourceKind::kWattTime, "CAISO_NORTH", "2024-03-01T00:00Z", "2024-03-01T01:00Z"));
  ASSERT_FALSE(wt.ok());
  EXPECT_NE(wt.error().message().find("no token"), std::string::npos) << wt.error().message();
}

TEST_F(LiveSourceTest, SlowServerTimesOut) {
  provider_.on("/v3/carbon-intensity/past-range",
               [](const httplib::Request&, httplib::Response& res) {
                 std::this_thread::sleep_for(1s);
                 res.set_content("{}", "application/json");
               });
  provider_.start();
  auto r = fetch(
      history(LiveSourceKind::kElectricityMaps, "DE", "2024-03-01T00:00Z", "2024-03-02T00:00Z"),
      200ms);
  ASSERT_FALSE(r.ok());
  const std::string& m = r.error().message();
  EXPECT_NE(m.find("electricitymaps"), std::string::npos) << m;
  EXPECT_NE(m.find("timed out"), std::string::npos) << m;
  expect_no_secret(m);
}

TEST_F(LiveSourceTest, MissingCredentialsSayWhichVariablesToSet) {
  provider_.start();
  CurlTransport transport;
  LiveSettings none;
  none.electricitymaps_base_url = none.watttime_base_url = provider_.base_url();
  LiveSource source(transport, none, clock_);
  auto em = source.fetch(
      history(LiveSourceKind::kElectricityMaps, "DE", "2024-03-01T00:00Z", "2024-03-02T00:00Z"),
      *store_);
  ASSERT_FALSE(em.ok());
  EXPECT_NE(em.error().message().find("ELECTRICITYMAPS_API_KEY"), std::string::npos);
  auto wt = source.fetch(
      history(LiveSourceKind::kWattTime, "CAISO_NORTH", "2024-03-01T00:00Z", "2024-03-02T00:00Z"),
      *store_);
  ASSERT_FALSE(wt.ok());
  EXPECT_NE(wt.error().message().find("WATTTIME_USERNAME"), std::string::npos);
  EXPECT_EQ(provider_.count(), 0u);
}

// --- settings -------------------------------------------------------------------------------


// --- Redaction and server text (issue 15, item 10) ----------------------------------------

std::string lower_ascii(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

TEST_F(LiveSourceTest, KeyStraddlingTheExcerptIsRedactedBeforeTheCut) {
  // The excerpt is 200 bytes; a key starting at byte 190 leaked its first 10 characters.
  provider_.on(
      "/v3/carbon-intensity/past-range", [](const httplib::Request& req, httplib::Response& res) {
        res.status = 401;
        res.set_content(std::string(190, '.') + req.get_header_value("auth-token") + " end",
                        "text/plain");
      });
  provider_.start();
  auto r = fetch(
      history(LiveSourceKind::kElectricityMaps, "DE", "2024-03-01T00:00Z", "2024-03-02T00:00Z"));
  ASSERT_FALSE(r.ok());
  const std::string& m = r.error().message();
  EXPECT_EQ(m.find(std::string(kEmKey).substr(0, 6)), std::string::npos) << m;
  EXPECT_NE(m.find("..."), std::string::npos) << m;  // an excerpt is still shown
}

TEST_F(LiveSourceTest, EchoedCredentialsInEveryFormAreRedacted) {
  // A hostile server echoing what it got: the Basic header (base64 of user:password), the
  // bearer token, a lower-cased and a URL-encoded copy of the key.
  provider_.serve("/login", "watttime_login.json");
  provider_.on("/v3/historical", [](const httplib::Request& req, httplib::Response& res) {
    res.status = 403;
    res.set_content("denied: " + req.get_header_value("Authorization"), "text/plain");
  });
  provider_.on("/v3/carbon-intensity/past-range",
               [](const httplib::Request& req, httplib::Response& res) {
                 res.status = 403;
                 std::string key = req.get_header_value("auth-token");
                 res.set_content(
                     "key " + lower_ascii(key) + " enc " + url_encode(key) + " upper " +
                         [&] {
                           std::string u = key;
                           for (char& c : u) c = static_cast<char>(std::toupper(c));
                           return u;
                         }(),
                     "text/plain");
               });
  provider_.start();
  auto em = fetch(
      history(LiveSourceKind::kElectricityMaps, "DE", "2024-03-01T00:00Z", "2024-03-02T00:00Z"));
  ASSERT_FALSE(em.ok());
  EXPECT_EQ(lower_ascii(em.error().message()).find(lower_ascii(kEmKey)), std::string::npos)
      << em.error().message();
  EXPECT_NE(em.error().message().find("key *** enc *** upper ***"), std::string::npos)
      << em.error().message();

  auto wt = fetch(
      history(LiveSourceKind::kWattTime, "CAISO_NORTH", "2024-03-01T00:00Z", "2024-03-01T01:00Z"));
  ASSERT_FALSE(wt.ok());
  EXPECT_EQ(wt.error().message().find("wt-token-from-login"), std::string::npos)
      << wt.error().message();
  EXPECT_NE(wt.error().message().find("denied: Bearer ***"), std::string::npos)
      << wt.error().message();

  // The Basic header echoed on a refused sign-in.
  FakeProvider login_echo;
  login_echo.on("/login", [](const httplib::Request& req, httplib::Response& res) {
    res.status = 403;
    res.set_content("denied " + req.get_header_value("Authorization"), "text/plain");
  });
  login_echo.start();
  LiveSettings settings = this->settings();
  settings.watttime_base_url = login_echo.base_url();
  CurlTransport transport;
  LiveSource source(transport, settings, clock_);
  auto basic = source.fetch(
      history(LiveSourceKind::kWattTime, "CAISO_NORTH", "2024-03-01T00:00Z", "2024-03-01T01:00Z"),
      *store_);
  ASSERT_FALSE(basic.ok());
  EXPECT_EQ(basic.error().message().find("d3QtdXNlci1TRUNSRVQtN2YzYTp3dC1wYXNzLVNFQ1JFVC05MWMy"),
            std::string::npos)
      << basic.error().message();
  EXPECT_NE(basic.error().message().find("denied Basic ***"), std::string::npos)
      << basic.error().message();
}

TEST_F(LiveSourceTest, ControlCharactersFromTheServerNeverReachTheTerminal) {
  provider_.on("/v3/carbon-intensity/past-range",
               [](const httplib::Request&, httplib::Response& res) {
                 res.status = 429;
                 res.set_header("Retry-After",
                                "\x1b]0;owned\x07"
                                "30");
                 res.set_content(
                     "\x1b[2J\x1b[31mboom\x1b[0m\x07\x08 \xc2\x9b"
                     "1m done \xff",
                     "text/plain");
               });
  provider_.on("/v3/historical", [](const httplib::Request&, httplib::Response& res) {
    // A 200 whose content makes the parser quote it in its error.
    res.set_content(
        "{\"meta\":{\"region\":\"\x1b[31mX\",\"signal_type\":\"co2_moer\","
        "\"units\":\"\x1b[1mlbs\"},\"data\":[]}",
        "application/json");
  });
  provider_.serve("/login", "watttime_login.json");
  provider_.start();
  auto em = fetch(
      history(LiveSourceKind::kElectricityMaps, "DE", "2024-03-01T00:00Z", "2024-03-02T00:00Z"));
  ASSERT_FALSE(em.ok());
  const std::string& m = em.error().message();
  for (char c : m) {
    EXPECT_FALSE(static_cast<unsigned char>(c) < 0x20 || c == 0x7f) << "control byte in: " << m;
  }
  EXPECT_EQ(m.find("\xc2\x9b"), std::string::npos) << m;  // C1 CSI
  EXPECT_NE(m.find("boom"), std::string::npos) << m;
  EXPECT_NE(m.find("\\xff"), std::string::npos) << m;  // not UTF-8: shown escaped
  auto wt = fetch(
      history(LiveSourceKind::kWattTime, "CAISO_NORTH", "2024-03-01T00:00Z", "2024-03-01T01:00Z"));
  ASSERT_FALSE(wt.ok());
  EXPECT_EQ(wt.error().message().find('\x1b'), std::string::npos) << wt.error().message();
}

TEST(RedactSecrets, ReplacesEveryOccurrence) {
  EXPECT_EQ(redact_secrets("a KEY b KEYKEY", {"KEY", ""}), "a *** b ******");
  EXPECT_EQ(parse_live_source("em").value(), LiveSourceKind::kElectricityMaps);
  EXPECT_FALSE(parse_live_source("co2signal").ok());
}

}  // namespace
}  // namespace carbonclock
