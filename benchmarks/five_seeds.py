"""The seeds of the 30-CPU-minute recipe together: each seed's kept policy against the scripted bot on the
64 held-out games at both temperatures (from runs/five/<run>/benchmark.json, written by
`five_selfplay_30min.py`), the mean over seeds ± its standard error, a t-interval, and the Wilson interval
of the wins of all games pooled.  No games are played here.

    .venv/bin/python benchmarks/five_seeds.py [--runs bench-30cpu bench-30cpu-s1 bench-30cpu-s2 bench-30cpu-s3]

Prints ours, the target (0.80) and the ratio; writes benchmarks/results/five_seeds.json.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import tyro

from ilya.core.stats import summarize, wilson_interval

TARGET = 0.80
ROOT = Path(__file__).resolve().parents[1]


@dataclass
class Args:
    runs: list[str] = field(
        default_factory=lambda: ["bench-30cpu", "bench-30cpu-s1", "bench-30cpu-s2", "bench-30cpu-s3"])
    """runs of five_selfplay_30min.py (one per seed)"""
    runs_dir: Path = Path("runs")
    """runs folder"""
    out: Path = ROOT / "benchmarks" / "results" / "five_seeds.json"
    """where the table goes"""


def main(a: Args) -> None:
    rows = {}
    for name in a.runs:
        b = json.loads((a.runs_dir / "five" / name / "benchmark.json").read_text())
        cfg = json.loads((a.runs_dir / "five" / name / "config.json").read_text())
        rows[name] = {"seed": cfg.get("seed"), "kept_iteration": b["train"].get("best_iteration"),
                      "game_steps": b["train"]["game_steps"], "train_cpu_minutes": b["train"]["train_cpu_minutes"],
                      "train_wall_minutes": b["train"]["train_minutes"], "load_before": b["load_before"],
                      "load_after_training": b["load_after_training"],
                      f"t{b['temperature']:g}": b["vs_scripted"], f"t{b['other_temperature']:g}": b["vs_scripted_other_t"],
                      "latest": b.get("latest_vs_scripted")}
    out: dict[str, object] = {"runs": rows}
    for key in ("t1", "t0.25"):
        evs = [r[key] for r in rows.values()]
        s = summarize([e["win_rate"] for e in evs])
        wins, games = sum(e["wins"] for e in evs), sum(e["games"] for e in evs)
        pooled = (wins + 0.5 * sum(e["draws"] for e in evs)) / games
        lo, hi = wilson_interval(wins, games)
        out[key] = {"mean": s.mean, "se": s.se, "t_lo": s.lo, "t_hi": s.hi, "seeds": s.n,
                    "values": [e["win_rate"] for e in evs], "pooled_win_rate": pooled, "pooled_wins": wins,
                    "pooled_games": games, "pooled_wins_lo": lo, "pooled_wins_hi": hi}
        print(f"temperature {key[1:]}: " + ", ".join(
            f"{n} {e['win_rate']:.3f} (W{e['wins']} D{e['draws']} L{e['losses']}; wins {e['win_rate_lo']:.2f}-{e['win_rate_hi']:.2f})"
            for n, e in zip(rows, evs, strict=True)))
        print(f"  mean over {s.n} seeds {s.mean:.3f} ± {s.se:.3f} (s.e.; 95% t-interval {s.lo:.2f}-{s.hi:.2f}); "
              f"pooled {pooled:.3f} of {games} games (wins {wins}, Wilson {lo:.2f}-{hi:.2f}); target {TARGET}; "
              f"ratio {s.mean / TARGET:.2f}")
    a.out.parent.mkdir(parents=True, exist_ok=True)
    a.out.write_text(json.dumps(out, indent=1) + "\n")


if __name__ == "__main__":
    main(tyro.cli(Args))
