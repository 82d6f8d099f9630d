"""`ilya metarl compare`: every algorithm over several seeds, then the paper's return-vs-steps figure.

Each (algorithm, seed) is an ordinary training run, ``<name>-<algo>-s<seed>``, so an interrupted
comparison resumes where it stopped and finished runs are not trained again.  The comparison itself is
a run too (``runs/metarl/<name>``): its summary holds the table, its plots the figure (drawn by the
``compare_return`` run figure of `ilya.metarl.plots` through `ilya.core.figures.draw_run`).
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import numpy as np

from ilya.core.errors import IlyaError
from ilya.core.figures import draw_run
from ilya.core.runs import Run
from ilya.core.stats import summarize
from ilya.metarl.baselines import qlearning_returns
from ilya.metarl.config import ALGOS, LABELS, CompareConfig, TrainConfig
from ilya.metarl.scoring import world_stats
from ilya.metarl.train import check_config, env_spec, eval_seed, train, world_seeds


def child_configs(cfg: CompareConfig) -> list[TrainConfig]:
    name = cfg.run or f"compare-{cfg.env}"
    lr = TrainConfig.lr if cfg.lr is None else cfg.lr
    return [TrainConfig(lr=lr, run=f"{name}-{algo}-s{seed}", fresh=cfg.fresh, seed=seed, runs_dir=cfg.runs_dir,
                        algo=algo, env=cfg.env, env_steps=cfg.env_steps, krazy=cfg.krazy, krazy_preset=cfg.krazy_preset,
                        maze=cfg.maze, bandit=cfg.bandit, n_episodes=cfg.n_episodes, n_explore=cfg.n_explore,
                        train_worlds=cfg.train_worlds, test_worlds=cfg.test_worlds, eval_every=cfg.eval_every,
                        workers=cfg.workers, address=cfg.address, quiet=False)
            for algo in cfg.algos for seed in cfg.seeds]


def _train_one(tcfg: TrainConfig) -> dict[str, Any]:
    import torch

    torch.set_num_threads(1)
    return train(tcfg)


def seed_stats(xs: list[float]) -> dict[str, float]:
    """Mean, standard deviation and standard error over seeds (`ilya.core.stats.summarize`)."""
    s = summarize(xs)
    return {"mean": s.mean, "std": s.se * float(np.sqrt(s.n)), "se": s.se}


def seed_band(runs: Sequence[tuple[Sequence[float], Sequence[float]]], points: int = 50
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Seeds' (env steps, test return) curves on a common grid of ``points`` steps up to the shortest run's
    end: (grid, mean over seeds, standard error over seeds; zero with one seed)."""
    arrays = [(np.asarray(s, float), np.asarray(r, float)) for s, r in runs]
    grid = np.linspace(0, min(s[-1] for s, _ in arrays), points)
    ys = np.stack([np.interp(grid, s, r) for s, r in arrays])
    mean = ys.mean(0)
    se = ys.std(0, ddof=1) / np.sqrt(len(ys)) if len(ys) > 1 else np.zeros_like(mean)
    return grid, mean, se


def versus_floor(xs: list[float], floor: float, floor_se: float | None) -> dict[str, Any]:
    """Is a learner clearly above the random floor?  The 95% t-interval of its mean over seeds against the
    floor's 95% interval (± 1.96 Monte Carlo s.e.); ``above`` when the two do not overlap."""
    s = summarize(xs)
    half = 1.96 * float(floor_se or 0.0)
    return {"ci95": [s.lo, s.hi], "floor_ci95": [floor - half, floor + half], "above": bool(s.lo > floor + half)}


def qlearning_floor(tcfg: TrainConfig) -> dict[str, float]:
    """Tabular Q-learning from scratch on each test world, given RL²'s trial (`ilya.metarl.baselines`),
    scored on the same episodes: what plain RL makes of the data a meta-learner gets at test time."""
    _, test_seeds = world_seeds(tcfg)
    r = qlearning_returns(env_spec(tcfg), test_seeds, max(1, tcfg.eval_trials), tcfg.n_episodes,
                          eval_seed(tcfg) + 3, n_explore=tcfg.n_explore)
    return world_stats(r[:, :, tcfg.n_explore:].mean(-1))


