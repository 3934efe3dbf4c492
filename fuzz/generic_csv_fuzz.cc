// The generic CSV importer under the option combinations `grid import` offers: the first byte
// picks time zone, index mode, step, duration column and unit.
#include "fuzz/fuzz_series_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace carbonclock;
  if (size == 0) return 0;
  const uint8_t mode = data[0];
  ImportOptions o;
  o.format = ImportFormat::kGenericCsv;
  if (mode & 1) o.zone = "XX";
  if (mode & 2) o.csv.tz = "Europe/Berlin";
  if (mode & 4) o.csv.step = std::chrono::minutes(15);
  if (mode & 8) {
    o.csv.index_origin = kMinTime + std::chrono::hours(24 * 365 * 100);
    o.csv.step = std::chrono::hours(1);
  }
  if (mode & 16) o.csv.duration_column = "duration";
  if (mode & 32) o.csv.unit = "lbs/MWh";
  if (mode & 64) o.csv.value_column = "value";
  if (mode & 128) o.signal = Signal::kMarginal;
  fuzz::check_series(parse_generic_csv(fuzz::as_text(data + 1, size - 1), "fuzz.csv", o));
  return 0;
}
