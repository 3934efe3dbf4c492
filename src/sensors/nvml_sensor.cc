#include "sensors/nvml_sensor.h"

#include <dlfcn.h>

#include <algorithm>
#include <cstdlib>
#include <map>
#include <utility>

#include "sensors/gpu_processes.h"
#include "sensors/nvml_api.h"
#include "sensors/process_tree.h"
#include "common/strings.h"

namespace carbonclock {
namespace {

constexpr Nanos kProcessCheckInterval = Seconds(1);


std::vector<std::string_view> split_commas(std::string_view s) {
  std::vector<std::string_view> out;
  while (true) {
    const size_t comma = s.find(',');
    out.push_back(trim(s.substr(0, comma)));
    if (comma == std::string_view::npos) return out;
    s.remove_prefix(comma + 1);
  }
}

bool all_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// The dlopen handle, closed on destruction.
struct DlCloser {
  void operator()(void* handle) const { ::dlclose(handle); }
};
using DlHandle = std::unique_ptr<void, DlCloser>;

// Resolved entry points. Required ones are non-null once load_api() succeeds; optional ones
// may be null.
struct NvmlApi {
  decltype(&nvmlInit_v2) init = nullptr;
  decltype(&nvmlShutdown) shutdown = nullptr;
  decltype(&nvmlDeviceGetCount_v2) get_count = nullptr;
  decltype(&nvmlDeviceGetHandleByIndex_v2) get_handle = nullptr;
  decltype(&nvmlErrorString) error_string = nullptr;
  decltype(&nvmlDeviceGetName) get_name = nullptr;
  decltype(&nvmlDeviceGetUUID) get_uuid = nullptr;
  decltype(&nvmlDeviceGetTotalEnergyConsumption) get_energy = nullptr;
  decltype(&nvmlDeviceGetPowerUsage) get_power = nullptr;
  decltype(&nvmlDeviceGetComputeRunningProcesses_v3) processes_v3 = nullptr;
  decltype(&nvmlDeviceGetComputeRunningProcesses_v2) processes_v2 = nullptr;
  decltype(&nvmlDeviceGetComputeRunningProcesses) processes_v1 = nullptr;
  decltype(&nvmlDeviceGetProcessUtilization) process_utilization = nullptr;
  decltype(&nvmlDeviceGetMigMode) get_mig_mode = nullptr;
  decltype(&nvmlDeviceGetMaxMigDeviceCount) get_max_mig_count = nullptr;
  decltype(&nvmlDeviceGetMigDeviceHandleByIndex) get_mig_handle = nullptr;

