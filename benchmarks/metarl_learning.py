"""Learning comparison: MAML vs E-MAML and RL² vs E-RL² over several seeds, with the random-policy floor.

This is `ilya metarl compare` with its defaults (the paper's protocol: 32 training worlds, 64 held-out
test worlds, one inner update for MAML, episodes 4-5 scored for RL²) at a CPU budget.  It prints the
table and the path of the figure (return vs environment steps, mean ± s.e. over seeds).  Run:

    .venv/bin/python benchmarks/metarl_learning.py [--env krazy] [--env-steps 150000] [--seeds 0 1 2]

``--train-worlds 100000`` draws fresh training worlds for every task (no world is seen twice: nothing to
overfit), ``--krazy-obs full`` gives the agents the whole board (the reference implementation's default)
instead of the 3 x 3 window.  With more than one seed the table also says whether each learner is clearly
above random: its 95% t-interval over seeds does not overlap the floor's 95% interval.

``--easy`` runs the same comparison on a 5 x 5 Krazy World without the permutations and hazards (goals
and walls only, 15-step episodes): a task where exploring then exploiting is learnable at this budget.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import time
from pathlib import Path

from ilya.metarl.compare import compare, format_table
from ilya.metarl.config import CompareConfig
from ilya.metarl.envs import KrazyConfig

EASY = KrazyConfig(size=5, horizon=15, randomize_actions=False, randomize_palette=False, shuffle_features=False,
                   death=0.0, energy=0, ice=0.0, locks=0.0, teleporters=False, energy_tiles=0.0)


def main() -> None:
    ap = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    ap.add_argument("--env", default="krazy", choices=["krazy", "maze"])
    ap.add_argument("--env-steps", type=int, default=CompareConfig.env_steps)
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--jobs", type=int, default=0, help="parallel training processes (0: one per core)")
    ap.add_argument("--runs-dir", type=Path, default=Path("runs/bench"))
    ap.add_argument("--krazy-preset", default="ours", choices=["ours", "reference"])
    ap.add_argument("--train-worlds", type=int, default=CompareConfig.train_worlds)
    ap.add_argument("--lr", type=float, default=None, help="learning rate of every run (default: train's)")
    ap.add_argument("--krazy-obs", default="local", choices=["local", "full"])
    ap.add_argument("--easy", action="store_true", help="the 5x5 Krazy World without permutations/hazards")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    t0 = time.time()
    name = (f"bench-{args.env}{'-easy' if args.easy else ''}{'-ref' if args.krazy_preset == 'reference' else ''}"
            f"{'-full' if args.krazy_obs == 'full' else ''}"
            f"{f'-w{args.train_worlds}' if args.train_worlds != CompareConfig.train_worlds else ''}"
            f"{f'-lr{args.lr:g}' if args.lr is not None else ''}-{args.env_steps}")
    krazy = dataclasses.replace(EASY if args.easy else KrazyConfig(), obs=args.krazy_obs)
    cfg = CompareConfig(env=args.env, env_steps=args.env_steps, seeds=args.seeds, jobs=args.jobs,
                        runs_dir=args.runs_dir, run=name, krazy=krazy, krazy_preset=args.krazy_preset,
                        train_worlds=args.train_worlds, lr=args.lr)
    c0 = time.process_time()
    result = compare(cfg)
    result["wall_s"] = round(time.time() - t0, 1)
    result["cpu_s"] = round(time.process_time() - c0, 1)  # this process's CPU time (--jobs 1: every run)
    if args.json:
        print(json.dumps(result))
        return
    print(format_table(result))
    print(f"figure: {result['figure']}\nwall-clock: {result['wall_s']} s, CPU: {result['cpu_s']} s")


if __name__ == "__main__":
    main()
