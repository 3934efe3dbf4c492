#include "exporter/http_server.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <thread>
#include <utility>

namespace carbonclock {
namespace {

using namespace std::chrono_literals;

// A connected client socket to 127.0.0.1:port (-1 on failure).
int connect_to(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    ::close(fd);
    return -1;
  }
  timeval timeout{30, 0};  // a broken server fails the test instead of hanging it
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  return fd;
}

void send_all(int fd, const std::string& text) {
  ASSERT_EQ(::send(fd, text.data(), text.size(), MSG_NOSIGNAL), static_cast<ssize_t>(text.size()));
}

// Reads one response (headers and a Content-Length body); bytes of the next one stay in
// `in` for the next call.
std::string read_response(int fd, std::string& in) {
  char buf[4096];
  while (true) {
    const size_t end = in.find("\r\n\r\n");
    if (end != std::string::npos) {
      const size_t cl = in.find("Content-Length: ");
      const size_t length =
          cl == std::string::npos || cl > end ? 0 : std::stoul(in.substr(cl + 16));
      if (in.size() >= end + 4 + length) {
        std::string response = in.substr(0, end + 4 + length);
        in.erase(0, end + 4 + length);
        return response;
      }
    }
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) return std::exchange(in, std::string());
    in.append(buf, static_cast<size_t>(n));
  }
}

std::string read_response(int fd) {
  std::string in;
  return read_response(fd, in);
}

class HttpServerTest : public ::testing::Test {
 protected:
  void start(HttpServerOptions options = {}) {
    options.listen = "127.0.0.1:0";
    auto server = HttpServer::listen(options, [this](const HttpServerRequest& r) {
      ++handled_;
      if (r.path == "/metrics") return HttpServerResponse{200, "text/plain", "metric 1\n"};
      return HttpServerResponse{404, "text/plain", "no\n"};
    });
    ASSERT_TRUE(server) << server.error().message();
    server_ = std::move(*server);
    thread_ = std::thread([this] { server_->serve(); });
  }
  void TearDown() override {
    if (server_) server_->stop();
    if (thread_.joinable()) thread_.join();
  }
  std::string get(const std::string& request) {
    const int fd = connect_to(server_->port());
    EXPECT_GE(fd, 0);
    send_all(fd, request);
    std::string response = read_response(fd);
    ::close(fd);
    return response;
  }

  std::unique_ptr<HttpServer> server_;
  std::thread thread_;
  std::atomic<int> handled_{0};
};

TEST_F(HttpServerTest, AnswersGetAndHeadAndRefusesTheRest) {
  start();
  std::string ok = get("GET /metrics?x=1 HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_TRUE(ok.starts_with("HTTP/1.1 200 OK\r\n")) << ok;
  EXPECT_NE(ok.find("Content-Length: 9\r\n"), std::string::npos) << ok;
  EXPECT_TRUE(ok.ends_with("\r\n\r\nmetric 1\n")) << ok;
  std::string head = get("HEAD /metrics HTTP/1.1\r\nConnection: close\r\n\r\n");
  EXPECT_TRUE(head.starts_with("HTTP/1.1 200 OK\r\n")) << head;
  EXPECT_TRUE(head.ends_with("\r\n\r\n")) << head;  // no body
  EXPECT_TRUE(get("GET /nope HTTP/1.1\r\n\r\n").starts_with("HTTP/1.1 404 "));
  EXPECT_TRUE(get("POST /metrics HTTP/1.1\r\n\r\n").starts_with("HTTP/1.1 405 "));
  EXPECT_TRUE(
      get("GET /metrics HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc").starts_with("HTTP/1.1 400 "));
  EXPECT_TRUE(get("nonsense\r\n\r\n").starts_with("HTTP/1.1 400 "));
  EXPECT_TRUE(get("GET /metrics HTTP/1.1\r\nX: " + std::string(9000, 'a') + "\r\n\r\n")
                  .starts_with("HTTP/1.1 431 "));
  EXPECT_EQ(server_->stats().refused, 4u);
}

TEST_F(HttpServerTest, KeepsAConnectionAliveForTheNextScrape) {
  start();
  const int fd = connect_to(server_->port());
  ASSERT_GE(fd, 0);
  std::string in;
  for (int i = 0; i < 3; ++i) {
    send_all(fd, "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
    const std::string r = read_response(fd, in);
    EXPECT_NE(r.find("Connection: keep-alive"), std::string::npos) << r;
    EXPECT_TRUE(r.ends_with("metric 1\n")) << r;
  }
  // Two pipelined requests are answered in order.
  send_all(fd, "GET /metrics HTTP/1.1\r\n\r\nGET /x HTTP/1.1\r\n\r\n");
  EXPECT_TRUE(read_response(fd, in).starts_with("HTTP/1.1 200"));
  EXPECT_TRUE(read_response(fd, in).starts_with("HTTP/1.1 404"));
  ::close(fd);
  EXPECT_EQ(server_->stats().accepted, 1u);
  EXPECT_EQ(handled_, 5);
}

TEST_F(HttpServerTest, SilentConnectionsPastTheLimitMakeRoomForAScraper) {
  HttpServerOptions options;
  options.max_connections = 16;
  start(options);
  std::vector<int> silent;
  for (int i = 0; i < 200; ++i) {
    const int fd = connect_to(server_->port());
    ASSERT_GE(fd, 0);
    silent.push_back(fd);
  }
  // Each scrape is answered though 200 connections sent nothing; at most 16 stay open.
  for (int i = 0; i < 3; ++i) {
    EXPECT_TRUE(get("GET /metrics HTTP/1.1\r\n\r\n").starts_with("HTTP/1.1 200 OK")) << i;
  }
  EXPECT_LE(server_->stats().open, 16u);
  EXPECT_GE(server_->stats().evicted, 200u - 16u);
  for (int fd : silent) ::close(fd);
}

TEST_F(HttpServerTest, IdleConnectionsAreClosed) {
  HttpServerOptions options;
  options.idle_timeout = 100ms;
  start(options);
  const int fd = connect_to(server_->port());
  ASSERT_GE(fd, 0);
  char c;
  EXPECT_EQ(::recv(fd, &c, 1, 0), 0);  // the server closes it (the sweep runs each second)
  ::close(fd);
  EXPECT_EQ(server_->stats().timed_out, 1u);
}

TEST(HttpServer, AnAddressInUseIsAnUnavailableErrorNamingIt) {
  auto first = HttpServer::listen({.listen = "127.0.0.1:0"}, nullptr);
  ASSERT_TRUE(first) << first.error().message();
  const std::string address = "127.0.0.1:" + std::to_string((*first)->port());
  auto second = HttpServer::listen({.listen = address}, nullptr);
  ASSERT_FALSE(second);
  EXPECT_EQ(second.error().code(), ErrorCode::kUnavailable);
  EXPECT_NE(second.error().message().find("cannot listen on " + address), std::string::npos)
      << second.error().message();
  EXPECT_NE(second.error().message().find("in use"), std::string::npos) << second.error().message();
}

TEST(HttpServer, MalformedAddressesAreInvalidInput) {
  for (const char* bad : {"9464", "127.0.0.1:", "127.0.0.1:http", "127.0.0.1:70000"}) {
    auto s = HttpServer::listen({.listen = bad}, nullptr);
    ASSERT_FALSE(s) << bad;
    EXPECT_EQ(s.error().code(), ErrorCode::kInvalidInput) << bad;
  }
}

}  // namespace
}  // namespace carbonclock
