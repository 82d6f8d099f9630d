"""``ilya metarl eval``: a trained run's mean test return on the held-out worlds, with the random floor."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from ilya.core.errors import IlyaError
from ilya.core.runs import Run
from ilya.core.stats import mean_se
from ilya.metarl.compare import is_compare_run
from ilya.metarl.config import EvalConfig, TrainConfig
from ilya.metarl.train import make_learner, random_floor, world_seeds


def eval_command(cfg: EvalConfig) -> dict[str, Any]:
    run = Run.load(cfg.run, cfg.runs_dir, system="metarl")
    if "algo" not in run.config or is_compare_run(run):
        raise IlyaError(f"run {run.system}/{run.name} is not a metarl training run", file=run.path / "config.json")
    tcfg = run.config_as(TrainConfig)
    if cfg.test_worlds is not None:
        tcfg = dataclasses.replace(tcfg, test_worlds=cfg.test_worlds)
    state = run.load_checkpoint()
    if state is None:
        raise IlyaError(f"run {run.name} has no checkpoint yet", file=run.checkpoints_dir)
    learner = make_learner(tcfg)
    learner.load_state_dict(state["learner"])
    _, test_seeds = world_seeds(tcfg)
    test = learner.evaluate(test_seeds, seed=10_000 + cfg.seed)
    m, se = mean_se(test["score"])
    fm, fse = mean_se(random_floor(tcfg, test_seeds))
    out = {"run": run.name, "algo": tcfg.algo, "env": tcfg.env, "env_steps": int(state["env_steps"]),
           "test_worlds": len(test_seeds), "test_return": m, "test_return_se": se,
           "test_before": float(np.mean(test["before"])), "random_return": fm, "random_return_se": fse}
    if not cfg.json:
        print(f"{tcfg.algo} on {tcfg.env}: test return {m:+.3f} ± {se:.3f} over {len(test_seeds)} held-out worlds "
              f"(before adapting / exploring: {out['test_before']:+.3f}; random policy {fm:+.3f} ± {fse:.3f})")
    return out
