"""``ilya/BlockStack-v0``: a gripper stacking labelled blocks into towers, in MuJoCo.

Observation (state-based, as in the paper), for a scene of up to ``max_blocks`` blocks::

    [hand x, y, z, gripper opening in [0, 1],  then per block slot i: (block_i - hand) x, y, z, present_i]

Action: ``[dx, dy, dz, grip]`` in [-1, 1]: the hand moves by ``MAX_MOVE`` times the first three, the gripper
closes when ``grip > 0``.  Reward: +1 per stage completed (a block on the block it belongs on); the episode
ends when every stage is done and nothing is held, or after ``horizon`` steps.

Two physics modes:

* ``full``: MuJoCo simulates the hand (position actuators), the fingers and their contacts; a block is
  held only by friction.
* ``hybrid`` (default): the hand is moved kinematically and collides with nothing; closing the gripper
  on a block within reach welds it to the hand; MuJoCo steps only while blocks settle after a release,
  so the scene costs nothing while it is at rest.
"""

from __future__ import annotations

import os
from typing import Any, Literal

# MuJoCo picks its OpenGL backend when it is first imported: offscreen EGL unless the user chose one
# (osmesa works too; GLFW needs a display).
os.environ.setdefault("MUJOCO_GL", "egl")

import gymnasium as gym  # noqa: E402
import mujoco as _mujoco  # noqa: E402
import numpy as np  # noqa: E402
from gymnasium import spaces  # noqa: E402

from ilya.imitation.scene import BLOCK_HALF, FINGER_CLOSED, FINGER_OPEN, HAND_START, scene_xml
from ilya.imitation.tasks import Task, parse_layout

mujoco: Any = _mujoco  # the bindings carry no type stubs pyright can read
Physics = Literal["full", "hybrid"]
MAX_MOVE = 0.03
"""metres the hand moves per step at full action"""
WORKSPACE = np.array([[-0.40, -0.40, 0.02], [0.40, 0.40, 0.60]])
SPAWN = np.array([[-0.22, -0.18], [0.22, 0.18]])
MIN_GAP = 0.09
PLACE_XY_TOL = 0.02
PLACE_Z_TOL = 0.012
GRASP_TOL = np.array([0.022, 0.022, 0.022])
SUBSTEPS = {"full": 10, "hybrid": 4}
SETTLE_STEPS = 12


def obs_dim(max_blocks: int) -> int:
    return 4 + 4 * max_blocks


def default_horizon(n_stages: int) -> int:
    """Steps an episode of ``n_stages`` stages gets unless ``horizon`` is given: 60 + 70 per stage."""
    return 60 + 70 * n_stages


