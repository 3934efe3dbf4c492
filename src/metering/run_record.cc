#include "metering/run_record.h"

#include "common/files.h"
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

}  // namespace

json device_to_json(const DeviceInfo& d) {
  json j = {
      {"id", d.id}, {"kind", to_string(d.kind)}, {"name", d.name}, {"method", to_string(d.method)}};
  if (!d.uuid.empty()) j["uuid"] = d.uuid;
  if (!d.note.empty()) j["note"] = d.note;
  return j;
}

Result<DeviceInfo> device_from_json(const json& j) {
  DeviceInfo d;
  d.id = j.at("id").get<std::string>();
  auto kind = parse_kind(j.at("kind").get<std::string>());
  if (!kind) return kind.error();
  d.kind = *kind;
  d.name = j.value("name", "");
  auto method = parse_method(j.at("method").get<std::string>());
  if (!method) return method.error();
  d.method = *method;
  d.uuid = j.value("uuid", "");
  d.note = j.value("note", "");
  return d;
}

void put_accounting_fields(const RunRecord& run, json& doc) {
  if (run.zone) doc["zone"] = *run.zone;
  if (run.region) doc["region"] = *run.region;
  if (run.pue) doc["pue"] = *run.pue;
  if (run.per) doc["per"] = *run.per;
  if (run.work) doc["work"] = *run.work;
}

void get_accounting_fields(const json& doc, RunRecord& run) {
  if (doc.contains("zone")) run.zone = doc.at("zone").get<std::string>();
  if (doc.contains("region")) run.region = doc.at("region").get<std::string>();
  if (doc.contains("pue")) run.pue = doc.at("pue").get<double>();
  if (doc.contains("per")) run.per = doc.at("per").get<std::string>();
  if (doc.contains("work")) run.work = doc.at("work").get<double>();
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
  if (const auto& h = run.host_info) {
    doc["host_info"] = {{"cpu_model", h->cpu_model},
                        {"logical_cpus", h->logical_cpus},
                        {"ram_total_gb", h->ram_total_gb},
                        {"os", h->os},
                        {"python_version", h->python_version}};
  }
  return doc;
}

Result<RunRecord> run_from_json(const json& doc, const std::string& origin) {
  try {
    RunRecord run;
    run.schema_version = doc.at("schema_version").get<int>();
    if (run.schema_version > kRunSchemaVersion) {
      return make_error(
          "{}: schema_version {} is newer than this carbonclock understands ({}); upgrade "
          "carbonclock",
          origin, run.schema_version, kRunSchemaVersion);
    }
    run.id = doc.at("id").get<std::string>();
    run.carbonclock_version = doc.value("carbonclock_version", "");
    run.command = doc.at("command").get<std::vector<std::string>>();
    if (!doc.at("exit_code").is_null()) run.exit_code = doc.at("exit_code").get<int>();
    auto start = parse_utc(doc.at("start_utc").get<std::string>());
    auto end = parse_utc(doc.at("end_utc").get<std::string>());
    if (!start) return start.error().with_context(origin + ": start_utc");
    if (!end) return end.error().with_context(origin + ": end_utc");
    run.start_utc = *start;
    run.end_utc = *end;
    run.host = doc.value("host", "");
    run.scheduler = doc.value("scheduler", std::map<std::string, std::string>{});
    run.tags = doc.value("tags", std::vector<std::string>{});
    run.warnings = doc.value("warnings", std::vector<std::string>{});
    run.recovered = doc.value("recovered", false);
    get_accounting_fields(doc, run);
    if (doc.contains("schedule") && doc.at("schedule").is_object()) {
      run.schedule = doc.at("schedule");
    }
    if (doc.contains("host_info") && doc.at("host_info").is_object()) {
      const auto& h = doc.at("host_info");
      run.host_info =
          HostInfo{h.value("cpu_model", ""), h.value("logical_cpus", 0),
                   h.value("ram_total_gb", 0.0), h.value("os", ""), h.value("python_version", "")};
    }
    const auto& o = doc.at("overhead");
    run.overhead = {o.value("cpu_s", 0.0), o.value("peak_rss_mb", 0.0),
                    o.value("samples", int64_t{0}), o.value("interval_s", 0.0)};
    for (const auto& d : doc.at("devices")) {
      auto dev = device_from_json(d);
      if (!dev) return dev.error().with_context(origin + ": devices");
      run.timeline.devices.push_back(*dev);
    }
    bool first = true;
    for (const auto& b : doc.at("timeline")) {
      TimelineBucket bucket;
      auto t = parse_utc(b.at("bucket_start_utc").get<std::string>());
      if (!t) return t.error().with_context(origin + ": timeline");
      bucket.start_utc = *t;
      if (first) {
        run.timeline.bucket = from_seconds(b.at("bucket_s").get<double>());
        first = false;
      }
      bucket.active_s = b.value("active_s", 0.0);
      const auto& e = b.at("energy_j");
      for (const auto& dev : run.timeline.devices) bucket.energy_j.push_back(e.value(dev.id, 0.0));
      run.timeline.buckets.push_back(std::move(bucket));
    }
    return run;
  } catch (const json::exception& e) {
    return make_error("{}: not a valid run record: {}", origin, e.what());
  }
}

Status save_run(const RunRecord& run, const std::filesystem::path& run_dir) {
  return write_file_atomic(run_dir / kRunFile, run_to_json(run).dump(2) + "\n");
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
    auto doc = json::parse(*text, nullptr, /*allow_exceptions=*/false);
    if (doc.is_discarded()) {
      return make_error("{}: not valid JSON (the file is damaged)", run_json.string());
    }
    return run_from_json(doc, run_json.string());
  }
  if (std::filesystem::exists(run_dir / kJournalFile, ec)) return recover_from_journal(run_dir);
  return make_error(ErrorCode::kNotFound,
                    "{}: neither {} nor {} found; not a carbonclock run directory",
                    run_dir.string(), kRunFile, kJournalFile);
}

}  // namespace carbonclock
