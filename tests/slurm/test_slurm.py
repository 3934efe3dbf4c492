#!/usr/bin/env python3
"""carbonclock against real Slurm daemons (tests/slurm/slurm_cluster.py): sbatch with a
planned begin time, the job_submit/lua plugin, `srun -n 2 carbonclock run` on one node with
two fake GPUs, and a two-rank torch.distributed (gloo, CPU) job.

Run by ctest (slurm_test). Environment: CARBONCLOCK_BIN (the binary), FAKE_NVML_LIBRARY (the
fake libnvidia-ml.so.1), CARBONCLOCK_SOURCE_DIR (the checkout). The daemons must start: if they
cannot (not root, a bad configuration), every test fails with their logs. The file is skipped
(exit 77, with a message naming what is missing) only where the Slurm and munge programs are not
installed, or with CARBONCLOCK_SKIP_SLURM_TESTS=1 (for developers' laptops without root); CI
installs them (scripts/setup.sh) and never sets the variable.
"""

import calendar
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from slurm_cluster import ClusterError, SlurmCluster, missing_programs  # noqa: E402

SKIP_CODE = 77
BIN = os.environ.get("CARBONCLOCK_BIN", "")
FAKE_NVML = os.environ.get("FAKE_NVML_LIBRARY", "")
SOURCE = os.environ.get(
    "CARBONCLOCK_SOURCE_DIR", os.path.dirname(os.path.dirname(os.path.dirname(__file__)))
)
SLOT_S = 5


def utc(t):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


def parse_utc(text):
    return calendar.timegm(time.strptime(text, "%Y-%m-%dT%H:%M:%SZ"))


def local(t):
    """Slurm's way of showing a time: local time, no zone."""
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(t))


def write_intensity(path, clean_from, clean_s):
    """500 g/kWh around a clean stretch of 50 g/kWh at [clean_from, clean_from + clean_s)."""
    start = clean_from - 600
    with open(path, "w") as f:
        f.write("start,duration_s,g_per_kwh\n")
        f.write(f"{utc(start)},{clean_from - start},500\n")
        f.write(f"{utc(clean_from)},{clean_s},50\n")
        f.write(f"{utc(clean_from + clean_s)},3600,500\n")


def torch_python():
    """A Python that imports torch.distributed: CARBONCLOCK_TORCH_PYTHON, Debian's
    /usr/bin/python3 (python3-torch), or this one; None when none does."""
    for python in (os.environ.get("CARBONCLOCK_TORCH_PYTHON"), "/usr/bin/python3", sys.executable):
        if python and os.path.exists(python):
            probe = subprocess.run([python, "-c", "import torch.distributed"], capture_output=True)
            if probe.returncode == 0:
                return python
    return None


def slot_floor(t):
    return int(t) // SLOT_S * SLOT_S


