#include "http/http_transport.h"
#include "common/strings.h"

#include <curl/curl.h>
#include <dlfcn.h>
#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdlib>
#include <limits>
#include <mutex>

namespace carbonclock {
namespace {

// libcurl is loaded with dlopen on first use instead of being linked: linking it maps the
// whole TLS stack (GnuTLS, OpenSSL's libcrypto, Kerberos, p11-kit: about 3.5 MB resident)
// into every carbonclock process, and `carbonclock run` must stay under 10 MB while it
// meters a job. Only the commands that talk HTTP pay for it. curl/curl.h still provides the
// types and constants; the entry points below are resolved by name.
struct CurlApi {
  CURLcode (*global_init)(long);
  CURL* (*easy_init)();
  void (*easy_cleanup)(CURL*);
  CURLcode (*easy_setopt)(CURL*, CURLoption, ...);
  CURLcode (*easy_perform)(CURL*);
  CURLcode (*easy_getinfo)(CURL*, CURLINFO, ...);
  const char* (*easy_strerror)(CURLcode);
  curl_slist* (*slist_append)(curl_slist*, const char*);
  void (*slist_free_all)(curl_slist*);
};

// Loads libcurl.so.4 once per process and runs curl_global_init (not thread-safe, hence once).
// Returns null and sets `error` when the library or a symbol is missing.
const CurlApi* curl_api(std::string* error) {
  static CurlApi api;
  static std::string load_error;
  static std::once_flag once;
  std::call_once(once, [] {
    void* lib = ::dlopen("libcurl.so.4", RTLD_NOW | RTLD_LOCAL);
    if (lib == nullptr) {
      load_error = fmt::format("cannot load libcurl (install Debian's libcurl4): {}", ::dlerror());
      return;
    }
    auto load = [&](auto& fn, const char* name) {
      fn = reinterpret_cast<std::remove_reference_t<decltype(fn)>>(::dlsym(lib, name));
      if (fn == nullptr && load_error.empty()) load_error = fmt::format("libcurl lacks {}", name);
    };
    load(api.global_init, "curl_global_init");
    load(api.easy_init, "curl_easy_init");
    load(api.easy_cleanup, "curl_easy_cleanup");
    load(api.easy_setopt, "curl_easy_setopt");
    load(api.easy_perform, "curl_easy_perform");
    load(api.easy_getinfo, "curl_easy_getinfo");
    load(api.easy_strerror, "curl_easy_strerror");
    load(api.slist_append, "curl_slist_append");
    load(api.slist_free_all, "curl_slist_free_all");
    if (load_error.empty()) api.global_init(CURL_GLOBAL_DEFAULT);
  });
  if (!load_error.empty()) {
    if (error != nullptr) *error = load_error;
    return nullptr;
  }
  return &api;
}


struct EasyDeleter {
  void operator()(CURL* c) const { curl_api(nullptr)->easy_cleanup(c); }
};
struct SlistDeleter {
  void operator()(curl_slist* l) const { curl_api(nullptr)->slist_free_all(l); }
};

// Where the body goes, and how much of it may come.
struct BodySink {
  std::string* body;
  uint64_t limit;
  bool exceeded = false;
};

size_t on_body(char* data, size_t size, size_t count, void* user) {
  auto* sink = static_cast<BodySink*>(user);
  const size_t n = size * count;
  if (sink->body->size() + n > sink->limit) {
    sink->exceeded = true;
    return 0;  // libcurl stops with CURLE_WRITE_ERROR
  }
  sink->body->append(data, n);
  return n;
}

// Header lines of every response (redirects, 100-continue) arrive here; a status line starts a
// new set, so only the final response's headers remain.
size_t on_header(char* data, size_t size, size_t count, void* user) {
  auto* headers = static_cast<HttpHeaders*>(user);
  std::string_view line(data, size * count);
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.remove_suffix(1);
  if (line.starts_with("HTTP/")) {
    headers->clear();
  } else if (size_t colon = line.find(':'); colon != std::string_view::npos) {
    std::string_view value = line.substr(colon + 1);
    while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
    headers->emplace_back(std::string(line.substr(0, colon)), std::string(value));
  }
  return size * count;
}

long to_millis(Nanos d) {
  return static_cast<long>(std::chrono::duration_cast<std::chrono::milliseconds>(d).count());
}

std::string no_proxy_list() {
  std::string list = "localhost,127.0.0.1,::1";
  for (const char* name : {"no_proxy", "NO_PROXY"}) {
    if (const char* v = std::getenv(name); v && *v) return list + "," + v;
  }
  return list;
}

}  // namespace

Result<uint64_t> max_response_bytes(const CurlOptions& options) {
  if (options.max_body_bytes) return *options.max_body_bytes;
  const char* env = std::getenv("CARBONCLOCK_MAX_RESPONSE_BYTES");
  if (env == nullptr || *env == '\0') return kDefaultMaxResponseBytes;
  std::string_view text(env);
  uint64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  std::string_view suffix = text.substr(static_cast<size_t>(end - text.data()));
  int shift = suffix.empty()                   ? 0
              : suffix == "K" || suffix == "k" ? 10
              : suffix == "M" || suffix == "m" ? 20
              : suffix == "G" || suffix == "g" ? 30
                                               : -1;
  if (ec != std::errc() || value == 0 || shift < 0 || value > (UINT64_MAX >> 30)) {
    return make_error(
        "CARBONCLOCK_MAX_RESPONSE_BYTES='{}' is not a positive number of bytes (e.g. 67108864, "
        "64M, 1G)",
        text);
  }
  return value << shift;
}

std::optional<std::string> HttpResponse::header(std::string_view name) const {
  for (const auto& [k, v] : headers) {
    if (iequals(k, name)) return v;
  }
  return std::nullopt;
}

CurlTransport::CurlTransport(CurlOptions options) : options_(std::move(options)) {}

CurlTransport::~CurlTransport() = default;

Result<HttpResponse> CurlTransport::send(const HttpRequest& request) {
  const std::string where = fmt::format("{} {}", request.method, url_for_messages(request.url));
  std::string load_error;
  const CurlApi* api = curl_api(&load_error);
  if (api == nullptr) return make_error("{}: {}", where, load_error);
  std::unique_ptr<CURL, EasyDeleter> curl(api->easy_init());
  if (!curl) return make_error("{}: cannot initialise libcurl", where);
  CURL* c = curl.get();
  auto limit = max_response_bytes(options_);
  if (!limit) return limit.error().with_context(where);
  HttpResponse response;
  BodySink sink{&response.body, *limit};
  std::unique_ptr<curl_slist, SlistDeleter> header_list;
  for (const auto& [k, v] : request.headers) {
    std::string line = k + ": " + v;
    curl_slist* grown = api->slist_append(header_list.get(), line.c_str());
    if (!grown) return make_error("{}: out of memory building headers", where);
    (void)header_list.release();
    header_list.reset(grown);
  }
  char error_buffer[CURL_ERROR_SIZE] = {0};
  const std::string no_proxy = no_proxy_list();
  api->easy_setopt(c, CURLOPT_URL, request.url.c_str());
  api->easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
  api->easy_setopt(c, CURLOPT_CUSTOMREQUEST, request.method.c_str());
  if (request.method == "HEAD") api->easy_setopt(c, CURLOPT_NOBODY, 1L);
  api->easy_setopt(c, CURLOPT_HTTPHEADER, header_list.get());
  api->easy_setopt(c, CURLOPT_USERAGENT, options_.user_agent.c_str());
  api->easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, to_millis(options_.connect_timeout));
  api->easy_setopt(c, CURLOPT_TIMEOUT_MS, to_millis(options_.total_timeout));
  api->easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  api->easy_setopt(c, CURLOPT_NOPROXY, no_proxy.c_str());
  api->easy_setopt(c, CURLOPT_ACCEPT_ENCODING, "");  // whatever libcurl can decode
  api->easy_setopt(c, CURLOPT_ERRORBUFFER, error_buffer);
  api->easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
  api->easy_setopt(c, CURLOPT_WRITEDATA, &sink);
  // Refused before the transfer when the server announces the size; on_body counts the rest.
  api->easy_setopt(
      c, CURLOPT_MAXFILESIZE_LARGE,
      static_cast<curl_off_t>(std::min<uint64_t>(*limit, std::numeric_limits<curl_off_t>::max())));
  api->easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
  api->easy_setopt(c, CURLOPT_HEADERDATA, &response.headers);
  if (request.basic_auth) {
    api->easy_setopt(c, CURLOPT_HTTPAUTH, CURLAUTH_BASIC);
    api->easy_setopt(c, CURLOPT_USERNAME, request.basic_auth->username.c_str());
    api->easy_setopt(c, CURLOPT_PASSWORD, request.basic_auth->password.c_str());
  }
  if (!request.body.empty()) {
    api->easy_setopt(c, CURLOPT_POSTFIELDS, request.body.data());
    api->easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
  }
  CURLcode rc = api->easy_perform(c);
  if (sink.exceeded || rc == CURLE_FILESIZE_EXCEEDED) {
    return make_error(
        "{}: response larger than {} bytes (the limit; set CARBONCLOCK_MAX_RESPONSE_BYTES to "
        "raise it)",
        where, *limit);
  }
  if (rc == CURLE_OPERATION_TIMEDOUT) {
    return make_error("{}: timed out (connect timeout {}, total timeout {})", where,
                      format_duration(options_.connect_timeout),
                      format_duration(options_.total_timeout));
  }
  if (rc != CURLE_OK) {
    // libcurl's messages name hosts and OS errors, not credentials.
    return make_error("{}: {}{}", where, api->easy_strerror(rc),
                      error_buffer[0] ? fmt::format(" ({})", error_buffer) : std::string());
  }
  long status = 0;
  api->easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
  response.status = static_cast<int>(status);
  return response;
}

