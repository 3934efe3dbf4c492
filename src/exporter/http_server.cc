#include "exporter/http_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <unordered_map>
#include <vector>

#include "common/files.h"
#include "common/strings.h"

namespace carbonclock {
namespace {

using Clock = std::chrono::steady_clock;

// One connection: bytes read and not yet used, the response being written.
struct Conn {
  int fd = -1;
  std::string in;
  std::string out;
  size_t out_off = 0;
  Clock::time_point last_active;
  bool close_after_write = false;
  bool writing = false;  // EPOLLOUT armed
  bool eof = false;      // the peer shut down its side: answer what was asked, then close
  size_t pending() const { return out.size() - out_off; }
};

const char* reason(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 400:
      return "Bad Request";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 431:
      return "Request Header Fields Too Large";
    case 503:
      return "Service Unavailable";
    default:
      return "Error";
  }
}

struct ParsedAddress {
  std::string host;  // empty: every interface
  std::string port;
};

Result<ParsedAddress> parse_listen(const std::string& text) {
  const size_t colon = text.rfind(':');
  if (colon == std::string::npos || colon + 1 == text.size()) {
    return make_error("--listen '{}': expected HOST:PORT (e.g. 127.0.0.1:9464)", text);
  }
  ParsedAddress a{text.substr(0, colon), text.substr(colon + 1)};
  if (!std::all_of(a.port.begin(), a.port.end(), [](char c) { return c >= '0' && c <= '9'; }) ||
      a.port.size() > 5 || std::stoi(a.port) > 65535) {
    return make_error("--listen '{}': '{}' is not a port number (0..65535)", text, a.port);
  }
  if (a.host.size() >= 2 && a.host.front() == '[' && a.host.back() == ']') {
    a.host = a.host.substr(1, a.host.size() - 2);
  }
  return a;
}

std::string describe(const sockaddr* addr) {
  char host[INET6_ADDRSTRLEN] = {};
  int port = 0;
  if (addr->sa_family == AF_INET6) {
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(addr);
    ::inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof host);
    port = ntohs(in6->sin6_port);
    return fmt::format("[{}]:{}", host, port);
  }
  const auto* in4 = reinterpret_cast<const sockaddr_in*>(addr);
  ::inet_ntop(AF_INET, &in4->sin_addr, host, sizeof host);
  port = ntohs(in4->sin_port);
  return fmt::format("{}:{}", host, port);
}

}  // namespace

struct HttpServer::Impl {
  HttpServerOptions options;
  Handler handler;
  int listen_fd = -1;
  int epoll_fd = -1;
  int wake_fd = -1;
  std::unordered_map<int, Conn> conns;
  size_t pending_out = 0;
  std::atomic<uint64_t> accepted{0}, requests{0}, evicted{0}, timed_out{0}, refused{0}, open{0};

  ~Impl() {
    for (auto& [fd, c] : conns) ::close(fd);
    for (int fd : {listen_fd, epoll_fd, wake_fd}) {
      if (fd >= 0) ::close(fd);
    }
  }

  void close_conn(int fd) {
    auto it = conns.find(fd);
    if (it == conns.end()) return;
    pending_out -= it->second.pending();
    ::epoll_ctl(epoll_fd, EPOLL_CTL_DEL, fd, nullptr);
    ::close(fd);
    conns.erase(it);
    open = conns.size();
  }

  // Closes the least recently active connection other than `except` (only among those with
  // output waiting when `only_writers`); false when there is none.
  bool evict_oldest(bool only_writers, int except = -1) {
    int victim = -1;
    Clock::time_point oldest = Clock::time_point::max();
    for (const auto& [fd, c] : conns) {
      if (fd == except || (only_writers && c.pending() == 0)) continue;
      if (c.last_active < oldest) {
        oldest = c.last_active;
        victim = fd;
      }
    }
    if (victim < 0) return false;
    ++evicted;  // counted before the client can see the close
    close_conn(victim);
    return true;
  }

