"""A real single-host Slurm cluster for tests: munged, slurmctld and slurmd from Debian's
packages (slurmctld, slurmd, slurm-client, munge, slurm-wlm-basic-plugins), started in a temp
directory with a generated slurm.conf and munge key, and stopped by their PIDs.

Needs root (slurmd launches tasks; the daemons run as root with SlurmUser=root). Nothing is
written outside the temp directory; the daemons listen on free ports of 127.0.0.1. When a daemon
cannot start, SlurmCluster.start() raises ClusterError with the daemons' logs.
"""

import os
import shutil
import socket
import subprocess
import tempfile
import time

NODE = "ccnode1"
DAEMONS = ("munged", "slurmctld", "slurmd")
CLIENTS = ("sbatch", "squeue", "srun", "scontrol", "sinfo", "scancel")


class ClusterError(Exception):
    pass


def _free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def missing_programs():
    """The daemons and clients that are not installed."""
    return [p for p in DAEMONS + CLIENTS if shutil.which(p) is None]


class SlurmCluster:
    """One controller, one node (ccnode1) with 8 CPUs, partitions `debug` (default) and `green`.

    `job_submit_lua`: a job_submit.lua to install (JobSubmitPlugins=lua), with
    `site_config` (the text of carbonclock_site.lua) next to it.
    """

    def __init__(self, job_submit_lua=None, site_config=None):
        self.dir = tempfile.mkdtemp(prefix="cc_slurm_")
        # munged wants every directory above its socket searchable by all.
        os.chmod(self.dir, 0o711)
        self.conf = os.path.join(self.dir, "slurm.conf")
        self.procs = {}
        self.startup_s = None
        self.job_submit_lua = job_submit_lua
        self.site_config = site_config

    def path(self, *parts):
        return os.path.join(self.dir, *parts)

    def env(self, extra=None):
        """The environment for Slurm clients (and the jobs they start)."""
        env = dict(os.environ)
        env["SLURM_CONF"] = self.conf
        for k in list(env):
            if k.startswith("SLURM_") and k != "SLURM_CONF":
                del env[k]  # never inherit an outer job's variables
        env.update(extra or {})
        return env

    def _write_config(self):
        for d in ("state", "spool", "log"):
            os.makedirs(self.path(d), exist_ok=True)
        key = self.path("munge.key")
        with open(key, "wb") as f:
            f.write(os.urandom(1024))
        os.chmod(key, 0o400)
        host = socket.gethostname().split(".")[0]
        lines = [
            "ClusterName=cctest",
            f"SlurmctldHost={host}(127.0.0.1)",
            f"SlurmctldPort={_free_port()}",
            f"SlurmdPort={_free_port()}",
            "SlurmUser=root",
            "SlurmdUser=root",
            "AuthType=auth/munge",
            "CredType=cred/munge",
            f"AuthInfo=socket={self.path('munge.sock')}",
            f"StateSaveLocation={self.path('state')}",
            f"SlurmdSpoolDir={self.path('spool')}",
            f"SlurmctldPidFile={self.path('slurmctld.pid')}",
            f"SlurmdPidFile={self.path('slurmd.pid')}",
            f"SlurmctldLogFile={self.path('log', 'slurmctld.log')}",
            f"SlurmdLogFile={self.path('log', 'slurmd.log')}",
            "ProctrackType=proctrack/linuxproc",
            "TaskPlugin=task/none",
            "JobAcctGatherType=jobacct_gather/none",
            "AccountingStorageType=accounting_storage/none",
            "JobCompType=jobcomp/none",
            "MpiDefault=none",
            "ReturnToService=2",
            # Scheduling passes every second, so a job starts within a second of its begin time.
            "SchedulerType=sched/backfill",
            "SchedulerParameters=sched_interval=1,bf_interval=1",
            "SelectType=select/cons_tres",
            "SelectTypeParameters=CR_CPU",
            # The node's CPUs as configured, whatever the CI machine has.
            "SlurmdParameters=config_overrides",
            "MailProg=/bin/true",
            "SlurmctldDebug=info",
            "SlurmdDebug=info",
            f"NodeName={NODE} NodeHostname={host} NodeAddr=127.0.0.1 CPUs=8 State=UNKNOWN",
            f"PartitionName=debug Nodes={NODE} Default=YES MaxTime=INFINITE State=UP",
            f"PartitionName=green Nodes={NODE} MaxTime=INFINITE State=UP",
        ]
        if self.job_submit_lua:
            lines.append("JobSubmitPlugins=lua")
            shutil.copy(self.job_submit_lua, self.path("job_submit.lua"))
            with open(self.path("carbonclock_site.lua"), "w") as f:
                f.write(self.site_config or "return {}\n")
        with open(self.conf, "w") as f:
            f.write("\n".join(lines) + "\n")

    def _spawn(self, name, argv):
        out = open(self.path("log", name + ".out"), "w")
        self.procs[name] = subprocess.Popen(
            argv, stdout=out, stderr=subprocess.STDOUT, env=self.env(), cwd=self.dir
        )
        out.close()

    def logs(self):
        """Every daemon's output and log file, for failure messages."""
        text = []
        for name in sorted(os.listdir(self.path("log"))):
            with open(self.path("log", name), errors="replace") as f:
                body = f.read()
            text.append(f"==> {self.path('log', name)} <==\n{body[-6000:]}")
        return "\n".join(text)

    def _fail(self, why):
        logs = self.logs()
        self.stop()
        raise ClusterError(f"{why}\n{logs}")

    def _wait_for(self, what, ready, timeout_s):
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            for name, p in self.procs.items():
                if p.poll() is not None:
                    self._fail(f"{name} exited with status {p.returncode} while waiting for {what}")
            if ready():
                return
            time.sleep(0.05)
        self._fail(f"timed out after {timeout_s} s waiting for {what}")

    def _node_state(self):
        r = subprocess.run(
            ["sinfo", "-h", "-n", NODE, "-o", "%t"],
            env=self.env(),
            capture_output=True,
            text=True,
        )
        return r.stdout.strip() if r.returncode == 0 else ""

    def start(self):
        if os.geteuid() != 0:
            raise ClusterError("the Slurm fixture runs the daemons as root; run the tests as root")
        missing = missing_programs()
        if missing:
            raise ClusterError(
                "not installed: " + ", ".join(missing) + " (scripts/setup.sh installs them)"
            )
        t0 = time.monotonic()
        self._write_config()
        self._spawn(
            "munged",
            [
                "munged",
                "--foreground",
                f"--key-file={self.path('munge.key')}",
                f"--socket={self.path('munge.sock')}",
                f"--pid-file={self.path('munged.pid')}",
                f"--log-file={self.path('log', 'munged.log')}",
                f"--seed-file={self.path('munge.seed')}",
            ],
        )
        self._wait_for("munged's socket", lambda: os.path.exists(self.path("munge.sock")), 20)
        self._spawn("slurmctld", ["slurmctld", "-D", "-f", self.conf])
        self._spawn("slurmd", ["slurmd", "-D", "-N", NODE, "-f", self.conf])
        self._wait_for(f"node {NODE} to be idle", lambda: self._node_state() == "idle", 60)
        self.startup_s = time.monotonic() - t0
        return self

    def cancel_all(self, timeout_s=30):
        """Cancels every job and waits until the queue is empty (their slurmstepd processes
        end with them)."""
        subprocess.run(["scancel", "--full", "-u", "root"], env=self.env(), capture_output=True)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            r = subprocess.run(
                ["squeue", "-h", "-o", "%i"], env=self.env(), capture_output=True, text=True
            )
            if r.returncode == 0 and not r.stdout.strip():
                return
            time.sleep(0.1)

    def stop(self):
        """Stops the daemons by their PIDs: SIGTERM, then SIGKILL after 10 s."""
        for name in ("slurmd", "slurmctld", "munged"):
            p = self.procs.pop(name, None)
            if p is None or p.poll() is not None:
                continue
            p.terminate()
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()

    def remove(self):
        shutil.rmtree(self.dir, ignore_errors=True)


