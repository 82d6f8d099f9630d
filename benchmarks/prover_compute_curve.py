"""% of a fixed clean test subset proved (e=32, d=128) against training compute, beside the 20% target.

    .venv/bin/python benchmarks/prover_compute_curve.py [--runs-dir runs] [--out docs/img]

Reads the prover's runs (`ilya.prover.plots.compute_curve`): every model eval run of the test split with
``--clean --limit N`` (N the subset size most models were evaluated on; unfinished runs left out), each
beside its train run's steps, valid loss and recorded training time, and the frequency baseline on exactly
the same theorems (from its whole-split eval).  Prints the table (Wilson 95% intervals), ours (the best
model) against the target (20% within 6 CPU-hours) and the ratio, and a log-linear extrapolation of %
proved in training hours where the points allow one; draws ``OUT/prover_proved_vs_compute.png`` and
writes the rows to ``benchmarks/results/prover_compute_curve.json``.
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path

DEFAULT_MODEL = ("default, 4,000 steps\n(2026-11-26, not here)", 2116.0 / 3600, 1.712)
"""docs/prover.md: the default model's recorded training time and valid loss (not evaluated on the clean split)"""


def extrapolate(hours: list[float], pct: list[float], target: float) -> tuple[float, float, float] | None:
    """Least squares pct = a + b log10(hours): (a, b, hours where it reaches ``target``); None if b <= 0."""
    if len(set(hours)) < 2:
        return None
    xs = [math.log10(h) for h in hours]
    mx, my = sum(xs) / len(xs), sum(pct) / len(pct)
    sxx = sum((x - mx) ** 2 for x in xs)
    b = sum((x - mx) * (y - my) for x, y in zip(xs, pct, strict=True)) / sxx
    a = my - b * mx
    if b <= 0:
        return None
    return a, b, 10 ** ((target - a) / b)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs-dir", type=Path, default=Path("runs"))
    ap.add_argument("--out", type=Path, default=Path("docs/img"))
    ap.add_argument("--json-out", type=Path, default=Path("benchmarks/results/prover_compute_curve.json"))
    args = ap.parse_args()

    from ilya.core.runs import Run
    from ilya.core.stats import wilson_interval
    from ilya.prover.plots import TARGET_PROVED_PCT, TARGET_TRAIN_HOURS, compute_curve, draw_compute_curve

    curve = compute_curve(Run.all(args.runs_dir))
    if curve is None or not curve.points:
        raise SystemExit(f"no finished `ilya prover eval --model RUN --clean --limit N` runs in {args.runs_dir}")
    n = len(curve.labels)
    rows = []
    print(f"| model | steps | training (1-thread h) | valid loss | proved / {n} clean | % | Wilson 95% |")
    print("|---|---|---|---|---|---|---|")
    for p in curve.points:
        lo, hi = p.interval_pct
        rows.append({"model": p.model, "steps": p.steps, "train_seconds": p.train_seconds,
                     "train_hours": round(p.train_hours, 3), "valid_loss": round(p.valid_loss, 3),
                     "proved": p.proved, "attempted": p.attempted, "proved_pct": round(100 * p.proved / p.attempted, 2),
                     "wilson95_pct": [round(lo, 1), round(hi, 1)], "eval_run": p.eval_run})
        print(f"| {p.model} | {p.steps} | {p.train_hours:.3f} | {p.valid_loss:.3f} | {p.proved}/{p.attempted} "
              f"| {rows[-1]['proved_pct']} | {lo:.1f}-{hi:.1f} |")
    base = None
    if curve.baseline is not None:
        k, m = curve.baseline
        blo, bhi = wilson_interval(k, m)
        base = {"proved": k, "attempted": m, "proved_pct": round(100 * k / m, 2),
                "wilson95_pct": [round(100 * blo, 1), round(100 * bhi, 1)], "eval_run": curve.baseline_run}
        print(f"| frequency baseline (no training; {curve.baseline_run}) | - | 0 | - | {k}/{m} | {base['proved_pct']} "
              f"| {100 * blo:.1f}-{100 * bhi:.1f} |")
    best = max(curve.points, key=lambda p: (p.proved / p.attempted, -p.train_seconds))
    best_pct = 100 * best.proved / best.attempted
    print(f"\nours (best model, {best.model}): {best_pct:.2f}% after {best.train_hours:.2f} 1-thread hours; "
          f"target {TARGET_PROVED_PCT:g}% within {TARGET_TRAIN_HOURS:g} CPU-hours; ratio {best_pct / TARGET_PROVED_PCT:.3f}; "
          f"upper end of its 95% interval {best.interval_pct[1]:.1f}%")
    ext = extrapolate([p.train_hours for p in curve.points], [100 * p.proved / p.attempted for p in curve.points],
                      TARGET_PROVED_PCT)
    if ext is None:
        print("extrapolation: none (% proved does not rise with training hours across these points)")
    else:
        a, b, h = ext
        print(f"extrapolation (log-linear through {len(curve.points)} points, an extrapolation, not a measurement): "
              f"% proved = {a:.2f} + {b:.2f} log10(hours) reaches {TARGET_PROVED_PCT:g}% at {h:.3g} 1-thread hours")
    path = draw_compute_curve(curve, args.out / "prover_proved_vs_compute.png", other_losses=(DEFAULT_MODEL,))
    args.json_out.parent.mkdir(parents=True, exist_ok=True)
    args.json_out.write_text(json.dumps({
        "e": curve.e, "d": curve.d, "theorems": curve.labels, "models": rows, "baseline": base,
        "target": {"proved_pct": TARGET_PROVED_PCT, "train_hours": TARGET_TRAIN_HOURS},
        "extrapolation": None if ext is None else {"a": ext[0], "b_per_decade": ext[1], "hours_to_target": ext[2]},
    }, indent=1) + "\n")
    print(f"\nfigure: {path}; rows: {args.json_out}")


if __name__ == "__main__":
    main()
