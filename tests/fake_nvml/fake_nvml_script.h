// The fake NVML library's script: what each fake GPU reports, parsed from the file named by
// FAKE_NVML_SCRIPT (format in README.md), and the power models that turn time since
// nvmlInit into watts and cumulative joules. Kept free of NVML types so it can be tested
// on its own.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace fake_nvml {

/// Power over time: piecewise-constant steps or a piecewise-linear trace. Time `t_s` is
/// seconds since nvmlInit; a trace is read at trace time `offset_s + speed * t_s`.
class PowerModel {
 public:
  /// Constant power.
  static PowerModel constant(double power_w);
  /// `power_w[i]` from `t_s[i]` until the next step; the first value also covers [0, t_s[0]).
  static PowerModel steps(std::vector<double> t_s, std::vector<double> power_w);
  /// Linear between samples (the trapezoid rule is then exact), held flat outside them.
  static PowerModel trace(std::vector<double> t_s, std::vector<double> power_w, double offset_s,
                          double speed);

  /// Power at `t_s` seconds since nvmlInit, watts.
  double power_w(double t_s) const;
  /// Energy from nvmlInit to `t_s`, joules (the integral of power_w over real time).
  double energy_j(double t_s) const;

 private:
  // The model's own curve at model time `u` (trace time for a trace).
  double curve_w(double u) const;
  // Integral of the model's own curve from t_s_[0] to `u` (negative before it).
  double integral_to(double u) const;

  bool linear_ = false;
  std::vector<double> t_s_;
  std::vector<double> power_w_;
  std::vector<double> cumulative_j_;  // integral_to(t_s_[i])
  double offset_s_ = 0;
  double speed_ = 1;
};

/// One GPU column of an nvidia-smi trace.
struct TraceColumn {
  std::vector<double> t_s;  ///< seconds since the trace's first row
  std::vector<double> power_w;
};

/// Parses `nvidia-smi --query-gpu=timestamp,power.draw,... --format=csv` output with `gpus`
/// GPUs interleaved row by row (row r belongs to GPU r % gpus) and returns GPU `gpu`'s
/// samples. Accepts values with or without " W"; skips "[N/A]"-style values; times are
/// relative to the first row. Returns nullopt and sets `error` (naming file and line) on
/// a missing file, a header without power.draw, a bad timestamp, or time going backwards.
std::optional<TraceColumn> parse_nvidia_smi_trace(const std::string& path, int gpu, int gpus,
                                                  std::string& error);

/// Seconds since 1970 for "YYYY/MM/DD HH:MM:SS[.fff]" (or with '-' as the date separator),
/// read as UTC; nullopt when malformed.
std::optional<double> parse_smi_timestamp(std::string_view text);

/// Processes a GPU reports as running: every live process whose /proc/PID/comm is `comm`.
struct ProcessRule {
  std::string comm;
  /// SM utilisation reported for each of them by nvmlDeviceGetProcessUtilization; nullopt: no
  /// utilisation sample for them.
  std::optional<double> sm_util_pct;
};

struct GpuScript {
  std::string name = "Fake GPU";
  std::string uuid;            ///< default "GPU-00000000-0000-0000-0000-00000000000<i>"
  bool energy_counter = true;  ///< else TotalEnergyConsumption is NOT_SUPPORTED
  PowerModel power = PowerModel::constant(0);
  std::optional<double> vanish_after_s;  ///< then every call on it returns GPU_IS_LOST
  /// [start, end) seconds in which every call on it returns GPU_IS_LOST (vanish_during lines).
  std::vector<std::pair<double, double>> lost_s;
  unsigned mig_devices = 0;            ///< > 0: MIG mode on with this many MIG devices
  std::vector<ProcessRule> processes;  ///< process_comm lines, in order

  /// Whether the GPU is lost at `t_s` seconds since nvmlInit.
  bool lost_at(double t_s) const;
};

struct Script {
  int init_error = 0;  ///< nonzero: nvmlInit returns this code
  std::vector<GpuScript> gpus;
};

/// Parses a script's text; `base_dir` resolves relative trace paths. Returns nullopt and
/// sets `error` ("script:LINE: cause") on a bad line.
std::optional<Script> parse_script(std::string_view text, const std::string& base_dir,
                                   std::string& error);

/// Reads and parses the script file at `path`.
std::optional<Script> load_script(const std::string& path, std::string& error);

}  // namespace fake_nvml
