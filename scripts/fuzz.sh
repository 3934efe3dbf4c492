#!/usr/bin/env bash
# Builds the libFuzzer harnesses of fuzz/ with clang (ASan + UBSan) in build-asan/ (the build
# scripts/sanitize.sh runs the test suite in) and runs each for a bounded time, as many at once
# as there are cores (FUZZ_JOBS overrides). Fails when any harness finds a crash, a sanitizer
# report, a leak, a timeout (an input taking over 30 s: a legitimate year-long journal takes 5-10 s
# under ASan with coverage on a loaded machine), an out-of-memory or a broken property.
#
#   scripts/fuzz.sh [SECONDS_PER_HARNESS] [HARNESS ...]      (default: 60 s, every harness)
#
# Seeds: fuzz/corpus/<harness>/ (committed, small), the recorded responses in src/grid/testdata,
# and the first 4 KiB of the real files in ../shared/data when it is present (read at run time,
# never copied into the repository). What the fuzzer finds is kept in build-asan/fuzzing/corpus/
# and reused by the next run; crashes land in build-asan/fuzzing/artifacts/, logs in
# build-asan/fuzzing/logs/. Reproduce a finding:
#   build-asan/fuzz/<harness>_fuzz build-asan/fuzzing/artifacts/<file>
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/clang_config.sh
source scripts/clang_config.sh

seconds=${1:-60}
shift || true
all=(import_auto electricitymaps_csv generic_csv electricitymaps_json watttime_json ukci_json
  run_json journal json_text time redaction live_source)
