"""The learning claim of docs/imitation.md: DAgger and BC on the default task set (40 training / 12 test
layouts, up to 6 blocks, hybrid physics), success by number of stages on test tasks, beside the paper's.

    .venv/bin/python benchmarks/imitation_learning.py [--steps 3000] [--trials 6]

Trains (or resumes) runs/imitation/{dagger,bc}-default, evaluates each conditioned on the whole
demonstration (1 and 10 demonstrations) and on the final state, and prints ours, the paper's and the
difference per number of stages.  About 15 CPU-minutes per run on a 2-core CPU.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch

from ilya.imitation.config import EvalConfig, TrainConfig
from ilya.imitation.evaluate import evaluate
from ilya.imitation.plots import PAPER_TEST
from ilya.imitation.train import train


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--steps", type=int, default=3000)
    ap.add_argument("--trials", type=int, default=6)
    ap.add_argument("--runs-dir", type=Path, default=Path("runs"))
    args = ap.parse_args()
    torch.set_num_threads(1)
    for algo in ("dagger", "bc"):
        res = train(TrainConfig(algo=algo, steps=args.steps, dagger_rounds=3, eval_trials=args.trials, log_every=100,
                                ckpt_every=250, run=f"{algo}-default", runs_dir=args.runs_dir))
        rows = {"demo, 1": res["test"]}
        rows["final state, 1"] = evaluate(EvalConfig(run=f"{algo}-default", conditioning="final", trials=args.trials,
                                                     runs_dir=args.runs_dir, json=True))["test"]
        rows["demo, 10"] = evaluate(EvalConfig(run=f"{algo}-default", ensemble=10, trials=max(2, args.trials // 2),
                                               runs_dir=args.runs_dir, json=True))["test"]
        print(f"\n{algo.upper()} ({args.steps} steps, {res['wall_s'] / 60:.1f} min), test tasks, success by stages:")
        for label, r in rows.items():
            cells = []
            for n, v in r["by_stages"].items():
                paper = PAPER_TEST[algo].get(int(n))
                cells.append(f"{n}: {100 * v['success']:.0f}%" + (f" (paper {paper}%, ours - paper "
                                                                   f"{100 * v['success'] - paper:+.0f})" if paper else ""))
            print(f"  {label:15} " + "; ".join(cells))
        print(f"  expert          {100 * res['expert']['success']:.0f}%")


if __name__ == "__main__":
    main()
