// carbonclock._native: the Python front end's bindings over the application layer. Like the
// CLI, it only turns options into requests, calls the use cases (src/app) and renders with
// src/reports; results cross as the JSON documents the CLI prints, errors as carbonclock.Error
// subclasses chosen by ErrorCode, notes and warnings as messages the Python layer turns into
// warnings. Every call that waits on the metering lock or on I/O releases the GIL; the sampler
// thread never takes it (it only schedules a pending call, see Tracker::listen).
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>
#include <unistd.h>

#include <atomic>
#include <memory>
#include <mutex>
#include <set>

#include "app/grid_data.h"
#include "app/history.h"
#include "app/report.h"
#include "app/run_common.h"
#include "app/schedule.h"
#include "app/shift.h"
#include "app/tracker.h"
#include "http/http_transport.h"
#include "reports/carbon_report.h"
#include "reports/format.h"
#include "reports/grid_render.h"
#include "reports/history_render.h"
#include "reports/plan_render.h"
#include "reports/shift_render.h"
#include "reports/summary.h"

#ifndef CARBONCLOCK_VERSION
#define CARBONCLOCK_VERSION "0.0.0"
#endif

namespace py = pybind11;
using carbonclock::Error;
using carbonclock::ErrorCode;
using nlohmann::json;

namespace carbonclock::python {
namespace {

// ---- errors ------------------------------------------------------------------------------

/// A carbonclock Error on its way to Python (translated in the module's exception translator).
struct NativeError {
  ErrorCode code;
  std::string message;
};

[[noreturn]] void raise(const Error& e) { throw NativeError{e.code(), e.message()}; }

template <typename T>
T take(Result<T>&& r) {
  if (!r) raise(r.error());
  return std::move(r).value();
}

const char* error_class(ErrorCode code) {
  switch (code) {
    case ErrorCode::kInvalidInput:
      return "InvalidInputError";
    case ErrorCode::kNotFound:
      return "NotFoundError";
    case ErrorCode::kIo:
      return "IoError";
    case ErrorCode::kUnavailable:
      return "UnavailableError";
    case ErrorCode::kInternal:
      return "InternalError";
  }
  return "Error";
}

// ---- what a use case says while it works ---------------------------------------------------

/// Keeps notes and warnings for the Python layer, which issues them on its own thread.
class MessageObserver final : public Observer {
 public:
  void note(std::string_view text) override { add("note", text); }
  void warning(std::string_view text) override { add("warning", text); }
  std::vector<std::pair<std::string, std::string>> take() {
    std::lock_guard lock(mu_);
    return std::exchange(messages_, {});
  }

 private:
  void add(const char* kind, std::string_view text) {
    std::lock_guard lock(mu_);
    messages_.emplace_back(kind, std::string(text));
  }
  std::mutex mu_;
  std::vector<std::pair<std::string, std::string>> messages_;
};

/// The edges of one use-case call: the real clock, the process environment, an observer.
struct Session {
  RealClock clock;
  MessageObserver observer;
  std::unique_ptr<HttpTransport> http;
  AppContext ctx{clock, nullptr, process_env, observer};
  void with_network() {
    CurlOptions options;
    options.user_agent = std::string("carbonclock/") + CARBONCLOCK_VERSION;
    http = std::make_unique<CurlTransport>(options);
    ctx.http = http.get();
  }
};

py::list messages(MessageObserver& observer) {
  py::list out;
  for (auto& [kind, text] : observer.take()) out.append(py::make_tuple(kind, text));
  return out;
}

// ---- options -------------------------------------------------------------------------------

/// Reads a dict of options given by the Python layer (None means not given); unknown keys are
/// an error, so a misspelt option never goes unnoticed.
class Options {
 public:
  explicit Options(py::dict d) : d_(std::move(d)) {}
  bool has(const char* key) {
    used_.insert(key);
    return d_.contains(key) && !d_[key].is_none();
  }
  std::optional<std::string> str(const char* key) {
    if (!has(key)) return std::nullopt;
    return py::str(d_[key]).cast<std::string>();
  }
  std::string str_or(const char* key, std::string fallback) {
    return str(key).value_or(std::move(fallback));
  }
  std::optional<double> number(const char* key) {
    if (!has(key)) return std::nullopt;
    try {
      return d_[key].cast<double>();
    } catch (const py::cast_error&) {
      raise(
          make_error("{}: expected a number, got {}", key, py::repr(d_[key]).cast<std::string>()));
    }
  }
  bool flag(const char* key) { return has(key) && d_[key].cast<bool>(); }
  std::vector<std::string> list(const char* key) {
    if (!has(key)) return {};
    std::vector<std::string> out;
    for (auto item : d_[key]) out.push_back(py::str(item).cast<std::string>());
    return out;
  }
  void check_all_used() {
    for (auto item : d_) {
      auto key = py::str(item.first).cast<std::string>();
      if (!used_.contains(key)) raise(make_error("unknown option '{}'", key));
    }
  }