class BlockStackEnv(gym.Env[np.ndarray, np.ndarray]):
    """A block-stacking task: ``layout`` (e.g. ``'ab cde'``) built by a gripper in MuJoCo."""

    metadata = {"render_modes": ["rgb_array"], "render_fps": 25}

    def __init__(self, layout: str = "ab", n_blocks: int | None = None, max_blocks: int = 6,
                 physics: Physics = "hybrid", horizon: int | None = None, render_mode: str | None = None,
                 width: int = 320, height: int = 240) -> None:
        self.task: Task = parse_layout(layout, n_blocks)
        if self.task.n_blocks > max_blocks:
            raise ValueError(f"{self.task.n_blocks} blocks > max_blocks {max_blocks}")
        if physics not in ("full", "hybrid"):
            raise ValueError(f"physics {physics!r}: expected full or hybrid")
        self.physics: Physics = physics
        self.max_blocks = max_blocks
        self.horizon_arg = horizon
        self.render_mode = render_mode
        self.width, self.height = width, height
        self.observation_space = spaces.Box(-2.0, 2.0, (obs_dim(max_blocks),), np.float64)
        self.action_space = spaces.Box(-1.0, 1.0, (4,), np.float32)
        self._renderer: Any = None
        self._build(self.task.n_blocks)

    # ------------------------------------------------------------------ scene
    def _build(self, n: int) -> None:
        self.n = n
        self.model = mujoco.MjModel.from_xml_string(scene_xml(n, self.physics))
        self.data = mujoco.MjData(self.model)
        self._bq = np.array([self.model.jnt_qposadr[self.model.joint(f"block_{c}").id] for c in "abcdefghij"[:n]])
        self._bv = np.array([self.model.jnt_dofadr[self.model.joint(f"block_{c}").id] for c in "abcdefghij"[:n]])
        self._hq = np.array([self.model.jnt_qposadr[self.model.joint(j).id] for j in ("hand_x", "hand_y", "hand_z")])
        self._hv = np.array([self.model.jnt_dofadr[self.model.joint(j).id]
                             for j in ("hand_x", "hand_y", "hand_z", "finger_l", "finger_r")])
        self._fq = np.array([self.model.jnt_qposadr[self.model.joint(j).id] for j in ("finger_l", "finger_r")])
        self._finger_geoms = (self.model.geom("finger_l").id, self.model.geom("finger_r").id)
        self._block_of_geom = {int(self.model.body(f"block_{c}").geomadr[0]): i for i, c in enumerate("abcdefghij"[:n])}
        if self._renderer is not None:
            self._renderer.close()
            self._renderer = None

    def set_task(self, layout: str | Task) -> None:
        """Change the task (rebuilds the scene when the number of blocks changes); call `reset` after."""
        task = layout if isinstance(layout, Task) else parse_layout(layout, None)
        if task.n_blocks > self.max_blocks:
            raise ValueError(f"{task.n_blocks} blocks > max_blocks {self.max_blocks}")
        self.task = task
        if task.n_blocks != self.n:
            self._build(task.n_blocks)

    @property
    def horizon(self) -> int:
        return self.horizon_arg or default_horizon(self.task.n_stages)

    # ------------------------------------------------------------------ state
    @property
    def hand(self) -> np.ndarray:
        return np.asarray(HAND_START) + self.data.qpos[self._hq]

    def block_pos(self) -> np.ndarray:
        """(n, 3) block centres."""
        idx = self._bq[:, None] + np.arange(3)[None, :]
        return self.data.qpos[idx].copy()

    def opening(self) -> float:
        if self.physics == "hybrid":
            return 0.0 if self.closed else 1.0
        return float(np.clip(self.data.qpos[self._fq].mean() / FINGER_OPEN, 0.0, 1.0))

    def held(self) -> int | None:
        """The block the gripper holds (None when empty)."""
        if self.physics == "hybrid":
            return self._held
        if not self.closed:
            return None
        left: set[int] = set()
        right: set[int] = set()
        for c in self.data.contact[: self.data.ncon]:
            for a, b in ((c.geom1, c.geom2), (c.geom2, c.geom1)):
                blk = self._block_of_geom.get(int(b))
                if blk is None:
                    continue
                if a == self._finger_geoms[0]:
                    left.add(blk)
                elif a == self._finger_geoms[1]:
                    right.add(blk)
        both = left & right
        return min(both) if both else None

    def on_top(self, upper: int, lower: int, pos: np.ndarray | None = None) -> bool:
        p = self.block_pos() if pos is None else pos
        d = p[upper] - p[lower]
        return bool(np.hypot(d[0], d[1]) < PLACE_XY_TOL and abs(d[2] - 2 * BLOCK_HALF) < PLACE_Z_TOL)

    def stages_done(self) -> int:
        """Completed stages, counted in order (a stage counts only when the ones before it hold)."""
        pos, held = self.block_pos(), self.held()
        k = 0
        for upper, lower in self.task.stages:
            if upper == held or lower == held or not self.on_top(upper, lower, pos):
                break
            k += 1
        return k

    def observation(self) -> np.ndarray:
        hand = self.hand
        out = np.zeros(obs_dim(self.max_blocks))
        out[:3] = hand
        out[3] = self.opening()
        rel = self.block_pos() - hand
        blocks = out[4:].reshape(self.max_blocks, 4)
        blocks[: self.n, :3] = rel
        blocks[: self.n, 3] = 1.0
        return out

    # ------------------------------------------------------------------ gym API
    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[np.ndarray, dict]:
        super().reset(seed=seed)
        if options and "layout" in options:
            self.set_task(options["layout"])
        mujoco.mj_resetData(self.model, self.data)
        rng = self.np_random
        xy: list[np.ndarray] = []
        while len(xy) < self.n:
            p = rng.uniform(SPAWN[0], SPAWN[1])
            if all(np.linalg.norm(p - q) >= MIN_GAP for q in xy):
                xy.append(p)
        for i, p in enumerate(xy):
            a = self._bq[i]
            self.data.qpos[a:a + 3] = [p[0], p[1], BLOCK_HALF]
            self.data.qpos[a + 3:a + 7] = [1.0, 0.0, 0.0, 0.0]
        self.data.qpos[self._fq] = FINGER_OPEN
        self.data.ctrl[:] = 0.0
        self.data.ctrl[3:5] = FINGER_OPEN
        mujoco.mj_forward(self.model, self.data)
        self.closed = False
        self._held: int | None = None
        self._offset = np.zeros(3)
        self._settle = 0
        self._target = self.hand.copy()
        self.t = 0
        self._done_stages = 0
        return self.observation(), self._info()

    def _info(self) -> dict[str, Any]:
        return {"stages_done": self._done_stages, "n_stages": self.task.n_stages,
                "success": self._done_stages == self.task.n_stages and self.held() is None}

    def step(self, action: np.ndarray) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        a = np.clip(np.asarray(action, dtype=np.float64).reshape(4), -1.0, 1.0)
        close = bool(a[3] > 0.0)
        if self.physics == "hybrid":
            self._step_hybrid(a[:3] * MAX_MOVE, close)
        else:
            self._step_full(a[:3] * MAX_MOVE, close)
        self.t += 1
        done = self.stages_done()
        reward = float(done - self._done_stages)
        self._done_stages = done
        info = self._info()
        terminated = bool(info["success"])
        truncated = self.t >= self.horizon and not terminated
        return self.observation(), reward, terminated, truncated, info

    def _step_hybrid(self, delta: np.ndarray, close: bool) -> None:
        new = np.clip(self.hand + delta, WORKSPACE[0], WORKSPACE[1])
        self.data.qpos[self._hq] = new - np.asarray(HAND_START)
        if close and not self.closed:
            rel = np.abs(self.block_pos() - new)
            near = np.flatnonzero(np.all(rel < GRASP_TOL, axis=1))
            if len(near):
                self._held = int(near[np.argmin(rel[near].sum(1))])
                self._offset = self.block_pos()[self._held] - new
        elif not close and self._held is not None:
            self._held = None
            self._settle = SETTLE_STEPS
        self.closed = close
        self.data.qpos[self._fq] = FINGER_OPEN if not close else BLOCK_HALF + 0.006
        if self._held is not None:
            self._carry(new)
        if self._settle > 0:
            for _ in range(SUBSTEPS["hybrid"]):
                if self._held is not None:
                    self._carry(new)
                mujoco.mj_step(self.model, self.data)
            self.data.qpos[self._hq] = new - np.asarray(HAND_START)
            self.data.qpos[self._fq] = FINGER_OPEN if not close else BLOCK_HALF + 0.006
            self.data.qvel[self._hv] = 0.0
            self._settle -= 1
            v = np.abs(self.data.qvel).max() if self.data.qvel.size else 0.0
            if self._settle == 0 and v > 0.02:
                self._settle = 1  # keep stepping until the blocks come to rest
            if self._settle == 0:
                self.data.qvel[:] = 0.0

    def _carry(self, hand: np.ndarray) -> None:
        a = self._bq[self._held]
        self.data.qpos[a:a + 3] = hand + self._offset
        self.data.qpos[a + 3:a + 7] = [1.0, 0.0, 0.0, 0.0]
        v = self._bv[self._held]
        self.data.qvel[v:v + 6] = 0.0

    def _step_full(self, delta: np.ndarray, close: bool) -> None:
        self._target = np.clip(self.hand + delta, WORKSPACE[0], WORKSPACE[1])
        self.closed = close
        self.data.ctrl[0:3] = self._target - np.asarray(HAND_START)
        self.data.ctrl[3:5] = FINGER_CLOSED if close else FINGER_OPEN
        for _ in range(SUBSTEPS["full"]):
            mujoco.mj_step(self.model, self.data)

    # ------------------------------------------------------------------ rendering
    def render(self) -> np.ndarray | None:  # type: ignore[override]
        if self.render_mode != "rgb_array":
            return None
        if self._renderer is None:
            self._renderer = mujoco.Renderer(self.model, self.height, self.width)
        mujoco.mj_forward(self.model, self.data)
        self._renderer.update_scene(self.data, camera="front")
        return self._renderer.render().copy()

    def close(self) -> None:
        if self._renderer is not None:
            self._renderer.close()
            self._renderer = None
