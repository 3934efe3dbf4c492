#include "metering/run_record.h"

#include <limits>

#include "common/files.h"
#include "common/json_text.h"
#include "metering/journal.h"

namespace carbonclock {
namespace {

using nlohmann::json;

Result<DeviceKind> parse_kind(const std::string& s) {
  if (s == "gpu") return DeviceKind::kGpu;
  if (s == "cpu") return DeviceKind::kCpu;
  if (s == "dram") return DeviceKind::kDram;
  return make_error("unknown device kind '{}'", s);
}

Result<Method> parse_method(const std::string& s) {
  if (s == "counter") return Method::kCounter;
  if (s == "power-integration") return Method::kPowerIntegration;
  if (s == "estimate") return Method::kEstimate;
  return make_error("unknown measurement method '{}'", s);
}

constexpr double kMaxFinite = std::numeric_limits<double>::max();

}  // namespace

json device_to_json(const DeviceInfo& d) {
  json j = {
      {"id", d.id}, {"kind", to_string(d.kind)}, {"name", d.name}, {"method", to_string(d.method)}};
  if (!d.uuid.empty()) j["uuid"] = d.uuid;
  if (!d.note.empty()) j["note"] = d.note;
  return j;
}

Result<DeviceInfo> device_from_json(const json& j) {
  JsonFieldReader r("device");
  auto d = read_device(r, j, "");
  if (!r.ok()) return r.error();
  return d;
}

DeviceInfo read_device(JsonFieldReader& r, const json& j, std::string_view path) {
  DeviceInfo d;
  d.id = r.string(j, path, "id");
  std::string kind = r.string(j, path, "kind");
  std::string method = r.string(j, path, "method");
  d.name = r.optional_string(j, path, "name").value_or("");
  d.uuid = r.optional_string(j, path, "uuid").value_or("");
  d.note = r.optional_string(j, path, "note").value_or("");
  if (!r.ok()) return d;
  auto k = parse_kind(kind);
  if (!k) r.fail(path.empty() ? "kind" : fmt::format("{}.kind", path), k.error().message());
  auto m = parse_method(method);
  if (!m) r.fail(path.empty() ? "method" : fmt::format("{}.method", path), m.error().message());
  if (k) d.kind = *k;
  if (m) d.method = *m;
  return d;
}

Nanos read_bucket(JsonFieldReader& r, const json& obj, std::string_view path) {
  std::string where = path.empty() ? "bucket_s" : fmt::format("{}.bucket_s", path);
  // The rule of `run --bucket`: at least 1 s, and a whole number of buckets per day.
  double s = r.number(obj, path, "bucket_s", 1, 86400);
  if (!r.ok()) return Nanos(0);
  Nanos bucket = from_seconds(s);
  if (std::chrono::hours(24) % bucket != Nanos(0)) {
    r.fail(where, fmt::format("{} s does not divide a day evenly", s));
  }
  return bucket;
}

void put_accounting_fields(const RunRecord& run, json& doc) {
  if (run.zone) doc["zone"] = *run.zone;
  if (run.region) doc["region"] = *run.region;
  if (run.pue) doc["pue"] = *run.pue;
  if (run.per) doc["per"] = *run.per;
  if (run.work) doc["work"] = *run.work;
}

void get_accounting_fields(JsonFieldReader& r, const json& doc, RunRecord& run) {
  run.zone = r.optional_string(doc, "", "zone");
  run.region = r.optional_string(doc, "", "region");
  // 1 .. 3: accounting's validate_pue range (kMaxPue); `run --pue` writes nothing else.
  run.pue = r.optional_number(doc, "", "pue", 1, 3);
  run.per = r.optional_string(doc, "", "per");
  run.work = r.optional_number(doc, "", "work", 0, kMaxFinite);
  if (run.work && *run.work <= 0) r.fail("work", "must be > 0");
}

double RunRecord::measured_share() const {
  auto totals = timeline.device_totals_j();
  double all = 0, measured = 0;
  for (size_t i = 0; i < totals.size(); ++i) {
    all += totals[i];
    if (timeline.devices[i].method != Method::kEstimate) measured += totals[i];
  }
  return all > 0 ? measured / all : 0.0;
}

json run_to_json(const RunRecord& run) {
  json devices = json::array();
  auto totals = run.timeline.device_totals_j();
  for (size_t i = 0; i < run.timeline.devices.size(); ++i) {
    json d = device_to_json(run.timeline.devices[i]);
    d["energy_j"] = totals[i];
    devices.push_back(std::move(d));
  }
  json timeline = json::array();
  const double bucket_s = to_seconds(run.timeline.bucket);
  for (const auto& b : run.timeline.buckets) {
    json e = json::object();
    for (size_t i = 0; i < run.timeline.devices.size(); ++i) {
      e[run.timeline.devices[i].id] = b.energy_j[i];
    }
    timeline.push_back({{"bucket_start_utc", format_utc(b.start_utc)},
                        {"bucket_s", bucket_s},
                        {"active_s", b.active_s},
                        {"energy_j", std::move(e)}});
  }
  json doc = {
      {"schema_version", run.schema_version},
      {"id", run.id},
      {"carbonclock_version", run.carbonclock_version},
      {"command", run.command},
      {"exit_code", run.exit_code ? json(*run.exit_code) : json(nullptr)},
      {"start_utc", format_utc_millis(run.start_utc)},
      {"end_utc", format_utc_millis(run.end_utc)},
      {"duration_s", run.duration_s()},
      {"host", run.host},
      {"devices", std::move(devices)},
      {"energy_j_total", run.timeline.total_j()},
      {"measured_share", run.measured_share()},
      {"overhead",
       {{"cpu_s", run.overhead.cpu_s},
        {"peak_rss_mb", run.overhead.peak_rss_mb},
        {"samples", run.overhead.samples},
        {"interval_s", run.overhead.interval_s}}},
      {"scheduler", run.scheduler},
      {"tags", run.tags},
      {"recovered", run.recovered},
      {"timeline", std::move(timeline)},
      {"warnings", run.warnings},
  };
  put_accounting_fields(run, doc);
  if (run.schedule) doc["schedule"] = *run.schedule;
  if (run.cluster) doc["cluster"] = *run.cluster;
  return doc;
}

Result<RunRecord> run_from_json(const json& doc, const std::string& origin) {
  JsonFieldReader r(origin);
  RunRecord run;
  if (!doc.is_object()) return make_error("{}: not a run record (not a JSON object)", origin);
  run.schema_version = static_cast<int>(r.integer(doc, "", "schema_version", 1, INT32_MAX));
  if (r.ok() && run.schema_version > kRunSchemaVersion) {
    return make_error(
        "{}: schema_version {} is newer than this carbonclock understands ({}); upgrade "
        "carbonclock",
        origin, run.schema_version, kRunSchemaVersion);
  }
  run.id = r.string(doc, "", "id");
  run.carbonclock_version = r.optional_string(doc, "", "carbonclock_version").value_or("");
  if (!doc.contains("command")) r.fail("command", "missing");
  run.command = r.strings(doc, "", "command");
  auto exit_code = r.optional_integer(doc, "", "exit_code", 0, kMaxExitCode);
  if (exit_code) run.exit_code = static_cast<int>(*exit_code);
  run.start_utc = r.time(doc, "", "start_utc");
  run.end_utc = r.time(doc, "", "end_utc");
  if (r.ok() && run.end_utc < run.start_utc) r.fail("end_utc", "before start_utc");
  run.host = r.optional_string(doc, "", "host").value_or("");
  run.scheduler = r.string_map(doc, "", "scheduler");
  run.tags = r.strings(doc, "", "tags");
  run.warnings = r.strings(doc, "", "warnings");
  run.recovered = r.boolean(doc, "", "recovered", false);
  get_accounting_fields(r, doc, run);
  if (doc.contains("schedule") && doc.at("schedule").is_object()) run.schedule = doc.at("schedule");
  if (doc.contains("cluster") && doc.at("cluster").is_object()) run.cluster = doc.at("cluster");
  const json& o = r.object(doc, "", "overhead");
  run.overhead.cpu_s = r.optional_number(o, "overhead", "cpu_s", 0, kMaxFinite).value_or(0);
  run.overhead.peak_rss_mb =
      r.optional_number(o, "overhead", "peak_rss_mb", 0, kMaxFinite).value_or(0);
  run.overhead.samples = r.optional_integer(o, "overhead", "samples", 0, INT64_MAX).value_or(0);
  run.overhead.interval_s = r.optional_number(o, "overhead", "interval_s", 0, 86400).value_or(0);
  const json& devices = r.array(doc, "", "devices");
  for (size_t i = 0; i < devices.size() && r.ok(); ++i) {
    std::string path = fmt::format("devices[{}]", i);
    DeviceInfo d = read_device(r, devices[i], path);
    for (const auto& other : run.timeline.devices) {
      if (r.ok() && other.id == d.id) r.fail(path + ".id", fmt::format("'{}' twice", d.id));
    }
    run.timeline.devices.push_back(std::move(d));
  }
  const json& timeline = r.array(doc, "", "timeline");
  if (!r.ok()) return r.error();
  for (size_t i = 0; i < timeline.size(); ++i) {
    std::string path = fmt::format("timeline[{}]", i);
    const json& b = timeline[i];
    TimelineBucket bucket;
    bucket.start_utc = r.time(b, path, "bucket_start_utc");
    Nanos length = read_bucket(r, b, path);
    if (!r.ok()) return r.error();
    // bucket_start_utc is written to the second (format_utc), so a bucket of 1.5 s starting
    // at x.5 s reads as x: the true start is the one multiple of the bucket within that second.
    const SysTime written = bucket.start_utc;
    if (i == 0) {
      run.timeline.bucket = length;
      SysTime aligned = floor_to(written, length);
      if (aligned < written) aligned += length;
      if (aligned - written >= std::chrono::seconds(1)) {
        r.fail(path + ".bucket_start_utc", "not aligned to the bucket length");
      }
      bucket.start_utc = aligned;
    } else if (length != run.timeline.bucket) {
      r.fail(path + ".bucket_s", "differs from the first bucket's");
    } else {
      bucket.start_utc = run.timeline.buckets.back().start_utc + length;
      if (std::chrono::floor<Seconds>(bucket.start_utc) != std::chrono::floor<Seconds>(written)) {
        r.fail(path + ".bucket_start_utc", "does not follow the previous bucket");
      }
    }
    const double bucket_s = to_seconds(length);
    // Sums of doubles may exceed the bucket by rounding.
    bucket.active_s =
        r.optional_number(b, path, "active_s", 0, bucket_s * (1 + 1e-9) + 1e-6).value_or(0);
    const json& e = r.object(b, path, "energy_j");
    for (const auto& dev : run.timeline.devices) {
      bucket.energy_j.push_back(
          r.optional_number(e, path + ".energy_j", dev.id, 0, kMaxFinite).value_or(0));
    }
    if (!r.ok()) return r.error();
    run.timeline.buckets.push_back(std::move(bucket));
  }
  if (!r.ok()) return r.error();
  return run;
}

Status save_run(const RunRecord& run, const std::filesystem::path& run_dir) {
  return write_file_atomic(run_dir / kRunFile, dump_json(run_to_json(run), 2) + "\n");
}

Result<RunRecord> load_run(const std::filesystem::path& run_dir) {
  std::error_code ec;
  if (!std::filesystem::is_directory(run_dir, ec)) {
    return make_error(ErrorCode::kNotFound, "{}: no such run directory", run_dir.string());
  }
  auto run_json = run_dir / kRunFile;
  if (std::filesystem::exists(run_json, ec)) {
    auto text = read_file(run_json);
    if (!text) return text.error();
    auto doc = parse_carbonclock_json(*text, run_json.string());
    if (!doc) return make_error("{} (the file is damaged)", doc.error().message());
    return run_from_json(*doc, run_json.string());
  }
  if (std::filesystem::exists(run_dir / kJournalFile, ec)) return recover_from_journal(run_dir);
  return make_error(ErrorCode::kNotFound,
                    "{}: neither {} nor {} found; not a carbonclock run directory",
                    run_dir.string(), kRunFile, kJournalFile);
}

}  // namespace carbonclock
