#!/usr/bin/env bash
# Whole-run overhead: carbonclock wrapping `sleep` while sampling 8 fake GPUs and 2 RAPL
# packages (with DRAM) at 10 Hz. Prints carbonclock's CPU share of one core and peak RSS,
# and the same for a run at the default 1 s interval as the baseline.
# Usage: bench/overhead.sh [SECONDS] (default 30); needs a built tree in build/.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-30}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
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
measure() {
  local interval=$1 out="$work/run-$1"
  FAKE_NVML_SCRIPT="$work/nvml.script" CARBONCLOCK_NVML_LIBRARY="$lib" \
    CARBONCLOCK_SYSFS_ROOT="$work" build/carbonclock run -q --interval "$interval" --out "$out" -- sleep "$secs"
  python3 - "$out/run.json" "$interval" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
o = r["overhead"]
share = 100 * o["cpu_s"] / r["duration_s"]
print(f"interval {sys.argv[2]:>6}: {len(r['devices'])} devices, {o['samples']} samples in {r['duration_s']:.1f} s, "
      f"carbonclock CPU {o['cpu_s']*1000:.1f} ms = {share:.3f} % of one core "
      f"({o['cpu_s']*1e6/max(o['samples'],1):.1f} us/sample), peak RSS {o['peak_rss_mb']:.1f} MiB")
PY
}
measure 1s
measure 100ms