  /// "GPU is lost (NVML error 15)", or just the code where nvmlErrorString is missing.
  std::string describe(nvmlReturn_t code) const {
    const char* text = error_string != nullptr ? error_string(code) : nullptr;
    if (text == nullptr) return fmt::format("NVML error {}", static_cast<int>(code));
    return fmt::format("{} (NVML error {})", text, static_cast<int>(code));
  }
};

// Looks up `names` in order and stores the first one the library exports into `fn`
// (all names share fn's signature, as the driver's versioned aliases do).
template <typename Fn>
void resolve(void* handle, Fn& fn, std::initializer_list<const char*> names) {
  for (const char* name : names) {
    if (void* symbol = ::dlsym(handle, name)) {
      fn = reinterpret_cast<Fn>(symbol);
      return;
    }
  }
}

Result<DlHandle> load_library(const NvmlOptions& options) {
  std::vector<std::string> candidates;
  const char* env = std::getenv("CARBONCLOCK_NVML_LIBRARY");
  if (!options.library_path.empty()) {
    candidates.push_back(options.library_path);
  } else if (env != nullptr && *env != '\0') {
    candidates.emplace_back(env);
  } else {
    candidates = {"libnvidia-ml.so.1", "libnvidia-ml.so"};
  }
  std::string first_error;
  for (const std::string& path : candidates) {
    if (void* handle = ::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL)) return DlHandle(handle);
    const char* why = ::dlerror();
    if (first_error.empty()) first_error = why != nullptr ? why : path + ": cannot load";
  }
  return make_error("NVML not available: {}", first_error);
}

Result<NvmlApi> load_api(void* handle) {
  NvmlApi api;
  resolve(handle, api.init, {"nvmlInit_v2", "nvmlInit"});
  resolve(handle, api.shutdown, {"nvmlShutdown"});
  resolve(handle, api.get_count, {"nvmlDeviceGetCount_v2", "nvmlDeviceGetCount"});
  resolve(handle, api.get_handle, {"nvmlDeviceGetHandleByIndex_v2", "nvmlDeviceGetHandleByIndex"});
  if (api.init == nullptr || api.shutdown == nullptr || api.get_count == nullptr ||
      api.get_handle == nullptr) {
    return Error(
        "NVML not available: the library lacks nvmlInit, nvmlShutdown, "
        "nvmlDeviceGetCount or nvmlDeviceGetHandleByIndex");
  }
  resolve(handle, api.error_string, {"nvmlErrorString"});
  resolve(handle, api.get_name, {"nvmlDeviceGetName"});
  resolve(handle, api.get_uuid, {"nvmlDeviceGetUUID"});
  resolve(handle, api.get_energy, {"nvmlDeviceGetTotalEnergyConsumption"});
  resolve(handle, api.get_power, {"nvmlDeviceGetPowerUsage"});
  resolve(handle, api.processes_v3, {"nvmlDeviceGetComputeRunningProcesses_v3"});
  resolve(handle, api.processes_v2, {"nvmlDeviceGetComputeRunningProcesses_v2"});
  resolve(handle, api.processes_v1, {"nvmlDeviceGetComputeRunningProcesses"});
  resolve(handle, api.process_utilization, {"nvmlDeviceGetProcessUtilization"});
  resolve(handle, api.get_mig_mode, {"nvmlDeviceGetMigMode"});
  resolve(handle, api.get_max_mig_count, {"nvmlDeviceGetMaxMigDeviceCount"});
  resolve(handle, api.get_mig_handle, {"nvmlDeviceGetMigDeviceHandleByIndex"});
  return api;
}

// nvmlInit's matching nvmlShutdown.
class NvmlInitGuard {
 public:
  explicit NvmlInitGuard(decltype(&nvmlShutdown) shutdown) : shutdown_(shutdown) {}
  NvmlInitGuard(const NvmlInitGuard&) = delete;
  NvmlInitGuard& operator=(const NvmlInitGuard&) = delete;
  ~NvmlInitGuard() { shutdown_(); }

