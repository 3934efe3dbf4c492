"""Runs the real extension against the fake NVML library (tests/fake_nvml) in a sandbox: its
own store, config and run folders, no RAPL (an empty sysfs root), so the only energy is the
scripted GPUs' and every number has a value worked out by hand.

Environment: CARBONCLOCK_FAKE_NVML (the fake libnvidia-ml.so.1; scripts/python_test.sh sets it,
default build/tests/fake_nvml/libnvidia-ml.so.1) and CARBONCLOCK_CLI (the carbonclock binary,
default build/carbonclock) for the tests that check the CLI sees what Python wrote.
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
from pathlib import Path
from typing import Dict, Iterator, List

import pytest

ROOT = Path(__file__).resolve().parents[2]
FAKE_NVML = Path(os.environ.get("CARBONCLOCK_FAKE_NVML",
                                ROOT / "build/tests/fake_nvml/libnvidia-ml.so.1"))
CLI = Path(os.environ.get("CARBONCLOCK_CLI", ROOT / "build/carbonclock"))

#: The scripted GPUs: 100 W and 50 W with energy counters.
TWO_GPUS = """\
gpu
name Fake GPU A
uuid GPU-11111111-0000-0000-0000-000000000000
power 100
gpu
name Fake GPU B
uuid GPU-22222222-0000-0000-0000-000000000000
power 50
"""
GPU_WATTS = 150.0


@pytest.fixture
def sandbox(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A clean environment for one test; returns its folder."""
    if not FAKE_NVML.exists():
        pytest.fail(f"fake NVML library not built: {FAKE_NVML} (build the fake_nvml target)")
    for name in list(os.environ):
        if name.startswith(("CARBONCLOCK_", "SLURM_", "TORCHELASTIC_")) and name not in (
                "CARBONCLOCK_FAKE_NVML", "CARBONCLOCK_CLI"):
            monkeypatch.delenv(name)
    for name in ("RANK", "LOCAL_RANK", "WORLD_SIZE", "GROUP_RANK", "CUDA_VISIBLE_DEVICES"):
        monkeypatch.delenv(name, raising=False)
    script = tmp_path / "gpus.txt"
    script.write_text(TWO_GPUS)
    sysfs = tmp_path / "sysfs"
    sysfs.mkdir()
    monkeypatch.setenv("CARBONCLOCK_NVML_LIBRARY", str(FAKE_NVML))
    monkeypatch.setenv("FAKE_NVML_SCRIPT", str(script))
    monkeypatch.setenv("CARBONCLOCK_SYSFS_ROOT", str(sysfs))
    monkeypatch.setenv("CARBONCLOCK_DB", str(tmp_path / "carbonclock.db"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.chdir(tmp_path)
    yield tmp_path


def gpu_script(path: Path, text: str) -> None:
    """Replaces the fake's script for the next tracker."""
    path.write_text(text)
    os.environ["FAKE_NVML_SCRIPT"] = str(path)


def run_cli(*args: str) -> subprocess.CompletedProcess:
    if not CLI.exists():
        pytest.fail(f"carbonclock binary not built: {CLI}")
    return subprocess.run([str(CLI), *args], capture_output=True, text=True, timeout=120)


#: Options that keep the estimate out of the numbers (no RAPL here: CPU and DRAM would be
#: estimated from this process's CPU time and memory).
NO_ESTIMATE: Dict[str, float] = {"cpu_watts_per_core": 0.0, "dram_watts_per_gb": 0.0}


def gpu_energy(devices: List) -> float:
    return sum(d.energy_j for d in devices if d.kind == "gpu")


def flat_intensity(folder: Path, zone: str, g_per_kwh: float) -> dict:
    """Stores `g_per_kwh` for `zone` for every hour from 2 h before now to 4 h after."""
    import carbonclock

    hour = dt.datetime.now(dt.timezone.utc).replace(minute=0, second=0, microsecond=0)
    rows = ["datetime,carbon_intensity"]
    for h in range(-2, 4):
        rows.append(f"{(hour + dt.timedelta(hours=h)).strftime('%Y-%m-%dT%H:%MZ')},{g_per_kwh}")
    path = folder / f"{zone}-flat.csv"
    path.write_text("\n".join(rows) + "\n")
    return carbonclock.grid.import_file(path, format="csv", zone=zone, step="1h")
