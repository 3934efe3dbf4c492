#!/usr/bin/env bash
# Builds the test suite with clang under sanitizers and runs it (CI runs both modes).
#
#   scripts/sanitize.sh            ASan + UBSan, the whole suite, in build-asan/ (the same build
#                                  as the fuzz harnesses of scripts/fuzz.sh)
#   scripts/sanitize.sh thread     TSan, the test programs whose code runs threads in process
#                                  (meter, executor, supervisor, watchdog, job control, exporter,
#                                  sweeps, HTTP and live sources), in build-tsan/
#
# Every sanitizer report stops the program that made it (-fno-sanitize-recover, halt_on_error)
# and is also written under DIR/sanitizer-reports/; the script fails when any report was written,
# even by a child process whose test passed or was retried. A test that fails without a report
# is retried twice (--repeat until-pass:3): a few scheduling tests measure wall-clock slots, and
# a sanitizer slows them 2–10x; a report is never retried away. Extra arguments go to ctest
# (e.g. -R Store) in address mode, to each test program (e.g. --gtest_filter=Meter*) in thread
# mode.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/clang_config.sh
source scripts/clang_config.sh

mode=${1:-address}
shift || true
case $mode in
  address)
    dir=build-asan
    targets=(all)
    ;;
  thread)
    dir=build-tsan
    # The in-process test programs of the threaded code, whole: TSan sees races in the process
    # it instruments. The end-to-end tests of the binary (cli_*) run under ASan only; building
    # the whole binary under TSan as well would double CI's sanitizer time.
    programs=(src/metering/metering_test src/execution/execution_test src/exporter/exporter_test
      src/http/http_test src/shifting/shifting_test src/grid/grid_live_test)
    targets=(cc_test_ticker)
    for p in "${programs[@]}"; do targets+=("$(basename "$p")"); done
    ;;
  *)
    echo "usage: scripts/sanitize.sh [address|thread] [ctest arguments]" >&2
    exit 2
    ;;
esac

configure_clang "$dir" "$mode"
cmake --build "$dir" -j"$(nproc)" --target "${targets[@]}"

reports=$PWD/$dir/sanitizer-reports
rm -rf "$reports"
mkdir -p "$reports"
common=halt_on_error=1:log_path=$reports/report
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:strict_string_checks=1:detect_stack_use_after_return=1:$common}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:$common}
export TSAN_OPTIONS=${TSAN_OPTIONS:-second_deadlock_stack=1:$common}

# TSan of clang 14 cannot map its shadow memory when the kernel randomises mmap with more than
# 28 bits; running without address randomisation avoids that where the kernel allows it.
runner=()
if [[ $mode == thread ]] && setarch "$(uname -m)" -R true 2>/dev/null; then
  runner=(setarch "$(uname -m)" -R)
fi

rc=0
if [[ $mode == address ]]; then
  # readme_examples replays the README, whose year-long `backtest` alone takes over 10 minutes
  # under ASan with libFuzzer's coverage; the g++ suite runs it, and each command's own tests
  # run here.
  ctest --test-dir "$dir" --output-on-failure -j"$(nproc)" --repeat until-pass:3 \
    -E '^readme_examples$' "$@" || rc=$?
else
  for p in "${programs[@]}"; do
    for attempt in 1 2 3; do
      echo "== $p (attempt $attempt)"
      if "${runner[@]}" "$dir/$p" --gtest_brief=1 "$@"; then break; fi
      if ((attempt == 3)); then rc=1; fi
    done
  done
fi

shopt -s nullglob
found=("$reports"/report*)
if ((${#found[@]})); then
  echo "sanitize: ${#found[@]} sanitizer report(s):" >&2
  for f in "${found[@]}"; do
    echo "--- $f" >&2
    head -60 "$f" >&2
  done
  exit 1
fi
exit $rc
