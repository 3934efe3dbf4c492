// Provider responses: the Electricity Maps API v3 JSON (history, past-range, forecast) importer.
#include "fuzz/fuzz_series_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace carbonclock;
  fuzz::check_series(parse_electricitymaps_json(fuzz::as_text(data, size), "fuzz.json"));
  return 0;
}
