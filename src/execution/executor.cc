#include "execution/executor.h"

#include <fmt/format.h>

#include <utility>

namespace carbonclock {
namespace {

double saving_pct(const Decision& d) {
  return d.immediate_is > 0 ? 100.0 * (1.0 - d.planned_is / d.immediate_is) : 0.0;
}

}  // namespace

Executor::Executor(ExecutionOptions options, IntensityFn intensity, Clock& clock,
                   std::function<void(const ExecutionStatus&)> status)
    : options_(options),
      intensity_fn_(std::move(intensity)),
      clock_(clock),
      status_(std::move(status)) {}

Status Executor::plan() {
  SysTime now = clock_.system_now();
  if (options_.deadline_utc <= now) {
    return make_error("the deadline {} is in the past (now {})", format_utc(options_.deadline_utc),
                      format_utc(now));
  }
  if (options_.expected_duration <= Nanos(0)) {
    return make_error("the expected duration must be positive");
  }
  if (options_.deadline_utc - now < options_.expected_duration) {
    return make_error(
        "the deadline {} leaves {}, less than the expected duration {}: the job cannot finish "
        "in time (move the deadline or shorten --expected-duration)",
        format_utc(options_.deadline_utc), format_duration(options_.deadline_utc - now),
        format_duration(options_.expected_duration));
  }
  auto in = intensity_fn_(now, now, options_.deadline_utc);
  if (!in) return in.error();
  if (in->size() == 0) return make_error("no intensity data for the window");
  intensity_ = std::move(*in);
  first_intensity_ = intensity_;
  planned_at_ = now;
  first_ = decide_now(now, false);
  event(now, "plan",
        fmt::format("{}: expected saving {:.1f} % against starting now; intensity: {}",
                    to_string(options_.algorithm), saving_pct(first_), intensity_.describe()));
  for (const auto& n : intensity_.notes) event(now, "note", n);
  return {};
}

void Executor::refresh_intensity(SysTime now) {
  auto in = intensity_fn_(now, now, options_.deadline_utc);
  if (in && in->size() > 0) {
    intensity_ = std::move(*in);
    return;
  }
  if (!intensity_error_noted_) {
    intensity_error_noted_ = true;
    event(now, "note",
          fmt::format("cannot re-read the intensity ({}); planning on the last one read",
                      in ? std::string("no data") : in.error().message()));
  }
}

SysTime Executor::latest_resume(SysTime now) const {
  double remaining_s = to_seconds(options_.expected_duration) - run_s(now);
  return options_.deadline_utc - from_seconds(std::max(remaining_s, 0.0));
}

bool Executor::slack_exhausted(SysTime now) const {
  return to_seconds(options_.deadline_utc - now) -
             (to_seconds(options_.expected_duration) - run_s(now)) <=
         1e-3;
}

double Executor::run_s(SysTime now) const {
  return run_done_s_ + (run_since_ ? to_seconds(now - *run_since_) : 0.0);
}

Decision Executor::decide_now(SysTime now, bool started) {
  double remaining = to_seconds(options_.expected_duration) - run_s(now);
  // Exactly zero left while not finished means it overran; keep a hair above for "just started".
  return decide(options_.algorithm, intensity_, now, options_.deadline_utc, remaining, started);
}

void Executor::event(SysTime at, std::string action, std::string note) {
  events_.push_back({at, std::move(action), std::move(note)});
}

void Executor::report(const Decision& d, SysTime now, bool running) {
  if (!status_) return;
  ExecutionStatus s;
  s.running = running;
  s.next_change_utc = d.next_decision_utc;
  s.expected_saving_pct = saving_pct(first_);
  if (running && d.straight_through) {
    s.text = fmt::format("running to the end (deadline {})", format_utc(options_.deadline_utc));
  } else if (running) {
    s.text =
        fmt::format("running in a planned slot (expected saving {:.1f} %)", s.expected_saving_pct);
  } else {
    SysTime next_run = d.chosen.empty() ? d.next_decision_utc : d.window[d.chosen[0]].start_utc;
    s.next_run_utc = next_run;
    s.text = fmt::format("waiting {} for a cleaner slot at {} (expected saving {:.1f} %)",
                         format_duration(std::chrono::floor<Seconds>(next_run - now)),
                         format_utc(next_run), s.expected_saving_pct);
  }
  status_(s);
}

int Executor::wait_for_start(JobControl& job) {
  bool first = true;
  for (;;) {
    SysTime now = clock_.system_now();
    if (!first) refresh_intensity(now);
    first = false;
    Decision d = decide_now(now, false);
    if (d.run_now) return 0;
    report(d, now, false);
    WaitResult r = job.wait_until(d.next_decision_utc);
    if (r.forwarded_signal != 0) {
      event(clock_.system_now(), "signal",
            fmt::format("signal {} before the job started: not started", r.forwarded_signal));
      return 128 + r.forwarded_signal;
    }
  }
}

JobExit Executor::supervise(JobControl& job) {
  SysTime now = clock_.system_now();
  run_since_ = now;
  event(now, "start");
  bool paused = false;
  PauseKind pause_kind = PauseKind::kStopped;
  auto stop_interval = [&](SysTime at) {
    if (!run_since_) return;
    running_.push_back({*run_since_, at});
    run_done_s_ += to_seconds(at - *run_since_);
    run_since_.reset();
  };
  auto do_resume = [&](SysTime at, const std::string& why) -> bool {
    auto r = job.resume();
    if (!r) {
      resume_error_ = r.error().message();
      event(at, "error", resume_error_);
      return false;
    }
    paused = false;
    run_since_ = r->resumed_at.value_or(at);
    event(*run_since_, "resume", r->note.empty() ? why : r->note + "; " + why);
    return true;
  };
  for (;;) {
    now = clock_.system_now();
    SysTime wake = now + std::chrono::hours(1);
    if (!straight_) {
      // Once the slack is gone the decision does not depend on the intensity: do not spend
      // time re-reading it when the job must resume now (the watchdog waits only briefly).
      if (!slack_exhausted(now)) refresh_intensity(now);
      Decision d = decide_now(now, true);
      if (d.straight_through) {
        straight_ = true;
        event(now, "straight-through", d.reason);
        if (paused && !do_resume(now, d.reason)) return JobExit{127, 0, 0};
      } else if (d.run_now && paused) {
        if (!do_resume(now, d.reason)) return JobExit{127, 0, 0};
      } else if (!d.run_now && !paused) {
        auto p = job.pause(latest_resume(now));
        SysTime at = clock_.system_now();
        if (!p) {
          // Could not pause: keep it running, never plan again.
          straight_ = true;
          event(at, "straight-through",
                fmt::format("cannot pause the job ({}): it runs straight through",
                            p.error().message()));
        } else if (p->kind == PauseKind::kJobEnded) {
          stop_interval(at);
          event(at, "exit", p->note);
          return *p->exit;
        } else {
          stop_interval(at);
          paused = true;
          pause_kind = p->kind;
          event(at, "pause", p->note.empty() ? d.reason : p->note + "; " + d.reason);
        }
      }
      report(d, now, !paused);
      if (!straight_) wake = d.next_decision_utc;
    }
    WaitResult r = job.wait_until(wake);
    SysTime at = clock_.system_now();
    if (r.resumed_at && paused) {
      // Resumed behind the plan's back (the watchdog kept the deadline, or was lost): it runs
      // straight through from then on.
      paused = false;
      straight_ = true;
      run_since_ = *r.resumed_at;
      event(*r.resumed_at, "resume", r.resumed_note);
      event(at, "straight-through", "no more pauses: " + r.resumed_note);
    }
    if (r.exit) {
      stop_interval(at);
      event(at, "exit", fmt::format("exit code {}", r.exit->exit_code));
      return *r.exit;
    }
    if (r.forwarded_signal != 0) {
      event(at, "signal",
            fmt::format("signal {} forwarded to the job; planning stopped", r.forwarded_signal));
      straight_ = true;
      if (paused && pause_kind == PauseKind::kCheckpointed) {
        // No process to deliver it to: end here and leave the checkpoint as it is.
        event(at, "exit", "the job is checkpointed and was not resumed");
        return JobExit{128 + r.forwarded_signal, r.forwarded_signal, 0};
      }
      if (paused) {
        // The supervisor continued the stopped group so the job can act on the signal.
        paused = false;
        run_since_ = at;
      }
    }
  }
}

}  // namespace carbonclock