std::string url_encode(std::string_view text) {
  std::string out;
  for (unsigned char ch : text) {
    if (std::isalnum(ch) || ch == '-' || ch == '.' || ch == '_' || ch == '~') {
      out += static_cast<char>(ch);
    } else {
      out += fmt::format("%{:02X}", ch);
    }
  }
  return out;
}

std::string build_url(std::string_view base, std::string_view path,
                      const std::vector<std::pair<std::string, std::string>>& query) {
  while (!base.empty() && base.back() == '/') base.remove_suffix(1);
  std::string url(base);
  if (!path.empty() && path.front() != '/') url += '/';
  url += path;
  char sep = '?';
  for (const auto& [k, v] : query) {
    url += sep + url_encode(k) + "=" + url_encode(v);
    sep = '&';
  }
  return url;
}

std::string url_for_messages(std::string_view url) {
  url = url.substr(0, url.find_first_of("?#"));
  size_t scheme = url.find("://");
  if (scheme == std::string_view::npos) return std::string(url);
  size_t host_start = scheme + 3;
  size_t path_start = url.find('/', host_start);
  std::string_view authority =
      url.substr(host_start, path_start == std::string_view::npos ? std::string_view::npos
                                                                  : path_start - host_start);
  size_t at = authority.rfind('@');
  if (at == std::string_view::npos) return std::string(url);
  return std::string(url.substr(0, host_start)) + std::string(authority.substr(at + 1)) +
         std::string(path_start == std::string_view::npos ? "" : url.substr(path_start));
}

}  // namespace carbonclock
