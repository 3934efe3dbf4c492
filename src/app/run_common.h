// What the two metering use cases share: `measure` (carbonclock run -- CMD, a spawned job) and
// `tracker` (the Python API, the current process): checking the metering options, opening the
// sensors, the run record's identity, the run directory, closing the record and the journal,
// and the carbon account with its history entry. One copy, so a run.json written by either
// front end is the same document.
#pragma once

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "accounting/accounting.h"
#include "app/context.h"
#include "metering/journal.h"
#include "metering/meter.h"
#include "metering/run_record.h"
#include "metering/sensor_setup.h"

namespace carbonclock {

/// $CARBONCLOCK_ZONE / $CARBONCLOCK_REGION and the config file's zone / region, the defaults of
/// every command's zone. A config file that cannot be used is a warning ("config file ignored:
/// ...") and the environment's values still count.
ZoneDefaults zone_defaults_or_environment(const EnvLookup& env, Observer& observer);

/// The metering options as checked: --interval, --bucket, --gpus and the accounting inputs.
struct MeteringPlan {
  Nanos interval{};
  Nanos bucket{};
  GpuSelection gpus;
  AccountingInputs inputs;
};

/// Checks --interval (at least 50ms), --bucket (1s or more, dividing a day), --gpus, the
/// estimate model's watts (not negative) and resolves the accounting choices. Errors carry the
/// CLI's messages, naming the option.
Result<MeteringPlan> check_metering(const std::string& interval, const std::string& bucket,
                                    const std::string& gpus, double cpu_w_per_core,
                                    double dram_w_per_gb, const AccountingChoices& choices);

/// Error when the zone is unknown everywhere (catalogue, embedded profiles, the store at `db`),
/// so a run never starts for a zone it cannot price.
Status check_zone_known(const AccountingInputs& inputs, const std::string& db, AppContext& ctx);

/// Which sensors a run opens.
struct RunSensors {
  GpuSelection gpus;
  bool no_gpu = false;
  double cpu_w_per_core = EstimateModel{}.cpu_w_per_core;
  double dram_w_per_gb = EstimateModel{}.dram_w_per_gb;
  /// Restrict NVML to $CUDA_VISIBLE_DEVICES (false for a node's meter, which meters every GPU
  /// of the node).
  bool honour_cuda_visible = true;
  /// The metered process ran before metering began (the Python API): estimates count from the
  /// first reading on.
  bool job_already_running = false;
};

/// The sensors of a run: NVML (unless no_gpu), RAPL under $CARBONCLOCK_SYSFS_ROOT, the estimate
/// for what has no counter. Never fails: what is missing is a note.
SensorSet open_run_sensors(const RunSensors& options, const EnvLookup& env);

/// "<UTC start as YYYYMMDDTHHMMSSZ>-<6 random hex digits>".
std::string new_run_id(SysTime start);
/// SLURM_JOB_ID and friends that are set in `env`.
std::map<std::string, std::string> scheduler_env(const EnvLookup& env);
/// This machine's host name.
std::string host_name();
/// carbonclock's own CPU time and peak memory so far (this process).
RunOverhead self_overhead(int64_t samples, double interval_s);

/// What a run record starts with besides the meter's devices and start time.
struct RunStart {
  std::string version;
  std::vector<std::string> command;
  std::vector<std::string> tags;
  const MeteringPlan* plan = nullptr;
  const AccountingChoices* choices = nullptr;
  std::vector<std::string> notes;  ///< the sensor notes (first warnings)
};

/// The record of a run whose meter has just started: a new id, the start time, host,
/// scheduler ids, devices, bucket and interval, and the accounting choices given.
RunRecord start_run_record(const Meter& meter, const RunStart& start, const EnvLookup& env);

/// `out` when given, else RUNS_DIR/<run id>; created. Errors: it exists and is not empty, or it
/// cannot be created.
Result<std::filesystem::path> create_run_dir(const std::string& out, const std::string& runs_dir,
                                             const std::string& run_id);

/// Closes a run after meter.finish(): the final timeline, end time, exit code, the sensors'
/// warnings, carbonclock's overhead (samples filled in from the meter), the journal's end
/// record and last flush.
void finish_run_record(RunRecord& run, const Meter& meter, JournalWriter& journal,
                       std::optional<int> exit_code, RunOverhead overhead);

/// The carbon account of a finished run, priced through the intensity provider, and (when
/// `record_history`) its entry in the run history. Never fails: problems become observer
/// warnings and leave `account` unset.
void account_and_record(const RunRecord& run, const std::filesystem::path& run_dir,
                        const AccountingInputs& inputs, const std::string& db, AppContext& ctx,
                        std::optional<CarbonAccount>& account, bool record_history = true);

}  // namespace carbonclock
