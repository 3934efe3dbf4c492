#!/usr/bin/env bash
# Overhead of `carbonclock exporter` on a node with 8 (fake) GPUs, 2 RAPL packages with their
# DRAM and two jobs on the GPUs, sampling every second, against an idle baseline in the same
# run: a second exporter with no GPUs, sampling hourly and never scraped (what the daemon costs
# just by being there: the binary, its libraries, its two threads; close to nothing, since an
# idle exporter sleeps until a request or a signal comes).
#
# Phase 1 scrapes every second (a 1 s Prometheus); phase 2 every 100 ms (ten times the
# scrapes). CPU is each process's scheduled run time (/proc/PID/task/*/schedstat, nanoseconds),
# so short phases stay precise. From the two phases' difference come the CPU per scrape and per
# sample; phase 2 also gives the RSS slope and the descriptors at its start and end. Figures:
# share of one core and RSS, each against the issue's target (0.1 % of one core, 10 MB) as a
# ratio, and against the idle baseline.
#
# With BASELINE_CARBONCLOCK=PATH (another build's binary, e.g. main's), a third exporter from
# that binary runs the same workload, scraped at the same moments, and each phase prints this
# build's CPU as a ratio to it: a before/after comparison under the same load in the same run.
#
# Soak mode (`soak [SECONDS]`, default 360): one exporter sampling every 100 ms and scraped
# every 100 ms, so 6 minutes hold 3,600 samples and 3,600 scrapes, the work of an hour at the
# 1 s cadence compressed tenfold (100 ms is the shortest --interval); it prints the RSS slope,
# the RSS at start and end, and the descriptors at start and end.
#
# Usage: bench/exporter_overhead.sh [SECONDS per phase [process-lists]] (default 60)
#        bench/exporter_overhead.sh soak [SECONDS] (default 360)
# Needs a built tree in build/ (targets carbonclock, fake_nvml).
set -euo pipefail
cd "$(dirname "$0")/.."
mode=overhead
if [ "${1:-}" = soak ]; then
  mode=soak
  shift
  secs=${1:-360}
  lists=
else
  secs=${1:-60}
  lists=${2:-}
fi
baseline_bin=${BASELINE_CARBONCLOCK:-}
work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

# 8 GPUs. With `process-lists`, job cc-bench-a is on GPUs 0-3 and cc-bench-b on 4-7; the fake
# library then finds them by reading every /proc/PID/comm on each of its process-list calls (32
# a sample), work a driver does not do, which the figures then include.
for i in 0 1 2 3 4 5 6 7; do
  printf 'gpu\nname Fake H100\npower 300\n'
  if [ "$lists" = process-lists ]; then
    printf 'process_comm cc-bench-%s sm=80\n' "$([ "$i" -lt 4 ] && echo a || echo b)"
  fi
done > "$work/nvml.script"
for p in 0 1; do
  mkdir -p "$work/sys/class/powercap/intel-rapl:$p" "$work/sys/class/powercap/intel-rapl:$p:0"
  echo "package-$p" > "$work/sys/class/powercap/intel-rapl:$p/name"
  echo dram > "$work/sys/class/powercap/intel-rapl:$p:0/name"
  for z in "intel-rapl:$p" "intel-rapl:$p:0"; do
    echo 1000 > "$work/sys/class/powercap/$z/energy_uj"
    echo 262143328850 > "$work/sys/class/powercap/$z/max_energy_range_uj"
  done
done
sleep_bin=$(command -v sleep)
ln -s "$sleep_bin" "$work/cc-bench-a"
ln -s "$sleep_bin" "$work/cc-bench-b"
SLURM_JOB_ID=9001 "$work/cc-bench-a" $((3 * secs + 60)) & pids+=($!)
SLURM_JOB_ID=9002 "$work/cc-bench-b" $((3 * secs + 60)) & pids+=($!)

