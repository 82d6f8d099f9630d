"""The trainers' real code paths on tiny problems: E-MAML's gradient and per-world baseline, RL²'s masked
losses, the step budget and the evaluation protocol (fixed seeds, standard errors)."""

from pathlib import Path

import numpy as np
import pytest
import torch

from ilya.core.runs import Run
from ilya.metarl.config import TrainConfig
from ilya.metarl.envs import KrazyConfig
from ilya.metarl.policy import mlp_logits
from ilya.metarl.scoring import world_stats
from ilya.metarl.train import MamlLearner, Rl2Learner, make_learner, random_floor, train, world_seeds

torch.set_num_threads(1)
TINY = dict(krazy=KrazyConfig(size=5, horizon=8), train_worlds=3, test_worlds=3, meta_batch=3,
            episodes_per_task=2, hidden=8, trials=6, quiet=True)


def _grads(learner: MamlLearner, loss: torch.Tensor) -> list[torch.Tensor]:
    return list(torch.autograd.grad(loss, list(learner.params.values())))


def hand_written_emaml(learner: MamlLearner, batch, normalize: bool) -> list[torch.Tensor]:
    """(1/N) Σᵢ (Rᵢ - bᵢ) (1/K) Σ_k ∇ log π_θ(τᵢₖ), one step at a time (scaled by 1/(T·s) when normalised)."""
    pre = batch.pre
    N, K, T = pre["mask"].shape
    total = torch.zeros(())
    for i in range(N):
        adv = float(batch.post_return[i]) - float(learner.world_baseline(batch.worlds[i:i + 1])[0])
        if normalize:
            adv = adv / batch.scale
        for k in range(K):
            for t in range(T):
                if pre["mask"][i, k, t] == 0:
                    continue
                logp = torch.log_softmax(mlp_logits(learner.params, pre["obs"][i, k, t]), -1)[pre["actions"][i, k, t]]
                total = total + adv * logp / (N * K * (T if normalize else 1))
    return _grads(learner, total)


@pytest.mark.parametrize("normalize", [True, False])
def test_emaml_gradient_of_the_trainer_is_the_score_function_estimator(normalize: bool):
    cfg = TrainConfig(algo="emaml", emaml_weight=0.7, emaml_normalize=normalize, **TINY)
    learner = make_learner(cfg)
    assert isinstance(learner, MamlLearner)
    train_seeds, _ = world_seeds(cfg)
    learner.iteration(0, np.random.default_rng([0, 0]), train_seeds)  # sets the per-world baselines
    batch = learner.collect(1, np.random.default_rng([0, 1]), train_seeds)
    g_emaml = _grads(learner, learner.loss(batch, epoch=0)[0])
    learner.weight = 0.0  # MAML on the same batch: only the term through θ' remains
    g_maml = _grads(learner, learner.loss(batch, epoch=0)[0])
    hand = hand_written_emaml(learner, batch, normalize)
    for gm, ge, h in zip(g_maml, g_emaml, hand, strict=True):
        assert torch.allclose(gm - ge, 0.7 * h, atol=1e-6, rtol=1e-4)
    assert max(float(h.abs().max()) for h in hand) > 1e-4  # the term is not trivially zero here
    # after the first PPO epoch the term is left out (it would be off-policy)
    learner.weight = 0.7
    g1 = _grads(learner, learner.loss(batch, epoch=1)[0])
    learner.weight = 0.0
    for a, b in zip(g1, _grads(learner, learner.loss(batch, epoch=1)[0]), strict=True):
        assert torch.equal(a, b)


