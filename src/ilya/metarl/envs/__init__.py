"""Meta-RL task distributions: Krazy World, random mazes and (a sanity check) Bernoulli bandits, vectorised
and as Gymnasium envs.

The Gymnasium ids ``ilya/KrazyWorld-v0``, ``ilya/Maze-v0`` and ``ilya/Bandit-v0`` are registered by the library's one table,
`ilya.envs` (on ``import ilya`` and through Gymnasium's entry point), not here.
"""

from __future__ import annotations

from collections.abc import Sequence

from ilya.metarl.config import EnvName
from ilya.metarl.envs.bandit import (
    BanditConfig,
    BanditEnv,
    BanditTask,
    BanditVec,
    make_bandit_task,
    random_rewards,
    thompson_rewards,
)
from ilya.metarl.envs.krazy import KrazyConfig, KrazyTask, KrazyWorldEnv, KrazyWorldVec, make_task
from ilya.metarl.envs.maze import MazeConfig, MazeEnv, MazeTask, MazeVec, carve_maze, make_maze_task

# env name -> (config class, vectorised env class); the one place that knows the environments
ENVS: dict[str, tuple[type, type]] = {
    "krazy": (KrazyConfig, KrazyWorldVec),
    "maze": (MazeConfig, MazeVec),
    "bandit": (BanditConfig, BanditVec),
}
GYM_IDS = {"krazy": "ilya/KrazyWorld-v0", "maze": "ilya/Maze-v0", "bandit": "ilya/Bandit-v0"}
EnvConfig = KrazyConfig | MazeConfig | BanditConfig
VecEnv = KrazyWorldVec | MazeVec | BanditVec


def make_vec(env: EnvName, task_seeds: Sequence[int], cfg: EnvConfig | None = None) -> VecEnv:
    """A vectorised env with one slot per task seed (seeds may repeat: several rollouts per task)."""
    if env == "krazy":
        return KrazyWorldVec(list(task_seeds), cfg if isinstance(cfg, KrazyConfig) else KrazyConfig())
    if env == "bandit":
        return BanditVec(list(task_seeds), cfg if isinstance(cfg, BanditConfig) else BanditConfig())
    return MazeVec(list(task_seeds), cfg if isinstance(cfg, MazeConfig) else MazeConfig())


__all__ = ["BanditConfig", "BanditEnv", "BanditTask", "BanditVec", "EnvConfig", "VecEnv", "make_bandit_task",
           "random_rewards", "thompson_rewards", "ENVS", "GYM_IDS", "KrazyConfig", "KrazyTask", "KrazyWorldEnv", "KrazyWorldVec", "MazeConfig",
           "MazeEnv", "MazeTask", "MazeVec", "carve_maze", "make_maze_task", "make_task", "make_vec"]
