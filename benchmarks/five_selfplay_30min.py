"""The issue's headline: 30 minutes of self-play on the 2-core machine, then the win rate against the
scripted bot (target: 80 % or more) and TrueSkill over training.

    nice .venv/bin/python benchmarks/five_selfplay_30min.py [--minutes 30] [--games 64] [--run bench-30min]

Prints ours, the target and the ratio; figures in runs/five/<run>/plots (trueskill.png is the headline).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

os.environ.setdefault("ILYA_PROGRESS", "0")

import tyro  # noqa: E402

TARGET = 0.80


@dataclass
class Args:
    minutes: float = 30.0
    """training budget"""
    games: int = 64
    """evaluation games against the scripted bot"""
    run: str = "bench-30min"
    """run name"""
    workers: int = 0
    """Ray rollout workers (0: in-process)"""
    runs_dir: Path = Path("runs")
    """runs folder"""


def main(a: Args) -> None:
    from ilya.five.config import EvalConfig, RateConfig, TrainConfig
    from ilya.five.evaluate import evaluate, rate
    from ilya.five.train import train

    res = train(TrainConfig(run=a.run, minutes=a.minutes, workers=a.workers, runs_dir=a.runs_dir,
                            eval_every=50, eval_games=8, threads=2))
    ev = evaluate(EvalConfig(run=res["run"], games=a.games, json=True))
    rt = rate(RateConfig(run=res["run"], games=8, json=True))
    print(f"after {res['train_minutes']:.1f} min ({res['game_steps']:,} game steps): win rate vs the scripted bot "
          f"{ev['win_rate']:.3f} [{ev['win_rate_lo']:.2f}, {ev['win_rate_hi']:.2f}] over {ev['games']} games; "
          f"target {TARGET:.2f}; ratio {ev['win_rate'] / TARGET:.2f}")
    snaps = sorted((r for r in rt["ratings"] if r["version"] >= 0), key=lambda r: r["game_steps"])
    print("TrueSkill (random = 0): " + ", ".join(f"{r['game_steps']:,}: {r['mu']:+.1f}" for r in snaps)
          + f"; scripted bot {rt['scripted_mu']:+.1f}; figure {rt['figure']}")


if __name__ == "__main__":
    main(tyro.cli(Args))