harnesses=("$@")
if [[ $# -eq 0 ]]; then harnesses=("${all[@]}"); fi
jobs=${FUZZ_JOBS:-$(nproc)}

build=build-asan
out=$build/fuzzing
shared=../shared/data
testdata=src/grid/testdata

configure_clang "$build" address
targets=()
for h in "${harnesses[@]}"; do targets+=("${h}_fuzz"); done
cmake --build "$build" -j"$(nproc)" --target "${targets[@]}"

# seed DIR PREFIX FILE...: copies each file into DIR, prefixed with the PREFIX bytes (printf
# format) for harnesses whose first byte selects a mode.
seed() {
  local dir=$1 prefix=$2
  shift 2
  local f
  for f in "$@"; do
    [[ -f $f ]] || continue
    { printf "$prefix"; cat "$f"; } >"$dir/$(basename "$f")"
  done
}
# head_seed DIR PREFIX FILE...: the same with the first 4 KiB of each file, cut after a line.
head_seed() {
  local dir=$1 prefix=$2
  shift 2
  local f
  for f in "$@"; do
    [[ -f $f ]] || continue
    { printf "$prefix"; head -c 4096 "$f" | sed '$d'; } >"$dir/shared-$(basename "$(dirname "$f")")-$(basename "$f")"
  done
}

shopt -s nullglob
shared_csv=("$shared"/electricitymaps_hourly/*.csv "$shared"/lets-wait-awhile/*_ci.csv
  "$shared"/marginal-emission-factors/*/*.csv "$shared"/vessim/*.csv "$shared"/zeus/*.csv)
shared_json=("$shared"/zeus/*.json)

make_seeds() {
  local h=$1 dir=$out/seeds/$1
  rm -rf "$dir"
  mkdir -p "$dir"
  seed "$dir" "" fuzz/corpus/"$h"/*
  case $h in
    import_auto)
      seed "$dir" "" "$testdata"/*.csv "$testdata"/*.json "$testdata"/live/*.json
      head_seed "$dir" "" "${shared_csv[@]}" "${shared_json[@]}" ;;
    electricitymaps_csv)
      seed "$dir" "" "$testdata"/em_hourly.csv
      head_seed "$dir" "" "$shared"/electricitymaps_hourly/*.csv ;;
    generic_csv)
      seed "$dir" '\001' "$testdata"/*.csv
      head_seed "$dir" '\001' "${shared_csv[@]}" ;;
    electricitymaps_json)
      seed "$dir" "" "$testdata"/em_*.json "$testdata"/live/em_*.json "${shared_json[@]}" ;;
    watttime_json)
      seed "$dir" "" "$testdata"/watttime_*.json "$testdata"/live/watttime_*.json ;;
    ukci_json)
      seed "$dir" "" "$testdata"/ukci_*.json "$testdata"/live/ukci_*.json ;;
    json_text)
      seed "$dir" "" "$testdata"/*.json "$testdata"/live/*.json "${shared_json[@]}" ;;
    live_source)
      # Mode byte: source (0 WattTime, 1 Electricity Maps, 2 UK) | 4 forecast | 8 UK region.
      seed "$dir" '\000' "$testdata"/live/watttime_historical.json
      seed "$dir" '\004' "$testdata"/live/watttime_forecast.json
      seed "$dir" '\001' "$testdata"/live/em_past_range.json
      seed "$dir" '\005' "$testdata"/live/em_forecast.json
      seed "$dir" '\002' "$testdata"/live/ukci_intensity.json
      seed "$dir" '\012' "$testdata"/live/ukci_regional.json ;;
  esac
}

dict_of() {
  case $1 in
    *csv) echo fuzz/dict/csv.dict ;;
    run_json | journal) echo fuzz/dict/run.dict ;;
    time) echo fuzz/dict/time.dict ;;
    redaction) echo fuzz/dict/redaction.dict ;;
    *) echo fuzz/dict/json.dict ;;
  esac
}

# fuzz_one HARNESS: runs it, its output in $out/logs/HARNESS.log, its exit status in .rc.
fuzz_one() {
  local h=$1 log=$out/logs/$1.log rc=0
  "$build/fuzz/${h}_fuzz" "$out/corpus/$h" "$out/seeds/$h" \
    -max_total_time="$seconds" -print_final_stats=1 -dict="$(dict_of "$h")" \
    -timeout=30 -rss_limit_mb=2048 -max_len=16384 \
    -artifact_prefix="$out/artifacts/$h-" >"$log" 2>&1 || rc=$?
  echo "$rc" >"$out/logs/$h.rc"
}

mkdir -p "$out/logs" "$out/artifacts"
for h in "${harnesses[@]}"; do
  make_seeds "$h"
  mkdir -p "$out/corpus/$h"
  rm -f "$out/logs/$h.rc"
done
running=0
for h in "${harnesses[@]}"; do
  if ((running >= jobs)); then
    wait -n || true
    running=$((running - 1))
  fi
  fuzz_one "$h" &
  running=$((running + 1))
done
wait || true

failed=0
total_execs=0
printf '%-22s %12s %10s %8s %8s %7s  %s\n' harness executions exec/s cov ft corpus result
for h in "${harnesses[@]}"; do
  log=$out/logs/$h.log
  rc=$(cat "$out/logs/$h.rc" 2>/dev/null || echo 1)
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  last=$(grep -E '^#[0-9]+' "$log" | tail -1 || true)
  cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")
  ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")
  corp=$(sed -n 's/.* corp: \([0-9]*\).*/\1/p' <<<"$last")
  result=ok
  if ((rc != 0)) || grep -qE '^==[0-9]+==ERROR|runtime error:|fuzz property violated' "$log"; then
    result="FINDING (see $log)"
    failed=1
  fi
  total_execs=$((total_execs + ${execs:-0}))
  printf '%-22s %12s %10s %8s %8s %7s  %s\n' "$h" "${execs:-?}" "${rate:-?}" "${cov:-?}" \
    "${ft:-?}" "${corp:-?}" "$result"
done
echo "total executions: $total_execs"
if ((failed)); then
  for h in "${harnesses[@]}"; do
    if ! grep -qx 0 "$out/logs/$h.rc" 2>/dev/null; then
      echo "--- $h ($out/logs/$h.log, last 40 lines)" >&2
      tail -40 "$out/logs/$h.log" >&2
    fi
  done
fi
exit $failed
