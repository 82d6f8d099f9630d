"""BC learns: on a handful of tasks its actions beat a random policy's on held-out demonstrations (numbers).

The slow test holds a real training (DAgger, default task set) to the issue's numbers.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from ilya.core.config import OptimConfig
from ilya.imitation.config import CollectConfig, ModelConfig, TrainConfig
from ilya.imitation.dataset import collect, load_dataset
from ilya.imitation.policy import OneShotPolicy, bc_loss
from ilya.imitation.train import Pools

torch.set_num_threads(1)


def test_bc_beats_a_random_policy(tmp_path: Path) -> None:
    ds_dir = tmp_path / "ds"
    collect(CollectConfig(max_blocks=3, max_stages=1, train_tasks=4, test_tasks=2, demos_per_task=8,
                          test_demos_per_task=4, out=ds_dir))
    data = load_dataset(ds_dir)
    pools = Pools(data)
    torch.manual_seed(0)
    model = OneShotPolicy(ModelConfig(dim=24, hidden=64, conv_dilations=[1, 2]))
    opt = torch.optim.Adamax(model.parameters(), lr=2e-3)
    for step in range(150):
        demo, mask, x, y = pools.batch(np.random.default_rng([0, step]), 32, 0.95, "demo")
        loss, _ = bc_loss(model(demo, mask, x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    # held out: the test tasks' demonstrations (other layouts, other initial states)
    held = Pools(data, split="test")
    demo, mask, x, y = held.batch(np.random.default_rng(123), 512, 0.95, "demo")
    with torch.no_grad():
        out = model.eval()(demo, mask, x)
    bc_l1 = float((torch.tanh(out[:, :3]) - y[:, :3]).abs().mean())
    rand = torch.rand(512, 3, generator=torch.Generator().manual_seed(0)) * 2 - 1
    rand_l1 = float((rand - y[:, :3]).abs().mean())
    bc_grip = float(((out[:, 3] > 0) == (y[:, 3] > 0)).float().mean())
    assert bc_l1 < 0.6 * rand_l1, (bc_l1, rand_l1)       # measured: ~0.3 against ~0.8
    assert bc_grip > 0.8                                  # a random grip is right half the time


@pytest.mark.slow
def test_dagger_default_task_set(tmp_path: Path) -> None:
    """The real training (about 15 CPU-minutes): DAgger on the default 40/12 task set."""
    cfg = TrainConfig(runs_dir=tmp_path, run="dagger", algo="dagger", steps=3000, dagger_rounds=3, eval_trials=6,
                      optim=OptimConfig(optimizer="adamax", lr=1e-3, grad_clip=1.0))
    from ilya.imitation.train import train

    res = train(cfg)
    assert res["expert"]["success"] == 1.0
    # the goal is >= 90 % on 2-stage test tasks; our CPU budget does not reach it (docs/imitation.md)
    assert res["test"]["by_stages"]["2"]["success"] >= 0.9