  void accept_all() {
    while (true) {
      const int fd = ::accept4(listen_fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) {
        // EMFILE/ENFILE: out of descriptors; make room and try again at the next event.
        if (errno == EMFILE || errno == ENFILE) evict_oldest(false);
        return;
      }
      if (conns.size() >= options.max_connections) evict_oldest(false, fd);
      const int one = 1;
      ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      epoll_event ev{};
      ev.events = EPOLLIN | EPOLLRDHUP;
      ev.data.fd = fd;
      if (::epoll_ctl(epoll_fd, EPOLL_CTL_ADD, fd, &ev) != 0) {
        ::close(fd);
        continue;
      }
      Conn& c = conns[fd];
      c.fd = fd;
      c.last_active = Clock::now();
      ++accepted;
      open = conns.size();
    }
  }

  // Watches for input unless the peer has shut down its side, and for room to write while
  // output waits (level-triggered: nothing is watched that cannot be acted on).
  void set_writing(Conn& c, bool writing) {
    if (c.writing == writing && !c.eof) return;
    c.writing = writing;
    epoll_event ev{};
    ev.events = (c.eof ? 0u : EPOLLIN | EPOLLRDHUP) | (writing ? EPOLLOUT : 0u);
    ev.data.fd = c.fd;
    ::epoll_ctl(epoll_fd, EPOLL_CTL_MOD, c.fd, &ev);
  }

  // Writes what it can; false when the connection was closed.
  bool flush(Conn& c) {
    while (c.pending() > 0) {
      const ssize_t n =
          ::send(c.fd, c.out.data() + c.out_off, c.pending(), MSG_NOSIGNAL | MSG_DONTWAIT);
      if (n > 0) {
        c.out_off += static_cast<size_t>(n);
        pending_out -= static_cast<size_t>(n);
        c.last_active = Clock::now();
        continue;
      }
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        set_writing(c, true);
        return true;
      }
      close_conn(c.fd);
      return false;
    }
    c.out.clear();
    c.out_off = 0;
    set_writing(c, false);
    if (c.close_after_write) {
      close_conn(c.fd);
      return false;
    }
    return true;
  }

  void queue(Conn& c, const HttpServerResponse& r, bool head, bool keep_alive) {
    c.out = fmt::format(
        "HTTP/1.1 {} {}\r\nContent-Type: {}\r\nContent-Length: {}\r\nConnection: {}\r\n\r\n",
        r.status, reason(r.status), r.content_type, r.body.size(),
        keep_alive ? "keep-alive" : "close");
    if (!head) c.out += r.body;
    c.out_off = 0;
    c.close_after_write = !keep_alive || c.eof;
    pending_out += c.out.size();
  }

  // Answers every complete request in `c.in` while nothing is waiting to be written; false
  // when the connection was closed.
  bool process(Conn& c) {
    while (c.pending() == 0) {
      const size_t end = c.in.find("\r\n\r\n");
      if (end == std::string::npos || end + 4 > options.max_request_bytes) {
        if (c.in.size() > options.max_request_bytes) {
          ++refused;
          queue(c, {431, "text/plain; charset=utf-8", "request header too large\n"}, false, false);
          return flush(c);
        }
        return true;
      }
      const std::string_view head(c.in.data(), end);
      const std::string_view line = head.substr(0, head.find("\r\n"));
      const size_t sp1 = line.find(' ');
      const size_t sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
      HttpServerRequest request;
      std::string_view version;
      if (sp2 != std::string_view::npos) {
        request.method = std::string(line.substr(0, sp1));
        std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
        request.path = std::string(target.substr(0, target.find('?')));
        version = line.substr(sp2 + 1);
      }
      // Headers that matter: Connection, and a body we do not read.
      bool close = version != "HTTP/1.1";
      bool has_body = false;
      size_t at = line.size() + 2;
      while (at < head.size()) {
        const size_t eol = std::min(head.find("\r\n", at), head.size());
        const std::string_view h = head.substr(at, eol - at);
        const size_t colon = h.find(':');
        if (colon != std::string_view::npos) {
          const std::string_view name = trim(h.substr(0, colon));
          const std::string_view value = trim(h.substr(colon + 1));
          if (iequals(name, "connection")) {
            if (iequals(value, "close")) close = true;
            if (iequals(value, "keep-alive")) close = false;
          }
          if ((iequals(name, "content-length") && value != "0") ||
              iequals(name, "transfer-encoding")) {
            has_body = true;
          }
        }
        at = eol + 2;
      }
      const bool bad = request.method.empty() || !version.starts_with("HTTP/1.") || has_body;
      c.in.erase(0, end + 4);  // `head`, `line` and `version` end here
      ++requests;
      if (bad) {
        ++refused;
        queue(c, {400, "text/plain; charset=utf-8", "bad request\n"}, false, false);
      } else if (request.method != "GET" && request.method != "HEAD") {
        ++refused;
        queue(c, {405, "text/plain; charset=utf-8", "only GET and HEAD\n"},
              request.method == "HEAD", false);
      } else {
        queue(c, handler(request), request.method == "HEAD", !close);
      }
      const int fd = c.fd;
      if (!flush(c)) return false;
      // Slow readers hold too much: close the longest stalled others.
      while (pending_out > options.max_pending_output_bytes && evict_oldest(true, fd)) {
      }
    }
    return true;
  }

  void on_readable(Conn& c) {
    char buf[4096];
    while (true) {
      const ssize_t n = ::recv(c.fd, buf, sizeof buf, MSG_DONTWAIT);
      if (n > 0) {
        c.last_active = Clock::now();
        // Keep at most one oversized header's worth; process() refuses it.
        if (c.in.size() <= options.max_request_bytes) c.in.append(buf, static_cast<size_t>(n));
        continue;
      }
      if (n == 0) {  // the peer shut down its side: answer what it asked, then close
        c.eof = true;
        break;
      }
      if (errno == EAGAIN || errno == EWOULDBLOCK) break;
      close_conn(c.fd);
      return;
    }
    if (!process(c)) return;
    if (c.eof && c.pending() == 0) {
      close_conn(c.fd);
    } else if (c.eof) {
      set_writing(c, true);
    }
  }

  // How long the loop may sleep: until the least recently active connection would reach
  // idle_timeout; forever without connections (an idle exporter wakes only for requests and
  // signals, not on a timer).
  int idle_wait_ms() const {
    if (conns.empty()) return -1;
    auto oldest = Clock::time_point::max();
    for (const auto& [fd, c] : conns) oldest = std::min(oldest, c.last_active);
    const auto wait = oldest + options.idle_timeout - Clock::now();
    if (wait <= Clock::duration::zero()) return 0;
    return static_cast<int>(std::chrono::ceil<std::chrono::milliseconds>(wait).count());
  }

  void sweep_idle() {
    const auto now = Clock::now();
    std::vector<int> idle;
    for (const auto& [fd, c] : conns) {
      if (now - c.last_active >= options.idle_timeout) idle.push_back(fd);
    }
    for (int fd : idle) {
      ++timed_out;  // before the close, which a client may see (and then read the stats) at once
      close_conn(fd);
    }
  }
};

