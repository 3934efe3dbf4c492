#include "metering/journal.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <fstream>
#include <limits>

#include "common/files.h"
#include "common/json_text.h"

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
  if (run.cluster) header["cluster"] = *run.cluster;
  std::unique_ptr<JournalWriter> w(new JournalWriter(fd, path));
  w->append(dump_json(std::move(header)) + "\n");
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
  append(dump_json(std::move(j)) + "\n");
}

void JournalWriter::end(Nanos offset, std::optional<int> exit_code, const RunOverhead& overhead) {
  nlohmann::json j = {{"type", "end"},
                      {"t", to_seconds(offset)},
                      {"exit_code", exit_code ? nlohmann::json(*exit_code) : nlohmann::json()},
                      {"overhead",
                       {{"cpu_s", overhead.cpu_s},
                        {"peak_rss_mb", overhead.peak_rss_mb},
                        {"samples", overhead.samples}}}};
  append(dump_json(std::move(j)) + "\n");
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

namespace {

using nlohmann::json;

constexpr double kMaxFinite = std::numeric_limits<double>::max();
// A sample's offset may not create more buckets than this (10 million: 115 days of 1-second
// buckets, 95 years of 5-minute ones), so a tampered offset cannot exhaust memory.
constexpr double kMaxJournalBuckets = 1e7;

bool is_type(const json& j, const char* type) {
  auto it = j.find("type");
  return it != j.end() && it->is_string() && it->get_ref<const std::string&>() == type;
}

}  // namespace

Result<RunRecord> recover_from_journal(const std::filesystem::path& run_dir) {
  auto path = run_dir / kJournalFile;
  std::ifstream in(path);
  if (!in) return make_error("{}: cannot open: {}", path.string(), errno_text(errno));
  return recover_from_journal(in, path.string());
}

Result<RunRecord> recover_from_journal(std::istream& in, const std::string& name) {
  std::string line;
  if (!std::getline(in, line)) return make_error("{}: empty journal", name);
  auto header = parse_carbonclock_json(line, name + ":1");
  if (!header || !header->is_object() || !is_type(*header, "header")) {
    return make_error("{}:1: not a carbonclock journal header", name);
  }
  const json& h = *header;
  JsonFieldReader r(name + ":1");
  RunRecord run;
  int64_t version = r.integer(h, "", "schema_version", 1, INT32_MAX);
  if (r.ok() && version > kRunSchemaVersion) {
    return make_error("{}: schema_version {} is newer than this carbonclock understands ({})", name,
                      version, kRunSchemaVersion);
  }
  run.id = r.string(h, "", "id");
  run.carbonclock_version = r.optional_string(h, "", "carbonclock_version").value_or("");
  if (!h.contains("command")) r.fail("command", "missing");
  run.command = r.strings(h, "", "command");
  run.start_utc =
      SysTime{Nanos{r.integer(h, "", "start_unix_ns", kMinTime.time_since_epoch().count(),
                              kMaxTime.time_since_epoch().count() - 1)}};
  run.host = r.optional_string(h, "", "host").value_or("");
  run.scheduler = r.string_map(h, "", "scheduler");
  run.tags = r.strings(h, "", "tags");
  run.warnings = r.strings(h, "", "warnings");
  run.overhead.interval_s = r.optional_number(h, "", "interval_s", 0, 86400).value_or(0);
  get_accounting_fields(r, h, run);
  if (h.contains("cluster") && h.at("cluster").is_object()) run.cluster = h.at("cluster");
  std::vector<DeviceInfo> devices;
  const json& device_list = r.array(h, "", "devices");
  for (size_t i = 0; i < device_list.size() && r.ok(); ++i) {
    std::string where = fmt::format("devices[{}]", i);
    DeviceInfo d = read_device(r, device_list[i], where);
    for (const auto& other : devices) {
      if (r.ok() && other.id == d.id) r.fail(where + ".id", fmt::format("'{}' twice", d.id));
    }
    devices.push_back(std::move(d));
  }
  const Nanos bucket = read_bucket(r, h, "");
  if (!r.ok()) return r.error();
  const double max_t_s =
      std::min(to_seconds(kMaxDuration), kMaxJournalBuckets * to_seconds(bucket));

  TimelineBuilder builder(run.start_utc, bucket, devices);
  std::vector<double> values(devices.size());
  int line_no = 1;
  bool ended = false;
  Nanos end_offset{0};
  while (std::getline(in, line)) {
    ++line_no;
    auto parsed = parse_carbonclock_json(line, fmt::format("{}:{}", name, line_no));
    if (!parsed || !parsed->is_object()) {
      if (in.peek() == EOF) break;  // torn last line: the process died mid-write
      return make_error("{}:{}: damaged journal line", name, line_no);
    }
    const json& j = *parsed;
    JsonFieldReader lr(fmt::format("{}:{}", name, line_no));
    if (j.contains("e")) {
      const double t = lr.number(j, "", "t", 0, max_t_s);
      const json& e = lr.array(j, "", "e");
      if (!lr.ok()) return lr.error();
      if (e.size() != devices.size()) {
        return make_error("{}:{}: {} values for {} devices", name, line_no, e.size(),
                          devices.size());
      }
      for (size_t i = 0; i < e.size(); ++i) {
        // Cumulative joules: finite and >= 0 (a negative one gave negative emissions). The
        // usual case is tested inline; number_value only builds the message.
        if (e[i].is_number()) {
          values[i] = e[i].get<double>();
          if (std::isfinite(values[i]) && values[i] >= 0) continue;
        }
        (void)lr.number_value(e[i], fmt::format("e[{}]", i), 0, kMaxFinite);
      }
      if (!lr.ok()) return lr.error();
      builder.add(from_seconds(t), values);
      ++run.overhead.samples;
    } else if (is_type(j, "warning")) {
      run.warnings.push_back(lr.optional_string(j, "", "message").value_or(""));
    } else if (is_type(j, "end")) {
      ended = true;
      end_offset = from_seconds(lr.number(j, "", "t", 0, max_t_s));
      if (auto code = lr.optional_integer(j, "", "exit_code", 0, kMaxExitCode)) {
        run.exit_code = static_cast<int>(*code);
      }
      const json& o = lr.object(j, "", "overhead");
      run.overhead.cpu_s = lr.optional_number(o, "overhead", "cpu_s", 0, kMaxFinite).value_or(0);
      run.overhead.peak_rss_mb =
          lr.optional_number(o, "overhead", "peak_rss_mb", 0, kMaxFinite).value_or(0);
    }
    if (!lr.ok()) return lr.error();
  }
  run.timeline = builder.timeline();
  run.end_utc =
      run.start_utc + (ended ? std::max(end_offset, builder.last_offset()) : builder.last_offset());
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
  return run;
}

}  // namespace carbonclock
