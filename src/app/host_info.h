// The machine a run runs on, as CodeCarbon's emissions.csv and the carbon statement name it:
// the CPU model from /proc/cpuinfo, logical CPUs, installed memory, the OS string Python's
// platform.platform() prints, and the job's Python version.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"
#include "metering/run_record.h"

namespace carbonclock {

/// "model name" of the first processor in a /proc/cpuinfo text; on CPUs without it (Arm), the
/// first of "Model", "Hardware", "cpu model"; empty when none.
std::string cpu_model_from_cpuinfo(std::string_view cpuinfo);

/// "3.11.2" from `python --version` output ("Python 3.11.2"); empty when it is not one.
std::string python_version_from_output(std::string_view output);

/// The interpreter whose version describes the job: its argv[0] when that names a python
/// ("python3", "/opt/venv/bin/python3.11"), else "python3"; resolved on `path_variable`
/// (PATH). Empty when not found or not executable.
std::filesystem::path job_python(const std::vector<std::string>& command,
                                 std::string_view path_variable);

/// Runs `python --version` (no shell; at most `timeout_ms`) and returns its version, empty on
/// any failure.
std::string python_version_of(const std::filesystem::path& python, int timeout_ms = 3000);

/// This machine's facts; `command` and `env` choose the Python (see job_python).
HostInfo collect_host_info(const std::vector<std::string>& command, const EnvLookup& env,
                           const std::filesystem::path& cpuinfo = "/proc/cpuinfo");

}  // namespace carbonclock
