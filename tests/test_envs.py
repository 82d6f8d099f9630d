"""Every environment of the library registers on import and keeps its API's contract.

The ids come from the one table, `ilya.envs`, so a new environment is checked the moment it is listed.
"""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest

from ilya.envs import GYM_ENVS, PARALLEL_ENVS

gym = pytest.importorskip("gymnasium")


@pytest.mark.parametrize("order", ["gymnasium, ilya", "ilya, gymnasium"])
def test_import_ilya_registers_every_id(order: str) -> None:
    """Whether Gymnasium is imported before ilya or after it; ``import ilya`` itself stays light."""
    code = f"import {order}; print(sorted(i for i in gymnasium.registry if i.startswith('ilya/')))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip() == str(sorted(GYM_ENVS))
    light = subprocess.run([sys.executable, "-c", "import sys, ilya; print('gymnasium' in sys.modules)"],
                           capture_output=True, text=True, timeout=120, check=True)
    assert light.stdout.strip() == "False"


def test_gymnasium_make_of_an_ilya_id() -> None:
    env_id = next(iter(GYM_ENVS))
    code = (f"import ilya, gymnasium; env = gymnasium.make({env_id!r}); "
            "print(type(env.unwrapped).__module__.split('.')[0])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip() == "ilya"


def test_the_table_names_importable_classes() -> None:
    for env_id, entry in {**GYM_ENVS, **PARALLEL_ENVS}.items():
        module, _, name = entry.partition(":")
        assert callable(getattr(importlib.import_module(module), name)), env_id


@pytest.mark.parametrize("env_id", sorted(GYM_ENVS))
def test_check_env(env_id: str) -> None:
    from gymnasium.utils.env_checker import check_env

    import ilya  # noqa: F401  (registers)

    env = gym.make(env_id)
    try:
        check_env(env.unwrapped, skip_render_check=True)
        obs, info = env.reset(seed=0)
        assert env.observation_space.contains(obs)
        obs2, _ = env.reset(seed=0)
        assert str(obs2) == str(obs), "reset(seed) is not reproducible"
    finally:
        env.close()


@pytest.mark.parametrize("name", sorted(PARALLEL_ENVS))
def test_pettingzoo_parallel_api(name: str) -> None:
    from pettingzoo.test import parallel_api_test

    module, _, factory = PARALLEL_ENVS[name].partition(":")
    env = getattr(importlib.import_module(module), factory)()
    try:
        parallel_api_test(env, num_cycles=200)
    finally:
        env.close()
