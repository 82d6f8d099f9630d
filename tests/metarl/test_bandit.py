"""The Bernoulli bandit of RL² (Duan et al. 2016): arms per task, rewards, trials, the reference policies."""

import numpy as np
import pytest
import torch

from ilya.metarl.config import BanditConfig, TrainConfig
from ilya.metarl.envs import BanditVec, make_bandit_task, random_rewards, thompson_rewards
from ilya.metarl.sampling import EnvSpec, rollout_random, rollout_rnn
from ilya.metarl.train import bandit_references, world_seeds
from ilya.nn.recurrent import RecurrentActorCritic

torch.set_num_threads(1)


def test_arms_are_drawn_per_task_and_repeatable():
    a, b = make_bandit_task(3), make_bandit_task(4)
    assert a.p.shape == (5,) and np.all((a.p >= 0) & (a.p <= 1))
    assert np.array_equal(a.p, make_bandit_task(3).p) and not np.array_equal(a.p, b.p)
    # over many tasks the arms are uniform on [0, 1]
    ps = np.concatenate([make_bandit_task(s).p for s in range(2000)])
    assert abs(ps.mean() - 0.5) < 0.01 and abs(ps.var() - 1 / 12) < 0.003


def test_rewards_follow_the_noise_and_episodes_last_horizon_pulls():
    env = BanditVec([0, 1], BanditConfig(arms=3, horizon=2))
    env.reset()
    p = env.p
    _, r, term, trunc = env.step(np.array([0, 2]), noise=np.array([p[0, 0] - 1e-6, p[1, 2] + 1e-6]))
    assert r.tolist() == [1.0, 0.0] and not term.any() and not trunc.any()
    _, r, term, _ = env.step(np.array([1, 1]), noise=np.zeros(2))
    assert term.all() and env.done.all()
    _, r, _, _ = env.step(np.array([1, 1]), noise=np.zeros(2))
    assert r.tolist() == [0.0, 0.0]  # a finished episode pays nothing until reset
    env.reset(np.array([True, False]))
    assert env.done.tolist() == [False, True]


def test_thompson_sampling_beats_random_and_approaches_the_best_arm():
    rng = np.random.default_rng(0)
    p = rng.random((4000, 5))
    th, rnd = thompson_rewards(p, 50, rng), random_rewards(p, 50, rng)
    assert abs(rnd.mean() - p.mean()) < 0.01
    assert th.mean() > rnd.mean() + 0.15
    assert th[:, -10:].mean() > th[:, :10].mean() + 0.1  # it learns within the trial
    assert th[:, -10:].mean() > p.max(1).mean() - 0.1


def test_an_rl2_trial_is_one_pull_per_episode():
    spec = EnvSpec("bandit", BanditConfig(arms=4))
    kw = {"obs_dim": 1 + 4 + 2, "n_actions": 4, "hidden": 8, "embed": 8}
    state = {k: v.numpy() for k, v in RecurrentActorCritic(**kw).state_dict().items()}
    b = rollout_rnn(spec, [0, 1, 2], range(3), kw, state, 10, seed=1)
    assert b["mask"].shape == (3, 10) and b["mask"].all() and b["first"].all()
    assert (b["episode"] == np.arange(10)).all()
    b2 = rollout_rnn(spec, [0, 1, 2], range(3), kw, state, 10, seed=1)
    assert np.array_equal(b["rewards"], b2["rewards"])  # reward noise comes from (seed, task index)
    floor = rollout_random(spec, np.arange(200), 50, seed=0)
    assert floor.shape == (200, 50) and abs(floor.mean() - 0.5) < 0.03


def test_bandit_references_on_the_test_worlds():
    cfg = TrainConfig(env="bandit", n_episodes=20, n_explore=3, test_worlds=64, eval_trials=32)
    _, seeds = world_seeds(cfg)
    ref = bandit_references(cfg, seeds)
    assert ref["thompson"]["mean"] > ref["random"]["mean"] + 0.1
    assert ref["random"]["se"] < 0.01 and ref["thompson"]["se"] < 0.01
    assert ref["random"]["mean"] == pytest.approx(float(BanditVec(list(seeds)).p.mean()), abs=0.02)
