"""Success falling with the number of stages, on the paper's task set: DAgger (and BC) with the robust recipe on
140 training / 43 test layouts of 10 blocks, 1-8 stages, success by stages on training and test tasks beside the
paper's, and the paper's figure redrawn.

    nice .venv/bin/python benchmarks/imitation_paper_set.py [--algos dagger,bc] [--steps 16000] [--seed 0]
        [--skip-train] [--figure docs/img]

Trains (or resumes) runs/imitation/<algo>-<steps/1000>k-paper-seed<N>:

    ilya imitation train --max-blocks 10 --max-stages 8 --train-tasks 140 --test-tasks 43 --model.max-blocks 10
        --algo dagger --steps 16000 --dagger-start 0.3 --dagger-rounds 8 --ema 0.999 --select-every 800
        --eval-trials 10 --log-every 100 --threads 1 --seed 0

(BC: the same with --algo bc), whose own final evaluation is `ilya imitation eval RUN --split both --trials 10`
(10 episodes per task from fresh initial states).  Prints per number of stages ours with the Wilson 95 %
interval, the paper's, ours - paper, and the expert (test tasks, the run's own evaluation); the training
wall-clock and CPU-s.  About 25-30 CPU-minutes per run on this CPU (benchmarks/imitation_scale_cost.py).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch

from ilya.core.runs import Run
from ilya.imitation.config import ModelConfig, TrainConfig
from ilya.imitation.plots import PAPER_TEST, draw_task_set, task_set_of
from ilya.imitation.train import train

PAPER_SET = {"max_blocks": 10, "max_stages": 8, "train_tasks": 140, "test_tasks": 43}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--algos", default="dagger,bc")
    ap.add_argument("--steps", type=int, default=16000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--trials", type=int, default=10)
    ap.add_argument("--runs-dir", type=Path, default=Path("runs"))
    ap.add_argument("--figure", type=Path, default=None, help="folder for imitation_stages_10blocks_8stages.png")
    ap.add_argument("--skip-train", action="store_true", help="print the existing runs only")
    args = ap.parse_args()
    torch.set_num_threads(1)
    runs = []
    for algo in args.algos.split(","):
        name = f"{algo}-{args.steps // 1000}k-paper-seed{args.seed}"
        if not args.skip_train:
            train(TrainConfig(algo=algo, steps=args.steps, dagger_start=0.3, dagger_rounds=8, ema=0.999,  # type: ignore[arg-type]
                              select_every=800, eval_trials=args.trials, log_every=100, threads=1, seed=args.seed,
                              run=name, runs_dir=args.runs_dir, model=ModelConfig(max_blocks=10), **PAPER_SET))
        try:
            run = Run.load(name, args.runs_dir, system="imitation")
        except Exception as e:   # noqa: BLE001 (a run not trained yet: say so, print the others)
            print(f"{name}: {e}")
            continue
        s = run.read_summary()
        if "test" not in s:
            print(f"{name}: not finished")
            continue
        runs.append(run)
        cpu = f", {s['cpu_s'] / 60:.1f} CPU-min" if "cpu_s" in s else ""
        sel = s.get("selected", {})
        print(f"\n{algo.upper()} {name}: {args.steps} steps, {s['wall_s'] / 60:.1f} min wall-clock{cpu}; "
              f"{s.get('dagger_pairs', 0)} expert-labelled DAgger states; selected step {sel.get('step')} "
              f"(validation {100 * sel.get('validation_success', 0):.1f} % of {sel.get('episodes')})")
        for split in ("test", "train"):
            print(f"  {split} tasks, all: {100 * s[split]['success']:.1f} % [{100 * s[split]['lo']:.0f}, "
                  f"{100 * s[split]['hi']:.0f}]")
            for n, r in s[split]["by_stages"].items():
                paper = PAPER_TEST[algo].get(int(n)) if split == "test" else None
                ex = s["expert"]["by_stages"].get(n, {}).get("success") if split == "test" else None
                print(f"    {n} stages: {100 * r['success']:5.1f} % [{100 * r['lo']:.0f}, {100 * r['hi']:.0f}] "
                      f"of {int(r['n'])}"
                      + (f"; paper {paper} %, ours - paper {100 * r['success'] - paper:+.1f}" if paper else "")
                      + (f"; expert {100 * ex:.0f} %" if ex is not None else ""))
    if runs:   # the table of docs/imitation.md: per stage, test then training tasks, DAgger (BC), the paper beside
        sums = {r.read_summary()["algo"]: r.read_summary() for r in runs}

        def cell(algo: str, split: str, n: str) -> str:
            r = sums[algo][split]["by_stages"].get(n) if algo in sums else None
            if r is None:
                return "-"
            k = round(r["success"] * r["n"])
            return f"{100 * r['success']:.1f} % ({k}/{int(r['n'])}) [{100 * r['lo']:.0f}, {100 * r['hi']:.0f}]"

        print("\n| stages | paper DAgger (BC), test | ours DAgger, test | ours BC, test | ours DAgger, training "
              "| ours BC, training | expert, test |")
        print("|---|---|---|---|---|---|---|")
        first = next(iter(sums.values()))
        for n in first["test"]["by_stages"]:
            pd, pb = PAPER_TEST["dagger"].get(int(n)), PAPER_TEST["bc"].get(int(n))
            paper = f"{pd} % ({pb} %)" if pd else ""
            ex = first["expert"]["by_stages"][n]
            print(f"| {n} | {paper} | {cell('dagger', 'test', n)} | {cell('bc', 'test', n)} | "
                  f"{cell('dagger', 'train', n)} | {cell('bc', 'train', n)} | {100 * ex['success']:.0f} % "
                  f"({int(ex['n'])}) |")
        alls = [f"{100 * sums[a][sp]['success']:.1f} %" if a in sums else "-"
                for a, sp in (("dagger", "test"), ("bc", "test"), ("dagger", "train"), ("bc", "train"))]
        print(f"| all | | {alls[0]} | {alls[1]} | {alls[2]} | {alls[3]} | "
              f"{100 * first['expert']['success']:.0f} % |")
    if args.figure is not None and runs:
        print("figure:", draw_task_set(runs, args.figure, task_set_of(runs[0])))


if __name__ == "__main__":
    main()
