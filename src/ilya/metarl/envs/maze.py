"""Random perfect mazes (Stadie et al. 2018, sec. 4.2, after Duan et al. 2016's RL² maze task).

A task is an n x n maze of cells (default 20 x 20, as in the paper) carved by a randomised depth-first
search, so it is *perfect*: every cell is reachable and there is exactly one path between two cells
(the passages form a spanning tree).  The maze, the start cell and the goal cell are drawn from the
task seed.  The agent sees its state: the 3 x 3 window of walls around it and its row and column
(one-hot); reaching the goal gives +1 and ends the episode, bumping into a wall costs ``bump_penalty``.
The goal is not observed: finding it is the exploration problem, remembering it the exploitation one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from gymnasium import spaces

from ilya.metarl.config import MazeConfig
from ilya.metarl.envs.single import SingleTaskEnv

DIRS = np.array([[-1, 0], [0, 1], [1, 0], [0, -1]], dtype=np.int64)  # up, right, down, left
N_ACTIONS = 4
WALL_RGB = np.array([40, 40, 40], np.uint8)
FLOOR_RGB = np.array([230, 230, 230], np.uint8)
GOAL_RGB = np.array([40, 180, 60], np.uint8)
AGENT_RGB = np.array([20, 20, 240], np.uint8)


@dataclass
class MazeTask:
    seed: int
    grid: np.ndarray   # (G, G) bool, True = wall, G = 2n+1
    start: np.ndarray  # (2,) in grid coordinates (odd)
    goal: np.ndarray   # (2,)


def carve_maze(n: int, rng: np.random.Generator) -> np.ndarray:
    """A perfect n x n maze by randomised depth-first search; (2n+1, 2n+1) bool grid, True = wall."""
    grid = np.ones((2 * n + 1, 2 * n + 1), dtype=bool)
    seen = np.zeros((n, n), dtype=bool)
    r, c = int(rng.integers(n)), int(rng.integers(n))
    seen[r, c] = True
    grid[2 * r + 1, 2 * c + 1] = False
    stack = [(r, c)]
    while stack:
        r, c = stack[-1]
        nbrs = [(r + dr, c + dc) for dr, dc in DIRS
                if 0 <= r + dr < n and 0 <= c + dc < n and not seen[r + dr, c + dc]]
        if not nbrs:
            stack.pop()
            continue
        rr, cc = nbrs[int(rng.integers(len(nbrs)))]
        seen[rr, cc] = True
        grid[2 * rr + 1, 2 * cc + 1] = False
        grid[r + rr + 1, c + cc + 1] = False  # the wall between the two cells
        stack.append((rr, cc))
    return grid


def make_maze_task(seed: int, cfg: MazeConfig = MazeConfig()) -> MazeTask:
    rng = np.random.default_rng([int(seed), 0x4D415A45])  # "MAZE"
    if cfg.size < 2:
        raise ValueError(f"maze size must be at least 2, got {cfg.size}")
    grid = carve_maze(cfg.size, rng)
    cells = rng.choice(cfg.size * cfg.size, size=2, replace=False)
    start, goal = (np.array(divmod(int(x), cfg.size), np.int64) * 2 + 1 for x in cells)
    return MazeTask(int(seed), grid, start, goal)


class MazeVec:
    """B maze tasks stepped together with array operations; no auto-reset (see `KrazyWorldVec`)."""

    n_actions = N_ACTIONS

    def __init__(self, tasks: Sequence[MazeTask | int], cfg: MazeConfig = MazeConfig()) -> None:
        self.cfg = cfg
        self.tasks = [t if isinstance(t, MazeTask) else make_maze_task(t, cfg) for t in tasks]
        self.B = len(self.tasks)
        self.horizon = cfg.horizon
        self.grid = np.stack([t.grid for t in self.tasks])    # (B, G, G)
        self.start = np.stack([t.start for t in self.tasks])  # (B, 2)
        self.goal = np.stack([t.goal for t in self.tasks])    # (B, 2)
        self._ar = np.arange(self.B)
        self.pos = self.start.copy()
        self.t = np.zeros(self.B, np.int64)
        self.done = np.zeros(self.B, bool)

    @property
    def obs_dim(self) -> int:
        return self.cfg.obs_dim

    @property
    def obs_shape(self) -> tuple[int, ...]:
        return (self.cfg.obs_dim,)

    def reset(self, mask: np.ndarray | None = None) -> np.ndarray:
        m = np.ones(self.B, bool) if mask is None else np.asarray(mask, bool)
        self.pos[m] = self.start[m]
        self.t[m] = 0
        self.done[m] = False
        return self.observe()

    def step(self, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        ar, cfg = self._ar, self.cfg
        alive = ~self.done
        d = DIRS[np.asarray(actions, np.int64)]
        wall = self.grid[ar, self.pos[:, 0] + d[:, 0], self.pos[:, 1] + d[:, 1]]  # the wall between cells
        move = alive & ~wall
        self.pos[move] += 2 * d[move]
        reward = np.where(alive & wall, -cfg.bump_penalty, 0.0).astype(np.float32)
        at_goal = alive & (self.pos == self.goal).all(1)
        reward[at_goal] += cfg.goal_reward
        self.t += alive
        terminated = at_goal
        truncated = alive & ~terminated & (self.t >= self.horizon)
        self.done |= terminated | truncated
        return self.observe(), reward, terminated, truncated

    def observe(self) -> np.ndarray:
        B, n, ar = self.B, self.cfg.size, self._ar
        rows = self.pos[:, 0, None] + np.arange(-1, 2)[None]  # (B, 3)
        cols = self.pos[:, 1, None] + np.arange(-1, 2)[None]
        win = self.grid[ar[:, None, None], rows[:, :, None], cols[:, None, :]].reshape(B, 9)
        onehot = np.zeros((B, 2 * n), np.float32)
        onehot[ar, self.pos[:, 0] // 2] = 1.0
        onehot[ar, n + self.pos[:, 1] // 2] = 1.0
        return np.concatenate([win.astype(np.float32), onehot], 1)

    def render(self, i: int = 0, cell_px: int = 6) -> np.ndarray:
        img = np.where(self.grid[i][..., None], WALL_RGB, FLOOR_RGB).astype(np.uint8)
        img[tuple(self.goal[i])] = GOAL_RGB
        img[tuple(self.pos[i])] = AGENT_RGB
        return np.repeat(np.repeat(img, cell_px, 0), cell_px, 1)


class MazeEnv(SingleTaskEnv):
    """One maze as a Gymnasium environment (id ``ilya/Maze-v0``); see `KrazyWorldEnv` for task seeds."""

    vec_cls = MazeVec

    def __init__(self, task_seed: int | None = None, render_mode: str | None = "rgb_array",
                 **cfg: Any) -> None:
        super().__init__(MazeConfig(**cfg), task_seed, render_mode)
        self.action_space = spaces.Discrete(N_ACTIONS)
        self.observation_space = spaces.Box(0.0, 1.0, (self.cfg.obs_dim,), np.float32)