 private:
  py::dict d_;
  std::set<std::string> used_;
};

AccountingChoices accounting_choices(Options& o, Session& s) {
  AccountingChoices c;
  c.zone = o.str("zone");
  c.region = o.str("region");
  c.pue = o.number("pue");
  c.signal = o.str("signal");
  c.factor = o.str("factor");
  c.per = o.str("per");
  c.work = o.number("work");
  c.defaults = zone_defaults_or_environment(s.ctx.env, s.observer);
  return c;
}

void embodied_choices(Options& o, EmbodiedOptions& e) {
  e.embodied_kg = o.number("embodied_kg");
  e.lifetime_years = o.number("lifetime_years");
  if (auto v = o.number("machine_share")) e.machine_share = *v;
  if (auto v = o.number("dram_gb")) e.dram_gb = *v;
}

Format format_among(const std::string& text, std::initializer_list<Format> allowed) {
  auto f = parse_format(text, allowed);
  if (!f) raise(f.error().with_context("format"));
  return *f;
}

// ---- the tracker ---------------------------------------------------------------------------

std::atomic<bool> g_delivery_pending{false};

// Runs on Python's main thread (a pending call) with the GIL: hands queued samples to the
// callbacks. A callback's error never escapes into whatever Python code this call interrupted.
// A KeyboardInterrupt or SystemExit does: Python handles signals between any two bytecodes,
// callbacks' included, and a Ctrl-C that lands while they run must stop the training loop as
// it would a moment later (returning -1 with it set raises it where this call interrupted).
int deliver_pending(void*) {
  g_delivery_pending.store(false);
  try {
    py::module_::import("carbonclock._tracker").attr("_deliver_pending")();
  } catch (py::error_already_set& e) {
    if (!e.matches(PyExc_Exception)) {
      e.restore();
      return -1;
    }
    e.discard_as_unraisable("carbonclock: delivering samples");
  }
  return 0;
}

// On the sampler thread: asks Python's main thread to deliver, without the GIL.
void wake_python() {
  if (!g_delivery_pending.exchange(true) && Py_AddPendingCall(deliver_pending, nullptr) != 0) {
    g_delivery_pending.store(false);  // the queue was full: the next sample asks again
  }
}

json window_json(const TrackedWindow& w, const std::filesystem::path& run_dir) {
  json doc = window_to_json(w.record);
  doc["report"] = w.run && w.account ? report_json(*w.run, *w.account, run_dir.string()) : json();
  return doc;
}

/// What `carbonclock run` prints at the end: energy by device, then emissions.
std::string summary(const TrackResult& r) {
  if (r.role == "member") {
    return fmt::format(
        "carbonclock: rank {} of job {}: node {} is metered by another task; "
        "windows in {}\n",
        r.cluster.rank, r.cluster.job_id, r.cluster.node, (r.run_dir / "tasks").string());
  }
  RunRecord shown = r.run;
  shown.warnings = r.warnings;
  std::string out = run_summary_text(shown, r.run_dir.string());
  if (r.account) out += emissions_summary_text(*r.account);
  return out;
}

class NativeTracker {
 public:
  explicit NativeTracker(py::dict options) {
    Options o(std::move(options));
    request_.command = o.list("command");
    request_.interval = o.str_or("interval", request_.interval);
    request_.bucket = o.str_or("bucket", request_.bucket);
    request_.out = o.str_or("out", "");
    request_.runs_dir = o.str_or("runs_dir", request_.runs_dir);
    request_.gpus = o.str_or("gpus", request_.gpus);
    request_.no_gpu = o.flag("no_gpu");
    request_.tags = o.list("tags");
    if (auto v = o.number("cpu_watts_per_core")) request_.cpu_w_per_core = *v;
    if (auto v = o.number("dram_watts_per_gb")) request_.dram_w_per_gb = *v;
    request_.choices = accounting_choices(o, session_);
    request_.db = o.str_or("db", "");
    request_.distributed = !o.has("distributed") || o.flag("distributed");
    request_.version = CARBONCLOCK_VERSION;
    o.check_all_used();
  }

