// A measured run: what run.json holds. The schema is documented in schemas/run.schema.json.
#pragma once

#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "common/error.h"
#include "common/json_fields.h"
#include "metering/energy_timeline.h"

namespace carbonclock {

/// Version of run.json and of the journal. Readers refuse newer versions.
inline constexpr int kRunSchemaVersion = 1;
/// Exit codes are 0..255 (128+N for a job killed by signal N).
inline constexpr int kMaxExitCode = 255;

struct RunOverhead {
  double cpu_s = 0;        ///< carbonclock's own user + system CPU seconds
  double peak_rss_mb = 0;  ///< carbonclock's own peak resident memory
  int64_t samples = 0;     ///< sampler ticks taken
  double interval_s = 0;   ///< requested sampling interval
};

struct RunRecord {
  int schema_version = kRunSchemaVersion;
  std::string id;  ///< "<UTC start>-<short random>"
  std::string carbonclock_version;
  std::vector<std::string> command;  ///< argv of the job
  std::optional<int> exit_code;      ///< unknown when recovered from a journal without an end
  SysTime start_utc;
  SysTime end_utc;
  std::string host;
  std::map<std::string, std::string> scheduler;  ///< SLURM_JOB_ID and friends, when present
  std::vector<std::string> tags;
  EnergyTimeline timeline;  ///< holds the devices
  RunOverhead overhead;
  std::vector<std::string> warnings;
  bool recovered = false;  ///< rebuilt from the journal after carbonclock died
  // Accounting choices given to `carbonclock run` (optional; absent in older run.json files).
  std::optional<std::string> zone;    ///< grid zone id (--zone, or the region's zone)
  std::optional<std::string> region;  ///< cloud region as given (--region)
  std::optional<double> pue;          ///< --pue
  std::optional<std::string> per;     ///< functional unit text (--per), e.g. "1000 inferences"
  std::optional<double> work;         ///< units of `per`'s unit the run did (--work)
  /// Carbon-aware execution (`run --flex-start/--pause-resume/--deadline`): the plan, the
  /// realised schedule and the savings, as written by execution/schedule_record.h (schema:
  /// schemas/run.schema.json, `schedule`). Absent for unscheduled runs.
  std::optional<nlohmann::json> schedule;
  /// A task of a distributed job (app/distributed.h): {"job_id", "node", "launcher", "rank",
  /// "local_rank", "world_size", "tasks_on_node", "node_count", "role"}. Absent otherwise.
  std::optional<nlohmann::json> cluster;

  double duration_s() const { return to_seconds(end_utc - start_utc); }
  /// Fraction of the energy measured by counters or power integration rather than estimated.
  double measured_share() const;
};

/// A device as JSON (id, kind, name, method, uuid, note) and back.
nlohmann::json device_to_json(const DeviceInfo& device);
Result<DeviceInfo> device_from_json(const nlohmann::json& j);

// Checked readers shared by run.json and the journal (errors go to `r`, naming `path`).
/// A device object at `path` ("devices[2]"): a string id, a known kind and method.
DeviceInfo read_device(JsonFieldReader& r, const nlohmann::json& j, std::string_view path);
/// `bucket_s` of `obj`: at least 1 s, at most a day, dividing a day evenly (`run --bucket`).
Nanos read_bucket(JsonFieldReader& r, const nlohmann::json& obj, std::string_view path);

/// Copies the optional accounting choices (zone, region, pue, per, work) into a JSON object
/// and back; shared by run.json and the journal header so a recovered run keeps them. pue
/// must be 1 .. 3 and work > 0.
void put_accounting_fields(const RunRecord& run, nlohmann::json& doc);
void get_accounting_fields(JsonFieldReader& r, const nlohmann::json& doc, RunRecord& run);

/// The run.json document.
nlohmann::json run_to_json(const RunRecord& run);
/// Parses a run.json document; `origin` names it in errors. Refuses a newer schema_version and
/// any value out of its range ("ORIGIN: timeline[3].bucket_s: 0 is out of range ..."):
/// non-finite or negative energies and durations, exit codes outside 0..255, times outside
/// 1900..2199, end before start, buckets that are not UTC-aligned, consecutive and of one
/// length, duplicate device ids. Strings are taken as they are (see parse_carbonclock_json).
Result<RunRecord> run_from_json(const nlohmann::json& doc, const std::string& origin);

/// Writes RUN_DIR/run.json atomically; strings that are not UTF-8 (command arguments, tags,
/// environment values are bytes) are escaped losslessly by dump_json.
Status save_run(const RunRecord& run, const std::filesystem::path& run_dir);

/// Loads a run: RUN_DIR/run.json, or, when that is missing, the run rebuilt from
/// RUN_DIR/journal.jsonl with `recovered` set. Errors name the directory and what is missing.
Result<RunRecord> load_run(const std::filesystem::path& run_dir);

}  // namespace carbonclock
