#include "execution/job_control.h"

#include <fmt/format.h>
#include <signal.h>

#include <algorithm>
#include <cctype>
#include <cstring>

namespace carbonclock {
namespace {

std::string join(const std::vector<std::string>& argv) {
  std::string out;
  for (const auto& a : argv) {
    if (!out.empty()) out += ' ';
    out += a;
  }
  return out;
}

/// Sleeps up to `timeout` unless a termination signal arrives (returned, else 0).
int sleep_for_signal(Nanos timeout) {
  sigset_t set;
  sigemptyset(&set);
  for (int s : {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGCHLD}) sigaddset(&set, s);
  auto until = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    auto left = until - std::chrono::steady_clock::now();
    if (left <= Nanos(0)) return 0;
    auto nap = std::min<Nanos>(left, std::chrono::milliseconds(500));
    timespec ts{static_cast<time_t>(nap.count() / 1'000'000'000),
                static_cast<long>(nap.count() % 1'000'000'000)};
    int sig = ::sigtimedwait(&set, nullptr, &ts);
    if (sig > 0 && sig != SIGCHLD) return sig;
  }
}

}  // namespace

Result<int> parse_signal_name(std::string_view text) {
  std::string upper;
  for (char c : text)
    upper.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
  if (upper.rfind("SIG", 0) == 0) upper = upper.substr(3);
  if (!upper.empty() && std::all_of(upper.begin(), upper.end(), ::isdigit)) {
    int n = std::stoi(upper);
    if (n > 0 && n < NSIG) return n;
  }
  static constexpr std::pair<const char*, int> kNames[] = {
      {"HUP", SIGHUP},   {"INT", SIGINT},     {"QUIT", SIGQUIT},
      {"TERM", SIGTERM}, {"USR1", SIGUSR1},   {"USR2", SIGUSR2},
      {"ALRM", SIGALRM}, {"WINCH", SIGWINCH}, {"PWR", SIGPWR}};
  for (auto [name, n] : kNames) {
    if (upper == name) return n;
  }
  return make_error("unknown signal '{}' (use a name like USR1, TERM, INT or a number)", text);
}

ProcessJobControl::ProcessJobControl(Supervisor& supervisor, Watchdog* watchdog, Clock& clock,
                                     PauseMethod method)
    : supervisor_(supervisor), watchdog_(watchdog), clock_(clock), method_(std::move(method)) {}

void ProcessJobControl::job_started() {
  watched_ = supervisor_.pid();
  if (watchdog_ != nullptr) (void)watchdog_->watch(watched_);
}

void ProcessJobControl::job_ended() {
  if (watchdog_ != nullptr && watched_ > 0) (void)watchdog_->unwatch(watched_);
  watched_ = -1;
}

WaitResult ProcessJobControl::wait_until(SysTime until) {
  for (;;) {
    Nanos left = until - clock_.system_now();
    if (left <= Nanos(0)) return {};
    if (!supervisor_.running()) {
      int sig = sleep_for_signal(left);
      WaitResult r;
      r.forwarded_signal = sig;
      if (sig != 0 || clock_.system_now() >= until) return r;
      continue;
    }
    WaitResult r = supervisor_.wait_for(std::min<Nanos>(left, std::chrono::seconds(1)));
    if (r.exit) job_ended();
    if (r.exit || r.forwarded_signal != 0) {
      if (r.forwarded_signal != 0) stopped_ = false;  // the supervisor continued the group
      return r;
    }
  }
}

Result<PauseOutcome> ProcessJobControl::pause() {
  PauseOutcome out;
  if (method_.pause_signal == 0) {
    if (Status s = supervisor_.signal_group(SIGSTOP); !s) return s.error();
    stopped_ = true;
    out.kind = PauseKind::kStopped;
    return out;
  }
  if (Status s = supervisor_.signal_group(method_.pause_signal); !s) return s.error();
  MonoTime until = clock_.monotonic_now() + method_.grace;
  while (clock_.monotonic_now() < until) {
    WaitResult r = supervisor_.wait_for(until - clock_.monotonic_now());
    if (r.exit) {
      job_ended();
      if (r.exit->exit_code == 0) {
        checkpointed_ = true;
        if (watchdog_ != nullptr) (void)watchdog_->checkpointed();
        out.kind = PauseKind::kCheckpointed;
        out.note =
            fmt::format("the job checkpointed and exited on {}", strsignal(method_.pause_signal));
      } else {
        out.kind = PauseKind::kJobEnded;
        out.exit = r.exit;
        out.note = fmt::format("the job ended with exit code {} when sent {}; not resumed",
                               r.exit->exit_code, strsignal(method_.pause_signal));
      }
      return out;
    }
    if (r.forwarded_signal != 0) break;  // the user wants it to stop: do not pause further
  }
  // It ignored the signal: never lose the job; stop it instead, as without --pause-signal.
  if (Status s = supervisor_.signal_group(SIGSTOP); !s) return s.error();
  stopped_ = true;
  out.kind = PauseKind::kStopFallback;
  out.note =
      fmt::format("the job did not exit within {} of {}; it was stopped with SIGSTOP instead",
                  format_duration(method_.grace), strsignal(method_.pause_signal));
  return out;
}

Status ProcessJobControl::resume() {
  if (stopped_) {
    stopped_ = false;
    return supervisor_.signal_group(SIGCONT);
  }
  if (!checkpointed_) return {};
  SpawnError error;
  if (!supervisor_.spawn(method_.resume_command, &error)) {
    return make_error(
        "cannot run the resume command: {}; the job is left at its checkpoint: resume it by "
        "hand with: {}",
        error.message, join(method_.resume_command));
  }
  checkpointed_ = false;
  if (watchdog_ != nullptr) (void)watchdog_->resumed();
  job_started();
  if (on_restart_) on_restart_(supervisor_.pid());
  return {};
}

}  // namespace carbonclock
