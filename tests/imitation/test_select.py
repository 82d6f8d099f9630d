"""Ours: model selection on validation episodes of the training tasks (``--select-every``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import torch

from ilya.core.runs import Run
from ilya.imitation import train as train_mod
from ilya.imitation.config import TrainConfig

torch.set_num_threads(1)


def test_select_due_starts_at_the_first_dagger_round_and_ends_at_the_last_step() -> None:
    cfg = TrainConfig(steps=100, dagger_start=0.4, select_every=15)
    due = [s + 1 for s in range(100) if train_mod.select_due(cfg, s)]
    assert due == [45, 60, 75, 90, 100]
    assert not any(train_mod.select_due(TrainConfig(steps=100), s) for s in range(100))   # off by default


def test_the_run_ends_with_the_weights_that_validated_best(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    scores = {12: 0.2, 16: 0.6, 20: 0.6, 24: 0.1}      # a tie at 16/20: the later weights win
    seen: dict[int, dict[str, torch.Tensor]] = {}
    calls: list[int] = []

    def fake_validate(model: torch.nn.Module, cfg: TrainConfig, data: Any) -> dict[str, float]:
        step = len(calls) * 4 + 12
        calls.append(step)
        seen[step] = {k: v.detach().clone() for k, v in model.state_dict().items()}
        return {"select/success": scores[step], "select/stages": 0.0}

    monkeypatch.setattr(train_mod, "validate", fake_validate)
    cfg = TrainConfig(runs_dir=tmp_path, run="sel", steps=24, dagger_start=0.5, dagger_rounds=1, select_every=4,
                      max_blocks=3, max_stages=1, train_tasks=2, test_tasks=1, demos_per_task=2,
                      test_demos_per_task=1, eval_trials=0, threads=1, ckpt_every=0)
    res = train_mod.train(cfg)
    assert calls == [12, 16, 20, 24]
    assert res["selected"]["step"] == 20 and res["selected"]["validation_success"] == 0.6
    state = Run.load("sel", tmp_path, system="imitation").load_checkpoint()
    assert state is not None and state["step"] == 24
    for k, v in seen[20].items():
        assert torch.equal(state["model"][k], v), k
    assert any(not torch.equal(seen[24][k], v) for k, v in seen[20].items())   # the last weights differ


def test_ema_ends_with_the_moving_average_of_the_weights(tmp_path: Path) -> None:
    """One BC step: decay 1 keeps the initial weights w0, 0 gives the trained w1, 0.5 gives (w0 + w1) / 2."""
    got = {}
    for ema in (0.0, 1.0, 0.5):
        name = f"ema{ema}"
        cfg = TrainConfig(runs_dir=tmp_path, run=name, algo="bc", steps=1, ema=ema, max_blocks=3, max_stages=1,
                          train_tasks=2, test_tasks=1, demos_per_task=2, test_demos_per_task=1, eval_trials=0,
                          threads=1)
        train_mod.train(cfg)
        state = Run.load(name, tmp_path, system="imitation").load_checkpoint()
        assert state is not None
        got[ema] = state["model"]
    moved = 0
    for k, w1 in got[0.0].items():
        if w1.dtype.is_floating_point:
            assert torch.allclose(got[0.5][k], (got[1.0][k] + w1) / 2, atol=1e-6), k
            moved += int(not torch.equal(got[1.0][k], w1))
    assert moved > 0
