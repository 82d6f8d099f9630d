"""Mazes: perfect (a spanning tree of passages), deterministic per seed, goal and bump rewards."""

from collections import deque

import gymnasium as gym
import numpy as np
from gymnasium.utils.env_checker import check_env

from ilya.metarl.envs import MazeConfig, MazeVec, carve_maze, make_maze_task


def _reachable_cells(grid: np.ndarray, n: int) -> int:
    seen = {(1, 1)}
    q = deque([(1, 1)])
    while q:
        r, c = q.popleft()
        for dr, dc in ((0, 1), (1, 0), (0, -1), (-1, 0)):
            if not grid[r + dr, c + dc] and (r + 2 * dr, c + 2 * dc) not in seen:
                seen.add((r + 2 * dr, c + 2 * dc))
                q.append((r + 2 * dr, c + 2 * dc))
    return len(seen)


def test_mazes_are_perfect():
    for n in (2, 5, 20):
        grid = carve_maze(n, np.random.default_rng(n))
        assert grid.shape == (2 * n + 1, 2 * n + 1)
        assert grid[0].all() and grid[-1].all() and grid[:, 0].all() and grid[:, -1].all()
        cells = ~grid[1::2, 1::2]
        assert cells.all()
        passages = int((~grid[1:-1:2, 2:-1:2]).sum() + (~grid[2:-1:2, 1:-1:2]).sum())
        assert passages == n * n - 1  # a tree on n² cells ...
        assert _reachable_cells(grid, n) == n * n  # ... that spans them all


def test_default_is_paper_size_and_deterministic():
    assert MazeConfig().size == 20
    a, b, c = make_maze_task(3), make_maze_task(3), make_maze_task(4)
    assert np.array_equal(a.grid, b.grid) and np.array_equal(a.goal, b.goal)
    assert not np.array_equal(a.grid, c.grid)


def test_goal_and_bump_rewards():
    cfg = MazeConfig(size=4, horizon=100, bump_penalty=0.05)
    env = MazeVec([0], cfg)
    env.reset()
    task = env.tasks[0]
    # walk the unique path from start to goal (BFS in the grid), bumping into a wall first
    grid = task.grid
    start, goal = tuple(task.start), tuple(task.goal)
    dirs = [(-1, 0), (0, 1), (1, 0), (0, -1)]
    wall_dir = next(i for i, (dr, dc) in enumerate(dirs) if grid[start[0] + dr, start[1] + dc])
    _, r, _, _ = env.step(np.array([wall_dir]))
    assert r[0] == -0.05 and tuple(env.pos[0]) == start
    prev = {start: None}
    q = deque([start])
    while q:
        p = q.popleft()
        for i, (dr, dc) in enumerate(dirs):
            nxt = (p[0] + 2 * dr, p[1] + 2 * dc)
            if not grid[p[0] + dr, p[1] + dc] and nxt not in prev:
                prev[nxt] = (p, i)
                q.append(nxt)
    path, p = [], goal
    while prev[p] is not None:
        p, i = prev[p]
        path.append(i)
    total, term = 0.0, False
    for a in reversed(path):
        _, r, t, _ = env.step(np.array([a]))
        total += float(r[0])
        term = bool(t[0])
    assert term and total == 1.0


def test_maze_gymnasium_contract():
    env = gym.make("ilya/Maze-v0", size=6)
    check_env(env.unwrapped, skip_render_check=False)
    obs, _ = env.reset(seed=1)
    assert obs.shape == (9 + 12,) and env.render().shape[2] == 3
