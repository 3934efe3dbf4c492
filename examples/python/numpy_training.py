#!/usr/bin/env python3
"""A plain numpy training loop (a two-layer network on synthetic data) metered by carbonclock,
one window per epoch, each epoch's energy and emissions logged to a CSV as it ends.

    python3 examples/python/numpy_training.py --zone DE --epochs 3
    carbonclock report carbonclock-runs/<run>          # the same run, from the CLI

--no-track runs the same loop without carbonclock (bench/python_overhead.py compares both).
"""

from __future__ import annotations

import argparse
import csv
import sys
from typing import Optional

import numpy as np


def make_data(rng: np.random.Generator, n: int = 4096, d: int = 64):
    x = rng.standard_normal((n, d)).astype(np.float32)
    w = rng.standard_normal((d, 1)).astype(np.float32)
    y = (x @ w + 0.1 * rng.standard_normal((n, 1)) > 0).astype(np.float32)
    return x, y


def train_one_epoch(params, x, y, lr: float = 0.05, batch: int = 128) -> float:
    w1, b1, w2, b2 = params
    loss = 0.0
    for i in range(0, len(x), batch):
        xb, yb = x[i:i + batch], y[i:i + batch]
        h = np.maximum(xb @ w1 + b1, 0)
        p = 1 / (1 + np.exp(-(h @ w2 + b2)))
        loss += float(-np.mean(yb * np.log(p + 1e-7) + (1 - yb) * np.log(1 - p + 1e-7)))
        g = (p - yb) / len(xb)
        gw2, gb2 = h.T @ g, g.sum(0)
        gh = (g @ w2.T) * (h > 0)
        gw1, gb1 = xb.T @ gh, gh.sum(0)
        w1 -= lr * gw1
        b1 -= lr * gb1
        w2 -= lr * gw2
        b2 -= lr * gb2
    return loss / (len(x) // batch)


def init(rng: np.random.Generator, d: int = 64, hidden: int = 256):
    return [rng.standard_normal((d, hidden)).astype(np.float32) * 0.1,
            np.zeros(hidden, np.float32),
            rng.standard_normal((hidden, 1)).astype(np.float32) * 0.1,
            np.zeros(1, np.float32)]


def train(epochs: int, run=None, seed: int = 0) -> float:
    rng = np.random.default_rng(seed)
    x, y = make_data(rng)
    params = init(rng)
    loss = 0.0
    for epoch in range(epochs):
        if run is None:
            loss = train_one_epoch(params, x, y)
            continue
        with run.window(f"epoch-{epoch}"):
            loss = train_one_epoch(params, x, y)
    return loss


def main(argv: Optional[list] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--zone", default=None)
    parser.add_argument("--interval", default="100ms")
    parser.add_argument("--out", default=None, help="run directory (default carbonclock-runs/...)")
    parser.add_argument("--log", default="epochs.csv", help="per-epoch CSV log")
    parser.add_argument("--no-track", action="store_true", help="run without carbonclock")
    args = parser.parse_args(argv)
    if args.no_track:
        print(f"loss {train(args.epochs):.4f}")
        return 0

    import carbonclock

    with open(args.log, "w", newline="") as f:
        log = csv.writer(f)
        log.writerow(["window", "seconds", "energy_j", "emissions_g"])
        with carbonclock.track(zone=args.zone, interval=args.interval, out=args.out,
                               tags=["numpy-example"]) as run:
            run.on_window_end(lambda w: log.writerow(
                [w.name, f"{w.duration_s:.3f}", f"{w.energy_j:.3f}", f"{w.emissions_g or 0:.6f}"]))
            loss = train(args.epochs, run)
    print(f"loss {loss:.4f}; {run.energy_j:.1f} J, {run.emissions_g:.4f} g CO2eq "
          f"({run.signal}, {run.zone}); run {run.run_dir}", file=sys.stderr)
    for name, w in run.windows.items():
        print(f"  {name}: {w.energy_j:.2f} J, {w.emissions_g:.5f} g", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
