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

/// Sleeps up to `timeout` unless a termination signal arrives (returned, else 0). A signal
/// already pending is taken even when `timeout` is zero.
int sleep_for_signal(Nanos timeout) {
  sigset_t set;
  sigemptyset(&set);
  for (int s : {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGCHLD}) sigaddset(&set, s);
  auto until = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    auto left = std::max<Nanos>(until - std::chrono::steady_clock::now(), Nanos(0));
    auto nap = std::min<Nanos>(left, std::chrono::milliseconds(500));
    timespec ts{static_cast<time_t>(nap.count() / 1'000'000'000),
                static_cast<long>(nap.count() % 1'000'000'000)};
    int sig = ::sigtimedwait(&set, nullptr, &ts);
    if (sig > 0 && sig != SIGCHLD) return sig;
    if (sig < 0 && left <= Nanos(0)) return 0;
  }
}

constexpr Nanos kWakeCap = std::chrono::seconds(1);

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
  // A failure here is found again, and acted on, before the first pause.
  if (watchdog_ != nullptr) (void)watchdog_->watch(watched_);
}

void ProcessJobControl::job_ended() {
  if (watchdog_ != nullptr && watched_ > 0) (void)watchdog_->unwatch(watched_);
  watched_ = -1;
}

WaitResult ProcessJobControl::check_watchdog() {
  WaitResult r;
  if (!paused() || watchdog_ == nullptr) return r;
  auto action = watchdog_->ping();
  SysTime now = clock_.system_now();
  if (!action) {
    // Nothing would continue the job should carbonclock die now: resume it at once and never
    // pause again.
    std::string how = stopped_ ? "continued" : "restarted with the resume command";
    Status s = stopped_ ? supervisor_.signal_group(SIGCONT) : restart();
    stopped_ = false;
    supervisor_.expect_stops(false);
    r.resumed_at = now;
    r.safety_lost = true;
    r.resumed_note = fmt::format(
        "{}: nothing would continue the paused job if carbonclock died, so it was {} at once "
        "and runs straight through{}",
        action.error().message(), how, s ? "" : " (" + s.error().message() + ")");
    return r;
  }
  if (action->kind == WatchdogAction::Kind::kContinued) {
    stopped_ = false;
    supervisor_.expect_stops(false);
    r.resumed_at = action->at_utc;
    r.resumed_note =
        "carbonclock had not resumed the job by its latest resume time (it was stopped or too "
        "slow): the watchdog continued it to keep the deadline";
  } else if (action->kind == WatchdogAction::Kind::kRestarted) {
    checkpointed_ = false;
    supervisor_.adopt(action->pid);
    job_started();
    if (on_restart_) on_restart_(action->pid);
    r.resumed_at = action->at_utc;
    r.resumed_note =
        "carbonclock had not resumed the job by its latest resume time (it was stopped or too "
        "slow): the watchdog ran the resume command to keep the deadline";
  }
  return r;
}

WaitResult ProcessJobControl::wait_until(SysTime until) {
  for (;;) {
    if (WaitResult w = check_watchdog(); w.resumed_at) return w;
    Nanos left = std::max<Nanos>(until - clock_.system_now(), Nanos(0));
    if (!supervisor_.running()) {
      WaitResult r;
      r.forwarded_signal = sleep_for_signal(std::min(left, kWakeCap));
      if (r.forwarded_signal != 0 && checkpointed_ && watchdog_ != nullptr) {
        // The run ends here on purpose, the job left at its checkpoint: no restart behind it.
        (void)watchdog_->resumed();
      }
      if (r.forwarded_signal != 0 || clock_.system_now() >= until) return r;
      continue;
    }
    // A zero timeout still takes pending signals (a late caller never leaves them waiting).
    WaitResult r = supervisor_.wait_for(std::min(left, kWakeCap));
    if (r.exit) job_ended();
    if (r.exit || r.forwarded_signal != 0) {
      if (r.forwarded_signal != 0) {
        stopped_ = false;  // the supervisor continued the group
        supervisor_.expect_stops(false);
      }
      return r;
    }
    if (clock_.system_now() >= until) return {};
  }
}

Result<PauseOutcome> ProcessJobControl::pause(SysTime latest_resume_utc) {
  // Never pause without a live watchdog: it is what continues the job if carbonclock dies.
  if (watchdog_ == nullptr) return make_error("no watchdog runs: the job is not paused");
  if (Status s = watchdog_->watch(supervisor_.pid()); !s) {
    return make_error("cannot confirm a live watchdog ({}): the job is not paused",
                      s.error().message());
  }
  if (Status s = watchdog_->resume_by(latest_resume_utc); !s) {
    return make_error("cannot confirm a live watchdog ({}): the job is not paused",
                      s.error().message());
  }
  PauseOutcome out;
  supervisor_.expect_stops(true);
  if (method_.pause_signal == 0) {
    if (Status s = supervisor_.signal_group(SIGSTOP); !s) {
      supervisor_.expect_stops(false);
      return s.error();
    }
    stopped_ = true;
    out.kind = PauseKind::kStopped;
    return out;
  }
  // Tell the watchdog first: should carbonclock die while the job saves its checkpoint, the
  // watchdog restarts the job once it has exited.
  if (Status s = watchdog_->checkpointing(supervisor_.pid(), clock_.system_now() + method_.grace);
      !s) {
    supervisor_.expect_stops(false);
    return make_error("cannot confirm a live watchdog ({}): the job is not paused",
                      s.error().message());
  }
  if (Status s = supervisor_.signal_group(method_.pause_signal); !s) {
    supervisor_.expect_stops(false);
    (void)watchdog_->resumed();
    return s.error();
  }
  MonoTime until = clock_.monotonic_now() + method_.grace;
  while (clock_.monotonic_now() < until) {
    WaitResult r = supervisor_.wait_for(until - clock_.monotonic_now());
    if (r.exit) {
      job_ended();
      supervisor_.expect_stops(false);
      if (r.exit->exit_code == 0) {
        checkpointed_ = true;
        if (Status s = watchdog_->checkpointed(); !s) {
          // Nothing would restart it should carbonclock die: restart it now.
          checkpointed_ = false;
          Status restarted = restart();
          return make_error(
              "cannot confirm a live watchdog ({}) after the job checkpointed: it was restarted "
              "at once{}",
              s.error().message(), restarted ? "" : " (" + restarted.error().message() + ")");
        }
        out.kind = PauseKind::kCheckpointed;
        out.note =
            fmt::format("the job checkpointed and exited on {}", strsignal(method_.pause_signal));
      } else {
        (void)watchdog_->resumed();  // nothing to restart
        out.kind = PauseKind::kJobEnded;
        out.exit = r.exit;
        out.note = fmt::format("the job ended with exit code {} when sent {}; not resumed",
                               r.exit->exit_code, strsignal(method_.pause_signal));
      }
      return out;
    }
    if (r.forwarded_signal != 0) {
      // The user wants it to stop: the signal was forwarded and the group continued; do not
      // stop it now, it must be able to act on the signal.
      supervisor_.expect_stops(false);
      (void)watchdog_->resumed();
      return make_error("signal {} arrived while pausing; forwarded to the job, not paused",
                        r.forwarded_signal);
    }
  }
  // It ignored the signal: never lose the job; stop it instead, as without --pause-signal.
  (void)watchdog_->resumed();  // not checkpointing any more; the watched group is continued
  if (Status s = supervisor_.signal_group(SIGSTOP); !s) {
    supervisor_.expect_stops(false);
    return s.error();
  }
  stopped_ = true;
  out.kind = PauseKind::kStopFallback;
  out.note =
      fmt::format("the job did not exit within {} of {}; it was stopped with SIGSTOP instead",
                  format_duration(method_.grace), strsignal(method_.pause_signal));
  return out;
}

Status ProcessJobControl::restart() {
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

Result<ResumeOutcome> ProcessJobControl::resume() {
  ResumeOutcome out;
  if (!paused()) return out;
  // Cancel the watchdog's own resume; it may have resumed the job already.
  std::optional<WatchdogAction> action;
  if (watchdog_ != nullptr) {
    if (auto a = watchdog_->resuming(); a) action = *a;
  }
  if (action && action->kind != WatchdogAction::Kind::kNone) {
    out.resumed_at = action->at_utc;
    out.note = "the watchdog had resumed it at its latest resume time";
  }
  if (stopped_) {
    stopped_ = false;
    Status s = supervisor_.signal_group(SIGCONT);
    supervisor_.expect_stops(false);
    if (!s) return s.error();
    return out;
  }
  if (action && action->kind == WatchdogAction::Kind::kRestarted) {
    checkpointed_ = false;
    supervisor_.adopt(action->pid);
    job_started();
    if (on_restart_) on_restart_(action->pid);
    return out;
  }
  if (Status s = restart(); !s) return s.error();
  return out;
}

}  // namespace carbonclock
