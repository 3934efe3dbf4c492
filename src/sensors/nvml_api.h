// The slice of the NVIDIA Management Library's C ABI that carbonclock uses, declared here
// because Debian packages no nvml.h. Types and values match the driver's nvml.h (API 12);
// carbonclock never links against these functions: nvml_sensor.cc resolves them with dlsym,
// using these prototypes only for their types, and the fake library in tests/fake_nvml
// defines them, so a signature that drifted from this file fails to compile there.
#pragma once

#include <cstddef>

extern "C" {

/// Return codes of every NVML call (a C enum, so int-sized), as in nvml.h.
typedef enum nvmlReturn_enum {
  NVML_SUCCESS = 0,
  NVML_ERROR_UNINITIALIZED = 1,
  NVML_ERROR_INVALID_ARGUMENT = 2,
  NVML_ERROR_NOT_SUPPORTED = 3,
  NVML_ERROR_NO_PERMISSION = 4,
  NVML_ERROR_ALREADY_INITIALIZED = 5,
  NVML_ERROR_NOT_FOUND = 6,
  NVML_ERROR_INSUFFICIENT_SIZE = 7,
  NVML_ERROR_INSUFFICIENT_POWER = 8,
  NVML_ERROR_DRIVER_NOT_LOADED = 9,
  NVML_ERROR_TIMEOUT = 10,
  NVML_ERROR_IRQ_ISSUE = 11,
  NVML_ERROR_LIBRARY_NOT_FOUND = 12,
  NVML_ERROR_FUNCTION_NOT_FOUND = 13,
  NVML_ERROR_CORRUPTED_INFOROM = 14,
  NVML_ERROR_GPU_IS_LOST = 15,
  NVML_ERROR_RESET_REQUIRED = 16,
  NVML_ERROR_OPERATING_SYSTEM = 17,
  NVML_ERROR_LIB_RM_VERSION_MISMATCH = 18,
  NVML_ERROR_IN_USE = 19,
  NVML_ERROR_MEMORY = 20,
  NVML_ERROR_NO_DATA = 21,
  NVML_ERROR_VGPU_ECC_NOT_ENABLED = 22,
  NVML_ERROR_INSUFFICIENT_RESOURCES = 23,
  NVML_ERROR_FREQ_NOT_SUPPORTED = 24,
  NVML_ERROR_ARGUMENT_VERSION_MISMATCH = 25,
  NVML_ERROR_DEPRECATED = 26,
  NVML_ERROR_NOT_READY = 27,
  NVML_ERROR_GPU_NOT_FOUND = 28,
  NVML_ERROR_INVALID_STATE = 29,
  NVML_ERROR_UNKNOWN = 999
} nvmlReturn_t;

/// Opaque device handle (a GPU or a MIG device).
typedef struct nvmlDevice_st* nvmlDevice_t;

/// Buffer sizes the driver guarantees to fit (NVML_DEVICE_NAME_V2_BUFFER_SIZE and
/// NVML_DEVICE_UUID_V2_BUFFER_SIZE).
enum : unsigned int { kNvmlDeviceNameBufferSize = 96, kNvmlDeviceUuidBufferSize = 96 };

/// nvmlDeviceGetMigMode's "enabled" value (NVML_DEVICE_MIG_ENABLE).
enum : unsigned int { kNvmlDeviceMigEnable = 1 };

/// Filled by the unversioned nvmlDeviceGetComputeRunningProcesses (16 bytes, 8-aligned).
typedef struct nvmlProcessInfo_v1_st {
  unsigned int pid;
  unsigned long long usedGpuMemory;  ///< bytes
} nvmlProcessInfo_v1_t;

/// Filled by nvmlDeviceGetComputeRunningProcesses_v2 and _v3 (24 bytes). The driver's
/// header names the _v3 element type nvmlProcessInfo_t with this same layout.
typedef struct nvmlProcessInfo_v2_st {
  unsigned int pid;
  unsigned long long usedGpuMemory;  ///< bytes
  unsigned int gpuInstanceId;        ///< 0xFFFFFFFF when MIG is off
  unsigned int computeInstanceId;    ///< 0xFFFFFFFF when MIG is off
} nvmlProcessInfo_v2_t;
typedef nvmlProcessInfo_v2_t nvmlProcessInfo_t;

/// Filled by nvmlDeviceGetProcessUtilization: one sample of one process's share of the GPU
/// (32 bytes).
typedef struct nvmlProcessUtilizationSample_st {
  unsigned int pid;
  unsigned long long timeStamp;  ///< CPU timestamp, microseconds since the Unix epoch
  unsigned int smUtil;           ///< SM (3D/compute) utilisation, percent
  unsigned int memUtil;          ///< frame buffer memory utilisation, percent
  unsigned int encUtil;          ///< encoder utilisation, percent
  unsigned int decUtil;          ///< decoder utilisation, percent
} nvmlProcessUtilizationSample_t;

static_assert(sizeof(nvmlProcessInfo_v1_t) == 16, "NVML ABI: nvmlProcessInfo_v1_t is 16 bytes");
static_assert(sizeof(nvmlProcessUtilizationSample_t) == 32,
              "NVML ABI: nvmlProcessUtilizationSample_t is 32 bytes");
static_assert(sizeof(nvmlProcessInfo_v2_t) == 24, "NVML ABI: nvmlProcessInfo_v2_t is 24 bytes");

// Required: every driver since the R3xx series exports these (versioned names first).
nvmlReturn_t nvmlInit_v2(void);
nvmlReturn_t nvmlInit(void);
nvmlReturn_t nvmlShutdown(void);
nvmlReturn_t nvmlDeviceGetCount_v2(unsigned int* device_count);
nvmlReturn_t nvmlDeviceGetCount(unsigned int* device_count);
nvmlReturn_t nvmlDeviceGetHandleByIndex_v2(unsigned int index, nvmlDevice_t* device);
nvmlReturn_t nvmlDeviceGetHandleByIndex(unsigned int index, nvmlDevice_t* device);

// Optional: resolved when present; their absence degrades a feature, never the sensor.
const char* nvmlErrorString(nvmlReturn_t result);
nvmlReturn_t nvmlDeviceGetName(nvmlDevice_t device, char* name, unsigned int length);
nvmlReturn_t nvmlDeviceGetUUID(nvmlDevice_t device, char* uuid, unsigned int length);
/// Energy since the driver was last loaded, millijoules (Volta and newer).
nvmlReturn_t nvmlDeviceGetTotalEnergyConsumption(nvmlDevice_t device, unsigned long long* energy);
/// Current board power draw, milliwatts.
nvmlReturn_t nvmlDeviceGetPowerUsage(nvmlDevice_t device, unsigned int* power);
nvmlReturn_t nvmlDeviceGetComputeRunningProcesses_v3(nvmlDevice_t device, unsigned int* info_count,
                                                     nvmlProcessInfo_t* infos);
nvmlReturn_t nvmlDeviceGetComputeRunningProcesses_v2(nvmlDevice_t device, unsigned int* info_count,
                                                     nvmlProcessInfo_v2_t* infos);
nvmlReturn_t nvmlDeviceGetComputeRunningProcesses(nvmlDevice_t device, unsigned int* info_count,
                                                  nvmlProcessInfo_v1_t* infos);
/// The samples with a timestamp after `lastSeenTimeStamp` (0: all the driver keeps). With
/// `utilization` null, or `*processSamplesCount` too small, answers NVML_ERROR_INSUFFICIENT_SIZE
/// and the count needed; NVML_ERROR_NOT_FOUND when there is no such sample.
nvmlReturn_t nvmlDeviceGetProcessUtilization(nvmlDevice_t device,
                                             nvmlProcessUtilizationSample_t* utilization,
                                             unsigned int* processSamplesCount,
                                             unsigned long long lastSeenTimeStamp);
nvmlReturn_t nvmlDeviceGetMigMode(nvmlDevice_t device, unsigned int* current_mode,
                                  unsigned int* pending_mode);
nvmlReturn_t nvmlDeviceGetMaxMigDeviceCount(nvmlDevice_t device, unsigned int* count);
nvmlReturn_t nvmlDeviceGetMigDeviceHandleByIndex(nvmlDevice_t device, unsigned int index,
                                                 nvmlDevice_t* mig_device);

}  // extern "C"
