"""Meta-RL task distributions: Krazy World and random mazes, vectorised and as Gymnasium envs.

The Gymnasium ids ``ilya/KrazyWorld-v0`` and ``ilya/Maze-v0`` are registered by the library's one table,
`ilya.envs` (on ``import ilya`` and through Gymnasium's entry point), not here.
"""

from __future__ import annotations

from collections.abc import Sequence

from ilya.metarl.config import EnvName
from ilya.metarl.envs.krazy import KrazyConfig, KrazyTask, KrazyWorldEnv, KrazyWorldVec, make_task
from ilya.metarl.envs.maze import MazeConfig, MazeEnv, MazeTask, MazeVec, carve_maze, make_maze_task

# env name -> (config class, vectorised env class); the one place that knows the environments
ENVS: dict[str, tuple[type, type]] = {
    "krazy": (KrazyConfig, KrazyWorldVec),
    "maze": (MazeConfig, MazeVec),
}
GYM_IDS = {"krazy": "ilya/KrazyWorld-v0", "maze": "ilya/Maze-v0"}



def make_vec(env: EnvName, task_seeds: Sequence[int],
             cfg: KrazyConfig | MazeConfig | None = None) -> KrazyWorldVec | MazeVec:
    """A vectorised env with one slot per task seed (seeds may repeat: several rollouts per task)."""
    if env == "krazy":
        return KrazyWorldVec(list(task_seeds), cfg if isinstance(cfg, KrazyConfig) else KrazyConfig())
    return MazeVec(list(task_seeds), cfg if isinstance(cfg, MazeConfig) else MazeConfig())


__all__ = ["ENVS", "GYM_IDS", "KrazyConfig", "KrazyTask", "KrazyWorldEnv", "KrazyWorldVec", "MazeConfig",
           "MazeEnv", "MazeTask", "MazeVec", "carve_maze", "make_maze_task", "make_task", "make_vec"]