  py::dict start() {
    {
      py::gil_scoped_release unlocked;
      auto t = Tracker::start(request_, session_.ctx);
      if (!t) raise(t.error());
      tracker_ = std::move(*t);
    }
    py::dict info;
    info["role"] = tracker_->role();
    info["run_dir"] = tracker_->run_dir().string();
    info["run_id"] = tracker_->run_id();
    info["start_utc"] = format_utc_millis(tracker_->start_utc());
    info["interval_s"] = to_seconds(tracker_->interval());
    info["notes"] = tracker_->notes();
    py::list devices;
    for (const auto& d : tracker_->devices()) devices.append(py::str(device_to_json(d).dump()));
    info["devices"] = devices;
    info["cluster"] = tracker_->cluster().distributed() ? py::str(tracker_->cluster_json().dump())
                                                        : py::object(py::none());
    return info;
  }

  std::string begin_window(const std::string& name) {
    py::gil_scoped_release unlocked;
    return format_utc_millis(take(running().begin_window(name)));
  }

  std::string end_window(const std::string& name) {
    py::gil_scoped_release unlocked;
    return window_json(take(running().end_window(name)), tracker_->run_dir()).dump();
  }

  void listen(bool on) {
    py::gil_scoped_release unlocked;
    running().listen(on ? std::function<void()>(wake_python) : nullptr);
  }

  std::vector<std::tuple<double, double, double>> take_samples() {
    std::vector<MeterStatus> samples;
    {
      py::gil_scoped_release unlocked;
      if (tracker_) samples = tracker_->take_samples();
    }
    std::vector<std::tuple<double, double, double>> out;
    out.reserve(samples.size());
    for (const auto& s : samples) out.emplace_back(to_seconds(s.elapsed), s.power_w, s.energy_j);
    return out;
  }

  std::tuple<double, double> live() {
    py::gil_scoped_release unlocked;
    MeterStatus s = running().live();
    return {to_seconds(s.elapsed), s.energy_j};
  }

  std::string stop(std::optional<int> exit_code, const std::string& ended_by) {
    py::gil_scoped_release unlocked;
    TrackResult r = take(running().stop({exit_code, ended_by}));
    json doc = {{"role", r.role},
                {"run_dir", r.run_dir.string()},
                {"cluster", r.cluster_json},
                {"run", r.run_json},
                {"report", r.account ? report_json(r.run, *r.account, r.run_dir.string()) : json()},
                {"warnings", r.warnings},
                {"summary", summary(r)}};
    json windows = json::array();
    for (const auto& w : r.windows) windows.push_back(window_json(w, r.run_dir));
    doc["windows"] = std::move(windows);
    return doc.dump();
  }

  /// In a forked child: lets go of the tracker without destroying it. The child has a copy of
  /// its memory but not its sampler thread (which cannot be joined there) and must never write
  /// the parent's run directory. The memory is the child's to lose.
  void forget() { (void)tracker_.release(); }