def test_emaml_baseline_is_per_world_and_from_earlier_iterations():
    cfg = TrainConfig(algo="emaml", emaml_baseline_decay=0.5, **TINY)
    learner = make_learner(cfg)
    assert isinstance(learner, MamlLearner)
    train_seeds, _ = world_seeds(cfg)
    first = learner.collect(0, np.random.default_rng([0, 0]), train_seeds)
    assert torch.equal(first.baseline, torch.zeros(3)) and first.scale == 1.0  # nothing seen yet
    learner.update_baseline(first)
    R0 = {int(w): float(r) for w, r in zip(first.worlds, first.post_return, strict=True)}
    assert len(set(np.round(list(R0.values()), 6))) > 1  # worlds differ, so one batch mean would not do
    second = learner.collect(1, np.random.default_rng([0, 1]), train_seeds)
    for w, b in zip(second.worlds, second.baseline, strict=True):
        assert float(b) == pytest.approx(R0[int(w)], abs=1e-6)  # world w's own earlier return
    learner.update_baseline(second)
    for w, r in zip(second.worlds, second.post_return, strict=True):
        assert float(learner.baseline[int(w)]) == pytest.approx(0.5 * R0[int(w)] + 0.5 * float(r), abs=1e-6)
    resid = float(((first.post_return.double() - 0.0) ** 2).mean())
    expect_var = 0.5 * resid + 0.5 * float(((second.post_return.double() - second.baseline.double()) ** 2).mean())
    assert float(learner.adv_var) == pytest.approx(expect_var, rel=1e-6)


def test_rl2_losses_ignore_the_padding_after_a_trial():
    cfg = TrainConfig(algo="rl2", **TINY)
    learner = make_learner(cfg)
    assert isinstance(learner, Rl2Learner)
    train_seeds, _ = world_seeds(cfg)
    batch = learner.collect(0, np.random.default_rng([0, 0]), train_seeds)
    pad = batch.mask == 0
    assert pad.any(), "the tiny batch should have trials of different lengths"
    idx = torch.arange(batch.x.shape[0])
    loss, _ = learner.loss(batch, idx)
    grads = torch.autograd.grad(loss, list(learner.net.parameters()))
    # garbage in the padding: inputs, value targets, advantages, old log-probs
    batch.x[pad] = 100.0
    batch.ret[pad] = 1e3
    batch.adv[pad] = -1e3
    batch.logp_old[pad] = 5.0
    loss2, _ = learner.loss(batch, idx)
    grads2 = torch.autograd.grad(loss2, list(learner.net.parameters()))
    assert torch.allclose(loss, loss2, atol=1e-6)
    for a, b in zip(grads, grads2, strict=True):
        assert torch.allclose(a, b, atol=1e-6)


@pytest.mark.parametrize("algo", ["maml", "rl2"])
def test_budget_is_not_overshot_and_curve_matches_summary(tmp_path: Path, algo: str):
    cfg = TrainConfig(algo=algo, env_steps=700, eval_every=2, eval_adapts=2, eval_trials=2, floor_episodes=8,
                      run="b", runs_dir=tmp_path, **TINY)
    s = train(cfg)
    run = Run.load("metarl/b", tmp_path)
    steps, ret = run.series("test/return")
    n_per_it = np.diff([0, *[m["step"] for m in run.metrics() if "train/approx_kl" in m]])
    assert s["env_steps"] <= 700 + int(n_per_it.max() - n_per_it.min())  # at most the budget (+ the variation)
    assert s["env_steps"] + n_per_it.max() > 700 - n_per_it.max()        # and not far below it
    # the summary is the last point of the curve: one evaluation seed for the whole run
    assert steps[-1] == s["env_steps"] and ret[-1] == pytest.approx(s["test_return"], abs=1e-12)
    assert run.series("test/return_se")[1][-1] == pytest.approx(s["test_return_se"], abs=1e-12)


def test_world_stats_errors():
    x = np.array([[0.0, 1.0, 2.0], [1.0, 1.0, 1.0]])
    st = world_stats(x)
    assert st["mean"] == pytest.approx(1.0)
    assert st["se"] == pytest.approx(np.sqrt(1.0 / 3) / 2)  # world 0: s.e. sqrt(1/3); world 1: 0
    assert st["se_worlds"] == 0.0


def test_random_floor_has_a_standard_error_below_0_01():
    cfg = TrainConfig()  # the defaults: 64 test worlds x 256 episodes of the default Krazy World
    _, test_seeds = world_seeds(cfg)
    floor = world_stats(random_floor(cfg, test_seeds))
    assert floor["se"] < 0.01
    assert -0.3 < floor["mean"] < 0.1  # deaths (-1) outweigh goals for a random walker
