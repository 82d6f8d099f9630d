"""Krazy World: every tile's rule on a hand-made board, task randomisation, the Gymnasium contract."""

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

from ilya.metarl.envs import KrazyConfig, KrazyWorldEnv, KrazyWorldVec, make_task
from ilya.metarl.envs.krazy import (
    BASE_PALETTE,
    DEATH,
    ENERGY,
    GOAL,
    ICE,
    KEY,
    LOCK,
    N_TILES,
    NORMAL,
    TELE,
    WALL,
    KrazyTask,
)

UP, RIGHT, DOWN, LEFT = range(4)
CFG = KrazyConfig(size=5, energy=0, horizon=50)


def board_env(rows: list[str], cfg: KrazyConfig = CFG) -> KrazyWorldVec:
    """A one-task env from a picture: . normal, G goal, ~ ice, X death, # wall, L lock, K key, T tele,
    E energy, A the agent's start (a normal tile).  Identity action map, palette and features."""
    code = {".": NORMAL, "G": GOAL, "~": ICE, "X": DEATH, "#": WALL, "L": LOCK, "K": KEY, "T": TELE,
            "E": ENERGY, "A": NORMAL}
    board = np.array([[code[ch] for ch in row] for row in rows], np.int8)
    start = np.argwhere(np.array([list(r) for r in rows]) == "A")[0]
    tele = np.argwhere(board == TELE)
    tele = tele if len(tele) == 2 else np.full((2, 2), -1)
    task = KrazyTask(0, board, start, tele, np.arange(4), BASE_PALETTE.copy(), np.arange(N_TILES))
    env = KrazyWorldVec([task], cfg)
    env.reset()
    return env


def act(env: KrazyWorldVec, *actions: int) -> tuple[list[float], bool]:
    rewards, ended = [], False
    for a in actions:
        _, r, term, trunc = env.step(np.array([a]))
        rewards.append(float(r[0]))
        ended = bool(term[0] or trunc[0])
    return rewards, ended


def test_walls_and_edges_block():
    env = board_env(["A#...", ".....", ".....", ".....", "....."])
    act(env, RIGHT, UP, LEFT)
    assert env.pos[0].tolist() == [0, 0]
    act(env, DOWN)
    assert env.pos[0].tolist() == [1, 0]


def test_ice_slides_until_it_ends_or_is_blocked():
    env = board_env(["A~~~.", ".~~#.", ".....", ".....", "....."])
    act(env, RIGHT)
    assert env.pos[0].tolist() == [0, 4]  # slid over three ice tiles onto the normal one
    env = board_env([".....", "A~~#.", ".....", ".....", "....."])
    act(env, RIGHT)
    assert env.pos[0].tolist() == [1, 2]  # the wall stops the slide on the last ice tile


def test_teleporter_moves_to_its_partner():
    env = board_env(["AT...", ".....", ".....", ".....", "...T."])
    act(env, RIGHT)
    assert env.pos[0].tolist() == [4, 3]


def test_key_opens_lock():
    env = board_env(["AL..G", "K....", ".....", ".....", "....."])
    act(env, RIGHT)
    assert env.pos[0].tolist() == [0, 0]  # locked without the key
    act(env, DOWN)
    assert env.has_key[0] and env.board[0, 1, 0] == NORMAL  # key picked up
    act(env, UP, RIGHT)
    assert env.pos[0].tolist() == [0, 1] and env.board[0, 0, 1] == NORMAL  # the lock opened
    rewards, ended = act(env, RIGHT, RIGHT, RIGHT)
    assert rewards == [0.0, 0.0, 1.0] and ended  # the only goal: episode over


def test_goal_pays_once():
    env = board_env(["AG..G", ".....", ".....", ".....", "....."])
    rewards, ended = act(env, RIGHT, LEFT, RIGHT)
    assert rewards == [1.0, 0.0, 0.0] and not ended


