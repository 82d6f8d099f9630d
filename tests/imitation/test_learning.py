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
from ilya.imitation.policy import MAX_LABELS, OneShotPolicy, aux_loss, bc_loss
from ilya.imitation.train import Pools

torch.set_num_threads(1)
AUX_STEPS = 200


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


def test_aux_loss_makes_the_policy_read_the_demonstration(tmp_path: Path) -> None:
    """With the auxiliary loss, head 0 names the block to move on held-out layouts (only the demonstration says
    which), far above chance (1 in 3), and the move depends on the demonstration; without it, it does not."""
    ds_dir = tmp_path / "ds"
    collect(CollectConfig(max_blocks=3, max_stages=1, train_tasks=4, test_tasks=2, demos_per_task=8,
                          test_demos_per_task=4, out=ds_dir))
    data = load_dataset(ds_dir)
    got = {}
    for w in (1.0, 0.0):
        pools = Pools(data, keep_final=True)
        torch.manual_seed(0)
        model = OneShotPolicy(ModelConfig(dim=24, hidden=64, conv_dilations=[1, 2], max_blocks=3))
        opt = torch.optim.Adamax(model.parameters(), lr=2e-3)
        for step in range(AUX_STEPS):
            rng = np.random.default_rng([0, step])
            demo, mask, x, y, lab = pools.labelled_batch(rng, 32, 0.95, "demo")
            tags = torch.from_numpy(np.argsort(rng.random((32, MAX_LABELS)), axis=1)[:, :3])
            out, logits = model.outputs(demo, mask, x, tags=tags)
            loss = bc_loss(out, y, x)[0] + w * aux_loss(logits, lab)[0]
            opt.zero_grad()
            loss.backward()
            opt.step()
        held = Pools(data, keep_final=True, split="test")
        demo, mask, x, y, lab = held.labelled_batch(np.random.default_rng(123), 512, 0.95, "demo", test_time=True)
        perm = torch.randperm(512, generator=torch.Generator().manual_seed(0))
        with torch.no_grad():
            out, logits = model.eval().outputs(demo, mask, x)
            swapped = model(demo[perm], mask[perm], x)
        acc = aux_loss(logits, lab)[1]["source_acc"]
        got[w] = (acc, float((torch.tanh(swapped[:, :3]) - torch.tanh(out[:, :3])).abs().mean()))
    assert got[1.0][0] > 0.8, got         # measured: 0.96 (without the loss 0.60: head 0 is then not meant to)
    assert got[1.0][1] > 5 * got[0.0][1], got    # measured: the move changes by 0.081 against 0.003


def recipe(runs_dir: Path, seed: int) -> TrainConfig:
    """The robust recipe of docs/imitation.md (ours beyond the paper: the additions there, --ema, --select-every)."""
    return TrainConfig(runs_dir=runs_dir, run=f"dagger-seed{seed}", seed=seed, algo="dagger", steps=16000,
                       dagger_start=0.3, dagger_rounds=8, select_every=800, ema=0.999, eval_trials=10,
                       log_every=100, threads=1, optim=OptimConfig(optimizer="adamax", lr=1e-3, grad_clip=1.0))


@pytest.mark.slow
def test_dagger_default_task_set(tmp_path: Path) -> None:
    """The real training (about 20 minutes per seed on the shared CPU, one thread, so ~1 hour): DAgger, 16000 steps with
    weight averaging and model selection on validation episodes of the training tasks, three seeds, on the default
    40/12 task set.  The issue's goal over seeds: mean success on 2-stage test tasks >= 90 %; also the mean over
    all test tasks >= 85 % and every number of stages >= 80 % on training tasks (mean over seeds).  Success no
    longer falls clearly with the number of stages at our scale (1-5 stages, 6 blocks; the paper's fall is mostly
    beyond 4 stages with 10 blocks): docs/imitation.md says so.  Measured on 2026-12-03: docs/imitation.md, the
    robust recipe (runs/imitation/dagger-16k-ema-seed{0,1,2}; the training is deterministic on the CPU for a seed).
    """
    from ilya.imitation.train import train

    two, test, tr = [], [], {n: [] for n in ("1", "2", "3", "4", "5")}
    for seed in (0, 1, 2):
        res = train(recipe(tmp_path, seed))
        assert res["expert"]["success"] == 1.0
        assert res["selected"]["episodes"] == 40                          # validation on the 40 training tasks
        two.append(res["test"]["by_stages"]["2"]["success"])
        test.append(res["test"]["success"])
        for n in tr:
            tr[n].append(res["train"]["by_stages"][n]["success"])
    assert np.mean(two) >= 0.9, two                                      # the goal, over seeds
    assert np.mean(test) >= 0.85, test
    assert all(np.mean(v) >= 0.8 for v in tr.values()), tr