def _stop_pids(directory):
    """Stops the daemons a `start` from the command line left running, by their PIDs."""
    import json
    import signal

    with open(os.path.join(directory, "pids.json")) as f:
        pids = json.load(f)
    for name in ("slurmd", "slurmctld", "munged"):
        pid = pids.get(name)
        if pid is None:
            continue
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            continue
        for _ in range(200):  # 10 s, then SIGKILL
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.05)
        else:
            os.kill(pid, signal.SIGKILL)
    shutil.rmtree(directory, ignore_errors=True)


def main(argv):
    """`slurm_cluster.py start`: starts the cluster, leaves it running and prints its directory
    and SLURM_CONF; `slurm_cluster.py stop DIR`: stops it by the PIDs saved in DIR/pids.json."""
    import json
    import sys

    if len(argv) == 2 and argv[1] == "start":
        cluster = SlurmCluster()
        try:
            cluster.start()
        except ClusterError as e:
            print(e, file=sys.stderr)
            return 1
        with open(cluster.path("pids.json"), "w") as f:
            json.dump({name: p.pid for name, p in cluster.procs.items()}, f)
        print(f"export SLURM_CONF={cluster.conf}  # stop: {argv[0]} stop {cluster.dir}")
        return 0
    if len(argv) == 3 and argv[1] == "stop":
        _stop_pids(argv[2])
        return 0
    print(f"usage: {argv[0]} start | stop DIR", file=sys.stderr)
    return 2


if __name__ == "__main__":
    import sys

    sys.exit(main(sys.argv))
