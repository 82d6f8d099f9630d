"""One-seed pilots on the reference Krazy World: which setting lets each learner beat random on held-out worlds?

Each variant is one `ilya metarl train` run on the reference Krazy World (`--krazy-preset reference`,
10 x 10, 40-step episodes), with some flags changed: the number of training worlds (32, 1024, or fresh
worlds every task: `--train-worlds 100000`), the observation (`--krazy.obs local`: the 3 x 3 window plus
row/column; `full`: the whole board, as the reference implementation's default), batch sizes.  Prints,
per run: the held-out return ± Monte Carlo s.e. on the 64 test worlds, the random floor ± s.e., the
margin, the best point of the curve, the last training batch's return, and the process CPU seconds.
Run:

    .venv/bin/python benchmarks/metarl_krazy_pilots.py --algo maml --variants w32 fresh --env-steps 300000
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import time
from pathlib import Path
from typing import Any

from ilya.core.runs import Run
from ilya.metarl.config import KrazyConfig, TrainConfig
from ilya.metarl.train import train, world_seeds

FRESH = 100_000  # more training worlds than a run ever draws: every task is a new world
VARIANTS: dict[str, dict[str, Any]] = {
    "w32": {},                                                           # the paper's 32 training worlds
    "w1024": {"train_worlds": 1024},
    "fresh": {"train_worlds": FRESH},
    "full-w32": {"krazy": {"obs": "full"}},
    "full-fresh": {"krazy": {"obs": "full"}, "train_worlds": FRESH},
    "full-w1024": {"krazy": {"obs": "full"}, "train_worlds": 1024},
    "fresh-t256": {"train_worlds": FRESH, "trials": 256},                # RL²: 256 trials per PPO batch
    "full-fresh-t256": {"krazy": {"obs": "full"}, "train_worlds": FRESH, "trials": 256},
    "full-fresh-t256-lr1e-3": {"krazy": {"obs": "full"}, "train_worlds": FRESH, "trials": 256, "lr": 1e-3},
    "fresh-lr1e-3": {"train_worlds": FRESH, "lr": 1e-3},
    "full-fresh-lr1e-3": {"krazy": {"obs": "full"}, "train_worlds": FRESH, "lr": 1e-3},
}


def variant_config(name: str, algo: str, seed: int, env_steps: int, runs_dir: Path) -> TrainConfig:
    over = dict(VARIANTS[name])
    krazy = dataclasses.replace(KrazyConfig(), **over.pop("krazy", {}))
    return TrainConfig(algo=algo, seed=seed, env_steps=env_steps, krazy=krazy, krazy_preset="reference",  # type: ignore[arg-type]
                       eval_every=3, quiet=True, runs_dir=runs_dir, run=f"kpilot-{name}-{algo}-s{seed}-{env_steps}",
                       **over)


def sticky_walks(probs: tuple[float, ...] = (0.0, 0.5, 0.8, 0.9), episodes: int = 64) -> None:
    """Return of a random walk that repeats its last action with probability p, on the 64 test worlds:
    is there a cheap world-independent policy that beats the uniform one (p = 0)?"""
    import numpy as np

    from ilya.metarl.config import krazy_world
    from ilya.metarl.envs import KrazyWorldVec

    cfg = krazy_world(KrazyConfig(), "reference")
    _, seeds = world_seeds(TrainConfig())  # the test worlds of every run here (--world-seed 0)
    for p in probs:
        env = KrazyWorldVec([int(s) for s in seeds for _ in range(episodes)], cfg)
        env.reset()
        rng = np.random.default_rng(1)
        a, ret = rng.integers(4, size=env.B), np.zeros(env.B)
        for _ in range(cfg.horizon):
            a = np.where(rng.random(env.B) < p, a, rng.integers(4, size=env.B))
            ret += env.step(a)[1]
        print(f"sticky random walk p={p}: {ret.mean():+.3f} ± {ret.std() / np.sqrt(env.B):.3f} per episode")


def main() -> None:
    ap = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    ap.add_argument("--variants", nargs="+", default=["w32"], choices=sorted(VARIANTS))
    ap.add_argument("--algo", default="maml", choices=["maml", "emaml", "rl2", "erl2"])
    ap.add_argument("--seeds", type=int, nargs="+", default=[0])
    ap.add_argument("--env-steps", type=int, default=300_000)
    ap.add_argument("--runs-dir", type=Path, default=Path("runs/bench"))
    ap.add_argument("--sticky", action="store_true", help="only the sticky random walks (no training)")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    if args.sticky:
        sticky_walks()
        return
    import torch

    torch.set_num_threads(1)
    rows = []
    for name in args.variants:
        for seed in args.seeds:
            cfg = variant_config(name, args.algo, seed, args.env_steps, args.runs_dir)
            t0, c0 = time.time(), time.process_time()
            s = train(cfg)
            run = Run.load(s["run"])
            train_key = "train/post_return" if args.algo in ("maml", "emaml") else "train/exploit_return"
            train_ret = run.series(train_key)[1]
            steps, curve = run.series("test/return")
            best = max(range(len(curve)), key=lambda i: curve[i])
            row = {"variant": name, "algo": args.algo, "seed": seed, "test": s["test_return"],
                   "se": s["test_return_se"], "random": s["random_return"], "random_se": s["random_return_se"],
                   "margin": s["test_return"] - s["random_return"], "best": curve[best], "best_step": steps[best],
                   "train_last": train_ret[-1] if train_ret else None, "env_steps": s["env_steps"],
                   "cpu_s": round(time.process_time() - c0, 1), "wall_s": round(time.time() - t0, 1)}
            rows.append(row)
            print(f"{args.algo:5} {name:24} s{seed}  held-out {row['test']:+.3f} ± {row['se']:.3f}  random "
                  f"{row['random']:+.3f} ± {row['random_se']:.3f}  margin {row['margin']:+.3f}  best "
                  f"{row['best']:+.3f} at {row['best_step']}  train {row['train_last']:+.3f}  "
                  f"{row['cpu_s']} CPU-s ({row['wall_s']} s wall)", flush=True)
    if args.json:
        print(json.dumps(rows))


if __name__ == "__main__":
    main()
