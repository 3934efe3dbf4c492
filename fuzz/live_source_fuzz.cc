// The live-source code paths of `grid fetch`, `plan` and `run --forecast-source`: a provider
// answering anything at all. The first byte picks the source, history or forecast, and the
// HTTP status; the rest is the response body. The store is an in-memory SQLite database.
#include "common/clock.h"
#include "fuzz/fuzz_util.h"
#include "grid/live_source.h"

namespace {

using namespace carbonclock;

// Answers /login with a token and everything else with the fuzz body.
class FuzzTransport final : public HttpTransport {
 public:
  FuzzTransport(int status, std::string body) : status_(status), body_(std::move(body)) {}
  Result<HttpResponse> send(const HttpRequest& request) override {
    HttpResponse r;
    if (request.url.find("/login") != std::string::npos) {
      r.status = 200;
      r.body = R"({"token":"fuzz-token-0123456789"})";
      return r;
    }
    r.status = status_;
    r.body = body_;
    r.headers = {{"Retry-After", body_.substr(0, 16)}};
    return r;
  }

 private:
  int status_;
  std::string body_;
};

constexpr const char* kSecrets[] = {"wt-user-fuzz", "wt-pass-fuzz-1234", "em-key-fuzz-5678",
                                    "fuzz-token-0123456789"};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const uint8_t mode = data[0];
  static constexpr LiveSourceKind kKinds[] = {
      LiveSourceKind::kWattTime, LiveSourceKind::kElectricityMaps,
      LiveSourceKind::kUkCarbonIntensity, LiveSourceKind::kUkCarbonIntensity};
  static constexpr int kStatuses[] = {200, 200, 200, 200, 401, 404, 429, 500};
  FetchRequest request;
  request.source = kKinds[mode & 3];
  request.forecast = (mode & 4) != 0;
  request.zone = request.source == LiveSourceKind::kUkCarbonIntensity
                     ? ((mode & 8) ? "GB-13" : "GB")
                     : (request.source == LiveSourceKind::kWattTime ? "CAISO_NORTH" : "DE");
  request.from = parse_utc("2024-03-01T00:00Z").value();
  request.to = parse_utc("2024-03-01T06:00Z").value();
  FuzzTransport transport(kStatuses[(mode >> 4) & 7],
                          std::string(fuzz::as_text(data + 1, size - 1)));
  LiveSettings settings;
  settings.watttime_username = kSecrets[0];
  settings.watttime_password = kSecrets[1];
  settings.electricitymaps_api_key = kSecrets[2];
  settings.watttime_base_url = settings.electricitymaps_base_url = settings.ukci_base_url =
      "http://provider.invalid";
  ManualClock clock(request.from + std::chrono::hours(1));
  auto store = GridStore::open(":memory:");
  fuzz::require(store.ok(), "cannot open an in-memory store");
  LiveSource source(transport, settings, clock);
  auto report = source.fetch(request, *store);
  if (!report) {
    const std::string& m = report.error().message();
    fuzz::check_error(report.error());
    // The configured credentials are secrets whatever the source; the bearer token only once
    // WattTime issued it (for another source the same bytes are a provider's data).
    const size_t known = request.source == LiveSourceKind::kWattTime ? std::size(kSecrets) : 3;
    for (size_t i = 0; i < known; ++i) {
      fuzz::require(m.find(kSecrets[i]) == std::string::npos, "credential in an error message");
    }
    for (char c : m) fuzz::require(static_cast<unsigned char>(c) >= 0x20, "control character");
  }
  return 0;
}