def test_energy_runs_out_and_refills():
    cfg = KrazyConfig(size=5, energy=3, horizon=50)
    env = board_env(["A....", ".....", ".....", ".....", "....."], cfg)
    _, ended = act(env, RIGHT, RIGHT)
    assert not ended and env.energy[0] == 1
    _, ended = act(env, RIGHT)
    assert ended and env.done[0]
    env = board_env(["A.E..", ".....", ".....", ".....", "....."], cfg)
    act(env, RIGHT, RIGHT)
    assert env.energy[0] == 3  # refilled on the energy tile
    _, ended = act(env, DOWN, DOWN)
    assert not ended


def test_death_ends_the_episode():
    env = board_env(["AX...", ".....", ".....", ".....", "....."])
    rewards, ended = act(env, RIGHT)
    assert rewards == [CFG.death_reward] and ended
    rewards, _ = act(env, DOWN)
    assert rewards == [0.0] and env.pos[0].tolist() == [0, 1]  # a finished slot stays put


def test_horizon_truncates():
    env = board_env(["A....", ".....", ".....", ".....", "....."], KrazyConfig(size=5, energy=0, horizon=3))
    _, _, term, trunc = env.step(np.array([UP]))
    env.step(np.array([UP]))
    _, _, term, trunc = env.step(np.array([UP]))
    assert trunc[0] and not term[0]


def test_tasks_are_deterministic_and_permutations_are_bijections():
    cfg = KrazyConfig()
    a, b = make_task(7, cfg), make_task(7, cfg)
    assert np.array_equal(a.board, b.board) and np.array_equal(a.action_perm, b.action_perm)
    perms = {name: set() for name in ("action", "palette", "feature")}
    boards = set()
    for s in range(20):
        t = make_task(s, cfg)
        assert sorted(t.action_perm) == [0, 1, 2, 3]
        assert sorted(t.feature_perm) == list(range(N_TILES))
        assert len({tuple(c) for c in t.palette}) == N_TILES  # distinct colours: a permuted palette
        perms["action"].add(tuple(t.action_perm))
        perms["palette"].add(t.palette.tobytes())
        perms["feature"].add(tuple(t.feature_perm))
        boards.add(t.board.tobytes())
    assert all(len(v) > 10 for v in perms.values()) and len(boards) == 20
    fixed = KrazyConfig(randomize_actions=False, randomize_palette=False, shuffle_features=False)
    t = make_task(3, fixed)
    assert t.action_perm.tolist() == [0, 1, 2, 3] and np.array_equal(t.palette, BASE_PALETTE)


def test_action_permutation_changes_the_dynamics():
    from ilya.metarl.envs.krazy import DIRS

    # a drawn task with a non-identity action map moves each action the permuted way on an open board
    cfg = KrazyConfig(size=5, energy=0, horizon=50)
    perm = next(t.action_perm for s in range(30) if (t := make_task(s, KrazyConfig(size=10))).action_perm[0] != 0)
    assert sorted(perm.tolist()) == [0, 1, 2, 3]
    board = np.full((5, 5), NORMAL, np.int8)
    task = KrazyTask(0, board, np.array([2, 2]), np.full((2, 2), -1), perm.copy(), BASE_PALETTE.copy(),
                     np.arange(N_TILES))
    identity = KrazyTask(0, board, np.array([2, 2]), np.full((2, 2), -1), np.arange(4), BASE_PALETTE.copy(),
                         np.arange(N_TILES))
    for a in range(4):
        env, ref = KrazyWorldVec([task], cfg), KrazyWorldVec([identity], cfg)
        env.reset()
        ref.reset()
        env.step(np.array([a]))
        ref.step(np.array([a]))
        assert (env.pos[0] - [2, 2]).tolist() == DIRS[perm[a]].tolist()      # moved the permuted way
        assert (ref.pos[0] - [2, 2]).tolist() == DIRS[a].tolist()            # identity: up right down left
    # at least one action goes another way than without the permutation
    assert any(DIRS[perm[a]].tolist() != DIRS[a].tolist() for a in range(4))