lib=$(find build/tests/fake_nvml -name 'libnvidia-ml.so.1' | head -1)
export FAKE_NVML_SCRIPT="$work/nvml.script" CARBONCLOCK_NVML_LIBRARY="$lib"
export CARBONCLOCK_SYSFS_ROOT="$work" CARBONCLOCK_DB="$work/carbonclock.db"
interval=1s
[ "$mode" = soak ] && interval=100ms
build/carbonclock exporter --zone DE --interval "$interval" --listen 127.0.0.1:0 \
  2> "$work/test.err" &
test_pid=$!
pids+=("$test_pid")
build/carbonclock exporter --zone DE --no-gpu --interval 1h --listen 127.0.0.1:0 \
  2> "$work/idle.err" &
idle_pid=$!
pids+=("$idle_pid")
base_pid=0
if [ -n "$baseline_bin" ] && [ "$mode" = overhead ]; then
  "$baseline_bin" exporter --zone DE --interval 1s --listen 127.0.0.1:0 2> "$work/base.err" &
  base_pid=$!
  pids+=("$base_pid")
fi

python3 - "$mode" "$secs" "$test_pid" "$work/test.err" "$idle_pid" "$work/idle.err" \
  "$base_pid" "$work/base.err" <<'PY'
import glob, http.client, os, re, sys, time

mode, secs = sys.argv[1], float(sys.argv[2])
test_pid, test_err, idle_pid, idle_err = int(sys.argv[3]), sys.argv[4], int(sys.argv[5]), sys.argv[6]
base_pid, base_err = int(sys.argv[7]), sys.argv[8]

def address(path):
    for _ in range(600):
        m = re.search(r"serving http://([^/]+)/metrics", open(path).read())
        if m:
            return m.group(1)
        time.sleep(0.05)
    sys.exit(f"exporter did not start: {open(path).read()}")

def cpu_s(pid):  # run time of every thread, ns -> s
    return sum(int(open(f).read().split()[0]) for f in glob.glob(f"/proc/{pid}/task/*/schedstat")) * 1e-9

def status_kb(pid, field):
    m = re.search(rf"^{field}:\s+(\d+)", open(f"/proc/{pid}/status").read(), re.M)
    return int(m.group(1))

def fds(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))

def connect(err):
    host, port = address(err).rsplit(":", 1)
    return http.client.HTTPConnection(host, int(port), timeout=30)

conn = connect(test_err)
address(idle_err)
base_conn = connect(base_err) if base_pid else None

def scrape(c=None):
    c = c or conn
    c.request("GET", "/metrics")
    return c.getresponse().read().decode()

def counter(text, kind):
    m = re.search(rf'^carbonclock_exporter_samples_total\{{kind="{kind}"\}} (\S+)', text, re.M)
    return float(m.group(1))

def phase(period):
    text = scrape()
    s0, k0 = counter(text, "sample"), counter(text, "scrape")
    b0 = cpu_s(base_pid) if base_pid else 0
    c0, i0, f0, t0 = cpu_s(test_pid), cpu_s(idle_pid), fds(test_pid), time.monotonic()
    rss = []  # (seconds, kB)
    next_t, next_rss = t0, t0
    first = True
    while time.monotonic() - t0 < secs:
        # With a baseline build, alternate which is scraped first (the second finds warmer
        # caches for the libraries both map).
        order = [conn, base_conn] if first else [base_conn, conn]
        for c in order:
            if c:
                scrape(c)
        first = not first
        now = time.monotonic()
        if now >= next_rss:
            rss.append((now - t0, status_kb(test_pid, "VmRSS")))
            next_rss += 1.0
        next_t += period
        time.sleep(max(0.0, next_t - time.monotonic()))
    c1, i1, f1, t1 = cpu_s(test_pid), cpu_s(idle_pid), fds(test_pid), time.monotonic()
    b1 = cpu_s(base_pid) if base_pid else 0
    text = scrape()
    return dict(wall=t1 - t0, cpu=c1 - c0, idle_cpu=i1 - i0, base_cpu=b1 - b0,
                samples=counter(text, "sample") - s0, scrapes=counter(text, "scrape") - k0,
                fds=(f0, f1), rss=rss)

def share(p, key="cpu"):
    return 100 * p[key] / p["wall"]