class SlurmTest(unittest.TestCase):
    cluster = None

    @classmethod
    def setUpClass(cls):
        cls.work = tempfile.mkdtemp(prefix="cc_slurm_work_")
        cls.db = os.path.join(cls.work, "carbonclock.db")
        cls.intensity = os.path.join(cls.work, "intensity.csv")
        write_intensity(cls.intensity, slot_floor(time.time()), 60)
        site = (
            "return {\n"
            f'  carbonclock = "{BIN}",\n'
            f'  db = "{cls.db}",\n'
            '  zone = "DE",\n'
            '  partitions = { green = { zone = "DE", flex = "2m" } },\n'
            "  timeout_s = 10,\n"
            f'  extra_args = {{"--slot", "{SLOT_S}s", "--intensity-file", "{cls.intensity}"}},\n'
            "}\n"
        )
        cls.cluster = SlurmCluster(
            job_submit_lua=os.path.join(SOURCE, "contrib", "slurm", "job_submit.lua"),
            site_config=site,
        )
        try:
            cls.cluster.start()
        except ClusterError as e:
            cls.start_error = str(e)
            return
        cls.start_error = None
        print(f"slurm fixture: daemons up in {cls.cluster.startup_s:.2f} s", file=sys.stderr)

    @classmethod
    def tearDownClass(cls):
        if cls.cluster is not None:
            cls.cluster.cancel_all()
            cls.cluster.stop()
            if cls.start_error is None:
                cls.cluster.remove()
        shutil.rmtree(cls.work, ignore_errors=True)

    def setUp(self):
        if self.start_error:
            self.fail("the Slurm daemons did not start:\n" + self.start_error)
        self.t0 = time.monotonic()

    def tearDown(self):
        print(f"{self.id()}: {time.monotonic() - self.t0:.1f} s", file=sys.stderr)

    # ---- helpers ----

    def env(self, extra=None):
        e = {"CARBONCLOCK_DB": self.db, "TZ": os.environ.get("TZ", "UTC")}
        e.update(extra or {})
        return self.cluster.env(e)

    def sh(self, argv, env=None, check=True, timeout=120):
        r = subprocess.run(
            argv, env=env or self.env(), capture_output=True, text=True, timeout=timeout
        )
        if check and r.returncode != 0:
            self.fail(
                f"{' '.join(argv)} exited {r.returncode}\nstdout: {r.stdout}\nstderr: {r.stderr}"
                f"\n{self.cluster.logs()}"
            )
        return r

    def submit(self, args, env=None):
        r = self.sh(["sbatch", "--parsable"] + args, env=env)
        return r.stdout.strip().split(";")[0]

    def job_field(self, job, fmt):
        return self.sh(["squeue", "-h", "-j", job, "-o", fmt]).stdout.strip()

    def wait_gone(self, job, timeout_s=120):
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if not self.sh(["squeue", "-h", "-j", job, "-o", "%i"], check=False).stdout.strip():
                return
            time.sleep(0.2)
        self.fail(f"job {job} still queued after {timeout_s} s\n{self.cluster.logs()}")

    def report(self, job_dir):
        r = self.sh([BIN, "report", job_dir, "--format", "json"])
        return json.loads(r.stdout)

    # ---- sbatch with a planned begin time ----

    def test_sbatch_with_a_planned_begin_starts_the_job_in_the_planned_slot(self):
        now = time.time()
        clean = slot_floor(now) + 3 * SLOT_S
        write_intensity(self.intensity, clean, 2 * SLOT_S)
        plan_args = [BIN, "plan", "--zone", "DE", "--duration", "10s", "--energy-kwh", "1",
                     "--flex-start", "60s", "--slot", f"{SLOT_S}s",
                     "--intensity-file", self.intensity]
        plan = json.loads(self.sh(plan_args + ["--format", "json"]).stdout)
        self.assertEqual(plan["start_utc"], utc(clean))
        self.assertEqual(plan["slurm"]["begin_unix_s"], clean)
        self.assertEqual(plan["slurm"]["time_limit_min"], 1)
        options = self.sh(plan_args + ["--format", "sbatch"]).stdout.split()
        self.assertEqual(options, [f"--begin={local(clean)}", "--time=00:01:00"])
        started = os.path.join(self.work, "started")
        job = self.submit(options + ["--wrap", f"date +%s.%N > {started}"])
        # Pending for its begin time, which squeue shows as the expected start.
        self.assertEqual(self.job_field(job, "%r"), "BeginTime")
        self.assertEqual(self.job_field(job, "%S"), local(clean))
        self.assertEqual(self.job_field(job, "%l"), "1:00")
        self.wait_gone(job)
        with open(started) as f:
            t = float(f.read())
        self.assertGreaterEqual(t, clean)  # never before the planned start
        self.assertLess(t, clean + SLOT_S)  # and within the planned slot

    # ---- the job_submit/lua plugin ----

    def test_lua_plugin_plans_opted_in_jobs_and_leaves_the_others_alone(self):
        clean = slot_floor(time.time()) + 6 * SLOT_S
        write_intensity(self.intensity, clean, 60)  # a 1-minute job fits exactly
        opted = self.submit(["--time=1", "--comment=carbon:flex=2m", "--wrap", "true"])
        self.assertEqual(self.job_field(opted, "%r"), "BeginTime")
        self.assertEqual(self.job_field(opted, "%S"), local(clean))
        # A partition whose site default opts every job in, and a job opting out of it.
        default = self.submit(["-p", "green", "--time=1", "--wrap", "true"])
        self.assertEqual(self.job_field(default, "%S"), local(clean))
        own_begin = int(time.time()) + 300
        out_of_default = self.submit(
            ["-p", "green", "--time=1", "--comment=carbon:off", f"--begin={local(own_begin)}",
             "--wrap", "true"]
        )
        self.assertEqual(self.job_field(out_of_default, "%S"), local(own_begin))
        # Without opt-in: untouched, its own begin time kept.
        plain = self.submit(["--time=1", f"--begin={local(own_begin)}", "--wrap", "true"])
        self.assertEqual(self.job_field(plain, "%S"), local(own_begin))
        # Opted in but with its own --begin: kept.
        own = self.submit(["--time=1", "--comment=carbon:flex=2m", f"--begin={local(own_begin)}",
                           "--wrap", "true"])
        self.assertEqual(self.job_field(own, "%S"), local(own_begin))
        # A plan that fails never blocks the submission; the reason is in slurmctld's log.
        # (--hold keeps these from running.)
        broken = self.submit(["--time=1", "--comment=carbon:flex=soon", "--hold", "--wrap", "true"])
        self.assertEqual(self.job_field(broken, "%r"), "JobHeldUser")
        no_limit = self.submit(["--comment=carbon:flex=2m", "--hold", "--wrap", "true"])
        self.assertEqual(self.job_field(no_limit, "%r"), "JobHeldUser")
        with open(self.cluster.path("log", "slurmctld.log")) as f:
            log = f.read()
        self.assertIn("carbonclock: job wrap of uid 0 keeps its own begin time: plan failed", log)
        self.assertIn("--flex-start", log)
        self.assertIn("the job has no time limit", log)
        self.assertIn("has its own --begin; left as it is", log)
        self.assertIn(f"begin {utc(clean)} (zone DE, flex 2m, 1 min", log)
        for job in (opted, default, out_of_default, plain, own, broken, no_limit):
            self.sh(["scancel", job])

    # ---- srun: one meter per node ----

    def test_srun_two_tasks_on_one_node_count_the_nodes_gpus_once(self):
        script = os.path.join(self.work, "nvml.script")
        with open(script, "w") as f:
            f.write("gpu\nname Fake A100\npower 100\ngpu\nname Fake V100\npower 50\n")
        out = os.path.join(self.work, "runs-srun")
        env = self.env({"CARBONCLOCK_NVML_LIBRARY": FAKE_NVML, "FAKE_NVML_SCRIPT": script})
        self.sh(["srun", "-n", "2", BIN, "run", "-q", "--interval", "100ms", "--zone", "DE",
                 "--out", out, "--", "sleep", "1"], env=env)
        jobs = os.listdir(out)
        self.assertEqual(len(jobs), 1)
        job_dir = os.path.join(out, jobs[0])
        node_dir = os.path.join(job_dir, "ccnode1")
        self.assertEqual(sorted(os.listdir(os.path.join(node_dir, "tasks"))), ["0.json", "1.json"])
        with open(os.path.join(node_dir, "run.json")) as f:
            run = json.load(f)
        self.assertEqual(run["cluster"]["job_id"], jobs[0])
        self.assertEqual(run["cluster"]["world_size"], 2)
        node_gpu_j = sum(d["energy_j"] for d in run["devices"] if d["kind"] == "gpu")
        report = self.report(job_dir)
        gpus = [d for d in report["devices"] if d["kind"] == "gpu"]
        self.assertEqual(sorted(d["id"] for d in gpus), ["gpu0", "gpu1"])  # each GPU once
        merged_gpu_j = sum(d["energy_j"] for d in gpus)
        self.assertEqual(merged_gpu_j, node_gpu_j)
        # 150 W over the meter's run, not twice that.
        self.assertAlmostEqual(merged_gpu_j, 150 * run["duration_s"], delta=1.5 * run["duration_s"])
        roles = sorted(t["role"] for n in report["nodes"] for t in n["tasks"])
        self.assertEqual(roles, ["member", "meter"])
        self.assertEqual(report["missing_ranks"], [])
        self.assertEqual(report["world_size"], 2)
        history = json.loads(self.sh([BIN, "history", "--format", "json"]).stdout)
        entries = [e for e in history["runs"] if e["run_id"] == jobs[0]]
        self.assertEqual(len(entries), 1)  # the job once, not once per task
        self.assertAlmostEqual(entries[0]["energy_kwh"] * 3.6e6, report["energy_j_total"], places=6)

    # ---- a real torch.distributed job ----

    def test_ddp_two_ranks_under_srun_are_metered_as_one_job(self):
        python = torch_python()
        if python is None:
            self.skipTest("python3-torch is not installed (apt-get install python3-torch; "
                          "see docs/slurm.md)")
        out = os.path.join(self.work, "runs-ddp")
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        env = self.env({"MASTER_ADDR": "127.0.0.1", "MASTER_PORT": str(port),
                        "OMP_NUM_THREADS": "1"})
        script = os.path.join(SOURCE, "tests", "slurm", "ddp_train.py")
        r = self.sh(["srun", "-n", "2", BIN, "run", "--no-gpu", "--interval", "200ms",
                     "--zone", "DE", "--out", out, "--", python, script], env=env,
                    timeout=300)
        self.assertIn("ddp: rank 0 of 2 finished", r.stdout)
        self.assertIn("ddp: rank 1 of 2 finished", r.stdout)
        job_dir = os.path.join(out, os.listdir(out)[0])
        report = self.report(job_dir)
        self.assertEqual(report["world_size"], 2)
        tasks = [t for n in report["nodes"] for t in n["tasks"]]
        self.assertEqual(sorted(t["rank"] for t in tasks), [0, 1])
        self.assertTrue(all(t["exit_code"] == 0 for t in tasks))
        node = report["nodes"][0]
        # The member rank's CPU time is in the node's estimate, beside the meter's own.
        self.assertGreater(node["member_cpu_estimate_j"], 0)
        self.assertGreater(report["energy_j_total"], node["member_cpu_estimate_j"])


def main():
    if os.environ.get("CARBONCLOCK_SKIP_SLURM_TESTS") == "1":
        print("CARBONCLOCK_SKIP_SLURM_TESTS=1: Slurm tests skipped", file=sys.stderr)
        return SKIP_CODE
    missing = missing_programs()
    if missing:
        print(
            "Slurm tests skipped: not installed: " + ", ".join(missing)
            + " (scripts/setup.sh installs slurmctld, slurmd, slurm-client, munge)",
            file=sys.stderr,
        )
        return SKIP_CODE
    if not BIN or not os.path.exists(BIN):
        print(f"CARBONCLOCK_BIN ({BIN!r}) does not name the carbonclock binary", file=sys.stderr)
        return 2
    prog = unittest.main(exit=False, verbosity=2)
    return 0 if prog.result.wasSuccessful() else 1


if __name__ == "__main__":
    sys.exit(main())