 private:
  decltype(&nvmlShutdown) shutdown_;
};

// A GPU as enumerated at start-up.
struct GpuEntry {
  unsigned index = 0;
  nvmlDevice_t handle = nullptr;
  std::string name;
  std::string uuid;
  bool mig_enabled = false;
  std::vector<std::string> mig_uuids;  // of its MIG devices
};

std::string query_string(decltype(&nvmlDeviceGetName) fn, nvmlDevice_t handle) {
  char buf[kNvmlDeviceNameBufferSize] = {};
  if (fn == nullptr || fn(handle, buf, sizeof buf) != NVML_SUCCESS) return {};
  return buf;
}

std::vector<GpuEntry> enumerate(const NvmlApi& api, unsigned count) {
  std::vector<GpuEntry> gpus;
  for (unsigned i = 0; i < count; ++i) {
    GpuEntry gpu;
    gpu.index = i;
    if (api.get_handle(i, &gpu.handle) != NVML_SUCCESS) continue;  // e.g. no permission
    gpu.name = query_string(api.get_name, gpu.handle);
    if (gpu.name.empty()) gpu.name = "NVIDIA GPU";
    gpu.uuid = query_string(api.get_uuid, gpu.handle);
    unsigned current = 0, pending = 0;
    gpu.mig_enabled = api.get_mig_mode != nullptr &&
                      api.get_mig_mode(gpu.handle, &current, &pending) == NVML_SUCCESS &&
                      current == kNvmlDeviceMigEnable;
    unsigned max_mig = 0;
    if (gpu.mig_enabled && api.get_max_mig_count != nullptr && api.get_mig_handle != nullptr &&
        api.get_max_mig_count(gpu.handle, &max_mig) == NVML_SUCCESS) {
      for (unsigned m = 0; m < max_mig; ++m) {
        nvmlDevice_t mig = nullptr;
        if (api.get_mig_handle(gpu.handle, m, &mig) != NVML_SUCCESS) continue;
        gpu.mig_uuids.push_back(query_string(api.get_uuid, mig));
      }
    }
    gpus.push_back(std::move(gpu));
  }
  return gpus;
}

// A selected GPU and how many of its MIG devices the job holds (0: none named).
struct Pick {
  size_t gpu = 0;
  unsigned mig_devices = 0;
};

// Finds the GPU an item names: an NVML index, or a unique prefix of a GPU or MIG UUID.
// Returns false when nothing or more than one GPU matches.
bool match_item(const std::vector<GpuEntry>& gpus, std::string_view item, size_t& gpu,
                bool& is_mig) {
  is_mig = false;
  if (all_digits(item)) {
    for (size_t i = 0; i < gpus.size(); ++i) {
      if (std::to_string(gpus[i].index) == item) {
        gpu = i;
        return true;
      }
    }
    return false;
  }
  int matches = 0;
  for (size_t i = 0; i < gpus.size(); ++i) {
    if (!gpus[i].uuid.empty() && std::string_view(gpus[i].uuid).starts_with(item)) {
      gpu = i;
      ++matches;
    }
    for (const std::string& mig : gpus[i].mig_uuids) {
      if (!mig.empty() && std::string_view(mig).starts_with(item)) {
        gpu = i;
        is_mig = true;
        ++matches;
      }
    }
  }
  return matches == 1 && item.size() > 4;  // "GPU-" alone names nothing
}

void add_pick(std::vector<Pick>& picks, size_t gpu, bool is_mig) {
  auto it = std::find_if(picks.begin(), picks.end(), [&](const Pick& p) { return p.gpu == gpu; });
  if (it == picks.end()) it = picks.insert(picks.end(), Pick{gpu, 0});
  if (is_mig) ++it->mig_devices;
}

std::string describe_gpus(const std::vector<GpuEntry>& gpus) {
  std::string out;
  for (const GpuEntry& g : gpus) {
    out += fmt::format("{}{} {}", out.empty() ? "" : ", ", g.index, g.uuid);
  }
  return out;
}

Result<std::vector<Pick>> select_gpus(const std::vector<GpuEntry>& gpus,
                                      const NvmlOptions& options) {
  std::vector<Pick> picks;
  if (options.gpus.mode == GpuSelection::Mode::kList) {
    for (const std::string& item : options.gpus.list) {
      size_t gpu = 0;
      bool is_mig = false;
      if (!match_item(gpus, trim(item), gpu, is_mig)) {
        return make_error("--gpus: '{}' matches no single GPU (GPUs: {})", item,
                          describe_gpus(gpus));
      }
      add_pick(picks, gpu, is_mig);
    }
    return picks;
  }
  if (!options.cuda_visible_devices) {
    for (size_t i = 0; i < gpus.size(); ++i) picks.push_back(Pick{i, 0});
    return picks;
  }
  // CUDA's rule: the list ends at the first item that is invalid or repeats a device.
  std::vector<std::string_view> seen;
  for (std::string_view item : split_commas(*options.cuda_visible_devices)) {
    size_t gpu = 0;
    bool is_mig = false;
    if (item.empty() || std::find(seen.begin(), seen.end(), item) != seen.end() ||
        !match_item(gpus, item, gpu, is_mig)) {
      break;
    }
    if (!is_mig &&
        std::any_of(picks.begin(), picks.end(), [&](const Pick& p) { return p.gpu == gpu; })) {
      break;
    }
    seen.push_back(item);
    add_pick(picks, gpu, is_mig);
  }
  if (picks.empty()) {
    return make_error("no GPUs visible to the job: CUDA_VISIBLE_DEVICES='{}' names none of ({})",
                      *options.cuda_visible_devices, describe_gpus(gpus));
  }
  return picks;
}

class NvmlSensor final : public Sensor, public GpuProcessSource {
 public:
  NvmlSensor(DlHandle library, NvmlApi api, bool track_used, Nanos retry_lost_after)
      : library_(std::move(library)),
        api_(api),
        init_(api_.shutdown),
        track_used_(track_used),
        retry_lost_after_(retry_lost_after) {}

