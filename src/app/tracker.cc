#include "app/tracker.h"

#include <fmt/format.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <numeric>
#include <set>
#include <thread>

#include "common/files.h"
#include "intensity/intensity_provider.h"
#include "sensors/process_tree.h"

namespace carbonclock {

nlohmann::json window_to_json(const WindowRecord& w) {
  nlohmann::json devices = nlohmann::json::object();
  for (const auto& [id, joules] : w.device_energy_j) devices[id] = joules;
  return {{"name", w.name},
          {"begin_utc", format_utc_millis(w.begin_utc)},
          {"end_utc", format_utc_millis(w.end_utc)},
          {"duration_s", to_seconds(w.end_utc - w.begin_utc)},
          {"energy_j", w.energy_j ? nlohmann::json(*w.energy_j) : nlohmann::json()},
          {"devices", std::move(devices)}};
}

namespace {

constexpr size_t kMaxQueuedSamples = 10000;

double thread_cpu_s() {
  timespec ts{};
  ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

}  // namespace

Result<std::unique_ptr<Tracker>> Tracker::start(const TrackRequest& r, AppContext& ctx) {
  auto plan =
      check_metering(r.interval, r.bucket, r.gpus, r.cpu_w_per_core, r.dram_w_per_gb, r.choices);
  if (!plan) return plan.error();
  if (Status s = check_zone_known(plan->inputs, r.db, ctx); !s) return s.error();
  std::unique_ptr<Tracker> t(new Tracker(r, ctx));
  t->plan_ = std::move(*plan);
  if (r.distributed) t->cluster_ = detect_distributed(ctx.env);
  if (t->cluster_.distributed()) {
    const std::filesystem::path base = r.out.empty() ? r.runs_dir : r.out;
    auto joined = NodeTask::join(t->cluster_, base);
    if (!joined) return joined.error();
    t->task_ = std::move(*joined);
    t->run_dir_ = t->task_->node_dir();
    t->role_ = to_string(t->task_->record().role);
    std::error_code ec;
    const auto task_file = t->run_dir_ / kTasksDir / (std::to_string(t->cluster_.rank) + ".json");
    if (std::filesystem::exists(task_file, ec)) {
      return make_error("{}: exists: job {} rank {} was already recorded on node {}",
                        task_file.string(), t->cluster_.job_id, t->cluster_.rank, t->cluster_.node);
    }
    if (!t->task_->is_meter()) {
      t->notes_.push_back(fmt::format(
          "node {} of job {} is metered by another task; rank {} records its windows only ({})",
          t->cluster_.node, t->cluster_.job_id, t->cluster_.rank, t->task_->record().note));
    }
  }
  t->pids_ = t->seen_pids();
  if (t->role_ == "member") {
    t->run_.start_utc = ctx.clock.system_now();
    t->run_.command = r.command;
    t->run_.tags = r.tags;
    t->run_.host = host_name();
  } else if (Status s = t->open_meter(); !s) {
    return s.error();
  }
  // Every task announces itself in tasks/<rank>.json from its start, so a node's meter (also
  // `carbonclock run`'s) sees it running and meters on until it ends.
  if (t->task_) {
    if (Status s = save_task(t->task_record(), t->run_dir_); !s) return s.error();
  }
  return t;
}

Status Tracker::open_meter() {
  const TrackRequest& r = request_;
  const bool node_meter = role_ == "meter";
  SensorSet sensors = open_run_sensors({plan_.gpus, r.no_gpu, r.cpu_w_per_core, r.dram_w_per_gb,
                                        /*honour_cuda_visible=*/!node_meter,
                                        /*job_already_running=*/true},
                                       ctx_.env);
  notes_.insert(notes_.end(), sensors.notes.begin(), sensors.notes.end());
  // The estimate follows this process's tree; a node's meter follows the launcher's (torchrun's
  // agent, slurmstepd), whose tree holds every task of the node.
  pid_t root = r.pid > 0 ? r.pid : ::getpid();
  if (node_meter && ::getppid() > 1) root = ::getppid();
  auto meter = std::make_unique<Meter>(std::move(sensors.sensors), ctx_.clock,
                                       MeterOptions{plan_.interval, plan_.bucket, Seconds(1)});
  meter->attach_job(root);  // before the first reading: estimates count from it
  meter->start();
  run_ = start_run_record(*meter, {r.version, r.command, r.tags, &plan_, &r.choices, notes_},
                          ctx_.env);
  if (!task_) {
    auto dir = create_run_dir(r.out, r.runs_dir, run_.id);
    if (!dir) return dir.error();
    run_dir_ = *dir;
  }
  auto journal = JournalWriter::create(run_dir_, run_);
  if (!journal) return journal.error();
  journal_ = std::move(*journal);
  meter->set_journal(journal_.get());
  scratch_.assign(meter->devices().size(), 0.0);
  // Windows are priced as they end, against the store as it is at the start.
  auto opened = open_store(r.db, StoreMode::kIfExists, ctx_.env);
  if (opened) store_.emplace(std::move(*opened));
  provider_ = std::make_unique<IntensityProvider>(store_ ? store_->get() : nullptr);
  meter->set_on_sample([this](const MeterStatus& s) { on_sample(s); });
  meter_ = std::move(meter);
  meter_->start_thread(&mu_);
  return {};
}

Tracker::~Tracker() {
  meter_.reset();  // joins the sampler thread before anything it touches goes
}

std::vector<DeviceInfo> Tracker::devices() const {
  std::lock_guard lock(mu_);
  return meter_ ? meter_->devices() : std::vector<DeviceInfo>{};
}

nlohmann::json Tracker::cluster_json() const {
  return task_ ? task_->cluster_json() : nlohmann::json();
}

TaskRecord Tracker::task_record() const {
  TaskRecord task = task_->record();
  task.job_pid = request_.pid > 0 ? request_.pid : task.pid;
  task.command = run_.command;
  task.start_utc = run_.start_utc;
  task.processes = pids_;
  if (role_ == "member") task.note = notes_.front();
  for (const TrackedWindow& w : closed_) {
    task.windows.push_back(
        {w.record.name, w.record.begin_utc, w.record.end_utc, w.record.energy_j});
  }
  return task;
}

std::vector<pid_t> Tracker::seen_pids() {
  std::vector<pid_t> pids = process_tree_pids(request_.pid > 0 ? request_.pid : ::getpid());
  std::set<pid_t> all(pids_.begin(), pids_.end());
  all.insert(pids.begin(), pids.end());
  return {all.begin(), all.end()};
}

void Tracker::on_sample(const MeterStatus& s) {
  const std::vector<double>& now_j = meter_->last_reading_j();
  for (OpenWindow& w : open_) {
    for (size_t i = 0; i < scratch_.size(); ++i) scratch_[i] = now_j[i] - w.begin_j[i];
    w.builder->add(s.elapsed - w.begin, scratch_);
  }
  last_ = s;
  if (boundary_ || std::this_thread::get_id() == finisher_) return;
  sampler_cpu_s_ = thread_cpu_s();  // on the sampler thread
  if (!wake_) return;
  queue_.push_back(s);
  if (queue_.size() > kMaxQueuedSamples) queue_.pop_front();
  wake_();
}

void Tracker::boundary_reading() {
  const double before = thread_cpu_s();
  boundary_ = true;
  meter_->sample();
  boundary_ = false;
  boundary_cpu_s_ += thread_cpu_s() - before;
}

Result<SysTime> Tracker::begin_window(const std::string& name) {
  std::lock_guard lock(mu_);
  if (stopping_) return make_error("window '{}': the tracker has stopped", name);
  if (std::any_of(open_.begin(), open_.end(),
                  [&](const OpenWindow& w) { return w.name == name; })) {
    return make_error("window '{}' is already open; end it before beginning it again", name);
  }
  OpenWindow w;
  w.name = name;
  if (!meter_) {
    w.begin_utc = ctx_.clock.system_now();
  } else {
    boundary_reading();
    w.begin = meter_->elapsed();
    w.begin_utc = run_.start_utc + w.begin;
    w.begin_j = meter_->last_reading_j();
    w.builder = std::make_unique<TimelineBuilder>(w.begin_utc, plan_.bucket, meter_->devices());
  }
  open_.push_back(std::move(w));
  return open_.back().begin_utc;
}

TrackedWindow Tracker::close_window(OpenWindow& w) {
  TrackedWindow out;
  out.record.name = w.name;
  out.record.begin_utc = w.begin_utc;
  if (!meter_) {
    out.record.end_utc = ctx_.clock.system_now();
    return out;
  }
  const Nanos end = meter_->elapsed();
  out.record.end_utc = run_.start_utc + end;
  const std::vector<double>& now_j = meter_->last_reading_j();
  const auto& devices = meter_->devices();
  double total = 0;
  for (size_t i = 0; i < devices.size(); ++i) {
    const double j = std::max(0.0, now_j[i] - w.begin_j[i]);
    out.record.device_energy_j.emplace_back(devices[i].id, j);
    total += j;
  }
  out.record.energy_j = total;
  RunRecord run;
  run.id = run_.id;
  run.carbonclock_version = run_.carbonclock_version;
  run.command = run_.command;
  run.host = run_.host;
  run.tags = run_.tags;
  run.start_utc = w.begin_utc;
  run.end_utc = out.record.end_utc;
  run.timeline = w.builder->timeline();
  run.zone = run_.zone;
  run.region = run_.region;
  run.pue = run_.pue;
  run.per = run_.per;
  run.work = run_.work;
  out.run = std::move(run);
  return out;
}

void Tracker::price(TrackedWindow& w) {
  if (!w.run || !provider_) return;
  auto account = account_run(*w.run, plan_.inputs, *provider_);
  if (account) {
    w.account = std::move(*account);
  } else if (!price_warned_) {
    price_warned_ = true;
    ctx_.observer.warning(
        fmt::format("window '{}' has no emissions: {}", w.record.name, account.error().message()));
  }
}

Result<TrackedWindow> Tracker::end_window(const std::string& name) {
  TrackedWindow out;
  {
    std::lock_guard lock(mu_);
    if (stopping_) return make_error("window '{}': the tracker has stopped", name);
    auto it = std::find_if(open_.rbegin(), open_.rend(),
                           [&](const OpenWindow& w) { return w.name == name; });
    if (it == open_.rend()) {
      std::string open;
      for (const auto& w : open_) open += (open.empty() ? "'" : ", '") + w.name + "'";
      return make_error(ErrorCode::kNotFound, "no open window named '{}' (open: {})", name,
                        open.empty() ? "none" : open);
    }
    if (meter_) boundary_reading();
    out = close_window(*it);
    open_.erase(std::next(it).base());
  }
  price(out);  // outside the sample lock: a store query must not delay the sampler
  std::lock_guard lock(mu_);
  closed_.push_back(out);
  return out;
}

void Tracker::listen(std::function<void()> wake) {
  std::lock_guard lock(mu_);
  wake_ = std::move(wake);
  if (!wake_) queue_.clear();
}

std::vector<MeterStatus> Tracker::take_samples() {
  std::lock_guard lock(mu_);
  std::vector<MeterStatus> out(queue_.begin(), queue_.end());
  queue_.clear();
  return out;
}

MeterStatus Tracker::live() const {
  std::lock_guard lock(mu_);
  if (!meter_)
    return {std::chrono::duration_cast<Nanos>(ctx_.clock.system_now() - run_.start_utc), 0, 0};
  return last_;
}

bool Tracker::stopped() const {
  std::lock_guard lock(mu_);
  return stopped_;
}

Result<TrackResult> Tracker::stop(const StopStatus& status) {
  {
    std::lock_guard lock(mu_);
    if (stopping_) return make_error("the tracker has already stopped");
    stopping_ = true;
    finisher_ = std::this_thread::get_id();
    wake_ = nullptr;
  }
  TrackResult out;
  out.role = role_;
  out.cluster = cluster_;
  out.run_dir = run_dir_;
  std::vector<std::string> warnings;
  if (meter_) {
    // Joins the sampler; its last reading, taken here, closes what is still open and counts
    // as a boundary reading (not as the sampler thread's CPU).
    const double before = thread_cpu_s();
    meter_->finish(0.0);
    boundary_cpu_s_ += thread_cpu_s() - before;
  }
  for (OpenWindow& w : open_) {
    warnings.push_back(fmt::format(
        "window '{}' was still open when metering stopped; it ends with the run", w.name));
    closed_.push_back(close_window(w));
    price(closed_.back());
  }
  open_.clear();
  if (!status.ended_by.empty())
    warnings.push_back("the tracked code ended with " + status.ended_by);
  pids_ = seen_pids();

  if (meter_) {
    RunOverhead overhead{sampler_cpu_s_ + boundary_cpu_s_, 0.0, 0, to_seconds(plan_.interval)};
    finish_run_record(run_, *meter_, *journal_, status.exit_code, overhead);
    // Windows keep only the devices the run keeps (under gpus="used", those the job used).
    std::set<std::string> kept;
    for (const auto& d : run_.timeline.devices) kept.insert(d.id);
    for (TrackedWindow& w : closed_) {
      auto& d = w.record.device_energy_j;
      d.erase(std::remove_if(d.begin(), d.end(),
                             [&](const auto& e) { return !kept.contains(e.first); }),
              d.end());
      w.record.energy_j = std::accumulate(d.begin(), d.end(), 0.0,
                                          [](double a, const auto& e) { return a + e.second; });
    }
    run_.warnings.insert(run_.warnings.end(), warnings.begin(), warnings.end());
    nlohmann::json doc = run_to_json(run_);
    nlohmann::json windows = nlohmann::json::array();
    for (const TrackedWindow& w : closed_) windows.push_back(window_to_json(w.record));
    doc["windows"] = std::move(windows);
    if (task_) doc["cluster"] = task_->cluster_json();
    out.run_json = doc;
    if (auto s = write_file_atomic(run_dir_ / kRunFile, doc.dump(2) + "\n"); !s) {
      ctx_.observer.warning(s.error().message() + " (the journal is kept; `carbonclock report " +
                            run_dir_.string() + "` rebuilds the run)");
    }
    account_and_record(run_, run_dir_, plan_.inputs, request_.db, ctx_, out.account,
                       /*record_history=*/!task_);
    // The notes were given when the run started; new warnings only.
    out.warnings.assign(run_.warnings.begin() + static_cast<ptrdiff_t>(notes_.size()),
                        run_.warnings.end());
  } else {
    run_.end_utc = ctx_.clock.system_now();
    run_.exit_code = status.exit_code;
    run_.warnings.insert(run_.warnings.end(), warnings.begin(), warnings.end());
    out.warnings = warnings;
  }
  if (task_) {
    out.cluster_json = task_->cluster_json();
    TaskRecord task = task_record();
    task.end_utc = run_.end_utc;
    task.exit_code = status.exit_code;
    if (role_ == "member") out.run_json = task_to_json(task);
    if (auto s = save_task(task, run_dir_); !s) {
      ctx_.observer.warning(s.error().message());
      out.warnings.push_back(s.error().message());
    }
  }
  task_.reset();  // releases the meter lock
  out.run = run_;
  out.windows = closed_;
  std::lock_guard lock(mu_);
  stopped_ = true;
  return out;
}

}  // namespace carbonclock