def slope_kb_per_min(rss):
    n = len(rss)
    mx = sum(t for t, _ in rss) / n
    my = sum(v for _, v in rss) / n
    return 60 * sum((t - mx) * (v - my) for t, v in rss) / sum((t - mx) ** 2 for t, _ in rss)

def versus_idle(cpu, idle):
    # The idle exporter sleeps until a request comes: its CPU may round to zero.
    return f"exporter / idle = {cpu / idle:.0f}x" if idle > 1e-6 else "idle exporter: no measurable CPU"

time.sleep(3)  # baselines taken, first samples done
if mode == "soak":
    p = phase(0.1)
    print("soak: 8 fake GPUs + 2 RAPL packages with DRAM, 2 jobs, sampling and scraping every 100 ms")
    print(f"{p['wall']:.0f} s, {p['samples']:.0f} samples, {p['scrapes']:.0f} scrapes "
          f"(at the 1 s cadence: {p['samples'] / 60:.1f} and {p['scrapes'] / 60:.1f} minutes of operation); "
          f"exporter CPU {p['cpu']*1e3:.1f} ms = {share(p):.4f} % of one core, "
          f"{p['cpu'] / (p['samples'] + p['scrapes']) * 1e6:.0f} us per sample or scrape")
    print(f"RSS slope {slope_kb_per_min(p['rss']):+.1f} kB/min over {len(p['rss'])} readings "
          f"({p['rss'][0][1]} -> {p['rss'][-1][1]} kB, peak {status_kb(test_pid, 'VmHWM')} kB); "
          f"descriptors {p['fds'][0]} -> {p['fds'][1]}")
    sys.exit(0)
p1 = phase(1.0)
p2 = phase(0.1)

per_scrape = (p2["cpu"] - p1["cpu"] * p2["wall"] / p1["wall"]) / (p2["scrapes"] - p1["scrapes"] * p2["wall"] / p1["wall"])
per_sample = (p1["cpu"] - per_scrape * p1["scrapes"]) / p1["samples"]
n = len(p2["rss"])
slope = slope_kb_per_min(p2["rss"])
rss_mb = status_kb(test_pid, "VmRSS") / 1024
hwm_mb = status_kb(test_pid, "VmHWM") / 1024
idle_rss_mb = status_kb(idle_pid, "VmRSS") / 1024
print(f"8 fake GPUs + 2 RAPL packages with DRAM, 2 jobs, sampling every 1 s; idle baseline: an exporter with no GPUs, sampling hourly, never scraped")
for name, p in (("phase 1, scrapes every 1 s", p1), ("phase 2, scrapes every 100 ms", p2)):
    print(f"{name}: {p['wall']:.0f} s, {p['samples']:.0f} samples, {p['scrapes']:.0f} scrapes; "
          f"exporter CPU {p['cpu']*1e3:.1f} ms = {share(p):.4f} % of one core "
          f"(ratio to the 0.1 % target {share(p)/0.1:.3f}); idle baseline {p['idle_cpu']*1e3:.2f} ms = "
          f"{share(p, 'idle_cpu'):.5f} %; {versus_idle(p['cpu'], p['idle_cpu'])}")
    if base_pid:
        print(f"  baseline build (BASELINE_CARBONCLOCK), same workload and scrapes: CPU {p['base_cpu']*1e3:.1f} ms = "
              f"{share(p, 'base_cpu'):.4f} % of one core; this build / baseline build = {p['cpu'] / p['base_cpu']:.2f}")
print(f"CPU per scrape {per_scrape*1e6:.0f} us, per sample {per_sample*1e6:.0f} us (from the two phases)")
print(f"RSS {rss_mb:.1f} MiB (peak {hwm_mb:.1f} MiB; ratio to the 10 MB target {hwm_mb*1048576/1e7:.2f}); "
      f"idle baseline {idle_rss_mb:.1f} MiB; exporter / idle = {rss_mb/idle_rss_mb:.2f}")
print(f"phase 2 RSS slope {slope:+.1f} kB/min over {n} readings ({p2['rss'][0][1]} -> {p2['rss'][-1][1]} kB); "
      f"descriptors {p2['fds'][0]} -> {p2['fds'][1]}")
PY
