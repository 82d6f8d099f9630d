"""The shared training plumbing: groups, schedules, clipping, checkpoint/resume equal to an unbroken run."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import pytest
import torch
from torch import nn

from ilya.core.config import OptimConfig, RunConfig
from ilya.core.runs import Run
from ilya.nn.training import Trainer, lr_at, param_groups


def _model() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Embedding(10, 8), nn.Flatten(), nn.Linear(16, 8), nn.LayerNorm(8), nn.Linear(8, 1))


def test_param_groups_decay_only_matrices_of_linear_layers() -> None:
    m = _model()
    decay, no_decay = param_groups(m, 0.1)
    assert decay["weight_decay"] == 0.1 and no_decay["weight_decay"] == 0.0
    assert {id(p) for p in decay["params"]} == {id(m[2].weight), id(m[4].weight)}
    assert len(no_decay["params"]) == 1 + 2 + 2  # embedding weight, two linear biases, norm weight + bias


def test_lr_schedule_by_hand() -> None:
    cfg = OptimConfig(lr=1.0, warmup=4, schedule="cosine", min_lr_ratio=0.1)
    assert [lr_at(s, 14, cfg) for s in range(4)] == [0.25, 0.5, 0.75, 1.0]
    assert lr_at(4, 14, cfg) == pytest.approx(1.0)
    assert lr_at(9, 14, cfg) == pytest.approx(0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * 0.5)))
    assert lr_at(14, 14, cfg) == pytest.approx(0.1)
    lin = OptimConfig(lr=2.0, schedule="linear", min_lr_ratio=0.0)
    assert [lr_at(s, 4, lin) for s in range(5)] == [2.0, 1.5, 1.0, 0.5, 0.0]
    assert lr_at(100, 4, OptimConfig(lr=0.3)) == 0.3


def test_clipping_bounds_the_update() -> None:
    m = nn.Linear(4, 1, bias=False)
    with torch.no_grad():
        m.weight.zero_()
    t = Trainer(m, OptimConfig(optimizer="sgd", lr=1.0, beta1=0.0, grad_clip=0.5), total_steps=1)
    x = torch.full((1, 4), 100.0)
    stats = t.step((m(x) - 1e4).pow(2).mean())
    assert stats["grad_norm"] > 1e3  # the norm before clipping is reported
    assert float(m.weight.detach().norm()) == pytest.approx(0.5, rel=1e-5)


@dataclass
class _Cfg(RunConfig):
    """toy"""

    steps: int = 12
    """steps"""


def _train(run_dir: Path, name: str, stop_at: int | None = None) -> list[float]:
    cfg = OptimConfig(optimizer="adamw", lr=0.05, warmup=2, schedule="cosine", grad_clip=1.0, weight_decay=0.1)
    run = Run.open("toy", _Cfg(run=name, runs_dir=run_dir))
    model = _model()
    trainer = Trainer(model, cfg, total_steps=12)
    start = trainer.resume(run)
    g = torch.Generator().manual_seed(1)
    data = [(torch.randint(0, 10, (8, 2), generator=g), torch.randn(8, 1, generator=g)) for _ in range(12)]
    losses = []
    for step in trainer.steps(run, start, 12):
        x, y = data[step]
        loss = (model(x) - y).pow(2).mean()
        trainer.step(loss)
        losses.append(float(loss.detach()))
        trainer.save(run, step + 1)
        if stop_at is not None and step + 1 == stop_at:
            return losses
    return losses


def test_resume_continues_exactly_like_an_unbroken_run(tmp_path: Path) -> None:
    straight = _train(tmp_path, "a")
    first = _train(tmp_path, "b", stop_at=5)
    rest = _train(tmp_path, "b")
    assert len(first) == 5 and len(rest) == 7
    assert first + rest == pytest.approx(straight, rel=1e-6, abs=1e-7)
    assert straight[-1] < straight[0]
