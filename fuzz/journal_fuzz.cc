// journal.jsonl as `carbonclock report RUN_DIR` recovers it after carbonclock died.
#include <cmath>
#include <sstream>

#include "fuzz/fuzz_util.h"
#include "metering/journal.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace carbonclock;
  std::istringstream in{std::string(fuzz::as_text(data, size))};
  auto run = recover_from_journal(in, "journal.jsonl");
  if (!run) {
    fuzz::check_error(run.error());
    return 0;
  }
  fuzz::require(run->recovered, "recovered run not marked");
  fuzz::require(run->end_utc >= run->start_utc, "end before start");
  for (const auto& b : run->timeline.buckets) {
    for (double e : b.energy_j) fuzz::require(std::isfinite(e) && e >= 0, "bad energy");
  }
  // The recovered run is saved as run.json by `report`; it must read back.
  auto back = run_from_json(*parse_carbonclock_json(dump_json(run_to_json(*run)), "w"), "w");
  fuzz::require(back.ok(), "a recovered run cannot be written as run.json and read again");
  return 0;
}
