"""Why the kept policies of the 30-CPU-minute recipe win less at temperature 1 than at 0.25, without
training: their win rate against the scripted bot over the sampling temperature, the entropy of each
action head, how often a sampled choice is not the head's most likely one, and the win rate with one
temperature per head (which head's noise costs the games).

    nice .venv/bin/python benchmarks/five_temperature.py [--runs bench-30cpu bench-30cpu-s2] [--games 64]

The games are the benchmark's held-out ones (seed 1; `five_selfplay_30min.py` evaluates the same 64 at
temperatures 0.25 and 1, so those two points reproduce its numbers).  Writes runs/five/<run>/temperature.json
per run, benchmarks/results/five_temperature.json (the other runs' studies of an earlier call are kept) and
docs/img/five_temperature*.png (of all of them); prints ours, the target (0.80) and the ratio, and the CPU
seconds per 64-game match.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

os.environ.setdefault("ILYA_PROGRESS", "0")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import tyro  # noqa: E402

TARGET = 0.80
ROOT = Path(__file__).resolve().parents[1]


@dataclass
class Args:
    runs: list[str] = field(default_factory=lambda: ["bench-30cpu", "bench-30cpu-s2"])
    """the runs whose kept (--keep-best) policy to study"""
    temperatures: list[float] = field(default_factory=lambda: [0.1, 0.25, 0.5, 0.75, 1.0])
    """sampling temperatures of the whole policy"""
    heads: bool = True
    """also play with one head at temperature 1 and the others at 0.25, and one at 0.25 and the others at 1"""
    games: int = 64
    """games per match (half on each side)"""
    seed: int = 1
    """seed of the games (1: the benchmark's held-out games)"""
    runs_dir: Path = Path("runs")
    """runs folder"""
    out: Path = ROOT / "benchmarks" / "results" / "five_temperature.json"
    """where all runs' results go"""
    figures: Path = ROOT / "docs" / "img"
    """folder of the figures (five_temperature.png, five_temperature_heads.png)"""
    tag: str = ""
    """suffix of the result and figure names (e.g. "fresh" for another set of games: --seed 3 --games 128)"""


def main(a: Args) -> None:
    import json
    import time

    import torch

    from ilya.core.runs import Run
    from ilya.five.evaluate import temperature_study
    from ilya.five.plots import temperature_figure

    torch.set_num_threads(1)
    variants: tuple[tuple[float, float, float], ...] = ()
    if a.heads:
        hot = tuple(tuple(1.0 if i == j else 0.25 for i in range(3)) for j in range(3))
        cold = tuple(tuple(0.25 if i == j else 1.0 for i in range(3)) for j in range(3))
        variants = hot + cold  # type: ignore[assignment]
    studies = []
    sfx = f"_{a.tag}" if a.tag else ""
    for name in a.runs:
        load0, c0 = os.getloadavg(), time.process_time()
        s = temperature_study(name, a.runs_dir, tuple(a.temperatures), variants, a.games, a.seed)
        s["load_before_after"] = [load0, os.getloadavg()]
        s["cpu_s"] = time.process_time() - c0
        s["date"] = "2026-12-03"
        Path(Run.load(name, a.runs_dir, system="five").path, f"temperature{sfx}.json").write_text(json.dumps(s, indent=1) + "\n")
        studies.append(s)
        print(f"five/{name} (kept policy, {a.games} games vs the scripted bot, seed {a.seed}; "
              f"{s['cpu_s'] / 60:.1f} CPU-min, load {load0[0]:.1f}):")
        for r in s["temperatures"]:
            d = r["decisions"]
            print(f"  T {r['temperature']:<5g} win rate {r['win_rate']:.3f} (W{r['wins']} D{r['draws']} L{r['losses']}; "
                  f"wins {r['wins_lo']:.2f}-{r['wins_hi']:.2f}); target {TARGET}; ratio {r['win_rate'] / TARGET:.2f}; "
                  f"deaths {r['deaths_per_game']:.1f}, kills {r['kills_per_game']:.1f} per game; entropy at T "
                  + " ".join(f"{h} {d[h]['entropy']:.2f}" for h in ("kind", "direction", "target"))
                  + "; not greedy " + " ".join(f"{h} {d[h]['not_greedy']:.2f}" for h in ("kind", "direction", "target"))
                  + f"; {r['cpu_s']:.1f} CPU-s")
        for r in s["heads"]:
            print(f"  heads (kind, direction, target) {r['temperature']}: win rate {r['win_rate']:.3f} "
                  f"(W{r['wins']} D{r['draws']} L{r['losses']}); deaths {r['deaths_per_game']:.1f} per game")
    out = a.out.with_name(a.out.stem + sfx + a.out.suffix)
    if out.is_file():  # keep the other runs' studies of an earlier call (same games and temperatures)
        earlier = [e for e in json.loads(out.read_text()) if e["run"] not in a.runs
                   and (e["games"], e["seed"]) == (a.games, a.seed)]
        studies = sorted(earlier + studies, key=lambda e: e["run"])
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(studies, indent=1) + "\n")
    tmp = a.figures / "_five_temperature"
    for p in temperature_figure(studies, tmp):
        dest = a.figures / f"five_{p.stem}{sfx}.png"
        p.replace(dest)
        print(f"figure: {dest}")
    tmp.rmdir()


if __name__ == "__main__":
    main(tyro.cli(Args))
