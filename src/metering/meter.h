// The meter: reads every sensor at a fixed interval on a sampler thread, builds the energy
// timeline and appends each sample to the journal.
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "common/clock.h"
#include "metering/energy_timeline.h"
#include "metering/journal.h"
#include "sensors/sensor.h"

namespace carbonclock {

struct MeterOptions {
  Nanos interval{std::chrono::seconds(1)};
  Nanos bucket{std::chrono::minutes(5)};
  /// Journal lines are handed to the kernel at least this often.
  Nanos flush_interval{std::chrono::seconds(1)};
};

/// What the live status line shows.
struct MeterStatus {
  Nanos elapsed{};
  double power_w = 0;   ///< over the last interval
  double energy_j = 0;  ///< since the start
};

class Meter {
 public:
  Meter(std::vector<std::unique_ptr<Sensor>> sensors, Clock& clock, MeterOptions options);
  ~Meter();
  Meter(const Meter&) = delete;
  Meter& operator=(const Meter&) = delete;

  /// All devices of all sensors, in sensor order.
  const std::vector<DeviceInfo>& devices() const { return devices_; }

  /// Takes the first reading (the zero point) and fixes the run's start time.
  void start();
  SysTime start_utc() const { return start_utc_; }
  /// Attaches the journal that samples are appended to (optional).
  void set_journal(JournalWriter* journal) { journal_ = journal; }
  /// Tells sensors which process is the job. Safe while the sampler thread runs (a job
  /// restarted by a resume command): sensors learn it at the start of the next sample.
  void attach_job(pid_t pid);
  /// Called after every sample on the sampler thread (for the status line).
  void set_on_sample(std::function<void(const MeterStatus&)> fn) { on_sample_ = std::move(fn); }

  /// Takes one reading now. Thread-compatible: call from one thread at a time.
  void sample();
  /// Starts the sampler thread (one sample per interval). With `sample_lock`, the thread takes
  /// every sample holding it, so another thread holding the same lock may call sample() too
  /// (the Python API reads every counter at a window's begin and end).
  void start_thread(std::mutex* sample_lock = nullptr);
  /// Stops the sampler thread; tells sensors the job's CPU total; takes the last reading
  /// and flushes the journal.
  void finish(double job_cpu_s);

  /// The timeline so far; with finish() done, the final one with unused devices dropped.
  EnergyTimeline timeline() const;
  /// Warnings raised by sensors.
  const std::vector<std::string>& warnings() const { return warnings_; }
  int64_t samples() const { return samples_; }
  /// Cumulative joules per device at the last reading (start() or sample()), in device order.
  const std::vector<double>& last_reading_j() const { return cumulative_; }
  Nanos elapsed() const { return builder_ ? builder_->last_offset() : Nanos{0}; }

 private:
  void loop();
  /// One reading at `now` (monotonic).
  void sample_at(MonoTime now);

  std::vector<std::unique_ptr<Sensor>> sensors_;
  std::vector<size_t> offsets_;  // first device index of each sensor
  std::vector<DeviceInfo> devices_;
  Clock& clock_;
  MeterOptions options_;
  MonoTime start_mono_{};
  SysTime start_utc_{};
  std::unique_ptr<TimelineBuilder> builder_;
  std::vector<double> cumulative_;
  std::vector<std::string> warnings_;
  size_t warnings_journaled_ = 0;
  JournalWriter* journal_ = nullptr;
  std::function<void(const MeterStatus&)> on_sample_;
  MonoTime last_flush_{};
  int64_t samples_ = 0;
  bool finished_ = false;

  std::thread thread_;
  std::mutex* sample_lock_ = nullptr;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::atomic<pid_t> pending_job_{0};
};

}  // namespace carbonclock
