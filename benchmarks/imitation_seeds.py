"""The robust learning claim of docs/imitation.md: one DAgger recipe trained with several seeds, success by
number of stages on training and test tasks as mean ± s.e. over the seeds, beside the paper's.

    nice .venv/bin/python benchmarks/imitation_seeds.py [--seeds 1,0,2] [--steps 16000] [--dagger-start 0.3]
        [--rounds 8] [--select-every 800] [--ema 0.999] [--variants final,ensemble] [--skip-train] [--figure docs/img]

Trains (or resumes) runs/imitation/dagger-<steps/1000>k-ema-seed<N> (`ilya imitation train --algo dagger
--steps 16000 --dagger-start 0.3 --dagger-rounds 8 --select-every 800 --ema 0.999 --eval-trials 10 --threads 1
--seed N`;
the training run's own evaluation is `ilya imitation eval RUN --split both --trials 10`), optionally evaluates
the final-state and ensemble-of-10 variants, prints per number of stages the mean ± s.e. over seeds, each seed's
rate and the pooled Wilson interval, and draws the paper's figure from the seed group.  About 15 minutes per
seed (16000 steps) on the shared 2-core CPU with one torch thread.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch

from ilya.core.runs import Run
from ilya.core.stats import mean_se, rate
from ilya.imitation.config import EvalConfig, TrainConfig
from ilya.imitation.evaluate import evaluate
from ilya.imitation.plots import PAPER_TEST, draw_seed_means
from ilya.imitation.train import train


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seeds", default="1,0,2")
    ap.add_argument("--steps", type=int, default=16000)
    ap.add_argument("--dagger-start", type=float, default=0.3)
    ap.add_argument("--rounds", type=int, default=8)
    ap.add_argument("--select-every", type=int, default=800)
    ap.add_argument("--ema", type=float, default=0.999)
    ap.add_argument("--name", default="dagger-{k}k-ema-seed{seed}", help="run names")
    ap.add_argument("--trials", type=int, default=10)
    ap.add_argument("--variants", default="", help="comma list of: final, ensemble")
    ap.add_argument("--runs-dir", type=Path, default=Path("runs"))
    ap.add_argument("--figure", type=Path, default=None, help="folder for imitation_stages_seeds.png")
    ap.add_argument("--skip-train", action="store_true", help="evaluate the existing runs only")
    args = ap.parse_args()
    torch.set_num_threads(1)
    seeds = [int(s) for s in args.seeds.split(",")]
    names = []
    for seed in seeds:
        name = args.name.format(k=args.steps // 1000, seed=seed)
        names.append(name)
        if not args.skip_train:
            train(TrainConfig(algo="dagger", steps=args.steps, dagger_start=args.dagger_start,
                              dagger_rounds=args.rounds, seed=seed, select_every=args.select_every, ema=args.ema, eval_trials=args.trials, log_every=100, run=name,
                              runs_dir=args.runs_dir, threads=1))
        for v in filter(None, args.variants.split(",")):
            cond, ens, trials = ("final", 1, args.trials) if v == "final" else ("demo", 10, max(2, args.trials // 3))
            evaluate(EvalConfig(run=name, conditioning=cond, ensemble=ens, trials=trials, split="both",  # type: ignore[arg-type]
                                runs_dir=args.runs_dir, json=True))
    runs = [Run.load(n, args.runs_dir, system="imitation") for n in names]
    sums = [r.read_summary() for r in runs]
    keys = [("demo, 1", None)] + [(k[5:], k) for k in sorted(sums[0]) if k.startswith("eval/")
                                  and all(k in s for s in sums)]
    walls = ", ".join(f"{s['wall_s'] / 60:.1f}" for s in sums)
    print(f"DAgger {args.steps} steps, {args.rounds} rounds, --select-every {args.select_every}, --ema {args.ema}, "
          f"seeds {seeds}; "
          f"training wall-clock {walls} min; selected steps "
          f"{[s.get('selected', {}).get('step') for s in sums]}")
    for label, key in keys:
        for split in ("test", "train"):
            res = [s[split] if key is None else s[key][split] for s in sums]
            cells = []
            for n in res[0]["by_stages"]:
                vals = [100 * r["by_stages"][n]["success"] for r in res]
                m, se = mean_se(vals)
                k = sum(round(r["by_stages"][n]["success"] * r["by_stages"][n]["n"]) for r in res)
                tot = sum(int(r["by_stages"][n]["n"]) for r in res)
                w = rate(k, tot)
                paper = PAPER_TEST["dagger"].get(int(n)) if split == "test" else None
                cells.append(f"{n}: {m:.1f} ± {se:.1f} ({'/'.join(f'{v:.0f}' for v in vals)}; pooled {k}/{tot} "
                             f"[{100 * w.lo:.0f}, {100 * w.hi:.0f}])" + (f" paper {paper}" if paper else ""))
            allm, allse = mean_se([100 * r["success"] for r in res])
            print(f"  {split:5} {label:8} all {allm:.1f} ± {allse:.1f}; " + "; ".join(cells))
    if args.figure is not None:
        print("figure:", draw_seed_means(runs, args.figure))


if __name__ == "__main__":
    main()
