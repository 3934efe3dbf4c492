#include "http/http_transport.h"

#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <thread>

namespace carbonclock {
namespace {

using namespace std::chrono_literals;

// A real HTTP server on 127.0.0.1 and an ephemeral port, for the lifetime of the object.
class LoopbackServer {
 public:
  explicit LoopbackServer(std::function<void(httplib::Server&)> routes) {
    routes(server_);
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    while (!server_.is_running()) std::this_thread::sleep_for(1ms);
  }
  ~LoopbackServer() {
    server_.stop();
    thread_.join();
  }
  std::string url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }

 private:
  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
};

CurlOptions timeouts(Nanos connect, Nanos total) {
  CurlOptions o;
  o.connect_timeout = connect;
  o.total_timeout = total;
  return o;
}

TEST(CurlTransport, SendsHeadersAuthAndBodyAndReadsTheResponse) {
  std::string seen_auth, seen_token, seen_body, seen_method;
  LoopbackServer server([&](httplib::Server& s) {
    s.Post("/echo", [&](const httplib::Request& req, httplib::Response& res) {
      seen_method = req.method;
      seen_auth = req.get_header_value("Authorization");
      seen_token = req.get_header_value("auth-token");
      seen_body = req.body;
      res.status = 201;
      res.set_header("X-Answer", "42");
      res.set_content(R"({"ok":true})", "application/json");
    });
  });
  CurlTransport transport;
  HttpRequest request;
  request.method = "POST";
  request.url = server.url("/echo");
  request.headers = {{"auth-token", "tok"}};
  request.basic_auth = BasicAuth{"user", "pass"};
  request.body = "hello";
  auto response = transport.send(request);
  ASSERT_TRUE(response.ok()) << response.error().message();
  EXPECT_EQ(response->status, 201);
  EXPECT_EQ(response->body, R"({"ok":true})");
  EXPECT_EQ(response->header("x-answer"), "42");
  EXPECT_EQ(response->header("X-Missing"), std::nullopt);
  EXPECT_EQ(seen_method, "POST");
  EXPECT_EQ(seen_auth, "Basic dXNlcjpwYXNz");  // base64("user:pass")
  EXPECT_EQ(seen_token, "tok");
  EXPECT_EQ(seen_body, "hello");
}

TEST(CurlTransport, HttpErrorsAreResponsesNotErrors) {
  LoopbackServer server([](httplib::Server& s) {
    s.Get("/busy", [](const httplib::Request&, httplib::Response& res) {
      res.status = 429;
      res.set_header("Retry-After", "30");
    });
  });
  CurlTransport transport;
  auto response = transport.send(HttpRequest::get(server.url("/busy")));
  ASSERT_TRUE(response.ok());
  EXPECT_EQ(response->status, 429);
  EXPECT_EQ(response->header("retry-after"), "30");
}

TEST(CurlTransport, TimesOutWithAClearMessage) {
  LoopbackServer server([](httplib::Server& s) {
    s.Get("/slow", [](const httplib::Request&, httplib::Response& res) {
      std::this_thread::sleep_for(1s);
      res.set_content("late", "text/plain");
    });
  });
  CurlTransport transport(timeouts(1s, 150ms));
  auto start = std::chrono::steady_clock::now();
  auto response = transport.send(HttpRequest::get(server.url("/slow?secret=no")));
  EXPECT_LT(std::chrono::steady_clock::now() - start, 900ms);
  ASSERT_FALSE(response.ok());
  const std::string& m = response.error().message();
  EXPECT_NE(m.find("timed out"), std::string::npos) << m;
  EXPECT_NE(m.find("/slow"), std::string::npos) << m;
  EXPECT_EQ(m.find("secret"), std::string::npos) << m;  // the query is left out
}

TEST(CurlTransport, BodyLargerThanTheLimitIsRefused) {
  // 1.46 GB from a hostile provider drove memory to 11.6 GB (body, then the parsed document).
  const std::string big(3 << 20, 'x');
  LoopbackServer server([&](httplib::Server& s) {
    s.Get("/sized", [&](const httplib::Request&, httplib::Response& res) {
      res.set_content(big, "application/json");  // with Content-Length
    });
  });
  CurlOptions options = timeouts(2s, 20s);
  options.max_body_bytes = 1 << 20;
  CurlTransport transport(options);
  auto response = transport.send(HttpRequest::get(server.url("/sized?k=secret")));
  ASSERT_FALSE(response.ok());
  const std::string& m = response.error().message();
  EXPECT_NE(m.find("GET http://127.0.0.1"), std::string::npos) << m;
  EXPECT_NE(m.find("response larger than 1048576 bytes"), std::string::npos) << m;
  EXPECT_NE(m.find("CARBONCLOCK_MAX_RESPONSE_BYTES"), std::string::npos) << m;
  EXPECT_EQ(m.find("secret"), std::string::npos) << m;
  options.max_body_bytes = 4 << 20;  // raised: accepted
  auto accepted = CurlTransport(options).send(HttpRequest::get(server.url("/sized")));
  ASSERT_TRUE(accepted.ok()) << accepted.error().message();
  EXPECT_EQ(accepted->body.size(), big.size());
}

TEST(CurlTransport, EndlessBodyWithoutALengthIsCutAtTheLimit) {
  std::atomic<bool> stop{false};
  LoopbackServer server([&](httplib::Server& s) {
    s.Get("/endless", [&](const httplib::Request&, httplib::Response& res) {
      res.set_chunked_content_provider("application/json", [&](size_t, httplib::DataSink& sink) {
        static const std::string chunk(64 << 10, '[');
        return !stop && sink.write(chunk.data(), chunk.size());
      });
    });
  });
  CurlOptions options = timeouts(2s, 60s);
  options.max_body_bytes = 1 << 20;
  auto response = CurlTransport(options).send(HttpRequest::get(server.url("/endless")));
  stop = true;
  ASSERT_FALSE(response.ok());
  // Not "timed out" after 60 s: the transfer stops at the limit.
  EXPECT_NE(response.error().message().find("response larger than 1048576 bytes"),
            std::string::npos)
      << response.error().message();
}

TEST(CurlTransport, TheTotalTimeoutCoversASlowDripNotEachRead) {
  // One byte every 20 ms keeps every read short; the total limit still ends the exchange.
  std::atomic<bool> stop{false};
  LoopbackServer server([&](httplib::Server& s) {
    s.Get("/drip", [&](const httplib::Request&, httplib::Response& res) {
      res.set_chunked_content_provider("text/plain", [&](size_t, httplib::DataSink& sink) {
        std::this_thread::sleep_for(20ms);
        return !stop && sink.write("x", 1);
      });
    });
  });
  auto response = CurlTransport(timeouts(1s, 300ms)).send(HttpRequest::get(server.url("/drip")));
  stop = true;
  ASSERT_FALSE(response.ok());
  EXPECT_NE(response.error().message().find("timed out"), std::string::npos)
      << response.error().message();
  EXPECT_NE(response.error().message().find("total timeout 300ms"), std::string::npos)
      << response.error().message();
}

TEST(MaxResponseBytes, DefaultEnvironmentAndExplicitValue) {
  ::unsetenv("CARBONCLOCK_MAX_RESPONSE_BYTES");
  EXPECT_EQ(max_response_bytes(CurlOptions{}).value(), kDefaultMaxResponseBytes);
  ::setenv("CARBONCLOCK_MAX_RESPONSE_BYTES", "256M", 1);
  EXPECT_EQ(max_response_bytes(CurlOptions{}).value(), uint64_t{256} << 20);
  ::setenv("CARBONCLOCK_MAX_RESPONSE_BYTES", "1048576", 1);
  EXPECT_EQ(max_response_bytes(CurlOptions{}).value(), uint64_t{1} << 20);
  CurlOptions explicit_limit;
  explicit_limit.max_body_bytes = 7;
  EXPECT_EQ(max_response_bytes(explicit_limit).value(), 7u);
  for (const char* bad : {"lots", "0", "-5", "12Q", "99999999999G"}) {
    ::setenv("CARBONCLOCK_MAX_RESPONSE_BYTES", bad, 1);
    auto r = max_response_bytes(CurlOptions{});
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_NE(r.error().message().find("CARBONCLOCK_MAX_RESPONSE_BYTES"), std::string::npos);
  }
  ::unsetenv("CARBONCLOCK_MAX_RESPONSE_BYTES");
}

TEST(CurlTransport, ConnectionRefusedIsAnError) {
  // Bind an ephemeral port and close it again: nothing listens there now.
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  socklen_t len = sizeof addr;
  ASSERT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  int port = ntohs(addr.sin_port);
  ::close(fd);
  CurlTransport transport(timeouts(1s, 2s));
  auto response =
      transport.send(HttpRequest::get("http://127.0.0.1:" + std::to_string(port) + "/x"));
  ASSERT_FALSE(response.ok());
  const std::string& m = response.error().message();
  EXPECT_NE(m.find("GET http://127.0.0.1"), std::string::npos) << m;
  EXPECT_EQ(m.find("timed out"), std::string::npos) << m;
}

TEST(Urls, EncodeAndBuild) {
  EXPECT_EQ(url_encode("2024-03-01T00:00:00Z"), "2024-03-01T00%3A00%3A00Z");
  EXPECT_EQ(url_encode("a b&c=d~"), "a%20b%26c%3Dd~");
  EXPECT_EQ(build_url("https://api.watttime.org/", "/v3/forecast",
                      {{"region", "CAISO_NORTH"}, {"signal_type", "co2_moer"}}),
            "https://api.watttime.org/v3/forecast?region=CAISO_NORTH&signal_type=co2_moer");
  EXPECT_EQ(build_url("http://h:1", "login"), "http://h:1/login");
  EXPECT_EQ(url_for_messages("https://user:pw@host:8/p/q?x=1#f"), "https://host:8/p/q");
  EXPECT_EQ(url_for_messages("http://127.0.0.1:80"), "http://127.0.0.1:80");
}

}  // namespace
}  // namespace carbonclock
