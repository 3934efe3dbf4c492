#!/usr/bin/env bash
# Whole-run overhead of the carbonclock binary wrapping `sleep`.
#
# 1. 8 fake GPUs and 2 RAPL packages (with DRAM) at the default 1 s interval and at 10 Hz:
#    carbonclock's CPU share of one core and peak RSS.
# 2. The host's processes: CPU and DRAM estimated from the job's process tree (no RAPL, no
#    GPU), `run --interval 1s`, with HOST_PROCESSES unrelated sleeping processes started for
#    the purpose. For this build and, when BASELINE names another carbonclock binary (e.g. one
#    built from commit 99a304a, before the meter followed children files), for that one first;
#    a table with both and the ratio. "per second" leaves out the fixed start-up
#    cost: (CPU of a SECONDS run - CPU of a 0 s run) / SECONDS.
#
# Usage: [BASELINE=path/to/old/carbonclock] bench/overhead.sh [SECONDS] [HOST_PROCESSES]
#        (defaults 30, at least 10, and 2000); needs a built tree in build/ (carbonclock, meter_bench and
#        the fake NVML library).
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-30}
if [ "$secs" -lt 10 ]; then echo "SECONDS must be at least 10" >&2; exit 2; fi
host_processes=${2:-2000}
work=$(mktemp -d)
host_group=
cleanup() {
  if [ -n "$host_group" ]; then kill -KILL -- "-$host_group" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

# Prints "cpu_ms duration_s samples peak_rss_mb" of a run directory.
overhead_of() {
  python3 - "$1/run.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
o = r["overhead"]
print(o["cpu_s"] * 1000, r["duration_s"], o["samples"], o["peak_rss_mb"])
PY
}

echo "## carbonclock run wrapping sleep $secs: 8 fake GPUs, 2 RAPL packages with DRAM"
echo
for i in 0 1 2 3 4 5 6 7; do printf 'gpu\nname Fake H100\npower 300\n'; done > "$work/nvml.script"
for p in 0 1; do
  mkdir -p "$work/sys/class/powercap/intel-rapl:$p" "$work/sys/class/powercap/intel-rapl:$p:0"
  echo "package-$p" > "$work/sys/class/powercap/intel-rapl:$p/name"
  echo dram > "$work/sys/class/powercap/intel-rapl:$p:0/name"
  for z in "intel-rapl:$p" "intel-rapl:$p:0"; do
    echo 1000 > "$work/sys/class/powercap/$z/energy_uj"
    echo 262143328850 > "$work/sys/class/powercap/$z/max_energy_range_uj"
  done
done
lib=$(find build/tests/fake_nvml -name 'libnvidia-ml.so.1' | head -1)
echo "| interval | devices | samples | carbonclock CPU | % of one core | us/sample | peak RSS |"
echo "|---:|---:|---:|---:|---:|---:|---:|"
for interval in 1s 100ms; do
  out="$work/fleet-$interval"
  FAKE_NVML_SCRIPT="$work/nvml.script" CARBONCLOCK_NVML_LIBRARY="$lib" CARBONCLOCK_DB="$work/db" \
    CARBONCLOCK_SYSFS_ROOT="$work" build/carbonclock run -q --interval "$interval" --out "$out" \
    -- sleep "$secs"
  read -r cpu_ms dur samples rss < <(overhead_of "$out")
  python3 -c "
import json
r = json.load(open('$out/run.json'))
print(f'| $interval | {len(r[\"devices\"])} | $samples | {$cpu_ms:.1f} ms | {$cpu_ms / $dur / 10:.3f} % | '
      f'{$cpu_ms * 1000 / max($samples, 1):.1f} | {$rss:.1f} MiB |')"
done

echo
before=$(find /proc -maxdepth 1 -name '[0-9]*' | wc -l)
host_group=$(build/bench/meter_bench --spawn-host "$host_processes")
on_host=$(find /proc -maxdepth 1 -name '[0-9]*' | wc -l)
echo "## carbonclock run --interval 1s wrapping sleep $secs: CPU and DRAM estimated," \
  "$host_processes unrelated processes started ($before before, $on_host now)"
echo
mkdir -p "$work/empty"  # a sysfs root without RAPL: the estimate sensor follows the job
cpu_ns_of() {  # PID -> CPU nanoseconds of all its threads (schedstat: exact, not clock ticks)
  cat /proc/"$1"/task/*/schedstat 2>/dev/null | awk '{ s += $1 } END { printf "%.0f", s }'
}
measure() {  # BINARY -> "whole-run % of a core" "% of a core per second after start-up"
  local out="$work/est-$RANDOM$RANDOM" pid a b
  CARBONCLOCK_DB="$work/db" CARBONCLOCK_SYSFS_ROOT="$work/empty" \
    "$1" run -q --no-gpu --interval 1s --out "$out" -- sleep "$secs" &
  pid=$!
  sleep 3  # past start-up
  a=$(cpu_ns_of "$pid")
  sleep $((secs - 6))
  b=$(cpu_ns_of "$pid")
  wait "$pid"
  read -r cpu_ms dur _ _ < <(overhead_of "$out")
  rm -rf "$out"
  python3 -c "print($cpu_ms / $dur / 10, ($b - $a) / 1e9 / ($secs - 6) * 100)"
}
binaries=(build/carbonclock)
if [ -n "${BASELINE:-}" ]; then binaries=("$BASELINE" build/carbonclock); fi
declare -A whole per_second
for bin in "${binaries[@]}"; do  # the baseline first, then this build
  read -r whole[$bin] per_second[$bin] < <(measure "$bin")
done
echo "| measure | baseline | carbonclock | ratio |"
echo "|---|---:|---:|---:|"
for what in whole per_second; do
  declare -n col=$what
  label=$([ "$what" = whole ] && echo "% of one core over the run" || echo "% of one core per second after start-up")
  new=${col[build/carbonclock]}
  if [ -n "${BASELINE:-}" ]; then
    old=${col[$BASELINE]}
    python3 -c "print(f'| $label | {$old:.4f} % | {$new:.4f} % | {$new / $old:.4f} |')"
  else
    python3 -c "print(f'| $label | (set BASELINE) | {$new:.4f} % | |')"
  fi
  unset -n col
done