  // Adds a GPU; probes its energy counter to choose the method.
  void add(const GpuEntry& entry, unsigned job_mig_devices) {
    Gpu gpu;
    gpu.handle = entry.handle;
    unsigned long long energy_mj = 0;
    gpu.counter =
        api_.get_energy != nullptr && api_.get_energy(entry.handle, &energy_mj) == NVML_SUCCESS;
    DeviceInfo info;
    info.id = fmt::format("gpu{}", entry.index);
    info.kind = DeviceKind::kGpu;
    info.name = entry.name;
    info.uuid = entry.uuid;
    info.method = gpu.counter ? Method::kCounter : Method::kPowerIntegration;
    if (!gpu.counter) info.note = "no energy counter on this GPU: power draw integrated over time";
    if (entry.mig_enabled) {
      const unsigned total = static_cast<unsigned>(entry.mig_uuids.size());
      const unsigned held = std::max(1u, job_mig_devices);
      gpu.share = total > 0 ? std::min(1.0, static_cast<double>(held) / total) : 1.0;
      info.method = Method::kEstimate;
      info.note = total > 0 ? fmt::format(
                                  "MIG mode: {} of the GPU's {} MIG devices, estimated as that "
                                  "share of the whole GPU's {}",
                                  held, total, gpu.counter ? "energy counter" : "power draw")
                            : "MIG mode with no MIG devices: whole GPU's energy, estimated";
    }
    gpus_.push_back(gpu);
    devices_.push_back(std::move(info));
  }

  std::string name() const override { return "nvml"; }
  const std::vector<DeviceInfo>& devices() const override { return devices_; }
  void attach_job(pid_t job_pid) override { job_pid_ = job_pid; }

  void read(MonoTime now, std::span<double> energy_j, std::vector<std::string>& warnings) override {
    for (size_t i = 0; i < gpus_.size(); ++i) {
      Gpu& gpu = gpus_[i];
      const bool retry =
          gpu.failed && retry_lost_after_ > Nanos(0) && now - gpu.failed_at >= retry_lost_after_;
      if (!gpu.failed || retry) {
        const nvmlReturn_t code = gpu.counter ? read_counter(gpu) : read_power(gpu, now);
        if (code == NVML_SUCCESS && gpu.failed) {
          recover(i, warnings);
        } else if (code != NVML_SUCCESS && gpu.failed) {
          gpu.failed_at = now;  // still lost: ask again after another retry_lost_after
        } else if (code != NVML_SUCCESS) {
          fail(i, code, now, warnings);
        }
      }
      if (i < energy_j.size()) energy_j[i] = gpu.energy_j;
    }
    if (track_used_ && job_pid_ > 0 &&
        (!checked_processes_ || now - last_process_check_ >= kProcessCheckInterval)) {
      checked_processes_ = true;
      last_process_check_ = now;
      check_processes(warnings);
    }
  }

  bool device_used(size_t index) const override {
    if (!track_used_) return true;
    return index < gpus_.size() && (gpus_[index].used || gpus_[index].used_unknown);
  }

  bool responding(size_t index) const override {
    return index < gpus_.size() && !gpus_[index].failed;
  }