HttpServer::HttpServer(std::unique_ptr<Impl> impl, int port, std::string address)
    : impl_(std::move(impl)), port_(port), address_(std::move(address)) {}

HttpServer::~HttpServer() = default;

Result<std::unique_ptr<HttpServer>> HttpServer::listen(const HttpServerOptions& options,
                                                       Handler handler) {
  auto parsed = parse_listen(options.listen);
  if (!parsed) return parsed.error();
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* found = nullptr;
  const int gai = ::getaddrinfo(parsed->host.empty() ? nullptr : parsed->host.c_str(),
                                parsed->port.c_str(), &hints, &found);
  if (gai != 0) {
    return make_error("--listen '{}': cannot resolve '{}': {}", options.listen, parsed->host,
                      ::gai_strerror(gai));
  }
  std::unique_ptr<addrinfo, decltype(&::freeaddrinfo)> results(found, ::freeaddrinfo);
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  impl->handler = std::move(handler);
  int err = 0;
  for (addrinfo* ai = found; ai != nullptr; ai = ai->ai_next) {
    const int fd = ::socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
      err = errno;
      continue;
    }
    const int one = 1;
    // Lets a restarted exporter bind while old connections linger in TIME_WAIT; a port that
    // another process listens on is still refused (no SO_REUSEPORT).
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (::bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && ::listen(fd, SOMAXCONN) == 0) {
      impl->listen_fd = fd;
      break;
    }
    err = errno;
    ::close(fd);
  }
  if (impl->listen_fd < 0) {
    return make_error(ErrorCode::kUnavailable, "cannot listen on {}: {}{}", options.listen,
                      errno_text(err),
                      err == EADDRINUSE ? " (is another exporter running? choose another port "
                                          "with --listen)"
                                        : "");
  }
  sockaddr_storage bound{};
  socklen_t len = sizeof bound;
  ::getsockname(impl->listen_fd, reinterpret_cast<sockaddr*>(&bound), &len);
  const std::string address = describe(reinterpret_cast<sockaddr*>(&bound));
  const int port = bound.ss_family == AF_INET6
                       ? ntohs(reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port)
                       : ntohs(reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
  impl->epoll_fd = ::epoll_create1(EPOLL_CLOEXEC);
  impl->wake_fd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (impl->epoll_fd < 0 || impl->wake_fd < 0) {
    return make_error(ErrorCode::kUnavailable, "cannot create the event loop: {}",
                      errno_text(errno));
  }
  for (int fd : {impl->listen_fd, impl->wake_fd}) {
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = fd;
    ::epoll_ctl(impl->epoll_fd, EPOLL_CTL_ADD, fd, &ev);
  }
  return std::unique_ptr<HttpServer>(new HttpServer(std::move(impl), port, address));
}

