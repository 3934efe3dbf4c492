#!/usr/bin/env bash
# Builds the test suite with clang under sanitizers and runs it.
#
#   scripts/sanitize.sh            ASan + UBSan, the whole suite, in build-asan/
#   scripts/sanitize.sh thread     TSan, the threaded tests (meter, executor, supervisor,
#                                  watchdog, scheduled runs, HTTP and live sources), in build-tsan/
#
# Any sanitizer report fails the test that triggered it (-fno-sanitize-recover, halt_on_error).
# Extra arguments go to ctest (e.g. -R Store). Not run by .ci/run yet.
set -euo pipefail
cd "$(dirname "$0")/.."

mode=${1:-address}
shift || true
case $mode in
  address)
    dir=build-asan
    sanitizers=address,undefined
    tests=()
    ;;
  thread)
    dir=build-tsan
    sanitizers=thread
    # The tests whose code runs threads: the meter's sampler, the executor and supervisor,
    # the watchdog, scheduled runs, sweeps, and the loopback HTTP servers of the live tests.
    tests=(-R '^(Meter|ExecutorTest|SupervisorTest|WatchdogTest|JobControlTest|ScheduledRunTest|RunCommandTest|Sweep|CurlTransport|LiveSourceTest)\.')
    ;;
  *)
    echo "usage: scripts/sanitize.sh [address|thread] [ctest arguments]" >&2
    exit 2
    ;;
esac

launcher=()
if command -v ccache >/dev/null; then
  launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache)
fi
CC=clang CXX=clang++ cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g" -DCARBONCLOCK_SANITIZE="$sanitizers" \
  -DCARBONCLOCK_BUILD_BENCH=OFF "${launcher[@]}" >/dev/null
cmake --build "$dir" -j"$(nproc)"

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:strict_string_checks=1:detect_stack_use_after_return=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export TSAN_OPTIONS=${TSAN_OPTIONS:-halt_on_error=1:second_deadlock_stack=1}
ctest --test-dir "$dir" --output-on-failure -j"$(nproc)" "${tests[@]}" "$@"