  Result<std::vector<GpuProcess>> gpu_processes(size_t index) override {
    if (index >= gpus_.size()) return make_error(ErrorCode::kInternal, "no GPU device {}", index);
    Gpu& gpu = gpus_[index];
    const DeviceInfo& d = devices_[index];
    std::vector<pid_t> pids;
    nvmlReturn_t code = NVML_ERROR_FUNCTION_NOT_FOUND;
    if (api_.processes_v3 != nullptr) {
      code = collect_pids(api_.processes_v3, gpu.handle, infos_, pids);
    } else if (api_.processes_v2 != nullptr) {
      code = collect_pids(api_.processes_v2, gpu.handle, infos_, pids);
    } else if (api_.processes_v1 != nullptr) {
      code = collect_pids(api_.processes_v1, gpu.handle, infos_v1_, pids);
    }
    if (code != NVML_SUCCESS) {
      return make_error(ErrorCode::kUnavailable, "nvml: cannot list the processes on {} ({}): {}",
                        d.id, d.name, api_.describe(code));
    }
    std::vector<GpuProcess> out;
    out.reserve(pids.size());
    for (pid_t pid : pids) out.push_back(GpuProcess{pid, std::nullopt});
    add_utilisation(gpu, out);
    return out;
  }

 private:
  struct Gpu {
    nvmlDevice_t handle = nullptr;
    bool counter = false;
    double share = 1.0;  // < 1 for a MIG share
    bool started = false;
    unsigned long long last_mj = 0;
    double last_power_w = 0;
    MonoTime last_time{};
    double energy_j = 0;
    bool failed = false;
    MonoTime failed_at{};
    unsigned long long util_seen_us = 0;  // newest process-utilisation sample read
    bool used = false;
    bool used_unknown = false;  // the process list could not be read: kept in the record
  };

  nvmlReturn_t read_counter(Gpu& gpu) {
    unsigned long long mj = 0;
    const nvmlReturn_t code = api_.get_energy(gpu.handle, &mj);
    if (code != NVML_SUCCESS) return code;
    // A counter that goes backwards was reset (driver reload): count from its new value.
    if (gpu.started && mj >= gpu.last_mj) {
      gpu.energy_j += static_cast<double>(mj - gpu.last_mj) * 1e-3 * gpu.share;
    }
    gpu.last_mj = mj;
    gpu.started = true;
    return NVML_SUCCESS;
  }

  nvmlReturn_t read_power(Gpu& gpu, MonoTime now) {
    if (api_.get_power == nullptr) return NVML_ERROR_FUNCTION_NOT_FOUND;
    unsigned mw = 0;
    const nvmlReturn_t code = api_.get_power(gpu.handle, &mw);
    if (code != NVML_SUCCESS) return code;
    const double power_w = mw * 1e-3;
    if (gpu.started && now > gpu.last_time) {
      gpu.energy_j +=
          0.5 * (gpu.last_power_w + power_w) * to_seconds(now - gpu.last_time) * gpu.share;
    }
    gpu.last_power_w = power_w;
    gpu.last_time = now;
    gpu.started = true;
    return NVML_SUCCESS;
  }

  void fail(size_t i, nvmlReturn_t code, MonoTime now, std::vector<std::string>& warnings) {
    Gpu& gpu = gpus_[i];
    gpu.failed = true;
    gpu.failed_at = now;
    const DeviceInfo& d = devices_[i];
    if (retry_lost_after_ > Nanos(0)) {
      gpu.started = gpu.counter && gpu.started;  // power integration restarts on return
      warnings.push_back(fmt::format(
          "nvml: {} ({}, {}) stopped responding: {}; its energy stays at {:.1f} J until it "
          "answers again (asked every {})",
          d.id, d.name, d.uuid, api_.describe(code), gpu.energy_j,
          format_duration(retry_lost_after_)));
      return;
    }
    warnings.push_back(fmt::format(
        "nvml: {} ({}, {}) stopped responding: {}; its energy stays at {:.1f} J from here on", d.id,
        d.name, d.uuid, api_.describe(code), gpu.energy_j));
  }

  void recover(size_t i, std::vector<std::string>& warnings) {
    gpus_[i].failed = false;
    const DeviceInfo& d = devices_[i];
    warnings.push_back(fmt::format("nvml: {} ({}, {}) answers again; counting from {:.1f} J", d.id,
                                   d.name, d.uuid, gpus_[i].energy_j));
  }

