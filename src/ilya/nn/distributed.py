"""Data-parallel training under ``torchrun``: one process per core (gloo) or per GPU (NCCL).

``torchrun --nproc-per-node 2 -m ilya prover train ...`` starts two processes with ``RANK``,
``WORLD_SIZE`` and ``LOCAL_RANK`` set; `init` joins them into one process group, `ilya.nn.training.Trainer`
wraps the model in DistributedDataParallel (gradients are averaged over ranks), each rank trains on its
`shard` of the global batch, and only rank 0 writes the run folder (`ilya.core.runs.Run` checks
``RANK``).  With a global batch split evenly, the loss curve equals that of one process on the whole batch.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist


@dataclass(frozen=True)
class DistInfo:
    """Where this process stands in the job."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def enabled(self) -> bool:
        return self.world_size > 1


def info() -> DistInfo:
    """This process's rank and the job's size, from torchrun's environment (1 process without it)."""
    return DistInfo(int(os.environ.get("RANK", 0)), int(os.environ.get("WORLD_SIZE", 1)),
                    int(os.environ.get("LOCAL_RANK", 0)))


def init(device: torch.device | str = "cpu") -> DistInfo:
    """Join the process group when started by torchrun (NCCL on CUDA, gloo on the CPU); idempotent."""
    me = info()
    if me.enabled and not dist.is_initialized():
        cuda = torch.device(device).type == "cuda"
        if cuda:
            torch.cuda.set_device(me.local_rank)
        dist.init_process_group(backend="nccl" if cuda else "gloo")
    return me


def device_for(device: torch.device) -> torch.device:
    """The rank's own GPU under torchrun (``cuda`` -> ``cuda:LOCAL_RANK``); other devices unchanged."""
    if device.type == "cuda" and info().enabled:
        return torch.device("cuda", info().local_rank)
    return device


def shard(global_batch: int) -> slice:
    """This rank's rows of a global batch (the batch must split evenly over the ranks)."""
    me = info()
    if global_batch % me.world_size:
        raise ValueError(f"global batch {global_batch} does not split over {me.world_size} processes")
    per = global_batch // me.world_size
    return slice(me.rank * per, (me.rank + 1) * per)


def mean(value: float) -> float:
    """The mean of ``value`` over the ranks (the value itself in one process)."""
    if not (dist.is_available() and dist.is_initialized()):
        return float(value)
    t = torch.tensor([float(value)], dtype=torch.float64)
    dist.all_reduce(t)
    return float(t.item()) / dist.get_world_size()


def barrier() -> None:
    if dist.is_available() and dist.is_initialized():
        dist.barrier()


def shutdown() -> None:
    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()
