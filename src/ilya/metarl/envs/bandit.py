"""The Bernoulli multi-armed bandit of RL² (Duan et al. 2016, sec. 3.1), a sanity check for the learners.

A task seed draws the success probability of each of ``arms`` arms uniformly from [0, 1].  An episode is
``horizon`` pulls (1 by default, as in RL²: a trial of n episodes is n pulls of the same arms, and the
next trial draws new arms).  The observation is a constant: everything the agent knows about the task
comes through the previous action and reward that RL² feeds back.

Rewards are random, so a vectorised bandit takes the uniforms that decide them from the caller
(``step(actions, noise)``): the samplers draw them per task from (seed, task index), like the action
noise, which keeps rollouts repeatable and independent of how tasks are split over workers.  Without
``noise`` it draws from its own ``rng``.  Thompson sampling (Beta(1, 1) priors) and the uniform random
policy are the reference points (`thompson_rewards`, `random_rewards`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from gymnasium import spaces

from ilya.metarl.config import BanditConfig
from ilya.metarl.envs.single import SingleTaskEnv


@dataclass(frozen=True)
class BanditTask:
    """One bandit: its seed and its arms' success probabilities."""

    seed: int
    p: np.ndarray


def make_bandit_task(seed: int, cfg: BanditConfig = BanditConfig()) -> BanditTask:
    return BanditTask(int(seed), np.random.default_rng([int(seed), 0xBA]).random(cfg.arms))


class BanditVec:
    """B bandits pulled together (the interface of `KrazyWorldVec`: ``reset(mask)``, ``step``, ``done``)."""

    def __init__(self, tasks: Sequence[BanditTask | int], cfg: BanditConfig = BanditConfig()) -> None:
        if cfg.arms < 2 or cfg.horizon < 1:
            raise ValueError(f"a bandit needs >= 2 arms and a horizon >= 1 (got {cfg.arms}, {cfg.horizon})")
        self.cfg = cfg
        self.tasks = [t if isinstance(t, BanditTask) else make_bandit_task(t, cfg) for t in tasks]
        self.B = len(self.tasks)
        self.n_actions = cfg.arms
        self.horizon = cfg.horizon
        self.p = np.stack([t.p for t in self.tasks])  # (B, arms)
        self.t = np.zeros(self.B, np.int64)
        self.done = np.zeros(self.B, bool)
        self.pos = np.zeros((self.B, 2), np.int64)  # no board: figures that draw positions see one cell
        self.rng = np.random.default_rng([t.seed for t in self.tasks] or [0])

    @property
    def obs_shape(self) -> tuple[int, ...]:
        return (1,)

    def observe(self) -> np.ndarray:
        return np.zeros((self.B, 1), np.float32)

    def reset(self, mask: np.ndarray | None = None) -> np.ndarray:
        m = np.ones(self.B, bool) if mask is None else np.asarray(mask, bool)
        self.t[m] = 0
        self.done[m] = False
        return self.observe()

    def step(self, actions: np.ndarray, noise: np.ndarray | None = None
             ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Pull one arm per slot; reward 1 where ``noise`` (B uniforms) < the arm's probability."""
        a = np.asarray(actions, np.int64)
        u = self.rng.random(self.B) if noise is None else np.asarray(noise)
        alive = ~self.done
        reward = (alive & (u < self.p[np.arange(self.B), a])).astype(np.float32)
        self.t += alive
        terminated = alive & (self.t >= self.horizon)  # an episode is ``horizon`` pulls: its natural end
        truncated = np.zeros(self.B, bool)
        self.done |= terminated
        return self.observe(), reward, terminated, truncated

    def render(self, i: int = 0, cell_px: int = 16) -> np.ndarray:
        """The arms as grey bars, their height the success probability."""
        img = np.full((cell_px * 4, cell_px * self.cfg.arms, 3), 255, np.uint8)
        for k, pk in enumerate(self.p[i]):
            h = int(round(pk * cell_px * 4))
            img[cell_px * 4 - h:, k * cell_px + 1:(k + 1) * cell_px - 1] = 90
        return img


def thompson_rewards(p: np.ndarray, pulls: int, rng: np.random.Generator) -> np.ndarray:
    """Thompson sampling with Beta(1, 1) priors on bandits p (N, arms): the rewards (N, pulls)."""
    N, K = p.shape
    wins, losses = np.zeros((N, K)), np.zeros((N, K))
    out = np.zeros((N, pulls), np.float32)
    rows = np.arange(N)
    for t in range(pulls):
        a = rng.beta(wins + 1, losses + 1).argmax(1)
        r = rng.random(N) < p[rows, a]
        wins[rows, a] += r
        losses[rows, a] += ~r
        out[:, t] = r
    return out


def random_rewards(p: np.ndarray, pulls: int, rng: np.random.Generator) -> np.ndarray:
    """The uniform random policy's rewards (N, pulls) on bandits p (N, arms)."""
    N, K = p.shape
    a = rng.integers(K, size=(N, pulls))
    return (rng.random((N, pulls)) < np.take_along_axis(p, a, 1)).astype(np.float32)


class BanditEnv(SingleTaskEnv):
    """One bandit as a Gymnasium environment (id ``ilya/Bandit-v0``); keyword arguments are `BanditConfig`
    fields.  Rewards are drawn from the env's ``np_random`` (so ``reset(seed=s)`` is repeatable)."""

    vec_cls = BanditVec

    def __init__(self, task_seed: int | None = None, render_mode: str | None = "rgb_array",
                 **cfg: Any) -> None:
        super().__init__(BanditConfig(**cfg), task_seed, render_mode)
        self.action_space = spaces.Discrete(self.cfg.arms)
        self.observation_space = spaces.Box(0.0, 1.0, (1,), np.float32)

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        obs, info = super().reset(seed=seed, options=options)
        self._vec.rng = self.np_random
        return obs, info