  // Adds each process's mean SM utilisation over the driver's samples newer than the last
  // ones read for this GPU. Processes without a sample keep nullopt.
  void add_utilisation(Gpu& gpu, std::vector<GpuProcess>& processes) {
    if (api_.process_utilization == nullptr || processes.empty()) return;
    unsigned count = 0;
    nvmlReturn_t code = NVML_ERROR_INSUFFICIENT_SIZE;
    for (int attempt = 0; attempt < 4 && code == NVML_ERROR_INSUFFICIENT_SIZE; ++attempt) {
      if (utilisation_.size() < count + 16) utilisation_.resize(count + 16);
      count = static_cast<unsigned>(utilisation_.size());
      code = api_.process_utilization(gpu.handle, utilisation_.data(), &count, gpu.util_seen_us);
    }
    if (code != NVML_SUCCESS) return;              // NOT_FOUND: no sample since the last call
    std::map<pid_t, std::pair<double, int>> sums;  // pid -> (sum of smUtil, samples)
    for (unsigned k = 0; k < count && k < utilisation_.size(); ++k) {
      const nvmlProcessUtilizationSample_t& s = utilisation_[k];
      auto& [sum, n] = sums[static_cast<pid_t>(s.pid)];
      sum += s.smUtil;
      ++n;
      gpu.util_seen_us = std::max(gpu.util_seen_us, s.timeStamp);
    }
    for (GpuProcess& p : processes) {
      auto it = sums.find(p.pid);
      if (it != sums.end()) p.sm_util_pct = it->second.first / it->second.second;
    }
  }

  // Calls one of the GetComputeRunningProcesses variants into `buffer` (grown while the
  // driver says it is too small) and appends the listed pids.
  template <typename Fn, typename Info>
  static nvmlReturn_t collect_pids(Fn fn, nvmlDevice_t handle, std::vector<Info>& buffer,
                                   std::vector<pid_t>& pids) {
    nvmlReturn_t code = NVML_ERROR_INSUFFICIENT_SIZE;
    unsigned count = 0;
    for (int attempt = 0; attempt < 4 && code == NVML_ERROR_INSUFFICIENT_SIZE; ++attempt) {
      if (buffer.size() < count + 16) buffer.resize(count + 16);
      count = static_cast<unsigned>(buffer.size());
      code = fn(handle, &count, buffer.data());
    }
    if (code != NVML_SUCCESS) return code;
    for (unsigned k = 0; k < count && k < buffer.size(); ++k) {
      pids.push_back(static_cast<pid_t>(buffer[k].pid));
    }
    return NVML_SUCCESS;
  }

  // Marks the GPUs whose compute processes include a process of the job's tree.
  void check_processes(std::vector<std::string>& warnings) {
    std::vector<pid_t> job = process_tree_pids(job_pid_);
    if (job.empty()) return;
    std::sort(job.begin(), job.end());
    for (size_t i = 0; i < gpus_.size(); ++i) {
      Gpu& gpu = gpus_[i];
      if (gpu.failed || gpu.used || gpu.used_unknown) continue;
      nvmlReturn_t code = NVML_ERROR_FUNCTION_NOT_FOUND;
      if (api_.processes_v3 != nullptr) {
        code = list_processes(api_.processes_v3, gpu.handle, infos_, job, gpu.used);
      } else if (api_.processes_v2 != nullptr) {
        code = list_processes(api_.processes_v2, gpu.handle, infos_, job, gpu.used);
      } else if (api_.processes_v1 != nullptr) {
        code = list_processes(api_.processes_v1, gpu.handle, infos_v1_, job, gpu.used);
      }
      if (code != NVML_SUCCESS) {
        gpu.used_unknown = true;
        warnings.push_back(
            fmt::format("nvml: cannot list the processes on {} ({}): {}; keeping it in the record",
                        devices_[i].id, devices_[i].name, api_.describe(code)));
      }
    }
  }