  py::list take_messages() { return messages(session_.observer); }

 private:
  Tracker& running() {
    if (!tracker_) raise(make_error("the tracker has not been started"));
    return *tracker_;
  }

  Session session_;
  TrackRequest request_;
  std::unique_ptr<Tracker> tracker_;
};

// ---- the other use cases -------------------------------------------------------------------

py::tuple report(const std::string& run_dir, const std::string& format_text, py::dict options) {
  Session s;
  Options o(std::move(options));
  ReportRequest request;
  request.run_dir = run_dir;
  request.choices = accounting_choices(o, s);
  embodied_choices(o, request.choices.embodied);
  request.db = o.str_or("db", "");
  o.check_all_used();
  const Format format =
      format_among(format_text, {Format::kText, Format::kJson, Format::kCsv, Format::kMarkdown,
                                 Format::kHtml, Format::kRunJson});
  std::string out;
  {
    py::gil_scoped_release unlocked;
    if (format == Format::kRunJson) {
      out = run_to_json(take(load_run(run_dir))).dump(2) + "\n";
    } else {
      request.charts = format == Format::kHtml;
      ReportData data = take(build_report(request, s.ctx));
      switch (format) {
        case Format::kJson: {
          auto doc = report_json(data.run, data.account, run_dir);
          if (data.run.schedule && data.run.schedule->contains("savings")) {
            doc["schedule_savings"] = (*data.run.schedule)["savings"];
          }
          out = json_text(doc);
          break;
        }
        case Format::kCsv:
          out = codecarbon_csv_header() + codecarbon_csv_row(data.run, data.account);
          break;
        case Format::kMarkdown:
          out = report_markdown(data.run, data.account);
          break;
        case Format::kHtml:
          out = report_html(data.run, data.account,
                            {data.by_zone, data.by_hour, run_dir, data.power});
          break;
        default:
          out = report_text(data.run, data.account, run_dir);
      }
    }
  }
  return py::make_tuple(out, messages(s.observer));
}

ScheduleArgs schedule_args(Options& o) {
  ScheduleArgs a;
  a.flex_start = o.str_or("flex_start", "");
  a.pause_resume = o.str_or("pause_resume", "");
  a.deadline = o.str_or("deadline", "");
  a.deadline_mode = o.str_or("deadline_mode", a.deadline_mode);
  a.slot = o.str_or("slot", a.slot);
  a.signal = o.str_or("signal", "");
  a.factor = o.str_or("factor", "");
  a.intensity_file = o.str_or("intensity_file", "");
  a.forecast_source = o.str_or("forecast_source", "");
  a.risk = o.str_or("risk", "");
  return a;
}

/// The job as `plan` and `shift` take it (PlanRequest and ShiftArgs name it alike): its zone or
/// region, the zones to compare, and its duration with energy or a measured profile.
template <typename Job>
void read_job(Options& o, Job& job) {
  job.zone = o.str("zone");
  job.region = o.str("region");
  job.zones = o.str_or("zones", "");
  job.duration = o.str_or("duration", "");
  job.energy_kwh = o.number("energy_kwh");
  job.profile = o.str_or("profile", "");
}

py::tuple plan(const std::string& format_text, py::dict options) {
  Session s;
  Options o(std::move(options));
  PlanRequest r;
  read_job(o, r);
  r.db = o.str_or("db", "");
  r.schedule = schedule_args(o);
  o.check_all_used();
  const Format format = format_among(format_text, {Format::kText, Format::kJson, Format::kSbatch});
  if (!r.schedule.forecast_source.empty()) s.with_network();
  std::string out;
  {
    py::gil_scoped_release unlocked;
    PlanResult plan = take(plan_job(r, s.ctx));
    out = render_plan(plan, format);
    if (format == Format::kSbatch) {
      for (const auto& note : sbatch_notes(plan)) s.observer.note(note);
    }
  }
  return py::make_tuple(out, messages(s.observer));
}

py::tuple shift(const std::string& format_text, py::dict options) {
  Session s;
  Options o(std::move(options));
  ShiftArgs a;
  read_job(o, a);
  a.start = o.str_or("start", "");
  a.flex_start = o.str_or("flex_start", "");
  a.pause_resume = o.str_or("pause_resume", "");
  a.signal = o.str_or("signal", "");
  a.factor = o.str_or("factor", "");
  a.slot = o.str_or("slot", a.slot);
  a.db = o.str_or("db", "");
  o.check_all_used();
  const Format format = format_among(format_text, {Format::kText, Format::kJson});
  std::string out;
  {
    py::gil_scoped_release unlocked;
    ShiftResult result = take(shift_job(take(shift_request(a)), s.ctx));
    if (auto e = result.home_error()) raise(*e);
    out = render_shift(result, format);
  }
  return py::make_tuple(out, messages(s.observer));
}

py::tuple grid_import(const std::vector<std::string>& files, py::dict options) {
  Session s;
  Options o(std::move(options));
  ImportArgs a;
  a.files = files;
  a.format = o.str_or("format", a.format);
  for (auto [key, field] : {std::pair{"zone", &a.zone},
                            {"signal", &a.signal},
                            {"factor", &a.factor},
                            {"source", &a.source},
                            {"tz", &a.tz},
                            {"time_column", &a.time_column},
                            {"value_column", &a.value_column},
                            {"unit", &a.unit},
                            {"duration_column", &a.duration_column},
                            {"duration_unit", &a.duration_unit},
                            {"zone_column", &a.zone_column},
                            {"step", &a.step},
                            {"index_origin", &a.index_origin},
                            {"db", &a.db}}) {
    *field = o.str_or(key, "");
  }
  o.check_all_used();
  std::string out;
  {
    py::gil_scoped_release unlocked;
    ImportOptions options_parsed = take(import_options(a));
    out = render_import_json(take(import_files(a.files, options_parsed, a.db, s.ctx)));
  }
  return py::make_tuple(out, messages(s.observer));
}

py::tuple history(py::dict options) {
  Session s;
  Options o(std::move(options));
  HistoryRequest r{o.str_or("since", ""), o.str_or("until", ""), o.str_or("tag", ""),
                   o.str_or("db", "")};
  o.check_all_used();
  std::string out;
  {
    py::gil_scoped_release unlocked;
    out = render_history(take(list_history(r, s.ctx)), Format::kJson);
  }
  return py::make_tuple(out, messages(s.observer));
}

}  // namespace
}  // namespace carbonclock::python

