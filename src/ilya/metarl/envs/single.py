"""One task of a vectorised environment, seen through the Gymnasium API.

Krazy World and the mazes are written once, vectorised over tasks; their Gymnasium environments are
this thin wrapper over a batch of one task, so both APIs share one set of rules.
"""

from __future__ import annotations

from typing import Any, ClassVar

import gymnasium as gym
import numpy as np


class SingleTaskEnv(gym.Env):
    """Base of `KrazyWorldEnv` and `MazeEnv`: subclasses set ``vec_cls`` and their spaces."""

    metadata = {"render_modes": ["rgb_array"], "render_fps": 8}
    vec_cls: ClassVar[type]

    def __init__(self, cfg: Any, task_seed: int | None, render_mode: str | None) -> None:
        self.cfg = cfg
        self.task_seed = task_seed
        self.render_mode = render_mode
        self._vec: Any = None

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        super().reset(seed=seed)
        task = (options or {}).get("task_seed", self.task_seed)
        if task is None:
            task = int(self.np_random.integers(2**31 - 1))
        if self._vec is None or self._vec.tasks[0].seed != task:
            self._vec = self.vec_cls([int(task)], self.cfg)
        return self._vec.reset()[0], {"task_seed": int(task)}

    def step(self, action):
        if self._vec is None:
            raise RuntimeError("call reset() before step()")
        obs, rew, term, trunc = self._vec.step(np.array([int(action)]))
        return obs[0], float(rew[0]), bool(term[0]), bool(trunc[0]), {}

    def render(self):
        return None if self._vec is None else self._vec.render(0)