  // Calls one of the GetComputeRunningProcesses variants, growing `buffer` while the driver
  // says it is too small, and sets `used` when a listed pid is in `job` (sorted).
  template <typename Fn, typename Info>
  static nvmlReturn_t list_processes(Fn fn, nvmlDevice_t handle, std::vector<Info>& buffer,
                                     const std::vector<pid_t>& job, bool& used) {
    nvmlReturn_t code = NVML_ERROR_INSUFFICIENT_SIZE;
    unsigned count = 0;
    for (int attempt = 0; attempt < 4 && code == NVML_ERROR_INSUFFICIENT_SIZE; ++attempt) {
      if (buffer.size() < count + 16) buffer.resize(count + 16);
      count = static_cast<unsigned>(buffer.size());
      code = fn(handle, &count, buffer.data());
    }
    if (code != NVML_SUCCESS) return code;
    for (unsigned k = 0; k < count && k < buffer.size(); ++k) {
      if (std::binary_search(job.begin(), job.end(), static_cast<pid_t>(buffer[k].pid)))
        used = true;
    }
    return NVML_SUCCESS;
  }

  DlHandle library_;  // destroyed last: closes the library after nvmlShutdown
  NvmlApi api_;
  NvmlInitGuard init_;  // calls nvmlShutdown before library_ closes
  bool track_used_;
  Nanos retry_lost_after_;
  std::vector<Gpu> gpus_;
  std::vector<DeviceInfo> devices_;
  pid_t job_pid_ = 0;
  bool checked_processes_ = false;
  MonoTime last_process_check_{};
  std::vector<nvmlProcessInfo_v2_t> infos_;
  std::vector<nvmlProcessInfo_v1_t> infos_v1_;
  std::vector<nvmlProcessUtilizationSample_t> utilisation_;
};

}  // namespace

Result<GpuSelection> parse_gpu_selection(std::string_view text) {
  const std::string_view trimmed = trim(text);
  GpuSelection selection;
  if (trimmed == "all" || trimmed == "visible") return selection;
  if (trimmed == "used") {
    selection.mode = GpuSelection::Mode::kUsed;
    return selection;
  }
  selection.mode = GpuSelection::Mode::kList;
  for (std::string_view item : split_commas(trimmed)) {
    if (!all_digits(item) && !(item.starts_with("GPU-") && item.size() > 4) &&
        !(item.starts_with("MIG-") && item.size() > 4)) {
      return make_error(
          "--gpus '{}': '{}' is not a GPU index or UUID (use all, visible, used, or a list "
          "such as 0,2 or GPU-8c2e)",
          text, item);
    }
    selection.list.emplace_back(item);
  }
  return selection;
}

Result<std::unique_ptr<Sensor>> open_nvml_sensor(const NvmlOptions& options) {
  auto library = load_library(options);
  if (!library) return library.error();
  auto api = load_api(library->get());
  if (!api) return api.error();
  if (nvmlReturn_t code = api->init(); code != NVML_SUCCESS) {
    return make_error("NVML initialisation failed: {}", api->describe(code));
  }
  // From here the sensor owns the library and the nvmlInit, whatever happens next.
  const NvmlApi resolved = *api;
  auto sensor = std::make_unique<NvmlSensor>(std::move(library).value(), resolved,
                                             options.gpus.mode == GpuSelection::Mode::kUsed,
                                             options.retry_lost_after);
  unsigned count = 0;
  if (nvmlReturn_t code = resolved.get_count(&count); code != NVML_SUCCESS) {
    return make_error("NVML cannot count GPUs: {}", resolved.describe(code));
  }
  const std::vector<GpuEntry> gpus = enumerate(resolved, count);
  if (gpus.empty()) return Error("NVML found no GPUs");
  auto picks = select_gpus(gpus, options);
  if (!picks) return picks.error();
  for (const Pick& pick : *picks) sensor->add(gpus[pick.gpu], pick.mig_devices);
  return std::unique_ptr<Sensor>(std::move(sensor));
}

}  // namespace carbonclock
