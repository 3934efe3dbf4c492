#!/usr/bin/env bash
# The checks CI runs after the README's test command (scripts/test.sh), each timed:
#   1. asan  the whole test suite under ASan + UBSan (scripts/sanitize.sh)
#   2. fuzz  every libFuzzer harness for 60 s under ASan + UBSan, on the same build (scripts/fuzz.sh)
#   3. tidy  clang-tidy on the lines changed since .ci/tidy-base (scripts/tidy.py)
#   4. tsan  the threaded tests under TSan (scripts/sanitize.sh thread)
# Any finding fails the script. CI stops after 90 minutes, so a stage that would not finish
# before CARBONCLOCK_CI_DEADLINE (epoch seconds; .ci/run sets it) is skipped with a loud
# message instead of making CI time out; the estimates below are measured on a 2-core machine.
set -euo pipefail
cd "$(dirname "$0")/.."

deadline=${CARBONCLOCK_CI_DEADLINE:-}
skipped=()

# stage NAME ESTIMATE_S COMMAND...
stage() {
  local name=$1 estimate=$2
  shift 2
  local now
  now=$(date +%s)
  if [[ -n $deadline ]] && ((now + estimate > deadline)); then
    echo "== ci: SKIPPED $name: about ${estimate} s needed, $((deadline - now)) s left before the CI deadline" >&2
    skipped+=("$name")
    return 0
  fi
  echo "== ci: $name (about ${estimate} s)"
  local t0=$SECONDS
  "$@"
  echo "== ci: $name passed in $((SECONDS - t0)) s"
}

stage asan 1800 scripts/sanitize.sh address
stage fuzz 480 scripts/fuzz.sh 60
stage tidy 600 /usr/bin/python3 scripts/tidy.py --build-dir build-asan
stage tsan 1200 scripts/sanitize.sh thread

if ((${#skipped[@]})); then
  echo "== ci: skipped for time: ${skipped[*]}" >&2
fi
