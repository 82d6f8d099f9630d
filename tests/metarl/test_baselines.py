"""Tabular Q-learning from scratch: the no-meta-learning reference line."""

import numpy as np

from ilya.metarl.baselines import qlearning_returns
from ilya.metarl.config import BanditConfig
from ilya.metarl.envs import BanditVec, KrazyConfig
from ilya.metarl.sampling import EnvSpec, rollout_random

EASY = KrazyConfig(size=5, horizon=15, randomize_actions=False, randomize_palette=False, shuffle_features=False,
                   death=0.0, energy=0, ice=0.0, locks=0.0, teleporters=False, energy_tiles=0.0)


def test_qlearning_improves_within_a_trial_and_beats_random():
    spec = EnvSpec("krazy", EASY)
    seeds = np.arange(16)
    r = qlearning_returns(spec, seeds, trials=8, n_episodes=8, seed=0, n_explore=4)
    assert r.shape == (16, 8, 8)
    floor = rollout_random(spec, seeds, 64, seed=0).mean()
    assert r[:, :, 4:].mean() > r[:, :, 0].mean() + 0.1  # greedy on what it learned
    assert r[:, :, 4:].mean() > floor + 0.1


def test_qlearning_on_a_bandit_is_a_greedy_bandit_learner():
    spec = EnvSpec("bandit", BanditConfig(arms=5))
    seeds = np.arange(200)
    r = qlearning_returns(spec, seeds, trials=4, n_episodes=30, seed=1, n_explore=10, q_init=1.0)
    p = BanditVec(list(seeds)).p
    assert r[:, :, 10:].mean() > p.mean() + 0.1
