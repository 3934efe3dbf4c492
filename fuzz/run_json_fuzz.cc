// run.json as `carbonclock report RUN_DIR` reads it (tampered or damaged files included).
#include <cmath>

#include "fuzz/fuzz_util.h"
#include "metering/run_record.h"

namespace carbonclock::fuzz {

void check_run(const RunRecord& run) {
  const EnergyTimeline& t = run.timeline;
  require(t.bucket >= std::chrono::seconds(1) && std::chrono::hours(24) % t.bucket == Nanos(0),
          "bucket length not checked");
  for (size_t i = 0; i < t.buckets.size(); ++i) {
    require(t.buckets[i].energy_j.size() == t.devices.size(), "bucket without every device");
    for (double e : t.buckets[i].energy_j) require(std::isfinite(e) && e >= 0, "bad energy");
    require(std::isfinite(t.buckets[i].active_s) && t.buckets[i].active_s >= 0, "bad active_s");
  }
  require(std::isfinite(t.total_j()), "total energy not finite");
  double share = run.measured_share();
  require(share >= 0 && share <= 1, "measured share out of [0, 1]");
  require(run.end_utc >= run.start_utc && in_time_range(run.start_utc), "bad start/end");
  if (run.exit_code) require(*run.exit_code >= 0 && *run.exit_code <= 255, "bad exit code");
  if (run.pue) require(*run.pue >= 1 && *run.pue <= 3, "bad pue");
}

}  // namespace carbonclock::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace carbonclock;
  auto doc = parse_carbonclock_json(fuzz::as_text(data, size), "run.json");
  if (!doc) {
    fuzz::check_error(doc.error());
    return 0;
  }
  auto run = run_from_json(*doc, "run.json");
  if (!run) {
    fuzz::check_error(run.error());
    return 0;
  }
  fuzz::check_run(*run);
  // What carbonclock writes back must read back, and settle after one round (times are
  // written to the millisecond).
  auto once = run_from_json(*parse_carbonclock_json(dump_json(run_to_json(*run)), "w1"), "w1");
  fuzz::require(once.ok(), "a run read from run.json cannot be written and read again");
  auto twice = run_from_json(*parse_carbonclock_json(dump_json(run_to_json(*once)), "w2"), "w2");
  fuzz::require(twice.ok() && run_to_json(*twice) == run_to_json(*once),
                "run.json does not round-trip");
  return 0;
}
