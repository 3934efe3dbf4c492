// The exporter's HTTP side: one thread, one epoll loop, non-blocking sockets, a bounded
// number of connections and of buffered bytes.
//
// Hand-written rather than prometheus-cpp's Exposer (civetweb) for a measured reason: civetweb
// gives each connection a worker thread until its request arrives, so a client that opens many
// connections and sends nothing starves every scraper. With prometheus-cpp 1.0.1 and civetweb
// 1.15 (Debian 12), 1,000 silent connections delayed a scrape by 28 s with 8 threads and a 1 s
// request timeout, and by over 200 s at the defaults (bench/exporter_http_bench.cc measures both
// servers side by side). Here a silent connection costs one file descriptor and a few hundred
// bytes, idle connections time out, and at the connection limit the least recently active one
// is closed to make room, so a scraper is always served. The exposition format itself comes
// from prometheus-cpp (exporter/metrics.h).
#pragma once

#include <signal.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "common/error.h"
#include "common/time.h"

namespace carbonclock {

struct HttpServerRequest {
  std::string method;  ///< "GET" or "HEAD" (others are refused before the handler)
  std::string path;    ///< without the query string
};

struct HttpServerResponse {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
};

struct HttpServerOptions {
  /// "HOST:PORT": "127.0.0.1:9464", "[::1]:9464", "0.0.0.0:9464", ":9464" (every interface),
  /// "localhost:9464". Port 0 picks a free port (tests).
  std::string listen = "127.0.0.1:9464";
  size_t max_connections = 256;
  size_t max_request_bytes = 8192;
  /// Response bytes waiting for slow readers, all connections together; past it the longest
  /// stalled reader is closed.
  size_t max_pending_output_bytes = 8u << 20;
  /// A connection with nothing to do for this long is closed (longer than any scrape interval
  /// that keeps a connection alive).
  Nanos idle_timeout = std::chrono::seconds(75);
};

struct HttpStats {
  uint64_t accepted = 0;
  uint64_t requests = 0;
  uint64_t evicted = 0;    ///< closed to make room at max_connections or max_pending_output
  uint64_t timed_out = 0;  ///< closed after idle_timeout
  uint64_t refused = 0;    ///< bad or oversized requests, methods other than GET and HEAD
  uint64_t open = 0;       ///< connections open now
};

class HttpServer {
 public:
  using Handler = std::function<HttpServerResponse(const HttpServerRequest&)>;

  /// Binds and listens. Errors: a malformed address (invalid input); an address in use, not
  /// available here or not allowed (unavailable), naming the address and the cause.
  static Result<std::unique_ptr<HttpServer>> listen(const HttpServerOptions& options,
                                                    Handler handler);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  /// The bound port (the one picked for port 0).
  int port() const { return port_; }
  /// "HOST:PORT" as bound.
  const std::string& address() const { return address_; }

  /// Serves on the calling thread until stop() or, when `stop_signals` is given (the caller
  /// has blocked them in every thread), until one of them arrives. Returns that signal's
  /// number, or 0 after stop().
  int serve(const sigset_t* stop_signals = nullptr);
  /// Makes serve() return; safe from any thread and from a signal handler.
  void stop();

  HttpStats stats() const;

 private:
  struct Impl;
  HttpServer(std::unique_ptr<Impl> impl, int port, std::string address);
  std::unique_ptr<Impl> impl_;
  int port_;
  std::string address_;
};

}  // namespace carbonclock
