#include "metering/journal.h"

#include <fstream>

#include "common/files.h"

namespace carbonclock {

JournalWriter::JournalWriter(std::FILE* file, std::filesystem::path path)
    : file_(file), path_(std::move(path)) {}

JournalWriter::~JournalWriter() {
  if (file_ != nullptr) std::fclose(file_);
}

Result<std::unique_ptr<JournalWriter>> JournalWriter::create(const std::filesystem::path& run_dir,
                                                             const RunRecord& run) {
  auto path = run_dir / kJournalFile;
  // "e": O_CLOEXEC, so the job never inherits the journal's descriptor.
  std::FILE* f = std::fopen(path.c_str(), "we");
  if (f == nullptr) return make_error("{}: cannot create: {}", path.string(), errno_text(errno));
  nlohmann::json devices = nlohmann::json::array();
  for (const auto& d : run.timeline.devices) devices.push_back(device_to_json(d));
  nlohmann::json header = {
      {"type", "header"},
      {"schema_version", kRunSchemaVersion},
      {"id", run.id},
      {"carbonclock_version", run.carbonclock_version},
      {"command", run.command},
      {"start_utc", format_utc_millis(run.start_utc)},
      {"start_unix_ns", run.start_utc.time_since_epoch().count()},
      {"bucket_s", to_seconds(run.timeline.bucket)},
      {"interval_s", run.overhead.interval_s},
      {"host", run.host},
      {"scheduler", run.scheduler},
      {"tags", run.tags},
      {"devices", devices},
      {"warnings", run.warnings},
  };
  put_accounting_fields(run, header);
  std::string line = header.dump() + "\n";
  std::unique_ptr<JournalWriter> w(new JournalWriter(f, path));
  std::fputs(line.c_str(), f);
  if (auto s = w->flush(); !s) return s.error();
  return w;
}

void JournalWriter::sample(Nanos offset, std::span<const double> cumulative_j) {
  line_.clear();
  fmt::format_to(std::back_inserter(line_), R"({{"t":{:.6f},"e":[)", to_seconds(offset));
  for (size_t i = 0; i < cumulative_j.size(); ++i) {
    if (i) line_.push_back(',');
    fmt::format_to(std::back_inserter(line_), "{:.6f}", cumulative_j[i]);
  }
  line_ += "]}\n";
  std::fwrite(line_.data(), 1, line_.size(), file_);
}

void JournalWriter::warning(Nanos offset, const std::string& message) {
  nlohmann::json j = {{"type", "warning"}, {"t", to_seconds(offset)}, {"message", message}};
  std::string s = j.dump() + "\n";
  std::fwrite(s.data(), 1, s.size(), file_);
}

void JournalWriter::end(Nanos offset, std::optional<int> exit_code, const RunOverhead& overhead) {
  nlohmann::json j = {{"type", "end"},
                      {"t", to_seconds(offset)},
                      {"exit_code", exit_code ? nlohmann::json(*exit_code) : nlohmann::json()},
                      {"overhead",
                       {{"cpu_s", overhead.cpu_s},
                        {"peak_rss_mb", overhead.peak_rss_mb},
                        {"samples", overhead.samples}}}};
  std::string s = j.dump() + "\n";
  std::fwrite(s.data(), 1, s.size(), file_);
}

Status JournalWriter::flush() {
  if (std::fflush(file_) != 0) {
    return make_error("{}: write failed: {}", path_.string(), errno_text(errno));
  }
  return {};
}

Result<std::vector<JournalSample>> read_journal_samples(const std::filesystem::path& run_dir) {
  auto path = run_dir / kJournalFile;
  std::ifstream in(path);
  if (!in) return make_error("{}: cannot open: {}", path.string(), errno_text(errno));
  std::vector<JournalSample> out;
  std::string line;
  int line_no = 0;
  while (std::getline(in, line)) {
    ++line_no;
    auto j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_discarded()) {
      if (in.peek() == EOF) break;  // torn last line
      return make_error("{}:{}: damaged journal line", path.string(), line_no);
    }
    if (!j.is_object() || !j.contains("e")) continue;
    try {
      out.push_back({j.at("t").get<double>(), j.at("e").get<std::vector<double>>()});
    } catch (const nlohmann::json::exception& e) {
      return make_error("{}:{}: damaged sample: {}", path.string(), line_no, e.what());
    }
  }
  return out;
}

