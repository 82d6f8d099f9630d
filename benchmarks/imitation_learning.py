"""The learning claim of docs/imitation.md: DAgger and BC on the default task set (40 training / 12 test
layouts, up to 6 blocks, hybrid physics), success by number of stages on training and test tasks, beside
the paper's.

    nice .venv/bin/python benchmarks/imitation_learning.py [--steps 8000] [--trials 10] [--skip-train]

Trains (or, with the same flags, resumes) runs/imitation/{dagger,bc}-<steps/1000>k, evaluates each on
both splits conditioned on the whole demonstration (1 demonstration: the training run's own evaluation;
an ensemble of 10: `--trials // 3` episodes per task) and on the final state only, and prints ours, the
paper's and the difference per number of stages.  About 8 minutes per training run on a quiet 2-core CPU
with one torch thread.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch

from ilya.core.runs import Run
from ilya.imitation.config import EvalConfig, TrainConfig
from ilya.imitation.evaluate import evaluate
from ilya.imitation.plots import PAPER_TEST
from ilya.imitation.train import train


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--steps", type=int, default=8000)
    ap.add_argument("--trials", type=int, default=10)
    ap.add_argument("--runs-dir", type=Path, default=Path("runs"))
    ap.add_argument("--algos", default="dagger,bc")
    ap.add_argument("--skip-train", action="store_true", help="evaluate the existing runs only")
    args = ap.parse_args()
    torch.set_num_threads(1)
    for algo in args.algos.split(","):
        name = f"{algo}-{args.steps // 1000}k"
        if args.skip_train:
            s = Run.load(name, args.runs_dir, system="imitation").read_summary()
            res = {k: s[k] for k in ("train", "test", "expert", "wall_s")}
        else:
            res = train(TrainConfig(algo=algo, steps=args.steps, dagger_start=0.4, dagger_rounds=4,  # type: ignore[arg-type]
                                    eval_trials=args.trials, log_every=100, run=name, runs_dir=args.runs_dir,
                                    threads=1))
        rows = {"demo, 1": (res["train"], res["test"])}
        for label, cond, ens, trials in (("final state, 1", "final", 1, args.trials),
                                         ("demo, 10", "demo", 10, max(2, args.trials // 3))):
            r = evaluate(EvalConfig(run=name, conditioning=cond, ensemble=ens, trials=trials, split="both",  # type: ignore[arg-type]
                                    runs_dir=args.runs_dir, json=True))
            rows[label] = (r["train"], r["test"])
        print(f"\n{algo.upper()} ({args.steps} steps, {res['wall_s'] / 60:.1f} min), success by stages:")
        for label, (tr, te) in rows.items():
            cells = []
            for n, v in te["by_stages"].items():
                paper = PAPER_TEST[algo].get(int(n))
                cells.append(f"{n}: {100 * v['success']:.0f}%" + (f" (paper {paper}%, ours - paper "
                                                                   f"{100 * v['success'] - paper:+.0f})" if paper else ""))
            print(f"  test  {label:15} " + "; ".join(cells))
            print(f"  train {label:15} " + "; ".join(f"{n}: {100 * v['success']:.0f}%" for n, v in tr["by_stages"].items()))
        print(f"  expert (test tasks) {100 * res['expert']['success']:.0f}%")


if __name__ == "__main__":
    main()
