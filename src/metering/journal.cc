#include "metering/journal.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>

#include "common/files.h"

namespace carbonclock {

JournalWriter::JournalWriter(int fd, std::filesystem::path path)
    : fd_(fd), path_(std::move(path)) {}

JournalWriter::~JournalWriter() {
  if (fd_ >= 0) ::close(fd_);
}

Result<std::unique_ptr<JournalWriter>> JournalWriter::create(const std::filesystem::path& run_dir,
                                                             const RunRecord& run) {
  auto path = run_dir / kJournalFile;
  // O_CLOEXEC: the job never inherits the journal's descriptor. O_APPEND: after a failed write
  // is cut back (ftruncate), the next write lands at the new end.
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) return make_error("{}: cannot create: {}", path.string(), errno_text(errno));
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
  std::unique_ptr<JournalWriter> w(new JournalWriter(fd, path));
  w->append(header.dump() + "\n");
  if (auto s = w->flush(); !s) return s.error();
  return w;
}

void JournalWriter::append(std::string_view line) {
  pending_ += line;
  if (pending_.size() <= kMaxPendingBytes) return;
  // The disk stays full: keep the header, warnings and the end line, drop the samples.
  std::string kept;
  size_t pos = 0;
  while (pos < pending_.size()) {
    size_t nl = pending_.find('\n', pos);
    size_t end = nl == std::string::npos ? pending_.size() : nl + 1;
    std::string_view l(pending_.data() + pos, end - pos);
    if (l.starts_with(R"({"t":)")) {
      ++dropped_samples_;
    } else {
      kept += l;
    }
    pos = end;
  }
  pending_ = std::move(kept);
}

void JournalWriter::sample(Nanos offset, std::span<const double> cumulative_j) {
  line_.clear();
  fmt::format_to(std::back_inserter(line_), R"({{"t":{:.6f},"e":[)", to_seconds(offset));
  for (size_t i = 0; i < cumulative_j.size(); ++i) {
    if (i) line_.push_back(',');
    fmt::format_to(std::back_inserter(line_), "{:.6f}", cumulative_j[i]);
  }
  line_ += "]}\n";
  append(line_);
}

void JournalWriter::warning(Nanos offset, const std::string& message) {
  nlohmann::json j = {{"type", "warning"}, {"t", to_seconds(offset)}, {"message", message}};
  append(j.dump() + "\n");
}

void JournalWriter::end(Nanos offset, std::optional<int> exit_code, const RunOverhead& overhead) {
  nlohmann::json j = {{"type", "end"},
                      {"t", to_seconds(offset)},
                      {"exit_code", exit_code ? nlohmann::json(*exit_code) : nlohmann::json()},
                      {"overhead",
                       {{"cpu_s", overhead.cpu_s},
                        {"peak_rss_mb", overhead.peak_rss_mb},
                        {"samples", overhead.samples}}}};
  append(j.dump() + "\n");
}

Status JournalWriter::flush() {
  if (pending_.empty()) return {};
  // Where the file ends on a whole line; a failed write is cut back to here.
  struct stat st {};
  if (::fstat(fd_, &st) != 0) {
    return make_error(ErrorCode::kIo, "{}: write failed: {}", path_.string(), errno_text(errno));
  }
  size_t done = 0;
  while (done < pending_.size()) {
    ssize_t n = ::write(fd_, pending_.data() + done, pending_.size() - done);
    if (n > 0) {
      done += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    int err = n < 0 ? errno : ENOSPC;
    (void)!::ftruncate(fd_, st.st_size);
    ++failed_flushes_;
    last_error_ = errno_text(err);
    return make_error(ErrorCode::kIo, "{}: write failed: {}", path_.string(), last_error_);
  }
  pending_.clear();
  return {};
}

std::string JournalWriter::problem() const {
  if (failed_flushes_ == 0) return "";
  std::string out =
      fmt::format("{}: {} write(s) failed ({})", path_.string(), failed_flushes_, last_error_);
  if (dropped_samples_ > 0) {
    out += fmt::format(
        "; {} samples were dropped while the disk stayed full (energy totals are "
        "kept, the timeline is coarser there)",
        dropped_samples_);
  }
  if (!pending_.empty()) out += "; the journal's last lines could not be written";
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
