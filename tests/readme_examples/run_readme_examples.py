#!/usr/bin/python3
"""Runs every command the README documents, in order, against a scratch store.

Each ```sh block of README.md is read; continuation lines are joined and trailing comments
dropped; every command is run with bash from a scratch copy of the repository layout (build/
and ../shared point at the real ones; runs, reports and the store stay in the scratch folder)
and must exit 0. Commands that would need hardware or the network run against stand-ins:

  * GPUs: the fake NVML library (tests/fake_nvml) with a scripted 4-GPU node;
  * `torchrun`, `sbatch`: shims on PATH (torchrun runs the script with python3; sbatch checks
    its --begin= option and prints the usual "Submitted batch job" line);
  * `grid fetch --source ukci`: a loopback HTTP server answering the UK Carbon Intensity API's
    /intensity/{from}/{to} in its documented shape (CARBONCLOCK_UKCI_URL);
  * `python3 train.py`, `./batch-job.sh`: small scripts written into the scratch folder;
  * RUN_DIR and the README's example run directory: the most recent run directory.

Commands listed in SKIPPED are not run, each for the reason given; any other command that
cannot be run is a failure. Exit 0 when every command ran and exited 0; 77 (skipped) when
../shared/data is absent (the README imports from it).

usage: run_readme_examples.py --readme README.md --build-dir BUILD --fake-nvml LIB --shared DIR
"""
import argparse
import datetime as dt
import http.server
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import urllib.parse

# Command prefix (after `build/carbonclock `) -> why it is not run.
SKIPPED = {
    "scripts/quickstart.sh": "installs Debian packages and builds the tree: this test runs inside "
                             "that build (CI runs scripts/test.sh itself)",
    "scripts/test.sh": "installs packages, builds and runs the whole suite, which includes this test",
    "build/carbonclock run --pause-resume 50% --expected-duration 2h":
        "waits for its planned slots, up to 2 h + 50% of wall time by design; the same path runs "
        "in cli_schedule_test on a 1-second slot grid with a scripted intensity file",
    "build/carbonclock run --flex-start 12h --expected-duration 3h":
        "waits up to 12 h for the cleanest start by design (and fetches a live forecast); covered "
        "by cli_schedule_test on a 1-second slot grid",
    "/usr/bin/python3 -m venv": "sets up the Python package's venv; scripts/python_test.sh does the "
                                "same in build/python-venv, installs the package and runs pytest",
    ".venv/bin/pip install": "builds the native extension from scratch with CMake (minutes); "
                             "scripts/python_test.sh installs it the same way and runs pytest",
    "srun carbonclock run": "needs a Slurm cluster; slurm_test runs it under real slurmctld/slurmd",
    "carbonclock report runs/$SLURM_JOB_ID": "the job directory of the srun line above; "
                                             "slurm_test and cli_merge_test report such jobs",
    "build/carbonclock exporter": "a daemon that serves until it is stopped; exporter_cli_test "
                                  "and exporter_prometheus_test run it and scrape it",
}

EXAMPLE_RUN_DIR = "carbonclock-runs/20261127T235901Z-1a2b3c"

TRAIN_PY = """import sys, time
epochs = int(sys.argv[sys.argv.index("--epochs") + 1]) if "--epochs" in sys.argv else 1
for e in range(epochs):
    s = 0
    for i in range(200000):
        s += i * i
    print(f"[train] epoch {e + 1}", flush=True)
time.sleep(0.5)
"""

TORCHRUN = """#!/bin/sh
# Stand-in for torchrun: drops its own options and runs the script with python3.
while [ $# -gt 0 ]; do
  case "$1" in
    --nproc-per-node|--nproc_per_node|--nnodes) shift 2 ;;
    --*) shift ;;
    *) break ;;
  esac
done
exec python3 "$@"
"""

SBATCH = """#!/bin/sh
# Stand-in for Slurm's sbatch: checks the --begin= and --time= options carbonclock plan printed,
# then the batch script.
case "$1" in
  --begin=20[0-9][0-9]-[0-1][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-5][0-9]) ;;
  *) echo "sbatch: bad or missing --begin: $1" >&2; exit 1 ;;
esac
case "$2" in
  --time=[0-9]*:[0-5][0-9]:[0-5][0-9]) ;;
  *) echo "sbatch: bad or missing --time: $2" >&2; exit 1 ;;
esac
[ -f "$3" ] || { echo "sbatch: no batch script $3" >&2; exit 1; }
echo "Submitted batch job 4242"
"""


