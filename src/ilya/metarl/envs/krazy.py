"""Krazy World (Stadie et al. 2018, sec. 4.1 / appendix): a gridworld built so that a policy must explore.

Every task is drawn from an integer seed: the board (where the goals, ice, death tiles, walls, locks, the
key, the teleporter pair and the energy tiles lie, and where the agent starts) and, optionally, three
"krazy" permutations that the agent can only find out by acting:

* the colour palette (which colour means which tile type; RGB observations),
* the action mapping (which action moves which way),
* the observation features (which one-hot channel means which tile type; vector observations).

Tile rules (one step = one action; all of them are tested on hand-made boards):

======== =====================================================================================
normal   nothing happens
goal     +1 the first time it is reached (then it becomes normal); reaching every goal ends it
ice      the agent slides on in the same direction until it leaves the ice or is blocked
death    ``death_reward`` and the episode ends
wall     cannot be entered (a bump: the agent stays)
lock     cannot be entered without the key; with the key it opens (becomes normal)
key      picked up (then normal); the agent holds it for the rest of the episode
tele     moves the agent to the other teleporter of the pair
energy   refills the agent's energy; each step costs one unit and at zero the episode ends
======== =====================================================================================

`KrazyWorldVec` steps a batch of B tasks at once with NumPy array operations (no Python loop per cell
or per task; ice sliding loops over slide distance, at most max(H, W) times).  `KrazyWorldEnv` is the
one-task Gymnasium view of it.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from gymnasium import spaces

from ilya.metarl.config import N_TILES, KrazyConfig
from ilya.metarl.envs.single import SingleTaskEnv

NORMAL, GOAL, ICE, DEATH, WALL, LOCK, KEY, TELE, ENERGY = range(9)
# action index -> (d_row, d_col) before the task's permutation: up, right, down, left
DIRS = np.array([[-1, 0], [0, 1], [1, 0], [0, -1]], dtype=np.int64)
N_ACTIONS = 4
# one colour per tile type (the palette a task permutes), and the agent's colour (never permuted)
BASE_PALETTE = np.array([
    [200, 200, 200],  # normal: light grey
    [40, 180, 60],    # goal: green
    [140, 210, 250],  # ice: light blue
    [200, 40, 40],    # death: red
    [60, 60, 60],     # wall: dark grey
    [150, 90, 30],    # lock: brown
    [240, 200, 30],   # key: yellow
    [160, 60, 200],   # tele: purple
    [250, 130, 20],   # energy: orange
], dtype=np.uint8)
AGENT_COLOUR = np.array([20, 20, 240], dtype=np.uint8)


@dataclass
class KrazyTask:
    """One world: its board, start, teleporter pair and the three permutations."""

    seed: int
    board: np.ndarray         # (H, W) int8 tile types
    start: np.ndarray         # (2,) row, col
    tele: np.ndarray          # (2, 2) the teleporter pair, or -1 when there is none
    action_perm: np.ndarray   # (4,) action -> direction index
    palette: np.ndarray       # (N_TILES, 3) uint8
    feature_perm: np.ndarray  # (N_TILES,) tile type -> observation channel


def _reachable(board: np.ndarray, start: tuple[int, int]) -> np.ndarray:
    """Cells reachable from ``start`` without walls, locks or death (ice and teleporters ignored): the
    4-connected component of the start among the passable cells (`scipy.ndimage.label`; the same set as
    the breadth-first search `_reachable_bfs`, tested; about 10x faster on a 10 x 10 board, which cuts
    the cost of drawing a world 2-3x, paid by every fresh RL² trial)."""
    from scipy import ndimage

    passable = ~np.isin(board, (WALL, LOCK, DEATH))
    passable[start] = True
    labels = np.zeros(board.shape, np.int32)
    ndimage.label(passable, output=labels)  # default structure: 4-connectivity
    return labels == labels[start]


def _reachable_bfs(board: np.ndarray, start: tuple[int, int]) -> np.ndarray:
    """`_reachable` by breadth-first search (the reference the tests hold it to)."""
    H, W = board.shape
    seen = np.zeros_like(board, dtype=bool)
    seen[start] = True
    q = deque([start])
    while q:
        r, c = q.popleft()
        for dr, dc in DIRS:
            rr, cc = r + dr, c + dc
            if 0 <= rr < H and 0 <= cc < W and not seen[rr, cc] and board[rr, cc] not in (WALL, LOCK, DEATH):
                seen[rr, cc] = True
                q.append((rr, cc))
    return seen


def make_task(seed: int, cfg: KrazyConfig = KrazyConfig()) -> KrazyTask:
    """Draw one world from ``seed`` (the same seed always gives the same world).

    Boards are redrawn until a goal is reachable from the start by plain moves.
    """
    rng = np.random.default_rng([int(seed), 0x4B52415A])  # "KRAZ": worlds never share streams with others
    n = cfg.size
    if n < 3:
        raise ValueError(f"Krazy World size must be at least 3, got {n}")
    area = n * n
    counts = [(GOAL, max(1, round(cfg.goals * area))), (ICE, round(cfg.ice * area)),
              (DEATH, round(cfg.death * area)), (WALL, round(cfg.walls * area)),
              (LOCK, round(cfg.locks * area)), (ENERGY, round(cfg.energy_tiles * area))]
    for _ in range(1000):
        board = np.full((n, n), NORMAL, dtype=np.int8)
        cells = rng.permutation(area)
        start = divmod(int(cells[0]), n)
        i = 1
        for tile, k in counts:
            board.flat[cells[i:i + k]] = tile
            i += k
        if any(k for t, k in counts if t == LOCK):
            board.flat[cells[i]] = KEY
            i += 1
        tele = np.full((2, 2), -1, dtype=np.int64)
        if cfg.teleporters:
            board.flat[cells[i:i + 2]] = TELE
            tele = np.array([divmod(int(c), n) for c in cells[i:i + 2]], dtype=np.int64)
            i += 2
        if i > area:
            raise ValueError(f"Krazy World {n}x{n}: the tile fractions ask for more than {area} tiles")
        seen = _reachable(board, start)
        gr, gc = np.nonzero(board == GOAL)
        far = bool((np.abs(gr - start[0]) + np.abs(gc - start[1]) > cfg.min_goal_dist).all())
        if far and (seen & (board == GOAL)).any():
            break
    else:  # pragma: no cover - the fractions above make this practically impossible
        raise ValueError("could not draw a Krazy World board with a reachable goal")
    action_perm = rng.permutation(N_ACTIONS) if cfg.randomize_actions else np.arange(N_ACTIONS)
    palette = BASE_PALETTE[rng.permutation(N_TILES)] if cfg.randomize_palette else BASE_PALETTE.copy()
    feature_perm = rng.permutation(N_TILES) if cfg.shuffle_features else np.arange(N_TILES)
    return KrazyTask(int(seed), board, np.array(start, dtype=np.int64), tele, action_perm.astype(np.int64),
                     palette, feature_perm.astype(np.int64))


class KrazyWorldVec:
    """B Krazy World tasks stepped together.  All state lives in arrays with a leading batch axis.

    There is no auto-reset: after an episode ends, that slot stays put (reward 0) until ``reset``.
    """

    n_actions = N_ACTIONS

    def __init__(self, tasks: Sequence[KrazyTask | int], cfg: KrazyConfig = KrazyConfig()) -> None:
        self.cfg = cfg
        self.tasks = [t if isinstance(t, KrazyTask) else make_task(t, cfg) for t in tasks]
        self.B = B = len(self.tasks)
        self.H = self.W = cfg.size
        self.horizon = cfg.horizon
        self.board0 = np.stack([t.board for t in self.tasks])                   # (B, H, W)
        self.start = np.stack([t.start for t in self.tasks])                    # (B, 2)
        self.tele = np.stack([t.tele for t in self.tasks])                      # (B, 2, 2)
        self.action_perm = np.stack([t.action_perm for t in self.tasks])        # (B, 4)
        self.palette = np.stack([t.palette for t in self.tasks])                # (B, N_TILES, 3)
        feature_perm = np.stack([t.feature_perm for t in self.tasks])           # (B, N_TILES)
        # one-hot table per task: tile type -> permuted channel vector, (B, N_TILES, N_TILES)
        self._onehot = np.zeros((B, N_TILES, N_TILES), np.float32)
        self._onehot[np.arange(B)[:, None], np.arange(N_TILES)[None], feature_perm] = 1.0
        self._ar = np.arange(B)
        self.board = self.board0.copy()
        self.pos = self.start.copy()
        self.has_key = np.zeros(B, bool)
        self.energy = np.full(B, cfg.energy, np.int64)
        self.goals_left = (self.board0 == GOAL).reshape(B, -1).sum(1)
        self.t = np.zeros(B, np.int64)
        self.done = np.zeros(B, bool)

    @property
    def obs_dim(self) -> int:
        return self.cfg.obs_dim

    @property
    def obs_shape(self) -> tuple[int, ...]:
        return self.cfg.image_shape if self.cfg.pixels else (self.cfg.obs_dim,)

    # ------------------------------------------------------------------ reset / step
    def reset(self, mask: np.ndarray | None = None) -> np.ndarray:
        """Restart the episodes of the slots in ``mask`` (all when None) in the same worlds."""
        m = np.ones(self.B, bool) if mask is None else np.asarray(mask, bool)
        self.board[m] = self.board0[m]
        self.pos[m] = self.start[m]
        self.has_key[m] = False
        self.energy[m] = self.cfg.energy
        self.goals_left[m] = (self.board0[m] == GOAL).reshape(int(m.sum()), -1).sum(1)
        self.t[m] = 0
        self.done[m] = False
        return self.observe()

    def _blocked(self, target: np.ndarray) -> np.ndarray:
        """(B,) True where ``target`` (B, 2) is off the board, a wall or a lock the agent cannot open."""
        H, W = self.H, self.W
        inb = (target[:, 0] >= 0) & (target[:, 0] < H) & (target[:, 1] >= 0) & (target[:, 1] < W)
        tile = self.board[self._ar, target[:, 0].clip(0, H - 1), target[:, 1].clip(0, W - 1)]
        return ~inb | (tile == WALL) | ((tile == LOCK) & ~self.has_key)

    def step(self, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Apply one action per slot; returns (obs, reward, terminated, truncated), each with B rows."""
        ar, cfg = self._ar, self.cfg
        alive = ~self.done
        d = DIRS[self.action_perm[ar, np.asarray(actions, np.int64)]]  # (B, 2) the task's real direction
        target = self.pos + d
        move = alive & ~self._blocked(target)
        self.pos[move] = target[move]
        # ice: keep sliding the same way while standing on ice and the next tile is free
        sliding = move.copy()
        for _ in range(max(self.H, self.W)):
            sliding &= self.board[ar, self.pos[:, 0], self.pos[:, 1]] == ICE
            if not sliding.any():
                break
            nxt = self.pos + d
            sliding &= ~self._blocked(nxt)
            self.pos[sliding] = nxt[sliding]
        # the tile the agent ends on
        r, c = self.pos[:, 0], self.pos[:, 1]
        tile = np.where(alive, self.board[ar, r, c], NORMAL)
        opened = tile == LOCK  # only reachable with the key
        got_key = tile == KEY
        self.has_key |= got_key
        reward = np.zeros(self.B, np.float32)
        at_goal = tile == GOAL
        reward[at_goal] += 1.0
        self.goals_left -= at_goal
        self.board[ar, r, c] = np.where(opened | got_key | at_goal, NORMAL, self.board[ar, r, c])
        on_tele = tile == TELE
        if on_tele.any():
            first = (self.pos == self.tele[:, 0]).all(1)
            dest = np.where(first[:, None], self.tele[:, 1], self.tele[:, 0])
            self.pos[on_tele] = dest[on_tele]
        dead = tile == DEATH
        reward[dead] += cfg.death_reward
        terminated = dead | (at_goal & (self.goals_left == 0)) if cfg.end_on_all_goals else dead.copy()
        if cfg.energy > 0:
            self.energy -= alive
            on_energy = tile == ENERGY
            if cfg.energy_rule == "additive":
                self.energy[on_energy] += cfg.energy
                self.board[ar[on_energy], r[on_energy], c[on_energy]] = NORMAL
            else:
                self.energy[on_energy] = cfg.energy
            terminated |= alive & (self.energy <= 0)
        self.t += alive
        truncated = alive & ~terminated & (self.t >= self.horizon)
        self.done |= terminated | truncated
        return self.observe(), reward, terminated, truncated

    # ------------------------------------------------------------------ observations
    def observe(self) -> np.ndarray:
        """(B, obs_dim) float32 one-hot vectors, or (B, h, w, 3) uint8 images when ``cfg.pixels``."""
        return self._pixels() if self.cfg.pixels else self._vector()

    def _window(self) -> np.ndarray:
        """(B, 3, 3) tile types around the agent; off-board cells read as walls."""
        H, W = self.H, self.W
        rows = self.pos[:, 0, None] + np.arange(-1, 2)[None]  # (B, 3)
        cols = self.pos[:, 1, None] + np.arange(-1, 2)[None]
        flat = (self._ar[:, None, None] * (H * W) + rows.clip(0, H - 1)[:, :, None] * W
                + cols.clip(0, W - 1)[:, None, :])  # (B, 3, 3) indices into the flat boards
        win = np.take(self.board, flat)
        off = ((rows < 0) | (rows >= H))[:, :, None] | ((cols < 0) | (cols >= W))[:, None, :]
        win[off] = WALL
        return win

    def _features(self, tiles: np.ndarray) -> np.ndarray:
        """(B, ...) tile types -> (B, ..., N_TILES) one-hot vectors with the task's channel permutation."""
        idx = self._ar.reshape(-1, *([1] * (tiles.ndim - 1))) * N_TILES + tiles
        return np.take(self._onehot.reshape(-1, N_TILES), idx, axis=0)

    def _vector(self) -> np.ndarray:
        B, H, W, ar = self.B, self.H, self.W, self._ar
        extras = np.stack([self.has_key.astype(np.float32),
                           np.minimum(self.energy / max(self.cfg.energy, 1), 1.0)], 1).astype(np.float32)  # (B, 2)
        if self.cfg.obs == "full":
            planes = self._features(self.board)  # (B, H, W, N_TILES)
            agent = np.zeros((B, H, W, 1), np.float32)
            agent[ar, self.pos[:, 0], self.pos[:, 1], 0] = 1.0
            return np.concatenate([np.concatenate([planes, agent], -1).reshape(B, -1), extras], 1)
        win = self._features(self._window()).reshape(B, -1)  # (B, 9 * N_TILES)
        out = np.zeros((B, 9 * N_TILES + H + W + 2), np.float32)
        out[:, : 9 * N_TILES] = win
        out[ar, 9 * N_TILES + self.pos[:, 0]] = 1.0  # row one-hot
        out[ar, 9 * N_TILES + H + self.pos[:, 1]] = 1.0  # column one-hot
        out[:, -2:] = extras
        return out

    def _pixels(self, cell_px: int | None = None, full: bool | None = None) -> np.ndarray:
        ar = self._ar
        px = cell_px or self.cfg.cell_px
        full = self.cfg.obs == "full" if full is None else full
        if full:
            tiles = self.board
            img = self.palette[ar[:, None, None], tiles]  # (B, H, W, 3)
            img[ar, self.pos[:, 0], self.pos[:, 1]] = AGENT_COLOUR
        else:
            img = self.palette[ar[:, None, None], self._window()]  # (B, 3, 3, 3)
            img[:, 1, 1] = AGENT_COLOUR
        return np.repeat(np.repeat(img, px, axis=1), px, axis=2)

    def render(self, i: int = 0, cell_px: int = 16, true_colours: bool = False) -> np.ndarray:
        """An RGB frame of slot ``i``'s whole board: the task's palette (what the agent sees) or, with
        ``true_colours``, the fixed `BASE_PALETTE` (for figures with a legend); the agent in blue."""
        img = (BASE_PALETTE if true_colours else self.palette[i])[self.board[i]]  # (H, W, 3)
        img[self.pos[i, 0], self.pos[i, 1]] = AGENT_COLOUR
        return np.repeat(np.repeat(img, cell_px, axis=0), cell_px, axis=1)


class KrazyWorldEnv(SingleTaskEnv):
    """One Krazy World task as a Gymnasium environment (id ``ilya/KrazyWorld-v0``).

    ``task_seed`` fixes the world; without it every ``reset`` draws a new world from the env's RNG (so
    ``reset(seed=s)`` is repeatable).  ``reset(options={"task_seed": k})`` switches to world k.
    Keyword arguments are `KrazyConfig` fields.
    """

    vec_cls = KrazyWorldVec

    def __init__(self, task_seed: int | None = None, render_mode: str | None = "rgb_array",
                 **cfg: Any) -> None:
        super().__init__(KrazyConfig(**cfg), task_seed, render_mode)
        self.action_space = spaces.Discrete(N_ACTIONS)
        if self.cfg.pixels:
            self.observation_space = spaces.Box(0, 255, self.cfg.image_shape, np.uint8)
        else:
            self.observation_space = spaces.Box(0.0, 1.0, (self.cfg.obs_dim,), np.float32)
