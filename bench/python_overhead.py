#!/usr/bin/env python3
"""What metering from inside Python costs: the numpy training loop of
examples/python/numpy_training.py with and without ``carbonclock.track``, in the same run.

    build/python-venv/bin/python bench/python_overhead.py            # about 2 minutes
    build/python-venv/bin/python bench/python_overhead.py --quick    # a smoke run (CI)

Modes, run alternately (baseline, then each tracked mode, repeated) so that load which comes
and goes on a shared machine hits them alike; medians are printed:

  baseline          the loop alone
  track 100ms       the loop inside track(interval="100ms")
  + windows         the same with a window per epoch (two boundary readings of every counter)
  + on_sample       the same with an on_sample callback (samples delivered on the main thread)
  track 1s          the loop inside track(interval="1s")

"start + stop only" times a track() block with an empty body: the fixed cost. Figures: wall seconds, CPU seconds of the whole process (every thread: the sampler included),
CPU seconds of the main thread (what the training loop itself got slowed by), each as a ratio
to the baseline of the same repetition, and the sampler's CPU per sample. A second table
times window() pairs against an empty context manager in a tight loop.

Metering reads the fake NVML library (two GPUs; CARBONCLOCK_FAKE_NVML, default
build/tests/fake_nvml/libnvidia-ml.so.1), RAPL where readable and the process-tree estimate
otherwise, i.e. everything a real run reads except the GPU driver. BLAS is pinned to one thread
so that the CPU figures are the loop's, not a thread pool's spinning.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable, Dict, List, Tuple

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "examples" / "python"))

import numpy_training  # noqa: E402  (after the BLAS pinning)

import carbonclock  # noqa: E402

GPUS = "gpu\nname Fake GPU A\npower 100\ngpu\nname Fake GPU B\npower 50\n"


def sandbox(folder: Path) -> None:
    fake = Path(os.environ.get("CARBONCLOCK_FAKE_NVML",
                               ROOT / "build/tests/fake_nvml/libnvidia-ml.so.1"))
    if not fake.exists():
        sys.exit(f"python_overhead: fake NVML library not found at {fake} "
                 "(build the fake_nvml target or set CARBONCLOCK_FAKE_NVML)")
    (folder / "gpus.txt").write_text(GPUS)
    os.environ.update({
        "CARBONCLOCK_NVML_LIBRARY": str(fake),
        "FAKE_NVML_SCRIPT": str(folder / "gpus.txt"),
        "CARBONCLOCK_DB": str(folder / "carbonclock.db"),
        "XDG_CONFIG_HOME": str(folder / "config"),
        "XDG_DATA_HOME": str(folder / "data"),
    })
    os.chdir(folder)


class Figures:
    def __init__(self) -> None:
        self.wall: List[float] = []
        self.cpu: List[float] = []
        self.main_cpu: List[float] = []
        self.samples: List[int] = []
        self.sampler_cpu: List[float] = []  # run.json overhead.cpu_s: the engine's own CPU


Body = Callable[[], Tuple[int, float]]  # () -> (samples, engine CPU s)


def measure(body: Body, figures: Figures) -> None:
    wall0, cpu0, main0 = time.perf_counter(), time.process_time(), time.thread_time()
    samples, sampler_cpu = body()
    figures.main_cpu.append(time.thread_time() - main0)
    figures.cpu.append(time.process_time() - cpu0)
    figures.wall.append(time.perf_counter() - wall0)
    figures.samples.append(samples)
    figures.sampler_cpu.append(sampler_cpu)


def tracked(epochs: int, interval: str, windows: bool, on_sample: bool) -> Body:
    def body() -> Tuple[int, float]:
        seen: List[carbonclock.Sample] = []
        with carbonclock.track(zone="DE", interval=interval, quiet=True,
                               tags=["bench"]) as run:
            if on_sample:
                run.on_sample(seen.append)
            if epochs:
                numpy_training.train(epochs, run if windows else None)
        overhead = run.run_json["overhead"]
        return int(overhead["samples"]), float(overhead["cpu_s"])
    return body


def baseline(epochs: int) -> Body:
    def body() -> Tuple[int, float]:
        numpy_training.train(epochs)
        return 0, 0.0
    return body


def median_ratio(values: List[float], base: List[float]) -> float:
    return statistics.median(v / b for v, b in zip(values, base) if b > 0)


def loop_table(epochs: int, repeats: int) -> None:
    modes: Dict[str, Body] = {
        "start + stop only": tracked(0, "100ms", windows=False, on_sample=False),
        "baseline": baseline(epochs),
        "track 100ms": tracked(epochs, "100ms", windows=False, on_sample=False),
        "+ windows": tracked(epochs, "100ms", windows=True, on_sample=False),
        "+ on_sample": tracked(epochs, "100ms", windows=True, on_sample=True),
        "track 1s": tracked(epochs, "1s", windows=False, on_sample=False),
    }
    figures = {name: Figures() for name in modes}
    baseline(1)()  # warm up numpy and the extension
    tracked(1, "100ms", True, True)()
    for _ in range(repeats):
        for name, body in modes.items():
            measure(body, figures[name])
    base = figures["baseline"]
    print(f"\n## numpy training loop, {epochs} epochs, {repeats} repetitions "
          f"(load average {os.getloadavg()[0]:.1f})\n")
    print("| mode | wall s | ÷ baseline | process CPU s | ÷ baseline | main-thread CPU s | "
          "÷ baseline | samples | engine CPU per sample, µs |")
    print("|---|---|---|---|---|---|---|---|---|")
    for name, f in figures.items():
        per_sample = ""
        samples = statistics.median(f.samples)
        if samples:
            per_sample = f"{statistics.median(c / n * 1e6 for c, n in zip(f.sampler_cpu, f.samples) if n):.0f}"
        print(f"| {name} | {statistics.median(f.wall):.3f} | "
              f"{median_ratio(f.wall, base.wall):.3f} | {statistics.median(f.cpu):.3f} | "
              f"{median_ratio(f.cpu, base.cpu):.3f} | {statistics.median(f.main_cpu):.3f} | "
              f"{median_ratio(f.main_cpu, base.main_cpu):.3f} | {samples:.0f} | {per_sample} |")
    print("\n\"start + stop only\" is the fixed cost of one track() block with an empty body "
          "(opening the sensors, writing run.json, pricing, the history); \"engine CPU\" is "
          "run.json's overhead.cpu_s (the sampler thread and boundary readings).")


def window_table(count: int, repeats: int) -> None:
    @contextlib.contextmanager
    def empty(name: str):
        yield name

    base, win = [], []
    with carbonclock.track(zone="DE", interval="100ms", quiet=True) as run:
        for _ in range(repeats):
            t = time.process_time()
            for i in range(count):
                with empty("w"):
                    pass
            base.append(time.process_time() - t)
            t = time.process_time()
            for i in range(count):
                with run.window("w"):
                    pass
            win.append(time.process_time() - t)
    b, w = statistics.median(base), statistics.median(win)
    print(f"\n## window() pairs, {count} per repetition, {repeats} repetitions\n")
    print("| measure | empty context manager | run.window() | ratio |")
    print("|---|---|---|---|")
    print(f"| CPU µs per window | {b / count * 1e6:.2f} | {w / count * 1e6:.1f} | "
          f"{w / b:.0f} |")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=12)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--windows", type=int, default=2000)
    parser.add_argument("--quick", action="store_true", help="1 repetition of 2 epochs")
    args = parser.parse_args()
    if args.quick:
        args.epochs, args.repeats, args.windows = 2, 1, 50
    with tempfile.TemporaryDirectory(prefix="carbonclock-bench-") as folder:
        sandbox(Path(folder))
        print(f"carbonclock {carbonclock.__version__}, Python {sys.version.split()[0]}, "
              f"{os.cpu_count()} CPUs")
        loop_table(args.epochs, args.repeats)
        window_table(args.windows, args.repeats)
    return 0


if __name__ == "__main__":
    sys.exit(main())
