"""Ablations of OpenAI Five's recipe on the lane game, each with several seeds (figures in runs/five/ablations/).

    nice .venv/bin/python benchmarks/five_ablations.py [--seeds 3] [--iterations 40] [--groups spirit staleness surgery]
        [--lane-length 40 --max-steps 300 --hidden 64]   # the short lane of the "beats random" test

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
from dataclasses import dataclass, field, replace
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
    lane_length: float = 40.0
    """lane length of the game (40: the short lane, where 40 iterations beat random heroes)"""
    max_steps: int = 300
    """game length cap"""
    hidden: int = 64
    """LSTM units (surgery widens to twice this; the from-scratch arm has twice this)"""
    eval_games: int = 32
    """games per evaluation (vs random and vs scripted)"""
    temperature: float = 0.25
    """sampling temperature of the evaluations"""
    groups: list[str] = field(default_factory=lambda: ["spirit", "staleness", "surgery"])
    """which ablations"""
    runs_dir: Path = Path("runs")
    """runs folder"""


def arms(group: str, it: int, a: Args) -> dict[str, dict[str, object]]:
    from ilya.five.config import GameConfig, ModelConfig, SurgeryPlan

    game = GameConfig(lane_length=a.lane_length, max_steps=a.max_steps)

    if group == "spirit":
        return {"annealed": {}, "tau0": {"team_spirit_start": 0.0, "team_spirit_end": 0.0},
                "tau1": {"team_spirit_start": 1.0, "team_spirit_end": 1.0}}
    if group == "staleness":
        return {"stale0": {}, "stale4": {"staleness": 4}}
    if group == "surgery":
        return {"surgery": {"surgery": SurgeryPlan(at=it // 2, hidden=2 * a.hidden, obs="extended")},
                "scratch": {"model": ModelConfig(hidden=2 * a.hidden, embed=a.hidden),
                            "game": replace(game, obs="extended")}}
    raise SystemExit(f"unknown group {group}")


def main(a: Args) -> None:
    from ilya.core.figures import draw_paper
    from ilya.core.runs import Run
    from ilya.five.config import GameConfig, ModelConfig, TrainConfig
    from ilya.five.train import train

    for group in a.groups:
        for arm, kw in arms(group, a.iterations, a).items():
            finals = []
            for seed in range(a.seeds):
                base: dict[str, object] = {"game": GameConfig(lane_length=a.lane_length, max_steps=a.max_steps),
                                           "model": ModelConfig(hidden=a.hidden, embed=a.hidden)}
                cfg = TrainConfig(run=f"abl-{group}-{arm}-s{seed}", seed=seed, runs_dir=a.runs_dir, fresh=True,
                                  iterations=a.iterations, num_games=a.num_games, eval_every=max(a.iterations // 4, 1),
                                  eval_games=a.eval_games, eval_temperature=a.temperature, pool_every=5,
                                  **{**base, **kw})  # type: ignore[arg-type]
                res = train(cfg)
                finals.append((res["win_rate_random"], res["win_rate_scripted"]))
            rnd = [f[0] for f in finals]
            scr = [f[1] for f in finals]
            from ilya.core.stats import mean_se

            (mr, sr), (ms, ss) = mean_se(rnd), mean_se(scr)
            print(f"{group:>9} {arm:>9}: final win rate vs random {mr:.3f} ± {sr:.3f} "
                  f"(seeds {', '.join(f'{x:.2f}' for x in rnd)}), vs scripted {ms:.3f} ± {ss:.3f} "
                  f"(seeds {', '.join(f'{x:.2f}' for x in scr)})", flush=True)
    runs = [r for r in Run.all(a.runs_dir) if r.system == "five" and r.name.startswith("abl-")]
    for p in draw_paper("five", runs, a.runs_dir / "five" / "ablations"):
        print(p)


if __name__ == "__main__":
    main(tyro.cli(Args))
