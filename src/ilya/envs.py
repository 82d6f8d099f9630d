"""Every Gymnasium environment of the library, registered by id (the one table of them).

Registration is cheap (entry points are strings; nothing is imported until ``gymnasium.make``).
``import ilya`` registers every id: at once when Gymnasium is already loaded, otherwise the moment
Gymnasium is imported (a one-shot import hook, so ``ilya --help`` never pays for Gymnasium).  The
``gymnasium.envs`` entry point in pyproject.toml serves Gymnasium versions that load plugins.  Multi-agent games
(PettingZoo) are listed in `PARALLEL_ENVS` for the contract tests.
"""

from __future__ import annotations

from collections.abc import Sequence
from importlib.machinery import ModuleSpec
from types import ModuleType

# Gymnasium id -> "module:class"
GYM_ENVS: dict[str, str] = {
    "ilya/KrazyWorld-v0": "ilya.metarl.envs.krazy:KrazyWorldEnv",
    "ilya/Maze-v0": "ilya.metarl.envs.maze:MazeEnv",
    "ilya/Bandit-v0": "ilya.metarl.envs.bandit:BanditEnv",
    "ilya/Coq-v0": "ilya.gamepad.env:CoqEnv",
    "ilya/BlockStack-v0": "ilya.imitation.env:BlockStackEnv",
}

# PettingZoo ParallelEnv name -> "module:factory" (checked by PettingZoo's parallel_api_test)
PARALLEL_ENVS: dict[str, str] = {
    "ilya_five_lane_v0": "ilya.five.pettingzoo_env:make_env",
}


def register_envs() -> None:
    """Register every id of `GYM_ENVS` with Gymnasium (idempotent)."""
    import gymnasium as gym

    for env_id, entry in GYM_ENVS.items():
        if env_id not in gym.registry:
            gym.register(id=env_id, entry_point=entry)



class _RegisterOnImport:
    """A meta-path finder that registers the environments right after ``gymnasium`` is imported."""

    def find_spec(self, name: str, path: Sequence[str] | None = None,
                  target: ModuleType | None = None) -> ModuleSpec | None:
        if name != "gymnasium":
            return None
        import importlib.util
        import sys

        sys.meta_path.remove(self)
        spec = importlib.util.find_spec(name)
        if spec is None or spec.loader is None:
            return None
        loader = spec.loader
        original = loader.exec_module  # type: ignore[attr-defined]

        def exec_module(module: ModuleType) -> None:
            original(module)
            register_envs()

        loader.exec_module = exec_module  # type: ignore[attr-defined]
        return spec


def register_on_import() -> None:
    """Register now if Gymnasium is loaded, else as soon as it is (called by ``import ilya``)."""
    import sys

    if "gymnasium" in sys.modules:
        register_envs()
    elif not any(isinstance(f, _RegisterOnImport) for f in sys.meta_path):
        sys.meta_path.insert(0, _RegisterOnImport())
