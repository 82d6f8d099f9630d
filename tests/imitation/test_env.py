"""The environment's contract, its stages and the scripted expert."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import ilya  # noqa: F401  (registers the ids)
from ilya.imitation.env import BlockStackEnv, obs_dim
from ilya.imitation.expert import expert_action, run_expert


@pytest.mark.parametrize("physics", ["hybrid", "full"])
def test_check_env(physics: str) -> None:
    env = BlockStackEnv("ab cd", max_blocks=5, physics=physics)  # type: ignore[arg-type]
    check_env(env, skip_render_check=True)
    assert env.observation_space.shape == (obs_dim(5),) == (24,)


def test_registered_id() -> None:
    env = gym.make("ilya/BlockStack-v0", layout="abc")
    obs, info = env.reset(seed=1)
    assert obs.shape == (4 + 4 * 6,)
    assert info == {"stages_done": 0, "n_stages": 2, "success": False}


def test_observation_is_relative_to_the_gripper() -> None:
    env = BlockStackEnv("ab", n_blocks=3, max_blocks=4)
    obs, _ = env.reset(seed=0)
    blocks = obs[4:].reshape(4, 4)
    np.testing.assert_allclose(obs[:3] + blocks[:3, :3], env.block_pos(), atol=1e-12)
    np.testing.assert_array_equal(blocks[:, 3], [1, 1, 1, 0])   # present flags: 3 of 4 slots
    np.testing.assert_array_equal(blocks[3, :3], 0.0)


@pytest.mark.parametrize("physics,layouts", [("hybrid", ["ab", "cab", "ab cd", "dcbae"]), ("full", ["ba", "abc"])])
def test_expert_succeeds(physics: str, layouts: list[str]) -> None:
    for layout in layouts:
        env = BlockStackEnv(layout, n_blocks=5, max_blocks=5, physics=physics)  # type: ignore[arg-type]
        for seed in range(3 if physics == "hybrid" else 1):
            ok, stages, obs, act = run_expert(env, seed=seed)
            assert ok and stages == env.task.n_stages, (physics, layout, seed)
            assert len(obs) == len(act) + 1 < env.horizon


def test_expert_from_any_state_recovers() -> None:
    """DAgger asks the expert from states it never visited: after random actions it still finishes."""
    env = BlockStackEnv("abc", n_blocks=4, max_blocks=4)
    env.reset(seed=3)
    rng = np.random.default_rng(0)
    for _ in range(25):
        env.step(rng.uniform(-1, 1, 4))
    done, info = False, {}
    for _ in range(env.horizon):
        _, _, term, _, info = env.step(expert_action(env))
        if term:
            done = True
            break
    assert done and info["success"]


def test_random_policy_rarely_succeeds() -> None:
    env = BlockStackEnv("ab", n_blocks=4, max_blocks=4)
    rng = np.random.default_rng(0)
    wins = 0
    for s in range(5):
        env.reset(seed=s)
        for _ in range(env.horizon):
            _, _, term, trunc, info = env.step(rng.uniform(-1, 1, 4))
            if term or trunc:
                break
        wins += int(info["success"])
    assert wins == 0


def test_renders_offscreen_whatever_imported_mujoco_first() -> None:
    """The demo trains (importing MuJoCo) before it records videos: MuJoCo must have been imported with an
    offscreen backend (EGL), so that rendering needs no display."""
    import os
    import subprocess
    import sys

    code = ("import os, ilya.imitation.train\n"
            "print(os.environ.get('MUJOCO_GL'), flush=True)\n"
            "from ilya.imitation.env import BlockStackEnv\n"
            "env = BlockStackEnv('ab', n_blocks=2, max_blocks=2, render_mode='rgb_array', width=64, height=48)\n"
            "env.reset(seed=0)\n"
            "frame = env.render()\n"
            "print(frame.shape, int(frame.max()))\n")
    env = {k: v for k, v in os.environ.items() if k not in ("MUJOCO_GL", "PYOPENGL_PLATFORM", "DISPLAY")}
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    lines = r.stdout.splitlines()
    assert lines and lines[0] == "egl", r.stderr[-2000:]  # the backend MuJoCo was imported with
    if r.returncode != 0 and "egl" in r.stderr.lower():  # as test_cli's video test: no EGL driver here
        pytest.skip(f"no offscreen OpenGL here: {r.stderr.strip().splitlines()[-1]}")
    assert r.returncode == 0, r.stderr[-2000:]
    shape, top = lines[1].split(") ")
    assert shape == "(48, 64, 3" and int(top) > 0  # a real picture, not a blank buffer
