// The HTTP edge: live grid sources talk to providers through HttpTransport, so tests can point
// them at a loopback server and production uses libcurl (CurlTransport).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/error.h"
#include "common/time.h"

namespace carbonclock {

using HttpHeaders = std::vector<std::pair<std::string, std::string>>;

/// HTTP basic authentication. Secret: never printed.
struct BasicAuth {
  std::string username;
  std::string password;
};

struct HttpRequest {
  std::string method = "GET";  ///< GET, POST, ...
  std::string url;             ///< absolute http:// or https:// URL, query already encoded
  HttpHeaders headers;         ///< sent as given; values may be secret
  std::optional<BasicAuth> basic_auth;
  std::string body;  ///< sent when non-empty

  /// A GET of `url` with no headers.
  static HttpRequest get(std::string url) {
    HttpRequest r;
    r.url = std::move(url);
    return r;
  }
};

struct HttpResponse {
  int status = 0;       ///< e.g. 200, 401, 429
  HttpHeaders headers;  ///< of the final response, names as received
  std::string body;
  /// The first header with this name (case-insensitive), or nullopt.
  std::optional<std::string> header(std::string_view name) const;
};

/// Sends one request and waits for the whole response. Any HTTP status is a response (the
/// caller interprets 4xx/5xx); an Error means no response: cannot connect, timed out, TLS
/// failure, body over the size limit. Error messages name the method and URL, never header
/// values or credentials.
class HttpTransport {
 public:
  virtual ~HttpTransport() = default;
  virtual Result<HttpResponse> send(const HttpRequest& request) = 0;
};

/// The largest response body CurlTransport accepts by default: 64 MiB. The providers' largest
/// answers (32 days of 5-minute WattTime data) are about 1 MB.
inline constexpr uint64_t kDefaultMaxResponseBytes = uint64_t{64} << 20;

struct CurlOptions {
  Nanos connect_timeout = std::chrono::seconds(10);  ///< establishing the connection
  /// The whole exchange, from connecting to the last byte: a server that keeps sending slowly
  /// is cut off too (libcurl's CURLOPT_TIMEOUT_MS, not a per-read limit).
  Nanos total_timeout = std::chrono::seconds(60);
  std::string user_agent = "carbonclock";
  /// Largest body accepted (decoded bytes, so a compressed bomb is cut off as well); a
  /// larger one is an Error as soon as it passes the limit, announced or not. nullopt:
  /// max_response_bytes() decides.
  std::optional<uint64_t> max_body_bytes;
};

/// The body limit in effect: options.max_body_bytes, else $CARBONCLOCK_MAX_RESPONSE_BYTES (a
/// positive number of bytes, optionally with K, M or G for KiB, MiB, GiB), else
/// kDefaultMaxResponseBytes. Error when the variable is set but not such a number.
Result<uint64_t> max_response_bytes(const CurlOptions& options);

/// libcurl. http and https only; follows no redirects (a redirect is returned as a response);
/// honours the usual proxy variables except for loopback hosts. One easy handle per call, so
/// one CurlTransport may be used from several threads.
class CurlTransport final : public HttpTransport {
 public:
  explicit CurlTransport(CurlOptions options = {});
  ~CurlTransport() override;
  CurlTransport(const CurlTransport&) = delete;
  CurlTransport& operator=(const CurlTransport&) = delete;
  Result<HttpResponse> send(const HttpRequest& request) override;

 private:
  CurlOptions options_;
};

/// Percent-encodes everything but RFC 3986 unreserved characters (A-Z a-z 0-9 - . _ ~).
std::string url_encode(std::string_view text);

/// base (trailing '/' ignored) + path + "?k=v&..." with keys and values url_encode'd.
std::string build_url(std::string_view base, std::string_view path,
                      const std::vector<std::pair<std::string, std::string>>& query = {});

/// The URL without its query and without user info, for messages: "https://host/v3/forecast".
std::string url_for_messages(std::string_view url);

}  // namespace carbonclock
