"""A toy data-parallel training run: ``torchrun --nproc-per-node N tests/nn/ddp_toy.py OUT.json RUNS``.

Used by test_distributed.py: the loss curve must not depend on the number of processes.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from ilya.core.config import OptimConfig, RunConfig
from ilya.core.runs import Run
from ilya.nn import distributed
from ilya.nn.training import Trainer


@dataclass
class ToyConfig(RunConfig):
    """toy"""


def main(out: Path, runs_dir: Path) -> None:
    torch.set_num_threads(1)
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(6, 16), nn.Tanh(), nn.Linear(16, 1))
    trainer = Trainer(model, OptimConfig(lr=0.05, warmup=2, schedule="cosine", grad_clip=1.0), total_steps=8)
    run = Run.open("toy", ToyConfig(run="ddp", runs_dir=runs_dir))
    start = trainer.resume(run)
    g = torch.Generator().manual_seed(1)
    data = [(torch.randn(8, 6, generator=g), torch.randn(8, 1, generator=g)) for _ in range(8)]
    rows = distributed.shard(8)
    losses = []
    for step in trainer.steps(run, start, 8):
        x, y = data[step]
        loss = (trainer.forward(x[rows]) - y[rows]).pow(2).mean()
        trainer.step(loss)
        losses.append(trainer.mean(loss.detach()))
        run.log(step + 1, **{"train/loss": losses[-1]})
        trainer.save(run, step + 1)
    if distributed.info().is_main:
        out.write_text(json.dumps({"losses": losses, "world": distributed.info().world_size}))
    run.finish()
    distributed.shutdown()


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
