"""Ours, not the paper's: the late anneal of the learning rate and the entropy bonus, checkpoint selection
by held-out evaluations (--keep-best) and the pool keeping its versions by quality, not recency."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from ilya.core.errors import IlyaError
from ilya.five.config import EvalConfig, GameConfig, ModelConfig, TrainConfig
from ilya.five.selfplay import OpponentPool

torch.set_num_threads(1)


def test_late_anneal_by_hand() -> None:
    from ilya.five.train import late_anneal

    cfg = TrainConfig(lr_end=0.1, entropy_end=0.0, team_spirit_anneal=0.5)
    lr0 = cfg.optim.lr
    assert late_anneal(0.0, cfg) == pytest.approx((lr0, 0.01))
    assert late_anneal(0.5, cfg) == pytest.approx((lr0, 0.01))  # constant while τ anneals
    assert late_anneal(0.75, cfg) == pytest.approx((lr0 * 0.55, 0.005))  # halfway: 1 - 0.9 / 2
    assert late_anneal(1.0, cfg) == pytest.approx((lr0 * 0.1, 0.0))
    assert late_anneal(0.9, TrainConfig()) == pytest.approx((lr0, 0.01))  # the defaults change nothing


def test_keep_best_keeps_the_best_evaluation(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import ilya.five.train as train_mod
    from ilya.core.runs import Run
    from ilya.five.evaluate import evaluate
    from ilya.five.rating import load_snapshot, snapshots

    scores = iter([0.25, 0.75, 0.5, 0.0])  # the evaluations at iterations 2, 4, 6 and the final one

    def fake_eval(model: object, cfg: TrainConfig, games: int, seed: int, operated: bool = False
                  ) -> dict[str, float]:
        return {"eval/win_rate_scripted": next(scores), "eval/win_rate_random": 1.0}

    monkeypatch.setattr(train_mod, "evaluate_policy", fake_eval)
    res = train_mod.train(TrainConfig(run="best", runs_dir=tmp_path, iterations=6, num_games=2, rollout_len=4,
                                      eval_every=2, eval_games=2, pool_every=2, keep_best=True, lr_end=0.5,
                                      game=GameConfig(max_steps=30), model=ModelConfig(hidden=16, embed=16)))
    assert res["best_iteration"] == 4 and res["best_score"] == pytest.approx(0.751)
    run = Run.load(tmp_path / "five" / "best")
    _, best_it = run.series("eval/best_iteration")
    assert best_it == [2.0, 4.0, 4.0]
    model, meta = train_mod.load_best(run)
    assert meta["iteration"] == 4
    snap = next(p for p in snapshots(run.path / "snapshots") if load_snapshot(p)[0] == 4)
    _, _, weights = load_snapshot(snap)
    for k, v in model.state_dict().items():
        np.testing.assert_array_equal(v.numpy(), weights[k])  # the policy of iteration 4, not the last one
    latest, _ = train_mod.load_policy(run)
    assert any(not torch.equal(a, b) for a, b in zip(latest.state_dict().values(), model.state_dict().values(),
                                                      strict=True))
    _, lrs = run.series("train/lr")
    assert lrs[-1] < lrs[0]  # --lr-end 0.5 lowers it once τ reached 1
    out = evaluate(EvalConfig(run=str(run.path), games=2, policy="best", json=True))
    assert out["policy"] == "best" and out["games"] == 2


def test_eval_of_a_best_policy_that_was_not_kept_is_one_error(tmp_path: Path) -> None:
    from ilya.five.evaluate import evaluate
    from ilya.five.train import train

    train(TrainConfig(run="plain", runs_dir=tmp_path, iterations=1, num_games=2, rollout_len=4, eval_every=0,
                      eval_games=2, game=GameConfig(max_steps=20), model=ModelConfig(hidden=16, embed=16)))
    with pytest.raises(IlyaError, match="--keep-best"):
        evaluate(EvalConfig(run=str(tmp_path / "five" / "plain"), games=2, policy="best"))
    with pytest.raises(IlyaError, match="--eval-every"):
        train(TrainConfig(run="x", runs_dir=tmp_path, keep_best=True, eval_every=0))


def test_a_full_pool_drops_its_lowest_quality_version_not_its_oldest() -> None:
    pool = OpponentPool(max_size=3, lr=0.01)
    w = {"x": np.zeros(1)}
    for v in (10, 20, 30):
        pool.add(v, w)
    pool.q = [0.5, -1.0, 0.0]  # the oldest is the hardest to beat, version 20 the easiest
    pool.add(40, w)
    assert pool.versions == [10, 30, 40]
    assert pool.q[-1] == pytest.approx(0.5)  # the newcomer enters with the best score
    pool.add(50, w)  # now 30 (q 0) is the lowest; 40 is kept although newer ones come
    assert pool.versions == [10, 40, 50]


def test_budget_fraction_by_hand() -> None:
    from ilya.five.train import budget_fraction

    assert budget_fraction(50, 999.0, 999.0, TrainConfig(iterations=200)) == pytest.approx(0.25)  # no time budget
    assert budget_fraction(50, 300.0, 60.0, TrainConfig(minutes=10)) == pytest.approx(0.5)
    assert budget_fraction(50, 300.0, 60.0, TrainConfig(cpu_minutes=4)) == pytest.approx(0.25)
    assert budget_fraction(50, 300.0, 60.0, TrainConfig(minutes=10, cpu_minutes=4)) == pytest.approx(0.5)  # first out
    assert budget_fraction(50, 30.0, 180.0, TrainConfig(minutes=10, cpu_minutes=4)) == pytest.approx(0.75)


def test_a_tiny_cpu_budget_stops_training_and_is_recorded(tmp_path: Path) -> None:
    import json

    from ilya.core.runs import Run
    from ilya.five.train import train

    # 0.0001 CPU-minutes = 6 ms: one iteration of 2 games costs more, so training stops after it, although
    # --iterations would allow 500
    res = train(TrainConfig(run="cpu", runs_dir=tmp_path, cpu_minutes=1e-4, iterations=500, num_games=2,
                            rollout_len=4, eval_every=0, eval_games=2, game=GameConfig(max_steps=30),
                            model=ModelConfig(hidden=16, embed=16)))
    assert res["iterations"] == 1
    assert res["budget_cpu_minutes"] == pytest.approx(1e-4) and res["budget_minutes"] == 0.0
    assert res["train_cpu_minutes"] >= 1e-4 and res["train_cpu_minutes"] < 0.5
    run = Run.load(tmp_path / "five" / "cpu")
    summary = json.loads((run.path / "summary.json").read_text())
    assert summary["train_cpu_minutes"] == pytest.approx(res["train_cpu_minutes"])
    assert summary["budget_cpu_minutes"] == pytest.approx(1e-4)
    _, cpu = run.series("time/train_cpu_minutes")
    _, frac = run.series("time/budget_fraction")
    assert cpu == [pytest.approx(res["train_cpu_minutes"])] and frac[0] >= 1.0
    with pytest.raises(IlyaError, match="--cpu-minutes"):
        train(TrainConfig(run="neg", runs_dir=tmp_path, cpu_minutes=-1))
