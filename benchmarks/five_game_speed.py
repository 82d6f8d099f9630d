"""Game steps per second of the vectorised 5v5 lane game on one core (issue target: >= 3,000).

    nice .venv/bin/python benchmarks/five_game_speed.py [--games 256] [--steps 300] [--actions random]

Prints game steps/s and hero-steps/s (x10) against the target and the ratio.  Actions are drawn
uniformly from the legal ones (random) or by the scripted bot; the time includes choosing them.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")

import tyro  # noqa: E402

from ilya.five.config import BenchConfig  # noqa: E402

TARGET = 3000.0

if __name__ == "__main__":
    from ilya.five.evaluate import game_speed

    cfg = tyro.cli(BenchConfig)
    r = game_speed(cfg)
    print(f"lane game, {cfg.games} games at once, {cfg.actions} actions, 1 core: "
          f"{r['game_steps_per_s']:,.0f} game steps/s = {r['hero_steps_per_s']:,.0f} hero-steps/s; "
          f"target {TARGET:,.0f} game steps/s; ratio {r['game_steps_per_s'] / TARGET:.2f}")
