#!/usr/bin/env python3
"""A PyTorch training loop (CPU; Debian's python3-torch) with one carbonclock window per epoch,
the per-epoch numbers handed to a logger as each epoch ends.

    python3 examples/python/torch_training.py --zone DE --epochs 3
"""

from __future__ import annotations

import argparse
import sys

import torch
from torch import nn

import carbonclock


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--zone", default=None)
    parser.add_argument("--out", default=None)
    args = parser.parse_args()

    torch.manual_seed(0)
    x = torch.randn(4096, 64)
    y = (x @ torch.randn(64, 1) > 0).float()
    model = nn.Sequential(nn.Linear(64, 256), nn.ReLU(), nn.Linear(256, 1))
    optimiser = torch.optim.SGD(model.parameters(), lr=0.1)
    loss_fn = nn.BCEWithLogitsLoss()

    with carbonclock.track(zone=args.zone, interval="100ms", out=args.out,
                           tags=["torch-example"]) as run:
        # Your experiment tracker goes here (TensorBoard's add_scalar, wandb.log, ...).
        run.on_window_end(lambda w: print(
            f"{w.name}: {w.energy_j:.2f} J, {w.emissions_g:.5f} g CO2eq", file=sys.stderr))
        for epoch in range(args.epochs):
            with run.window(f"epoch-{epoch}"):
                for i in range(0, len(x), 128):
                    optimiser.zero_grad()
                    loss = loss_fn(model(x[i:i + 128]), y[i:i + 128])
                    loss.backward()
                    optimiser.step()
    print(f"final loss {loss.item():.4f}; {run.energy_j:.1f} J, {run.emissions_g:.4f} g "
          f"({run.zone}); run {run.run_dir}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
