// Provider responses: the WattTime API v3 JSON (historical, forecast) importer.
#include "fuzz/fuzz_series_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace carbonclock;
  fuzz::check_series(parse_watttime_json(fuzz::as_text(data, size), "fuzz.json"));
  return 0;
}
