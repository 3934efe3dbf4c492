#include "metering/meter.h"

#include <numeric>

namespace carbonclock {

Meter::Meter(std::vector<std::unique_ptr<Sensor>> sensors, Clock& clock, MeterOptions options)
    : sensors_(std::move(sensors)), clock_(clock), options_(options) {
  for (const auto& s : sensors_) {
    offsets_.push_back(devices_.size());
    const auto& d = s->devices();
    devices_.insert(devices_.end(), d.begin(), d.end());
  }
  cumulative_.assign(devices_.size(), 0.0);
}

Meter::~Meter() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void Meter::start() {
  start_mono_ = clock_.monotonic_now();
  start_utc_ = clock_.system_now();
  last_flush_ = start_mono_;
  builder_ = std::make_unique<TimelineBuilder>(start_utc_, options_.bucket, devices_);
  // The first reading is the start: offset 0, whatever time passes before the sensors answer.
  sample_at(start_mono_);
}

void Meter::attach_job(pid_t pid) { pending_job_.store(pid); }

void Meter::sample() { sample_at(clock_.monotonic_now()); }

void Meter::sample_at(MonoTime now) {
  if (pid_t job = pending_job_.exchange(0); job > 0) {
    for (auto& s : sensors_) s->attach_job(job);
  }
  for (size_t i = 0; i < sensors_.size(); ++i) {
    std::span<double> out(cumulative_.data() + offsets_[i], sensors_[i]->devices().size());
    sensors_[i]->read(now, out, warnings_);
  }
  Nanos offset = now - start_mono_;
  // The status line's power needs the previous reading; skip the sum when nobody listens.
  double before_j = on_sample_ ? std::accumulate(builder_->last_cumulative_j().begin(),
                                                 builder_->last_cumulative_j().end(), 0.0)
                               : 0.0;
  Nanos before_t = builder_->last_offset();
  builder_->add(offset, cumulative_);
  ++samples_;
  if (journal_ != nullptr) {
    journal_->sample(offset, cumulative_);
    for (; warnings_journaled_ < warnings_.size(); ++warnings_journaled_) {
      journal_->warning(offset, warnings_[warnings_journaled_]);
    }
    if (now - last_flush_ >= options_.flush_interval) {
      (void)journal_->flush();  // a full disk must not stop the job; run.json reports it later
      last_flush_ = now;
    }
  }
  if (on_sample_) {
    double total_j = std::accumulate(cumulative_.begin(), cumulative_.end(), 0.0);
    double dt = to_seconds(offset - before_t);
    on_sample_({offset, dt > 0 ? (total_j - before_j) / dt : 0.0, total_j});
  }
}

void Meter::start_thread(std::mutex* sample_lock) {
  sample_lock_ = sample_lock;
  thread_ = std::thread([this] { loop(); });
}

void Meter::loop() {
  std::unique_lock lock(mu_);
  auto next = std::chrono::steady_clock::now() + options_.interval;
  while (!stop_) {
    if (cv_.wait_until(lock, next, [this] { return stop_; })) break;
    lock.unlock();
    if (sample_lock_ != nullptr) {
      std::lock_guard sampling(*sample_lock_);
      sample();
    } else {
      sample();
    }
    lock.lock();
    next += options_.interval;
    auto now = std::chrono::steady_clock::now();
    if (next < now) next = now + options_.interval;  // fell behind: skip, never burst
  }
}

void Meter::finish(double job_cpu_s) {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  for (auto& s : sensors_) s->job_finished(job_cpu_s);
  sample();
  if (journal_ != nullptr) (void)journal_->flush();
  finished_ = true;
}

EnergyTimeline Meter::timeline() const {
  EnergyTimeline t = builder_->timeline();
  if (!finished_) return t;
  // Drop devices their sensor says the job never used (GPUs under --gpus used).
  for (size_t s = sensors_.size(); s-- > 0;) {
    for (size_t d = sensors_[s]->devices().size(); d-- > 0;) {
      if (!sensors_[s]->device_used(d)) t.drop_device(offsets_[s] + d);
    }
  }
  return t;
}

}  // namespace carbonclock
