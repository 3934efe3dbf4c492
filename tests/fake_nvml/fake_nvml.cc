// A scripted stand-in for libnvidia-ml.so.1: exports the driver's C symbols (see
// src/sensors/nvml_api.h) and answers from the script named by FAKE_NVML_SCRIPT. Built
// twice: the full library, and with FAKE_NVML_LEGACY only the unversioned symbols of an
// old driver (no _v2/_v3 entry points, no MIG calls).
#include <dirent.h>
#include <time.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "fake_nvml_script.h"

#pragma GCC visibility push(default)
#include "sensors/nvml_api.h"
#pragma GCC visibility pop

namespace {

using fake_nvml::GpuScript;

// What a handle points at: a GPU (mig < 0) or one of its MIG devices.
struct FakeHandle {
  unsigned gpu = 0;
  int mig = -1;
};

struct FakeGpu {
  GpuScript script;
  FakeHandle handle;
  std::vector<FakeHandle> mig_handles;
};

struct State {
  std::mutex mutex;
  int init_count = 0;
  unsigned process_queries = 0;
  double t0_s = 0;
  std::vector<std::unique_ptr<FakeGpu>> gpus;
};

State& state() {
  static State s;
  return s;
}

double monotonic_s() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

// Seconds since the first nvmlInit.
double elapsed_s() { return monotonic_s() - state().t0_s; }

nvmlReturn_t do_init() {
  State& s = state();
  std::lock_guard lock(s.mutex);
  if (s.init_count > 0) {
    ++s.init_count;
    return NVML_SUCCESS;
  }
  const char* path = std::getenv("FAKE_NVML_SCRIPT");
  if (path == nullptr) {
    std::fprintf(stderr, "fake nvml: FAKE_NVML_SCRIPT is not set\n");
    return NVML_ERROR_UNKNOWN;
  }
  std::string error;
  auto script = fake_nvml::load_script(path, error);
  if (!script) {
    std::fprintf(stderr, "fake nvml: %s\n", error.c_str());
    return NVML_ERROR_UNKNOWN;
  }
  if (script->init_error != 0) return static_cast<nvmlReturn_t>(script->init_error);
  s.gpus.clear();
  for (size_t i = 0; i < script->gpus.size(); ++i) {
    auto gpu = std::make_unique<FakeGpu>();
    gpu->script = std::move(script->gpus[i]);
    gpu->handle.gpu = static_cast<unsigned>(i);
    for (unsigned m = 0; m < gpu->script.mig_devices; ++m) {
      gpu->mig_handles.push_back(FakeHandle{static_cast<unsigned>(i), static_cast<int>(m)});
    }
    s.gpus.push_back(std::move(gpu));
  }
  s.t0_s = monotonic_s();
  s.init_count = 1;
  return NVML_SUCCESS;
}

nvmlReturn_t do_get_count(unsigned int* count) {
  if (state().init_count == 0) return NVML_ERROR_UNINITIALIZED;
  if (count == nullptr) return NVML_ERROR_INVALID_ARGUMENT;
  *count = static_cast<unsigned>(state().gpus.size());
  return NVML_SUCCESS;
}

nvmlReturn_t do_get_handle(unsigned int index, nvmlDevice_t* device) {
  if (state().init_count == 0) return NVML_ERROR_UNINITIALIZED;
  if (device == nullptr || index >= state().gpus.size()) return NVML_ERROR_INVALID_ARGUMENT;
  *device = reinterpret_cast<nvmlDevice_t>(&state().gpus[index]->handle);
  return NVML_SUCCESS;
}

// Resolves a handle; sets `gpu` and, for a MIG device, `mig`. Fails for unknown handles and
// for GPUs past their scripted vanishing time.
nvmlReturn_t lookup(nvmlDevice_t device, FakeGpu*& gpu, int* mig = nullptr) {
  State& s = state();
  if (s.init_count == 0) return NVML_ERROR_UNINITIALIZED;
  const auto* h = reinterpret_cast<const FakeHandle*>(device);
  for (auto& g : s.gpus) {
    bool match = h == &g->handle;
    for (const FakeHandle& m : g->mig_handles) match = match || h == &m;
    if (!match) continue;
    if (g->script.lost_at(elapsed_s())) return NVML_ERROR_GPU_IS_LOST;
    gpu = g.get();
    if (mig != nullptr) *mig = h->mig;
    return NVML_SUCCESS;
  }
  return NVML_ERROR_INVALID_ARGUMENT;
}

nvmlReturn_t copy_string(const std::string& value, char* out, unsigned int length) {
  if (out == nullptr) return NVML_ERROR_INVALID_ARGUMENT;
  if (value.size() + 1 > length) return NVML_ERROR_INSUFFICIENT_SIZE;
  std::memcpy(out, value.c_str(), value.size() + 1);
  return NVML_SUCCESS;
}

// Pids of live processes whose /proc/PID/comm is `comm`.
std::vector<unsigned> pids_with_comm(const std::string& comm) {
  std::vector<unsigned> pids;
  if (comm.empty()) return pids;
  DIR* dir = opendir("/proc");
  if (dir == nullptr) return pids;
  while (dirent* e = readdir(dir)) {
    char* end = nullptr;
    const unsigned long pid = std::strtoul(e->d_name, &end, 10);
    if (end == e->d_name || *end != '\0') continue;
    const std::string path = std::string("/proc/") + e->d_name + "/comm";
    FILE* f = std::fopen(path.c_str(), "r");
    if (f == nullptr) continue;
    char buf[64] = {};
    const bool read = std::fgets(buf, sizeof buf, f) != nullptr;
    std::fclose(f);
    if (!read) continue;
    buf[std::strcspn(buf, "\n")] = '\0';
    if (comm == buf) pids.push_back(static_cast<unsigned>(pid));
  }
  closedir(dir);
  return pids;
}

// The driver's contract for process lists: too small a buffer gets INSUFFICIENT_SIZE and the
// needed count; otherwise the entries and their count.
template <typename Info>
nvmlReturn_t do_processes(nvmlDevice_t device, unsigned int* count, Info* infos) {
  std::lock_guard lock(state().mutex);
  ++state().process_queries;
  FakeGpu* gpu = nullptr;
  if (nvmlReturn_t r = lookup(device, gpu); r != NVML_SUCCESS) return r;
  if (count == nullptr) return NVML_ERROR_INVALID_ARGUMENT;
  std::vector<unsigned> pids;
  for (const auto& rule : gpu->script.processes) {
    for (unsigned pid : pids_with_comm(rule.comm)) pids.push_back(pid);
  }
  if (*count < pids.size()) {
    *count = static_cast<unsigned>(pids.size());
    return NVML_ERROR_INSUFFICIENT_SIZE;
  }
  if (!pids.empty() && infos == nullptr) return NVML_ERROR_INVALID_ARGUMENT;
  for (size_t i = 0; i < pids.size(); ++i) {
    Info info{};
    info.pid = pids[i];
    info.usedGpuMemory = 256ull << 20;
    if constexpr (sizeof(Info) == sizeof(nvmlProcessInfo_v2_t)) {
      info.gpuInstanceId = gpu->script.mig_devices > 0 ? 0 : 0xFFFFFFFFu;
      info.computeInstanceId = gpu->script.mig_devices > 0 ? 0 : 0xFFFFFFFFu;
    }
    infos[i] = info;
  }
  *count = static_cast<unsigned>(pids.size());
  return NVML_SUCCESS;
}

// Wall-clock microseconds, the driver's timestamp for utilisation samples.
unsigned long long realtime_us() {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<unsigned long long>(ts.tv_sec) * 1000000ull +
         static_cast<unsigned long long>(ts.tv_nsec) / 1000ull;
}

// One sample, stamped now, for every running process of a rule with sm=PERCENT; the driver's
// contract for the buffer as for process lists; NOT_FOUND when no sample is newer than
// `last_seen_us`.
nvmlReturn_t do_process_utilization(nvmlDevice_t device, nvmlProcessUtilizationSample_t* samples,
                                    unsigned int* count, unsigned long long last_seen_us) {
  std::lock_guard lock(state().mutex);
  FakeGpu* gpu = nullptr;
  if (nvmlReturn_t r = lookup(device, gpu); r != NVML_SUCCESS) return r;
  if (count == nullptr) return NVML_ERROR_INVALID_ARGUMENT;
  const unsigned long long now_us = realtime_us();
  std::vector<nvmlProcessUtilizationSample_t> out;
  for (const auto& rule : gpu->script.processes) {
    if (!rule.sm_util_pct || now_us <= last_seen_us) continue;
    for (unsigned pid : pids_with_comm(rule.comm)) {
      nvmlProcessUtilizationSample_t sample{};
      sample.pid = pid;
      sample.timeStamp = now_us;
      sample.smUtil = static_cast<unsigned>(*rule.sm_util_pct + 0.5);
      out.push_back(sample);
    }
  }
  if (out.empty()) return NVML_ERROR_NOT_FOUND;
  if (samples == nullptr || *count < out.size()) {
    *count = static_cast<unsigned>(out.size());
    return NVML_ERROR_INSUFFICIENT_SIZE;
  }
  for (size_t i = 0; i < out.size(); ++i) samples[i] = out[i];
  *count = static_cast<unsigned>(out.size());
  return NVML_SUCCESS;
}

}  // namespace

