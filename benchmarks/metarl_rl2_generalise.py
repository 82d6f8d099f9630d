"""Does RL² generalise to held-out Krazy Worlds?  Batch size, learning rate, training worlds, permutations.

Each variant is one `ilya metarl train --algo rl2` run on the reference Krazy World (`--krazy-preset
reference`, 10 x 10, local observations, 40-step episodes, trials of 5 episodes scored on 4-5), evaluated
on the 64 held-out worlds (48 trials each).  Prints, per variant: held-out return ± s.e. (Monte Carlo, on
these worlds) and ± s.e. over worlds, the random floor ± s.e., the margin, and the last training batch's
return on episodes 4-5 (training worlds: a large gap to held-out means memorising).  Run:

    .venv/bin/python benchmarks/metarl_rl2_generalise.py --variants base big-batch ... [--env-steps 300000]
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
from ilya.metarl.train import train

NO_PERM = dict(randomize_actions=False, shuffle_features=False)
VARIANTS: dict[str, dict[str, Any]] = {
    "base": {},                                                     # 64 trials, lr 3e-3, 32 worlds
    "trials256": {"trials": 256},
    "trials256-lr1e-3": {"trials": 256, "lr": 1e-3},
    "trials256-worlds1000": {"trials": 256, "train_worlds": 1000},
    "trials256-fresh": {"trials": 256, "train_worlds": 100_000},   # new worlds every trial
    "trials256-lr1e-3-fresh": {"trials": 256, "lr": 1e-3, "train_worlds": 100_000},
    "noperm": {"krazy": NO_PERM},
    "noperm-trials256-fresh": {"krazy": NO_PERM, "trials": 256, "train_worlds": 100_000},
    "noactions-trials256-fresh": {"krazy": {"randomize_actions": False}, "trials": 256, "train_worlds": 100_000},
    "nofeatures-trials256-fresh": {"krazy": {"shuffle_features": False}, "trials": 256, "train_worlds": 100_000},
    # long runs (millions of steps): large batches of fresh trials, lr 1e-3
    "t1024-mb8-lr1e-3-fresh": {"trials": 1024, "minibatches": 8, "lr": 1e-3, "train_worlds": 100_000},
    "t1024-mb8-lr1e-3-fresh-h128": {"trials": 1024, "minibatches": 8, "lr": 1e-3, "train_worlds": 100_000,
                                    "hidden": 128},
    "t1024-mb8-lr1e-3-fresh-lam95": {"trials": 1024, "minibatches": 8, "lr": 1e-3, "train_worlds": 100_000,
                                     "gae_lambda": 0.95},
}


def variant_config(name: str, algo: str, seed: int, env_steps: int, runs_dir: Path,
                   eval_every: int = 10) -> TrainConfig:
    over = dict(VARIANTS[name])
    krazy = dataclasses.replace(KrazyConfig(), **over.pop("krazy", {}))
    return TrainConfig(algo=algo, seed=seed, env_steps=env_steps, krazy=krazy, krazy_preset="reference",  # type: ignore[arg-type]
                       eval_every=eval_every, quiet=True, runs_dir=runs_dir, run=f"rl2gen-{name}-{algo}-s{seed}-{env_steps}",
                       **over)


def main() -> None:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--variants", nargs="+", default=["base"], choices=sorted(VARIANTS))
    ap.add_argument("--algo", default="rl2", choices=["rl2", "erl2"])
    ap.add_argument("--seeds", type=int, nargs="+", default=[0])
    ap.add_argument("--env-steps", type=int, default=300_000)
    ap.add_argument("--runs-dir", type=Path, default=Path("runs/bench"))
    ap.add_argument("--eval-every", type=int, default=10, help="iterations between evaluations")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    import torch

    torch.set_num_threads(1)  # one core per job on the shared machine (train keeps an already lower count)
    rows = []
    for name in args.variants:
        for seed in args.seeds:
            cfg = variant_config(name, args.algo, seed, args.env_steps, args.runs_dir, args.eval_every)
            t0, c0 = time.time(), time.process_time()
            s = train(cfg)
            train_ret = Run.load(s["run"]).series("train/exploit_return")[1]
            row = {"variant": name, "seed": seed, "test": s["test_return"], "se": s["test_return_se"],
                   "se_worlds": s["test_return_se_worlds"], "random": s["random_return"],
                   "random_se": s["random_return_se"], "margin": s["test_return"] - s["random_return"],
                   "train_exploit_last": train_ret[-1] if train_ret else None, "episodes": s["test_episode_returns"],
                   "env_steps": s["env_steps"], "wall_s": round(time.time() - t0, 1),
                   "cpu_s": round(time.process_time() - c0, 1)}
            rows.append(row)
            print(f"{name:28} s{seed}  held-out {row['test']:+.3f} ± {row['se']:.3f} (± {row['se_worlds']:.3f} "
                  f"worlds)  random {row['random']:+.3f} ± {row['random_se']:.3f}  margin {row['margin']:+.3f}  "
                  f"train-worlds {row['train_exploit_last']:+.3f}  episodes "
                  + " ".join(f"{e:+.2f}" for e in row["episodes"]) + f"  {row['cpu_s']} CPU-s ({row['wall_s']} s wall)", flush=True)
    if args.json:
        print(json.dumps(rows))


if __name__ == "__main__":
    main()
