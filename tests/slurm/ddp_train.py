#!/usr/bin/env python3
"""A small torch.distributed (gloo, CPU) training job for tests/slurm/test_slurm.py: each rank
of `srun -n N` trains a linear model with DistributedDataParallel on its own shard of a fixed
data set; the ranks' parameters must agree at the end (DDP averages the gradients).

Rank and world size come from Slurm (SLURM_PROCID, SLURM_NTASKS) or torchrun (RANK,
WORLD_SIZE); MASTER_ADDR and MASTER_PORT name the rendezvous (the test gives a free port).
Run by hand:  MASTER_ADDR=127.0.0.1 MASTER_PORT=29500 srun -n 2 carbonclock run -- python3 ddp_train.py
"""

import os
import sys

import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel


def main():
    rank = int(os.environ.get("SLURM_PROCID", os.environ.get("RANK", "0")))
    world = int(os.environ.get("SLURM_NTASKS", os.environ.get("WORLD_SIZE", "1")))
    dist.init_process_group("gloo", rank=rank, world_size=world)
    torch.manual_seed(0)
    x = torch.randn(4096, 32)
    y = x @ torch.arange(32, dtype=torch.float32).unsqueeze(1) + 0.1 * torch.randn(4096, 1)
    shard = slice(rank * len(x) // world, (rank + 1) * len(x) // world)
    model = DistributedDataParallel(torch.nn.Linear(32, 1))
    opt = torch.optim.SGD(model.parameters(), lr=0.01)
    for _ in range(200):
        opt.zero_grad()
        loss = torch.nn.functional.mse_loss(model(x[shard]), y[shard])
        loss.backward()
        opt.step()
    # Every rank must hold the same parameters.
    flat = torch.cat([p.detach().flatten() for p in model.parameters()])
    gathered = [torch.zeros_like(flat) for _ in range(world)]
    dist.all_gather(gathered, flat)
    if not all(torch.equal(gathered[0], g) for g in gathered):
        print(f"ddp: rank {rank}: parameters differ between ranks", file=sys.stderr)
        return 1
    print(f"ddp: rank {rank} of {world} finished, loss {loss.item():.4f}", flush=True)
    dist.destroy_process_group()
    return 0


if __name__ == "__main__":
    sys.exit(main())
