"""Distributed training: two real ranks on one node (torchrun's environment) with the fake NVML
library's two GPUs. One rank meters the node, both record their windows, and the node's
energy is counted once."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from conftest import GPU_WATTS

RANK_SCRIPT = textwrap.dedent("""
    import json, sys, time
    import carbonclock
    with carbonclock.track(zone="DE", out=sys.argv[1], interval="50ms", quiet=True,
                           cpu_watts_per_core=0, dram_watts_per_gb=0) as run:
        for epoch in range(2):
            with run.window(f"epoch-{epoch}"):
                time.sleep(0.4)
    print(json.dumps({"role": run.role, "energy_j": run.energy_j,
                      "windows": {n: w.energy_j for n, w in run.windows.items()}}))
""")


def launch_ranks(out: Path, world_size: int, job: str) -> list:
    procs = []
    for rank in range(world_size):
        env = dict(os.environ, TORCHELASTIC_RUN_ID=job, RANK=str(rank), LOCAL_RANK=str(rank),
                   WORLD_SIZE=str(world_size), GROUP_RANK="0", LOCAL_WORLD_SIZE=str(world_size))
        procs.append(subprocess.Popen([sys.executable, "-c", RANK_SCRIPT, str(out)], env=env,
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    results = []
    for p in procs:
        stdout, stderr = p.communicate(timeout=120)
        assert p.returncode == 0, stderr
        results.append(json.loads(stdout.strip().splitlines()[-1]))
    return results


def test_two_ranks_on_one_node_report_the_nodes_energy_once(sandbox: Path) -> None:
    results = launch_ranks(sandbox / "runs", 2, "job42")
    assert sorted(r["role"] for r in results) == ["member", "meter"]
    meter = next(r for r in results if r["role"] == "meter")
    member = next(r for r in results if r["role"] == "member")
    assert member["energy_j"] is None
    assert all(j is None for j in member["windows"].values())

    nodes = list((sandbox / "runs" / "job42").iterdir())
    assert len(nodes) == 1  # one node
    node = nodes[0]
    assert sorted(p.name for p in node.glob("*.json*")) == ["journal.jsonl", "run.json"]
    doc = json.loads((node / "run.json").read_text())
    gpus = [d for d in doc["devices"] if d["kind"] == "gpu"]
    assert sorted(d["uuid"] for d in gpus) == ["GPU-11111111-0000-0000-0000-000000000000",
                                               "GPU-22222222-0000-0000-0000-000000000000"]
    # The node's two GPUs for the meter's run, once: 150 W x its duration, not twice that.
    gpu_j = sum(d["energy_j"] for d in gpus)
    assert gpu_j == pytest.approx(GPU_WATTS * doc["duration_s"], rel=0.01)
    assert meter["energy_j"] == pytest.approx(doc["energy_j_total"], rel=1e-9)
    cluster = doc["cluster"]
    assert cluster["job_id"] == "job42" and cluster["role"] == "meter"
    assert cluster["world_size"] == 2 and cluster["node"] == node.name

    tasks = {p.name: json.loads(p.read_text()) for p in (node / "tasks").iterdir()}
    assert sorted(tasks) == ["0.json", "1.json"]
    roles = {t["rank"]: t["role"] for t in tasks.values()}
    assert sorted(roles.values()) == ["member", "meter"]
    # The task files follow the layout of `carbonclock run` (app/distributed.h); run.json's
    # windows carry each window's duration.
    duration_s = {w["name"]: w["duration_s"] for w in doc["windows"]}
    for t in tasks.values():
        assert [w["name"] for w in t["windows"]] == ["epoch-0", "epoch-1"]
        assert t["pid"] in t["processes"]
        assert t["end_utc"] is not None and t["exit_code"] == 0
        if t["role"] == "member":
            assert "metered by another task" in t["note"]
            assert all(w.get("energy_j") is None for w in t["windows"])
        else:
            for w in t["windows"]:
                assert w["energy_j"] == pytest.approx(GPU_WATTS * duration_s[w["name"]], rel=0.01)


def test_a_second_run_with_the_same_job_id_is_refused(sandbox: Path) -> None:
    launch_ranks(sandbox / "runs", 1, "job7")
    env = dict(os.environ, TORCHELASTIC_RUN_ID="job7", RANK="0", LOCAL_RANK="0", WORLD_SIZE="1")
    p = subprocess.run([sys.executable, "-c", RANK_SCRIPT, str(sandbox / "runs")], env=env,
                       capture_output=True, text=True, timeout=120)
    assert p.returncode != 0
    assert "job job7 rank 0 was already recorded" in p.stderr
