"""Environment throughput: our vectorised Krazy World and mazes vs MiniGrid, same machine, one process.

Steps per second with uniformly random actions (episodes restarted when they end).  MiniGrid
(Gymnasium's `minigrid`) is measured as it is normally used, one env stepped from Python, and as a
Gymnasium SyncVectorEnv of 64 copies; DoorKey-8x8 is the closest MiniGrid task to Krazy World (walls, a
key, a locked door, a goal).  Run:

    .venv/bin/python benchmarks/metarl_env_throughput.py [--seconds 2] [--json]
    .venv/bin/python benchmarks/metarl_env_throughput.py --worlds   # only: reference worlds drawn per CPU-second

``--worlds`` times `make_task` on the reference preset (what every fresh RL² trial pays) with the
reachability check as it is (connected components) and with the breadth-first search it replaced.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable

import numpy as np

from ilya.metarl.config import EnvName


def _rate(step: Callable[[], int], seconds: float) -> float:
    """Steps per second of ``step`` (which returns how many env steps it took), after a warm-up."""
    for _ in range(3):
        step()
    n, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        n += step()
    return n / (time.perf_counter() - t0)


def ours_vec(env_name: EnvName, B: int, seconds: float, **cfg) -> float:
    from ilya.metarl.envs import ENVS, make_vec

    env = make_vec(env_name, range(B), ENVS[env_name][0](**cfg))
    env.reset()
    rng = np.random.default_rng(0)

    def step() -> int:
        env.step(rng.integers(4, size=B))
        if env.done.any():
            env.reset(env.done)
        return B

    return _rate(step, seconds)


def ours_gym(seconds: float) -> float:
    import gymnasium as gym

    import ilya  # noqa: F401  (registers the ids of ilya.envs)

    env = gym.make("ilya/KrazyWorld-v0")
    env.reset(seed=0)
    rng = np.random.default_rng(0)

    def step() -> int:
        _, _, term, trunc, _ = env.step(int(rng.integers(4)))
        if term or trunc:
            env.reset()
        return 1

    return _rate(step, seconds)


def minigrid_single(env_id: str, seconds: float) -> float:
    import gymnasium as gym
    import minigrid  # noqa: F401  (registers the ids)

    env = gym.make(env_id)
    env.reset(seed=0)
    rng = np.random.default_rng(0)

    def step() -> int:
        _, _, term, trunc, _ = env.step(int(rng.integers(3)))  # left, right, forward
        if term or trunc:
            env.reset()
        return 1

    return _rate(step, seconds)


def minigrid_vec(env_id: str, n: int, seconds: float) -> float:
    import gymnasium as gym
    import minigrid  # noqa: F401

    envs = gym.vector.SyncVectorEnv([lambda: gym.make(env_id) for _ in range(n)])
    envs.reset(seed=0)
    rng = np.random.default_rng(0)

    def step() -> int:
        envs.step(rng.integers(3, size=n))  # autoreset
        return n

    return _rate(step, seconds)


def world_draws(n: int = 1000) -> dict[str, float]:
    """Reference Krazy Worlds drawn per CPU-second: the fast reachability check against the old BFS."""
    from unittest import mock

    from ilya.metarl.config import KRAZY_REFERENCE
    from ilya.metarl.envs import krazy

    out, sums = {}, {}
    for name, fn in (("connected components", krazy._reachable), ("breadth-first search", krazy._reachable_bfs)):
        with mock.patch.object(krazy, "_reachable", fn):
            c0 = time.process_time()
            boards = [krazy.make_task(s, KRAZY_REFERENCE).board for s in range(n)]
            out[name] = n / (time.process_time() - c0)
        sums[name] = sum(int(b.sum()) for b in boards)
    assert len(set(sums.values())) == 1  # the same worlds either way
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--seconds", type=float, default=2.0, help="timing window per measurement")
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    ap.add_argument("--worlds", action="store_true", help="only time drawing reference worlds")
    args = ap.parse_args()
    if args.worlds:
        w = world_draws()
        for k, v in w.items():
            print(f"reference worlds drawn, reachability by {k:<22} {v:>10,.0f} worlds / CPU-s")
        print(f"ratio {w['connected components'] / w['breadth-first search']:.1f}x")
        return
    s = args.seconds
    rows = {
        "krazy 10x10 vec B=1024 (local obs)": ours_vec("krazy", 1024, s),
        "krazy 10x10 vec B=64 (local obs)": ours_vec("krazy", 64, s),
        "krazy 10x10 vec B=1 (local obs)": ours_vec("krazy", 1, s),
        "krazy 10x10 vec B=1024 (full-grid obs)": ours_vec("krazy", 1024, s, obs="full"),
        "krazy 10x10 vec B=1024 (RGB obs)": ours_vec("krazy", 1024, s, pixels=True),
        "krazy 10x10 Gymnasium env (one task)": ours_gym(s),
        "maze 20x20 vec B=1024": ours_vec("maze", 1024, s),
        "MiniGrid-DoorKey-8x8 (one env)": minigrid_single("MiniGrid-DoorKey-8x8-v0", s),
        "MiniGrid-Empty-8x8 (one env)": minigrid_single("MiniGrid-Empty-8x8-v0", s),
        "MiniGrid-DoorKey-8x8 SyncVectorEnv x64": minigrid_vec("MiniGrid-DoorKey-8x8-v0", 64, s),
    }
    best_mg = max(v for k, v in rows.items() if k.startswith("MiniGrid"))
    ratios = {
        "krazy_vec1024_vs_best_minigrid": rows["krazy 10x10 vec B=1024 (local obs)"] / best_mg,
        "maze_vec1024_vs_best_minigrid": rows["maze 20x20 vec B=1024"] / best_mg,
        "krazy_gym_vs_minigrid_doorkey_single": rows["krazy 10x10 Gymnasium env (one task)"]
        / rows["MiniGrid-DoorKey-8x8 (one env)"],
    }
    if args.json:
        print(json.dumps({"steps_per_s": rows, "ratios": ratios}))
        return
    for k, v in rows.items():
        print(f"{k:<42} {v:>14,.0f} steps/s")
    for k, v in ratios.items():
        print(f"{k:<42} {v:>14.1f}x")


if __name__ == "__main__":
    main()