Result<RunRecord> recover_from_journal(const std::filesystem::path& run_dir) {
  auto path = run_dir / kJournalFile;
  std::ifstream in(path);
  if (!in) return make_error("{}: cannot open: {}", path.string(), errno_text(errno));
  std::string line;
  if (!std::getline(in, line)) return make_error("{}: empty journal", path.string());
  auto header = nlohmann::json::parse(line, nullptr, false);
  if (header.is_discarded() || header.value("type", "") != "header") {
    return make_error("{}:1: not a carbonclock journal header", path.string());
  }
  RunRecord run;
  try {
    int version = header.at("schema_version").get<int>();
    if (version > kRunSchemaVersion) {
      return make_error("{}: schema_version {} is newer than this carbonclock understands ({})",
                        path.string(), version, kRunSchemaVersion);
    }
    run.id = header.at("id").get<std::string>();
    run.carbonclock_version = header.value("carbonclock_version", "");
    run.command = header.at("command").get<std::vector<std::string>>();
    run.start_utc = SysTime{Nanos{header.at("start_unix_ns").get<int64_t>()}};
    run.host = header.value("host", "");
    run.scheduler = header.value("scheduler", std::map<std::string, std::string>{});
    run.tags = header.value("tags", std::vector<std::string>{});
    run.warnings = header.value("warnings", std::vector<std::string>{});
    run.overhead.interval_s = header.value("interval_s", 0.0);
    get_accounting_fields(header, run);
    std::vector<DeviceInfo> devices;
    for (const auto& d : header.at("devices")) {
      auto dev = device_from_json(d);
      if (!dev) return dev.error().with_context(path.string() + ":1");
      devices.push_back(*dev);
    }
    TimelineBuilder builder(run.start_utc, from_seconds(header.at("bucket_s").get<double>()),
                            devices);
    std::vector<double> values;
    int line_no = 1;
    bool ended = false;
    Nanos end_offset{0};
    while (std::getline(in, line)) {
      ++line_no;
      auto j = nlohmann::json::parse(line, nullptr, false);
      if (j.is_discarded()) {
        if (in.peek() == EOF) break;  // torn last line: the process died mid-write
        return make_error("{}:{}: damaged journal line", path.string(), line_no);
      }
      if (j.contains("e")) {
        values = j.at("e").get<std::vector<double>>();
        if (values.size() != devices.size()) {
          return make_error("{}:{}: {} values for {} devices", path.string(), line_no,
                            values.size(), devices.size());
        }
        builder.add(from_seconds(j.at("t").get<double>()), values);
        ++run.overhead.samples;
      } else if (j.value("type", "") == "warning") {
        run.warnings.push_back(j.value("message", ""));
      } else if (j.value("type", "") == "end") {
        ended = true;
        end_offset = from_seconds(j.at("t").get<double>());
        if (!j.at("exit_code").is_null()) run.exit_code = j.at("exit_code").get<int>();
        const auto& o = j.at("overhead");
        run.overhead.cpu_s = o.value("cpu_s", 0.0);
        run.overhead.peak_rss_mb = o.value("peak_rss_mb", 0.0);
      }
    }
    run.timeline = builder.timeline();
    run.end_utc = run.start_utc +
                  (ended ? std::max(end_offset, builder.last_offset()) : builder.last_offset());
    run.recovered = true;
    if (ended) {
      run.warnings.emplace_back(
          "run recovered from its journal: the job ended but carbonclock stopped before "
          "writing run.json");
    } else {
      run.warnings.push_back(fmt::format(
          "run recovered from its journal: carbonclock stopped before the job ended; energy "
          "after {} (the last flushed sample) is missing and the exit code is unknown",
          format_utc(run.end_utc)));
    }
  } catch (const nlohmann::json::exception& e) {
    return make_error("{}: damaged journal: {}", path.string(), e.what());
  }
  return run;
}

}  // namespace carbonclock
