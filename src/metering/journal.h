// The crash-safe journal: one JSON object per line, appended while the job runs, so that a
// run survives carbonclock being killed (even by SIGKILL). Lines:
//   {"type":"header", ...run metadata and devices...}
//   {"t":12.5,"e":[cumulative joules per device]}            one per sample
//   {"type":"warning","t":3.0,"message":"..."}
//   {"type":"end","t":61.2,"exit_code":0,"overhead":{...}}
#pragma once

#include <cstdio>
#include <filesystem>
#include <istream>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "metering/run_record.h"

namespace carbonclock {

inline constexpr const char* kJournalFile = "journal.jsonl";
inline constexpr const char* kRunFile = "run.json";

class JournalWriter {
 public:
  /// Creates RUN_DIR/journal.jsonl and writes the header from `run` (id, command, start,
  /// host, scheduler, tags, bucket, devices). Error names the path.
  static Result<std::unique_ptr<JournalWriter>> create(const std::filesystem::path& run_dir,
                                                       const RunRecord& run);
  ~JournalWriter();
  JournalWriter(const JournalWriter&) = delete;
  JournalWriter& operator=(const JournalWriter&) = delete;

  void sample(Nanos offset, std::span<const double> cumulative_j);
  void warning(Nanos offset, const std::string& message);
  void end(Nanos offset, std::optional<int> exit_code, const RunOverhead& overhead);
  /// Hands buffered lines to the kernel (write(2)); they survive the process being killed.
  /// When a write fails (disk full, quota, I/O error) the file is cut back to its last whole
  /// line, so it never holds half a line, and the lines wait for the next flush. Error names
  /// the path and the cause.
  Status flush();
  /// What a failed flush cost the journal ("" when nothing): kept for the run's warnings.
  std::string problem() const;

  /// Lines waiting for a flush beyond this many bytes (a disk that stays full) make the
  /// writer drop the waiting samples, never a warning or the end line. Samples carry
  /// cumulative energy, so no energy is lost: only the timeline's detail inside the gap.
  static constexpr size_t kMaxPendingBytes = 1 << 20;

 private:
  JournalWriter(int fd, std::filesystem::path path);
  void append(std::string_view line);
  int fd_;
  std::filesystem::path path_;
  std::string pending_;  ///< whole lines not yet written
  std::string line_;
  int failed_flushes_ = 0;
  size_t dropped_samples_ = 0;
  std::string last_error_;
};

/// Rebuilds a run from RUN_DIR/journal.jsonl: replays the samples through the same
/// TimelineBuilder the live run used. A torn last line is ignored. The result has
/// `recovered` set and a warning saying so.
Result<RunRecord> recover_from_journal(const std::filesystem::path& run_dir);
/// The same for journal text read from `in`; `name` names it in messages ("NAME:LINE: ...").
/// Every value is checked (see run_from_json); damage is an Error, never a crash.
Result<RunRecord> recover_from_journal(std::istream& in, const std::string& name);

}  // namespace carbonclock