def is_compare_run(run: Run) -> bool:
    """A comparison run (its config is a `CompareConfig`: it names the algorithms it compares)."""
    return "algos" in run.config


def compare(cfg: CompareConfig) -> dict[str, Any]:
    bad = [a for a in cfg.algos if a not in ALGOS]
    if bad or not cfg.algos:
        raise IlyaError(f"--algos {' '.join(bad) or '(none)'}: expected some of {', '.join(ALGOS)}")
    if not cfg.seeds:
        raise IlyaError("--seeds: give at least one seed")
    children = child_configs(cfg)
    for c in children[:1]:
        check_config(c)
    name = cfg.run or f"compare-{cfg.env}"
    # the number of parallel jobs does not change the results: leave it out of the resumable config
    config = {f.name: getattr(cfg, f.name) for f in dataclasses.fields(cfg) if f.name != "jobs"}
    with Run.open("metarl", config, name=name, seed=False) as run:
        jobs = cfg.jobs or min(len(children), os.cpu_count() or 1)
        if jobs <= 1:
            summaries = [_train_one(c) for c in children]
        else:
            with ProcessPoolExecutor(jobs, mp_context=get_context("spawn")) as pool:
                summaries = list(pool.map(_train_one, children))
        table: dict[str, Any] = {}
        for algo in cfg.algos:
            rows = [s for s in summaries if s["algo"] == algo]
            table[algo] = {"test_return": seed_stats([s["test_return"] for s in rows]),
                           "seeds": [s["seed"] for s in rows],
                           "per_seed": [round(s["test_return"], 4) for s in rows],
                           "env_steps": int(np.mean([s["env_steps"] for s in rows]))}
        floor = summaries[0]["random_return"]
        for algo in cfg.algos:
            xs = [s["test_return"] for s in summaries if s["algo"] == algo]
            table[algo]["versus_random"] = versus_floor(xs, floor, summaries[0].get("random_return_se"))
        q = qlearning_floor(children[0])
        result = {"env": cfg.env, "env_steps_per_run": cfg.env_steps, "random_return": floor,
                  "random_return_se": summaries[0].get("random_return_se"),
                  "qlearning_return": q["mean"], "qlearning_return_se": q["se"],
                  "test_worlds": cfg.test_worlds, "algos": table,
                  "runs": [str(Path(s["run"]).name) for s in summaries]}
        run.summary(**result)
        figs = [p for p in draw_run(run) if p.name == "compare_return.png"]
        result["figure"] = str(figs[0]) if figs else ""
    return result


def format_table(result: dict[str, Any]) -> str:
    lines = [f"{'algorithm':<9} {'test return (mean ± s.e. over seeds)':<37} per seed",
             f"{'random':<9} {result['random_return']:+.3f}"]
    if result.get("qlearning_return") is not None:
        lines.append(f"{'Q-learn':<9} {result['qlearning_return']:+.3f} (from scratch on RL²'s trial)")
    for algo, row in result["algos"].items():
        st = row["test_return"]
        err = f"± {st['se']:.3f}" if len(row["per_seed"]) > 1 else "(1 seed)"
        vs = row.get("versus_random")
        ci = (f"95% CI [{vs['ci95'][0]:+.3f}, {vs['ci95'][1]:+.3f}] {'above' if vs['above'] else 'NOT above'} random"
              if vs and len(row["per_seed"]) > 1 else "")
        lines.append(f"{LABELS.get(algo, algo):<9} {st['mean']:+.3f} {err:<8}{'':<22} "
                     + " ".join(f"{x:+.3f}" for x in row["per_seed"]) + (f"  {ci}" if ci else ""))
    return "\n".join(lines)


def compare_command(cfg: CompareConfig) -> dict[str, Any]:
    """``ilya metarl compare``: the table on stdout (or one JSON object with --json)."""
    result = compare(cfg)
    if not cfg.json:
        print(format_table(result))
        print(f"figure: {result['figure']}")
    return result
