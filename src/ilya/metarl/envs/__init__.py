"""Meta-RL task distributions: Krazy World and random mazes, vectorised and as Gymnasium envs.

Importing this package registers ``ilya/KrazyWorld-v0`` and ``ilya/Maze-v0`` with Gymnasium.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import gymnasium as gym

from ilya.metarl.envs.krazy import KrazyConfig, KrazyTask, KrazyWorldEnv, KrazyWorldVec, make_task
from ilya.metarl.envs.maze import MazeConfig, MazeEnv, MazeTask, MazeVec, carve_maze, make_maze_task

# env name -> (config class, vectorised env class); the one place that knows the environments
ENVS: dict[str, tuple[type, type]] = {
    "krazy": (KrazyConfig, KrazyWorldVec),
    "maze": (MazeConfig, MazeVec),
}
GYM_IDS = {"krazy": "ilya/KrazyWorld-v0", "maze": "ilya/Maze-v0"}

for _id, _entry in (("ilya/KrazyWorld-v0", "ilya.metarl.envs.krazy:KrazyWorldEnv"),
                    ("ilya/Maze-v0", "ilya.metarl.envs.maze:MazeEnv")):
    if _id not in gym.registry:
        gym.register(id=_id, entry_point=_entry)


def make_vec(env: str, task_seeds: Sequence[int], cfg: Any = None) -> KrazyWorldVec | MazeVec:
    """A vectorised env with one slot per task seed (seeds may repeat: several rollouts per task)."""
    cfg_cls, vec_cls = ENVS[env]
    return vec_cls(list(task_seeds), cfg if cfg is not None else cfg_cls())


__all__ = ["ENVS", "GYM_IDS", "KrazyConfig", "KrazyTask", "KrazyWorldEnv", "KrazyWorldVec", "MazeConfig",
           "MazeEnv", "MazeTask", "MazeVec", "carve_maze", "make_maze_task", "make_task", "make_vec"]
