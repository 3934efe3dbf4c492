// Any file given to `carbonclock grid import` without --format: detection, then the importer
// it picks (Electricity Maps CSV/JSON, WattTime JSON, UK Carbon Intensity JSON, generic CSV).
#include "fuzz/fuzz_series_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace carbonclock;
  ImportOptions options;
  options.zone = "XX";  // generic CSV needs a zone unless the file has a zone column
  fuzz::check_series(parse_series(fuzz::as_text(data, size), "fuzz", options));
  return 0;
}
