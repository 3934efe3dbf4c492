#include "exporter/node_meter.h"

#include <fmt/format.h>

#include <algorithm>
#include <span>

#include "exporter/attribution.h"

namespace carbonclock {

NodeMeter::NodeMeter(std::vector<std::unique_ptr<Sensor>> sensors,
                     std::unique_ptr<JobTracker> tracker, IntensityFeed& feed, Clock& clock,
                     Observer& observer, NodeMeterOptions options)
    : sensors_(std::move(sensors)),
      tracker_(std::move(tracker)),
      feed_(feed),
      clock_(clock),
      observer_(observer),
      options_(options) {
  for (const auto& sensor : sensors_) {
    auto* gpu = dynamic_cast<GpuProcessSource*>(sensor.get());
    for (size_t i = 0; i < sensor->devices().size(); ++i) {
      Device d;
      d.info = sensor->devices()[i];
      d.sensor = sensor.get();
      d.gpu = d.info.kind == DeviceKind::kGpu ? gpu : nullptr;
      d.index_in_sensor = i;
      devices_.push_back(std::move(d));
    }
  }
  readings_.assign(devices_.size(), 0.0);
  deltas_.assign(devices_.size(), 0.0);
}

std::vector<DeviceInfo> NodeMeter::devices() const {
  std::vector<DeviceInfo> out;
  for (const Device& d : devices_) out.push_back(d.info);
  return out;
}

size_t NodeMeter::key_index(const EmissionKey& key) {
  auto it = std::find(keys_.begin(), keys_.end(), key);
  if (it != keys_.end()) return static_cast<size_t>(it - keys_.begin());
  keys_.push_back(key);
  return keys_.size() - 1;
}

void NodeMeter::step(bool attributing) {
  std::lock_guard lock(mu_);
  const MonoTime now = clock_.monotonic_now();
  const SysTime now_utc = clock_.system_now();
  size_t offset = 0;
  for (const auto& sensor : sensors_) {
    const size_t n = sensor->devices().size();
    warnings_.clear();
    sensor->read(now, std::span<double>(readings_.data() + offset, n), warnings_);
    for (const std::string& w : warnings_) {
      observer_.warning(w);
      ++errors_[sensor->name()];
    }
    offset += n;
  }
  if (!started_) {
    for (size_t i = 0; i < devices_.size(); ++i) devices_[i].raw_j = readings_[i];
    started_ = true;
    last_attribution_ = now;
    last_utc_ = now_utc;
    if (auto scan = tracker_->scan(now); !scan) ++errors_["proc"];  // baselines
    ++steps_;
    return;
  }

  double total_j = 0;
  for (size_t i = 0; i < devices_.size(); ++i) {
    Device& d = devices_[i];
    // Sensors never go backwards; a reading that did would be held, never subtracted.
    deltas_[i] = std::max(0.0, readings_[i] - d.raw_j);
    d.raw_j = std::max(d.raw_j, readings_[i]);
    d.energy_j += deltas_[i];
    d.pending_j += deltas_[i];
    total_j += deltas_[i];
  }
  if (total_j > 0) {
    // Every device's energy is spread over the same stretch, so one pricing serves all: a
    // device's grams are its share of the stretch's energy times the stretch's grams.
    const PricedEnergy priced = feed_.price(last_utc_, now_utc, total_j);
    for (const PricedEnergy::Part& part : priced.parts) {
      const EmissionKey key{to_string(part.provenance.signal), to_string(part.provenance.factor)};
      const double grams = part.it_g * options_.pue;
      emissions_g_[key] += grams;
      priced_j_[{key.signal, key.factor, provenance_label(part.provenance.basis)}] += part.energy_j;
      const size_t k = key_index(key);
      for (size_t i = 0; i < devices_.size(); ++i) {
        if (deltas_[i] <= 0) continue;
        add_grams(devices_[i].pending_g, k, grams * deltas_[i] / total_j);
      }
    }
    if (priced.unpriced_energy_j > 0) {
      priced_j_[{to_string(feed_.signal()), "", provenance_label(IntensityBasis::kUnpriced)}] +=
          priced.unpriced_energy_j;
    }
  }
  last_utc_ = now_utc;
  ++steps_;
  if (attributing) attribute(now);
}

void NodeMeter::add_grams(std::vector<std::pair<size_t, double>>& grams, size_t key, double g) {
  for (auto& [k, v] : grams) {
    if (k == key) {
      v += g;
      return;
    }
  }
  grams.emplace_back(key, g);
}

NodeMeter::Job& NodeMeter::job(const JobKey& key, MonoTime now) {
  auto it = jobs_.find(key);
  if (it == jobs_.end()) {
    const JobKey overflow{Scheduler::kOverflow, "overflow"};
    if (jobs_.size() >= options_.max_jobs && key != overflow) return job(overflow, now);
    it = jobs_.emplace(key, Job{}).first;
    it->second.device_energy_j.assign(devices_.size(), 0.0);
  }
  it->second.last_active = now;
  return it->second;
}

void NodeMeter::attribute(MonoTime now) {
  ++attributing_steps_;
  const double dt_s = to_seconds(now - last_attribution_);
  for (Device& d : devices_) {
    if (dt_s > 0) d.power_w = (d.energy_j - d.energy_at_attribution_j) / dt_s;
    d.energy_at_attribution_j = d.energy_j;
  }
  last_attribution_ = now;

  auto scan = tracker_->scan(now);
  if (!scan) {
    ++errors_["proc"];
    if (!proc_warned_) {
      observer_.warning(fmt::format("jobs not attributed: {}", scan.error().message()));
      proc_warned_ = true;
    }
  }
  const JobShares cpu = scan ? cpu_shares(*scan) : JobShares{};
  if (scan) {
    for (const auto& [key, cpu_s] : scan->jobs) {
      // A job keeps its series while any process of it lives.
      if (auto it = jobs_.find(key); it != jobs_.end()) it->second.last_active = now;
    }
  }
  auto job_of = [this](pid_t pid) { return tracker_->job_of(pid); };
  for (Device& d : devices_) {
    if (d.pending_j <= 0) continue;
    JobShares gpu;
    const JobShares* shares = &cpu;
    if (d.info.kind == DeviceKind::kGpu) {
      shares = &gpu;
      if (d.gpu != nullptr) {
        auto processes = d.gpu->gpu_processes(d.index_in_sensor);
        if (processes) {
          gpu = gpu_shares(*processes, job_of);
        } else if (d.gpu->responding(d.index_in_sensor)) {
          ++errors_[d.sensor->name()];
        }
      }
    }
    for (const auto& [key, share] : *shares) {
      Job& j = job(key, now);
      const size_t index = static_cast<size_t>(&d - devices_.data());
      j.device_energy_j[index] += d.pending_j * share;
      for (const auto& [k, g] : d.pending_g) j.grams[keys_[k]] += g * share;
    }
    d.pending_j = 0;
    d.pending_g.clear();
  }
  for (auto it = jobs_.begin(); it != jobs_.end();) {
    if (now - it->second.last_active > options_.job_grace) {
      it = jobs_.erase(it);
      ++jobs_expired_;
    } else {
      ++it;
    }
  }
}

NodeSnapshot NodeMeter::snapshot() const {
  NodeSnapshot out;
  const SysTime now_utc = clock_.system_now();
  out.zone = feed_.zone();
  out.pue = options_.pue;
  out.intensity = feed_.current(now_utc);
  std::lock_guard lock(mu_);
  for (const Device& d : devices_) {
    const bool up = d.gpu == nullptr || d.gpu->responding(d.index_in_sensor);
    out.devices.push_back({d.info, d.energy_j, d.power_w, up});
  }
  out.emissions_g = emissions_g_;
  out.priced_energy_j = priced_j_;
  for (const auto& [key, j] : jobs_) out.jobs.push_back({key, j.device_energy_j, j.grams});
  out.steps = steps_;
  out.attributing_steps = attributing_steps_;
  out.jobs_expired = jobs_expired_;
  out.errors = errors_;
  return out;
}

}  // namespace carbonclock
