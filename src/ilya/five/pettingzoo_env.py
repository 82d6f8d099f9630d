"""One lane game as a PettingZoo ``ParallelEnv`` (ten agents: radiant_0..4 and dire_0..4).

Observations are each hero's feature vector (`ilya.five.envs.LaneGame.observe`); actions are
``MultiDiscrete([5, 8, K])`` (kind, direction, target slot); the legal actions are in
``infos[agent]["action_mask"]`` (the three masks concatenated).  Rewards are the shaped per-hero rewards
made zero-sum with full team spirit (`ilya.five.rewards.final_rewards` with τ = 1).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from gymnasium import spaces
from pettingzoo import ParallelEnv

from ilya.five.config import GameConfig
from ilya.five.envs import HEAD_SIZES, N_HEROES, TEAM, LaneGame, obs_dim
from ilya.five.render import frame
from ilya.five.rewards import final_rewards

AGENTS = [f"radiant_{i}" for i in range(TEAM)] + [f"dire_{i}" for i in range(TEAM)]


class LaneParallelEnv(ParallelEnv):
    metadata = {"name": "ilya_five_lane_v0", "render_modes": ["rgb_array"], "is_parallelizable": True}

    def __init__(self, cfg: GameConfig | None = None, render_mode: str | None = None) -> None:
        self.cfg = cfg or GameConfig()
        self.render_mode = render_mode
        self.possible_agents = list(AGENTS)
        self.agents: list[str] = []
        self._obs_space = spaces.Box(-np.inf, np.inf, (obs_dim(self.cfg),), np.float32)
        self._act_space = spaces.MultiDiscrete(list(HEAD_SIZES))
        self.game = LaneGame(1, self.cfg, autoreset=False)

    def observation_space(self, agent: str) -> spaces.Space[Any]:
        return self._obs_space

    def action_space(self, agent: str) -> spaces.Space[Any]:
        return self._act_space

    def _infos(self) -> dict[str, dict[str, Any]]:
        k, d, t = self.game.action_masks()
        mask = np.concatenate([k[0], d[0], t[0]], -1).astype(np.int8)
        return {a: {"action_mask": mask[i]} for i, a in enumerate(self.possible_agents)}

    def reset(self, seed: int | None = None, options: dict[str, Any] | None = None
              ) -> tuple[dict[str, np.ndarray], dict[str, dict[str, Any]]]:
        self.game = LaneGame(1, self.cfg, seed=0 if seed is None else seed, autoreset=False)
        obs = self.game.reset()[0]
        self.agents = list(self.possible_agents)
        return {a: obs[i] for i, a in enumerate(self.agents)}, self._infos()

    def step(self, actions: dict[str, Any]) -> tuple[dict[str, np.ndarray], dict[str, float], dict[str, bool],
                                                     dict[str, bool], dict[str, dict[str, Any]]]:
        a = np.zeros((N_HEROES, 3), np.int64)
        for i, name in enumerate(self.possible_agents):
            if name in actions:
                a[i] = np.asarray(actions[name], np.int64).reshape(3)
        obs, r, done, info = self.game.step(a[None, :, 0], a[None, :, 1], a[None, :, 2])
        rew = final_rewards(r, 1.0)[0]
        over = bool(done[0])
        timeout = bool(info["timeout"][0])
        agents = self.agents
        out = ({n: obs[0, i] for i, n in enumerate(agents)}, {n: float(rew[i]) for i, n in enumerate(agents)},
               {n: over and not timeout for n in agents}, {n: timeout for n in agents},
               {n: v for n, v in self._infos().items() if n in agents})
        if over:
            for n in agents:
                out[4][n]["winner"] = int(info["winner"][0])
            self.agents = []
        return out

    def render(self) -> np.ndarray:
        return frame(self.game, 0)

    def close(self) -> None:
        pass


def make_env(cfg: GameConfig | None = None) -> LaneParallelEnv:
    """The factory listed in `ilya.envs.PARALLEL_ENVS`."""
    return LaneParallelEnv(cfg)