class UkciHandler(http.server.BaseHTTPRequestHandler):
    """Answers /intensity/{from}/{to} with half-hourly points (the API's documented shape)."""

    def do_GET(self):  # noqa: N802 (http.server's name)
        m = re.match(r"^/intensity/([^/]+)/([^/?]+)", urllib.parse.unquote(self.path))
        if not m:
            self.send_error(404)
            return
        parse = lambda t: dt.datetime.strptime(t, "%Y-%m-%dT%H:%MZ")
        start, end = parse(m.group(1)), parse(m.group(2))
        data, t = [], start
        while t < end:
            u = t + dt.timedelta(minutes=30)
            value = 120 + (t.hour * 7) % 90
            data.append({"from": t.strftime("%Y-%m-%dT%H:%MZ"), "to": u.strftime("%Y-%m-%dT%H:%MZ"),
                         "intensity": {"forecast": value, "actual": value, "index": "moderate"}})
            t = u
        body = json.dumps({"data": data}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def strip_comment(line):
    """Drops a trailing ` # comment` outside quotes."""
    quote = None
    for i, c in enumerate(line):
        if quote:
            if c == quote:
                quote = None
        elif c in "'\"":
            quote = c
        elif c == "#" and (i == 0 or line[i - 1].isspace()):
            return line[:i].rstrip()
    return line.rstrip()


def readme_commands(text):
    commands = []
    for block in re.findall(r"```sh\n(.*?)```", text, re.S):
        joined = block.replace("\\\n", " ")
        for line in joined.splitlines():
            line = re.sub(r"\s+", " ", strip_comment(line)).strip()
            if line:
                commands.append(line)
    return commands


def skip_reason(command):
    for prefix, reason in SKIPPED.items():
        if command.startswith(prefix):
            return reason
    return None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--readme", required=True)
    ap.add_argument("--build-dir", required=True)
    ap.add_argument("--fake-nvml", required=True)
    ap.add_argument("--shared", required=True, help="the shared folder (holds data/)")
    ap.add_argument("--keep", action="store_true", help="keep the scratch folder")
    a = ap.parse_args()
    if not os.path.isdir(os.path.join(a.shared, "data")):
        print(f"skipped: {a.shared}/data is absent (the README imports from it)")
        return 77

    with open(a.readme, encoding="utf-8") as f:
        commands = readme_commands(f.read())
    if not commands:
        print("no ```sh commands found in the README")
        return 1

    scratch = tempfile.mkdtemp(prefix="cc_readme_")
    repo = os.path.join(scratch, "repo")
    bin_dir = os.path.join(scratch, "bin")
    os.makedirs(repo)
    os.makedirs(bin_dir)
    os.makedirs(os.path.join(scratch, "sysfs"))
    os.symlink(os.path.abspath(a.build_dir), os.path.join(repo, "build"))
    os.symlink(os.path.abspath(a.shared), os.path.join(scratch, "shared"))
    for name, text, mode in [(os.path.join(repo, "train.py"), TRAIN_PY, 0o644),
                             (os.path.join(repo, "batch-job.sh"), "#!/bin/sh\necho batch\n", 0o755),
                             (os.path.join(repo, "job.sh"), "#!/bin/sh\necho job\n", 0o755),
                             (os.path.join(bin_dir, "torchrun"), TORCHRUN, 0o755),
                             (os.path.join(bin_dir, "sbatch"), SBATCH, 0o755),
                             (os.path.join(scratch, "nvml.script"),
                              "".join(f"gpu\nname Fake H100 {i}\npower {200 + 50 * i}\n"
                                      for i in range(4)), 0o644)]:
        with open(name, "w", encoding="utf-8") as f:
            f.write(text)
        os.chmod(name, mode)

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), UkciHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()

    env = dict(os.environ)
    for k in ("CARBONCLOCK_ZONE", "CARBONCLOCK_REGION", "CUDA_VISIBLE_DEVICES"):
        env.pop(k, None)
    env.update({
        "PATH": bin_dir + os.pathsep + env.get("PATH", "/usr/bin:/bin"),
        "HOME": os.path.join(scratch, "home"),
        "XDG_DATA_HOME": os.path.join(scratch, "xdg-data"),
        "XDG_CONFIG_HOME": os.path.join(scratch, "xdg-config"),
        "CARBONCLOCK_DB": os.path.join(scratch, "carbonclock.db"),
        "CARBONCLOCK_NVML_LIBRARY": os.path.abspath(a.fake_nvml),
        "FAKE_NVML_SCRIPT": os.path.join(scratch, "nvml.script"),
        "CARBONCLOCK_SYSFS_ROOT": os.path.join(scratch, "sysfs"),
        "CARBONCLOCK_UKCI_URL": f"http://127.0.0.1:{server.server_address[1]}",
    })

    failures, ran, skipped = [], 0, []
    for command in commands:
        reason = skip_reason(command)
        if reason:
            skipped.append((command, reason))
            print(f"SKIP {command}\n     {reason}")
            continue
        runs = os.path.join(repo, "carbonclock-runs")
        latest = None
        if os.path.isdir(runs) and os.listdir(runs):
            latest = max((os.path.join(runs, d) for d in os.listdir(runs)), key=os.path.getmtime)
        if "RUN_DIR" in command or EXAMPLE_RUN_DIR in command:
            if latest is None:
                failures.append((command, "no run directory yet for RUN_DIR"))
                continue
            command = command.replace(EXAMPLE_RUN_DIR, latest).replace("RUN_DIR", latest)
        p = subprocess.run(["bash", "-c", command], cwd=repo, env=env, capture_output=True,
                           text=True, timeout=600)
        ran += 1
        status = "ok  " if p.returncode == 0 else f"FAIL({p.returncode})"
        print(f"{status} {command}")
        if p.returncode != 0:
            failures.append((command, f"exit {p.returncode}\n{p.stdout[-2000:]}{p.stderr[-3000:]}"))
    server.shutdown()
    if not a.keep:
        shutil.rmtree(scratch, ignore_errors=True)
    print(f"\n{ran} README commands ran, {len(skipped)} skipped, {len(failures)} failed")
    for command, why in failures:
        print(f"\nFAILED: {command}\n{why}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
