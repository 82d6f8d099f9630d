"""The comparison's table and figure from finished training runs (any seeds per algorithm), without training.

`ilya metarl compare` (and `benchmarks/metarl_learning.py`) train every (algorithm, seed) and then draw; this
reads the runs ``<name>-<algo>-s<seed>`` they left, so a comparison can be reported with the seeds that
finished within a budget.  Per algorithm it prints: the final test return on the held-out worlds, mean ±
s.e. over seeds, its 95% t-interval and whether that lies above the random floor's 95% interval
(`ilya.metarl.compare.versus_floor`), the per-seed values, the best point of the mean curve (for reading
the curve only: no iterate is selected) and the mean of the last five evaluation points; then E-MAML −
MAML and E-RL² − RL² (difference of means ± the combined s.e.).  Run:

    .venv/bin/python benchmarks/metarl_compare_table.py --name bench-krazy-ref-w100000-lr0.001-500000 \\
        --seeds 0 1 2 3 4 [--figure docs/img/metarl_compare_krazy_reference_fresh.png]
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path

import numpy as np

from ilya.core.runs import Run
from ilya.core.stats import summarize
from ilya.metarl.compare import qlearning_floor, seed_band, versus_floor
from ilya.metarl.config import ALGOS, LABELS, TrainConfig


def main() -> None:
    ap = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    ap.add_argument("--name", required=True, help="the comparison's name (its runs are <name>-<algo>-s<seed>)")
    ap.add_argument("--algos", nargs="+", default=list(ALGOS), choices=list(ALGOS))
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--runs-dir", type=Path, default=Path("runs/bench"))
    ap.add_argument("--figure", type=Path, default=None, help="also draw the figure here")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    curves: dict[str, list[tuple[list[int], list[float]]]] = {}
    out: dict[str, dict] = {}
    floor = floor_se = None
    first: Run | None = None
    for algo in args.algos:
        finals, tails, runs = [], [], []
        for seed in args.seeds:
            path = args.runs_dir / "metarl" / f"{args.name}-{algo}-s{seed}"
            if not (path / "summary.json").is_file():
                continue
            run = Run.load(str(path))
            s = run.read_summary()
            if floor is None:
                floor, floor_se, first = float(s["random_return"]), float(s["random_return_se"]), run
            steps, values = run.series("test/return")
            runs.append((steps, values))
            finals.append(float(s["test_return"]))
            tails.append(float(np.mean(values[-5:])))
        if not finals or floor is None:
            continue
        curves[algo] = runs
        st, tail = summarize(finals), summarize(tails)
        grid, mean, se = seed_band(runs)  # the figure's mean curve and band
        b = int(mean.argmax())
        out[algo] = {"n": st.n, "mean": st.mean, "se": st.se, "per_seed": finals, "tail_mean": tail.mean,
                     "tail_se": tail.se, "best": float(mean[b]), "best_se": float(se[b]), "best_step": float(grid[b]),
                     **versus_floor(finals, floor, floor_se)}
    if floor is None:
        raise SystemExit(f"no finished runs named {args.name}-<algo>-s<seed> under {args.runs_dir}")
    diffs = {}
    for e, base in (("emaml", "maml"), ("erl2", "rl2")):
        if e in out and base in out:
            diffs[f"{e}-{base}"] = (out[e]["mean"] - out[base]["mean"], math.hypot(out[e]["se"], out[base]["se"]))
    assert first is not None
    q = qlearning_floor(first.config_as(TrainConfig))["mean"]  # as `compare` does: on the first run's test worlds
    if args.figure is not None:
        from ilya.metarl.plots import compare_figure

        compare_figure(curves, floor, args.figure,
                       f"Krazy World (reference): test return vs env steps ({args.name})", q)
    if args.json:
        print(json.dumps({"random_return": floor, "random_return_se": floor_se, "qlearning_return": q, "algos": out,
                          "diffs": diffs}))
        return
    print(f"random policy {floor:+.3f} ± {floor_se:.3f} (95% interval ± {1.96 * (floor_se or 0):.3f}); "
          f"Q-learning from scratch on RL²'s trial {q:+.3f}")
    for algo, r in out.items():
        print(f"{LABELS[algo]:<7} n={r['n']}  final {r['mean']:+.3f} ± {r['se']:.3f}  95% CI [{r['ci95'][0]:+.3f}, "
              f"{r['ci95'][1]:+.3f}] {'above' if r['above'] else 'NOT above'} random  per seed "
              + " ".join(f"{x:+.3f}" for x in r["per_seed"])
              + f"  best of mean curve {r['best']:+.3f} ± {r['best_se']:.3f} at {r['best_step'] / 1000:.0f}k"
              f"  last-5 mean {r['tail_mean']:+.3f} ± {r['tail_se']:.3f}")
    for k, (d, e) in diffs.items():
        print(f"{k}: {d:+.3f} ± {e:.3f}")


if __name__ == "__main__":
    main()