int HttpServer::serve(const sigset_t* stop_signals) {
  Impl& s = *impl_;
  int signal_fd = -1;
  if (stop_signals != nullptr) {
    signal_fd = ::signalfd(-1, stop_signals, SFD_NONBLOCK | SFD_CLOEXEC);
    if (signal_fd >= 0) {
      epoll_event ev{};
      ev.events = EPOLLIN;
      ev.data.fd = signal_fd;
      ::epoll_ctl(s.epoll_fd, EPOLL_CTL_ADD, signal_fd, &ev);
    }
  }
  int stopped_by = -1;
  epoll_event events[64];
  while (stopped_by < 0) {
    const int wait_ms = s.idle_wait_ms();
    const auto sweep_at = Clock::now() + std::chrono::milliseconds(std::max(wait_ms, 0));
    const int n = ::epoll_wait(s.epoll_fd, events, 64, wait_ms);
    for (int i = 0; i < n && stopped_by < 0; ++i) {
      const int fd = events[i].data.fd;
      if (fd == s.listen_fd) {
        s.accept_all();
      } else if (fd == s.wake_fd) {
        uint64_t v = 0;
        if (::read(s.wake_fd, &v, sizeof v) < 0) v = 0;
        stopped_by = 0;
      } else if (fd == signal_fd) {
        signalfd_siginfo info{};
        if (::read(signal_fd, &info, sizeof info) == static_cast<ssize_t>(sizeof info)) {
          stopped_by = static_cast<int>(info.ssi_signo);
        }
      } else {
        auto it = s.conns.find(fd);
        if (it == s.conns.end()) continue;  // closed earlier in this batch
        Conn& c = it->second;
        if (events[i].events & EPOLLOUT) {
          if (!s.flush(c) || !s.process(c)) continue;
        }
        if (events[i].events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) s.on_readable(c);
      }
    }
    if (wait_ms >= 0 && Clock::now() >= sweep_at) s.sweep_idle();
  }
  if (signal_fd >= 0) {
    ::epoll_ctl(s.epoll_fd, EPOLL_CTL_DEL, signal_fd, nullptr);
    ::close(signal_fd);
  }
  return stopped_by;
}

void HttpServer::stop() {
  const uint64_t one = 1;
  // write(2) is async-signal-safe; a full counter already wakes the loop.
  if (::write(impl_->wake_fd, &one, sizeof one) < 0) return;
}

HttpStats HttpServer::stats() const {
  HttpStats s;
  s.accepted = impl_->accepted;
  s.requests = impl_->requests;
  s.evicted = impl_->evicted;
  s.timed_out = impl_->timed_out;
  s.refused = impl_->refused;
  s.open = impl_->open;
  return s;
}

}  // namespace carbonclock