PYBIND11_MODULE(_native, m) {
  using namespace carbonclock::python;
  m.doc() = "carbonclock's native engine (use the carbonclock package, not this module)";
  m.attr("__version__") = CARBONCLOCK_VERSION;

  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const NativeError& e) {
      py::object cls = py::module_::import("carbonclock._errors").attr(error_class(e.code));
      PyErr_SetObject(cls.ptr(), py::str(e.message).ptr());
    }
  });

  py::class_<NativeTracker>(m, "Tracker")
      .def(py::init<py::dict>(), py::arg("options"))
      .def("start", &NativeTracker::start)
      .def("begin_window", &NativeTracker::begin_window, py::arg("name"))
      .def("end_window", &NativeTracker::end_window, py::arg("name"))
      .def("listen", &NativeTracker::listen, py::arg("on"))
      .def("take_samples", &NativeTracker::take_samples)
      .def("live", &NativeTracker::live)
      .def("stop", &NativeTracker::stop, py::arg("exit_code"), py::arg("ended_by"))
      .def("forget", &NativeTracker::forget)
      .def("take_messages", &NativeTracker::take_messages);

  m.def("report", &report, py::arg("run_dir"), py::arg("format"), py::arg("options"));
  m.def("plan", &plan, py::arg("format"), py::arg("options"));
  m.def("shift", &shift, py::arg("format"), py::arg("options"));
  m.def("grid_import", &grid_import, py::arg("files"), py::arg("options"));
  m.def("history", &history, py::arg("options"));
}
