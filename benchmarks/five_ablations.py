"""Ablations of OpenAI Five's recipe on the lane game, each with several seeds (figures in runs/five/ablations/).

    nice .venv/bin/python benchmarks/five_ablations.py [--seeds 3] [--iterations 40] [--groups spirit staleness surgery]

* spirit:    team spirit annealed 0.3 -> 1.0 (the paper) against τ fixed at 0 and at 1;
* staleness: on-policy data against rollouts of the policy 4 versions old (the paper's Figure 5b);
* surgery:   128 LSTM units + base observations, widened to 256 units + extended observations half-way,
             against a run from scratch with the final architecture at equal compute (the same number of
             iterations and game steps: the paper's "Rerun").

Every arm trains for the same number of iterations; the figure plots the win rate against random heroes
and against the scripted bot (mean ± s.e. over seeds) against game steps, and the script prints the final
numbers per arm.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("ILYA_PROGRESS", "0")

import tyro  # noqa: E402


@dataclass
class Args:
    seeds: int = 3
    """seeds per arm"""
    iterations: int = 40
    """PPO iterations per run (equal compute for every arm)"""
    num_games: int = 16
    """games per rollout"""
    groups: list[str] = field(default_factory=lambda: ["spirit", "staleness", "surgery"])
    """which ablations"""
    runs_dir: Path = Path("runs")
    """runs folder"""


def arms(group: str, it: int) -> dict[str, dict[str, object]]:
    from ilya.five.config import GameConfig, ModelConfig, SurgeryPlan

    if group == "spirit":
        return {"annealed": {}, "tau0": {"team_spirit_start": 0.0, "team_spirit_end": 0.0},
                "tau1": {"team_spirit_start": 1.0, "team_spirit_end": 1.0}}
    if group == "staleness":
        return {"stale0": {}, "stale4": {"staleness": 4}}
    if group == "surgery":
        return {"surgery": {"surgery": SurgeryPlan(at=it // 2, hidden=256, obs="extended")},
                "scratch": {"model": ModelConfig(hidden=256), "game": GameConfig(obs="extended")}}
    raise SystemExit(f"unknown group {group}")


def main(a: Args) -> None:
    from ilya.core.figures import draw_paper
    from ilya.core.runs import Run
    from ilya.five.config import TrainConfig
    from ilya.five.train import train

    for group in a.groups:
        for arm, kw in arms(group, a.iterations).items():
            finals = []
            for seed in range(a.seeds):
                cfg = TrainConfig(run=f"abl-{group}-{arm}-s{seed}", seed=seed, runs_dir=a.runs_dir,
                                  iterations=a.iterations, num_games=a.num_games, eval_every=max(a.iterations // 4, 1),
                                  eval_games=8, **kw)  # type: ignore[arg-type]
                res = train(cfg)
                finals.append((res["win_rate_random"], res["win_rate_scripted"]))
            rnd = [f[0] for f in finals]
            scr = [f[1] for f in finals]
            print(f"{group:>9} {arm:>9}: final win rate vs random {sum(rnd) / len(rnd):.3f} "
                  f"(seeds {', '.join(f'{x:.2f}' for x in rnd)}), vs scripted {sum(scr) / len(scr):.3f}", flush=True)
    runs = [r for r in Run.all(a.runs_dir) if r.system == "five" and r.name.startswith("abl-")]
    for p in draw_paper("five", runs, a.runs_dir / "five" / "ablations"):
        print(p)


if __name__ == "__main__":
    main(tyro.cli(Args))
