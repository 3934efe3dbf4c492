#!/usr/bin/env bash
# Builds the test suite with clang under sanitizers and runs it (CI runs both modes).
#
#   scripts/sanitize.sh            ASan + UBSan, the whole suite, in build-asan/ (the same build
#                                  as the fuzz harnesses of scripts/fuzz.sh)
#   scripts/sanitize.sh thread     TSan, the tests whose code runs threads (meter, executor,
#                                  supervisor, watchdog, scheduled runs, sweeps, HTTP and live
#                                  sources, the exporter), in build-tsan/
#
# Every sanitizer report stops the program that made it (-fno-sanitize-recover, halt_on_error)
# and is also written under DIR/sanitizer-reports/; the script fails when any report was written,
# even by a child process whose test passed or was retried. A test that fails without a report
# is retried twice (--repeat until-pass:3): a few scheduling tests measure wall-clock slots, and
# a sanitizer slows them 2–10x; a report is never retried away. Extra arguments go to ctest
# (e.g. -R Store).
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
    tests=()
    ;;
  thread)
    dir=build-tsan
    # The test programs holding the threaded tests, and what they run.
    targets=(metering_test execution_test exporter_test exporter_cli_test exporter_prometheus_test
      cli_run_test cli_schedule_test shifting_test reports_test http_test grid_live_test
      carbonclock fake_nvml cc_test_ticker)
    tests=(-R '^(Meter|ExecutorTest|SupervisorTest|AdoptingSupervisorTest|WatchdogTest|JobControlTest|ScheduledRunTest|RunCommandTest|Sweep[A-Za-z]*|CurlTransport[A-Za-z]*|LiveSourceTest|NodeMeterTest|FeedTest|JobTrackerTest|HttpServer|HttpServerTest|ExporterCliTest|ExporterPrometheusTest)\.')
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
"${runner[@]}" ctest --test-dir "$dir" --output-on-failure -j"$(nproc)" --repeat until-pass:3 \
  "${tests[@]}" "$@" || rc=$?

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