def test_vectorised_equals_one_at_a_time():
    cfg = KrazyConfig(size=8)
    seeds = list(range(12))
    rng = np.random.default_rng(0)
    vec = KrazyWorldVec(seeds, cfg)
    singles = [KrazyWorldVec([s], cfg) for s in seeds]
    vo = vec.reset()
    so = np.concatenate([e.reset() for e in singles])
    assert np.array_equal(vo, so)
    for _ in range(cfg.horizon):
        a = rng.integers(4, size=len(seeds))
        vo, vr, vt, vtr = vec.step(a)
        outs = [e.step(a[i : i + 1]) for i, e in enumerate(singles)]
        assert np.array_equal(vo, np.concatenate([o[0] for o in outs]))
        assert np.array_equal(vr, np.concatenate([o[1] for o in outs]))
        assert np.array_equal(vt, np.concatenate([o[2] for o in outs]))


def test_observations():
    cfg = KrazyConfig(size=6)
    env = KrazyWorldVec([0, 1], cfg)
    o = env.reset()
    assert o.shape == (2, cfg.obs_dim) and o.dtype == np.float32
    # local view: 9 one-hot cells, each exactly one channel on; then row and column one-hots
    cells = o[:, : 9 * N_TILES].reshape(2, 9, N_TILES)
    assert np.all(cells.sum(-1) == 1)
    full = KrazyWorldVec([0], KrazyConfig(size=6, obs="full")).reset()
    assert full.shape == (1, 6 * 6 * (N_TILES + 1) + 2)
    pix = KrazyWorldVec([0], KrazyConfig(size=6, pixels=True, cell_px=2))
    img = pix.reset()
    assert img.shape == (1, 6, 6, 3) and img.dtype == np.uint8
    frame = pix.render(0, cell_px=4)
    assert frame.shape == (24, 24, 3)
    # the palette permutation shows in the pixels: the same board drawn with another task's colours
    t = make_task(0, cfg)
    assert {tuple(c) for c in pix.render(0).reshape(-1, 3)} <= {tuple(c) for c in t.palette} | {(20, 20, 240)}


@pytest.mark.parametrize("kw", [{}, {"obs": "full"}, {"pixels": True}, {"pixels": True, "obs": "full"}])
def test_gymnasium_contract(kw):
    env = gym.make("ilya/KrazyWorld-v0", **kw)
    check_env(env.unwrapped, skip_render_check=False)
    obs, info = env.reset(seed=3)
    obs2, info2 = env.reset(seed=3)
    assert np.array_equal(obs, obs2) and info["task_seed"] == info2["task_seed"]
    frame = env.render()
    assert frame.ndim == 3 and frame.shape[2] == 3


def test_fixed_task_seed_env():
    env = KrazyWorldEnv(task_seed=5)
    _, info = env.reset(seed=0)
    assert info["task_seed"] == 5
    _, info = env.reset(options={"task_seed": 9})
    assert info["task_seed"] == 9


def test_reachable_set_equals_breadth_first_search():
    """The fast reachability check (connected components) marks exactly the cells a BFS reaches from the
    start without crossing walls, locks or death tiles, so worlds drawn from a seed are unchanged."""
    from ilya.metarl.envs.krazy import _reachable, _reachable_bfs

    rng = np.random.default_rng(0)
    for _ in range(300):
        board = rng.choice(N_TILES, size=(7, 7), p=[.55, .05, .05, .12, .1, .05, .02, .02, .04]).astype(np.int8)
        start = (int(rng.integers(7)), int(rng.integers(7)))
        np.testing.assert_array_equal(_reachable(board, start), _reachable_bfs(board, start))
    board = np.array([[NORMAL, WALL, GOAL], [NORMAL, DEATH, NORMAL], [NORMAL, NORMAL, NORMAL]], np.int8)
    assert _reachable(board, (0, 0)).sum() == 7 and not _reachable(board, (0, 0))[0, 1]
