"""Every Gymnasium environment of the library, registered by id (the one table of them).

Registration is cheap (entry points are strings; nothing is imported until ``gymnasium.make``) and
happens two ways: ``import ilya`` when Gymnasium is already imported, and Gymnasium's own plugin hook (the ``gymnasium.envs`` entry point in pyproject.toml), so
``gymnasium.make("ilya/KrazyWorld-v0")`` works with no import of ilya at all.  Multi-agent games
(PettingZoo) are listed in `PARALLEL_ENVS` for the contract tests.
"""

from __future__ import annotations

# Gymnasium id -> "module:class"
GYM_ENVS: dict[str, str] = {
    "ilya/KrazyWorld-v0": "ilya.metarl.envs.krazy:KrazyWorldEnv",
    "ilya/Maze-v0": "ilya.metarl.envs.maze:MazeEnv",
}

# PettingZoo ParallelEnv name -> "module:factory" (checked by PettingZoo's parallel_api_test)
PARALLEL_ENVS: dict[str, str] = {}


def register_envs() -> None:
    """Register every id of `GYM_ENVS` with Gymnasium (idempotent)."""
    import gymnasium as gym

    for env_id, entry in GYM_ENVS.items():
        if env_id not in gym.registry:
            gym.register(id=env_id, entry_point=entry)