extern "C" {

// Test hooks (not NVML): CLOCK_MONOTONIC seconds at the first nvmlInit, the fake's time
// zero; and how many process-list calls were answered since the library was loaded.
__attribute__((visibility("default"))) double fake_nvml_init_monotonic_s(void) {
  return state().t0_s;
}
__attribute__((visibility("default"))) unsigned fake_nvml_process_queries(void) {
  return state().process_queries;
}

nvmlReturn_t nvmlInit(void) { return do_init(); }

nvmlReturn_t nvmlShutdown(void) {
  std::lock_guard lock(state().mutex);
  if (state().init_count == 0) return NVML_ERROR_UNINITIALIZED;
  if (--state().init_count == 0) state().gpus.clear();
  return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceGetCount(unsigned int* device_count) { return do_get_count(device_count); }

nvmlReturn_t nvmlDeviceGetHandleByIndex(unsigned int index, nvmlDevice_t* device) {
  return do_get_handle(index, device);
}

const char* nvmlErrorString(nvmlReturn_t result) {
  switch (result) {
    case NVML_SUCCESS:
      return "Success";
    case NVML_ERROR_UNINITIALIZED:
      return "Uninitialized";
    case NVML_ERROR_INVALID_ARGUMENT:
      return "Invalid Argument";
    case NVML_ERROR_NOT_SUPPORTED:
      return "Not Supported";
    case NVML_ERROR_NO_PERMISSION:
      return "Insufficient Permissions";
    case NVML_ERROR_NOT_FOUND:
      return "Not Found";
    case NVML_ERROR_INSUFFICIENT_SIZE:
      return "Insufficient Size";
    case NVML_ERROR_DRIVER_NOT_LOADED:
      return "Driver Not Loaded";
    case NVML_ERROR_GPU_IS_LOST:
      return "GPU is lost";
    default:
      return "Unknown Error";
  }
}

nvmlReturn_t nvmlDeviceGetName(nvmlDevice_t device, char* name, unsigned int length) {
  std::lock_guard lock(state().mutex);
  FakeGpu* gpu = nullptr;
  int mig = -1;
  if (nvmlReturn_t r = lookup(device, gpu, &mig); r != NVML_SUCCESS) return r;
  return copy_string(mig < 0 ? gpu->script.name : gpu->script.name + " MIG 1g", name, length);
}

nvmlReturn_t nvmlDeviceGetUUID(nvmlDevice_t device, char* uuid, unsigned int length) {
  std::lock_guard lock(state().mutex);
  FakeGpu* gpu = nullptr;
  int mig = -1;
  if (nvmlReturn_t r = lookup(device, gpu, &mig); r != NVML_SUCCESS) return r;
  if (mig < 0) return copy_string(gpu->script.uuid, uuid, length);
  // MIG device UUIDs: "MIG-" + the parent's UUID without "GPU-", with the last digit replaced
  // by the MIG index, so tests can derive them.
  std::string base =
      gpu->script.uuid.starts_with("GPU-") ? gpu->script.uuid.substr(4) : gpu->script.uuid;
  if (!base.empty()) base.back() = static_cast<char>('0' + mig);
  return copy_string("MIG-" + base, uuid, length);
}

nvmlReturn_t nvmlDeviceGetTotalEnergyConsumption(nvmlDevice_t device, unsigned long long* energy) {
  std::lock_guard lock(state().mutex);
  FakeGpu* gpu = nullptr;
  int mig = -1;
  if (nvmlReturn_t r = lookup(device, gpu, &mig); r != NVML_SUCCESS) return r;
  if (!gpu->script.energy_counter || mig >= 0) return NVML_ERROR_NOT_SUPPORTED;
  if (energy == nullptr) return NVML_ERROR_INVALID_ARGUMENT;
  *energy = static_cast<unsigned long long>(gpu->script.power.energy_j(elapsed_s()) * 1000.0);
  return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceGetPowerUsage(nvmlDevice_t device, unsigned int* power) {
  std::lock_guard lock(state().mutex);
  FakeGpu* gpu = nullptr;
  int mig = -1;
  if (nvmlReturn_t r = lookup(device, gpu, &mig); r != NVML_SUCCESS) return r;
  if (mig >= 0) return NVML_ERROR_NOT_SUPPORTED;
  if (power == nullptr) return NVML_ERROR_INVALID_ARGUMENT;
  *power = static_cast<unsigned>(gpu->script.power.power_w(elapsed_s()) * 1000.0 + 0.5);
  return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceGetComputeRunningProcesses(nvmlDevice_t device, unsigned int* info_count,
                                                  nvmlProcessInfo_v1_t* infos) {
  return do_processes(device, info_count, infos);
}

nvmlReturn_t nvmlDeviceGetProcessUtilization(nvmlDevice_t device,
                                             nvmlProcessUtilizationSample_t* utilization,
                                             unsigned int* processSamplesCount,
                                             unsigned long long lastSeenTimeStamp) {
  return do_process_utilization(device, utilization, processSamplesCount, lastSeenTimeStamp);
}

#ifndef FAKE_NVML_LEGACY

nvmlReturn_t nvmlInit_v2(void) { return do_init(); }

nvmlReturn_t nvmlDeviceGetCount_v2(unsigned int* device_count) {
  return do_get_count(device_count);
}

nvmlReturn_t nvmlDeviceGetHandleByIndex_v2(unsigned int index, nvmlDevice_t* device) {
  return do_get_handle(index, device);
}

nvmlReturn_t nvmlDeviceGetComputeRunningProcesses_v2(nvmlDevice_t device, unsigned int* info_count,
                                                     nvmlProcessInfo_v2_t* infos) {
  return do_processes(device, info_count, infos);
}

nvmlReturn_t nvmlDeviceGetComputeRunningProcesses_v3(nvmlDevice_t device, unsigned int* info_count,
                                                     nvmlProcessInfo_t* infos) {
  return do_processes(device, info_count, infos);
}

nvmlReturn_t nvmlDeviceGetMigMode(nvmlDevice_t device, unsigned int* current_mode,
                                  unsigned int* pending_mode) {
  std::lock_guard lock(state().mutex);
  FakeGpu* gpu = nullptr;
  int mig = -1;
  if (nvmlReturn_t r = lookup(device, gpu, &mig); r != NVML_SUCCESS) return r;
  if (current_mode == nullptr || pending_mode == nullptr || mig >= 0) {
    return NVML_ERROR_INVALID_ARGUMENT;
  }
  *current_mode = *pending_mode = gpu->script.mig_devices > 0 ? 1u * kNvmlDeviceMigEnable : 0u;
  return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceGetMaxMigDeviceCount(nvmlDevice_t device, unsigned int* count) {
  std::lock_guard lock(state().mutex);
  FakeGpu* gpu = nullptr;
  if (nvmlReturn_t r = lookup(device, gpu); r != NVML_SUCCESS) return r;
  if (count == nullptr) return NVML_ERROR_INVALID_ARGUMENT;
  *count = 7;  // an A100/H100's limit; only `mig N` of them exist
  return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceGetMigDeviceHandleByIndex(nvmlDevice_t device, unsigned int index,
                                                 nvmlDevice_t* mig_device) {
  std::lock_guard lock(state().mutex);
  FakeGpu* gpu = nullptr;
  if (nvmlReturn_t r = lookup(device, gpu); r != NVML_SUCCESS) return r;
  if (mig_device == nullptr) return NVML_ERROR_INVALID_ARGUMENT;
  if (index >= gpu->mig_handles.size()) return NVML_ERROR_NOT_FOUND;
  *mig_device = reinterpret_cast<nvmlDevice_t>(&gpu->mig_handles[index]);
  return NVML_SUCCESS;
}

#endif  // FAKE_NVML_LEGACY

}  // extern "C"
