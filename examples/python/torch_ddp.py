#!/usr/bin/env python3
"""Two-process DistributedDataParallel training on the gloo backend (CPU), metered by
carbonclock in distributed mode: one process per node meters the node's devices, every rank
records its per-epoch windows, under OUT/<job id>/<node>/ (run.json + journal.jsonl from the
node's meter, tasks/<rank>.json from every rank).

    torchrun --standalone --nproc_per_node 2 examples/python/torch_ddp.py --out runs/ddp

(Debian 12's torch 1.13 under Python 3.11 also needs ``--redirects 1 --tee 1``: its launcher
fails on the default ``0``.)
"""

from __future__ import annotations

import argparse
import os
import sys

import torch
import torch.distributed as dist
from torch import nn
from torch.nn.parallel import DistributedDataParallel

import carbonclock


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--zone", default=None)
    parser.add_argument("--out", default="carbonclock-runs")
    args = parser.parse_args()

    dist.init_process_group("gloo")
    rank, world = dist.get_rank(), dist.get_world_size()
    torch.manual_seed(rank)
    x = torch.randn(2048, 64)
    y = (x.sum(1, keepdim=True) > 0).float()
    model = DistributedDataParallel(nn.Sequential(nn.Linear(64, 128), nn.ReLU(),
                                                  nn.Linear(128, 1)))
    optimiser = torch.optim.SGD(model.parameters(), lr=0.1)
    loss_fn = nn.BCEWithLogitsLoss()

    with carbonclock.track(zone=args.zone, interval="100ms", out=args.out, quiet=True,
                           tags=["ddp-example"]) as run:
        for epoch in range(args.epochs):
            with run.window(f"epoch-{epoch}"):
                for i in range(0, len(x), 128):
                    optimiser.zero_grad()
                    loss_fn(model(x[i:i + 128]), y[i:i + 128]).backward()
                    optimiser.step()
            dist.barrier()
    dist.destroy_process_group()
    energy = f"{run.energy_j:.1f} J for the node" if run.energy_j is not None else \
        "metered by its node's meter"
    print(f"rank {rank}/{world} ({run.role}): {energy}; {run.run_dir}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
