"""``ilya metarl eval``: a trained run's mean test return on the held-out worlds, with the random floor."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from ilya.core.errors import IlyaError
from ilya.core.runs import Run
from ilya.metarl.compare import is_compare_run
from ilya.metarl.config import EvalConfig, TrainConfig
from ilya.metarl.scoring import world_stats
from ilya.metarl.train import eval_seed, make_learner, random_floor, world_seeds


def eval_command(cfg: EvalConfig) -> dict[str, Any]:
    run = Run.load(cfg.run, cfg.runs_dir, system="metarl")
    if "algo" not in run.config or is_compare_run(run):
        raise IlyaError(f"run {run.system}/{run.name} is not a metarl training run", file=run.path / "config.json")
    tcfg = run.config_as(TrainConfig)
    if cfg.test_worlds is not None:
        tcfg = dataclasses.replace(tcfg, test_worlds=cfg.test_worlds)
    if cfg.trials is not None:
        if cfg.trials < 1:
            raise IlyaError(f"--trials {cfg.trials}: expected at least 1")
        tcfg = dataclasses.replace(tcfg, eval_trials=cfg.trials)
    state = run.load_checkpoint()
    if state is None:
        raise IlyaError(f"run {run.name} has no checkpoint yet", file=run.checkpoints_dir)
    learner = make_learner(tcfg)
    learner.load_state_dict(state["learner"])
    _, test_seeds = world_seeds(tcfg)
    seed = eval_seed(tcfg) if cfg.seed is None else cfg.seed
    test = learner.evaluate(test_seeds, seed=seed)
    st, fl = world_stats(test["score"]), world_stats(random_floor(tcfg, test_seeds))
    m, se, fm, fse = st["mean"], st["se"], fl["mean"], fl["se"]
    before = test["before"]
    out = {"run": run.name, "algo": tcfg.algo, "env": tcfg.env, "env_steps": int(state["env_steps"]),
           "test_worlds": len(test_seeds), "eval_seed": seed, "test_return": m, "test_return_se": se,
           "test_return_se_worlds": st["se_worlds"],
           "test_before": None if np.isnan(before).all() else float(np.mean(before)),
           "random_return": fm, "random_return_se": fse, "random_return_se_worlds": fl["se_worlds"]}
    if not cfg.json:
        b = "" if out["test_before"] is None else f"before adapting / exploring: {out['test_before']:+.3f}; "
        print(f"{tcfg.algo} on {tcfg.env}: test return {m:+.3f} ± {se:.3f} (s.e. on these worlds; "
              f"± {st['se_worlds']:.3f} over worlds) on {len(test_seeds)} held-out worlds ({b}random policy "
              f"{fm:+.3f} ± {fse:.3f})")
    return out
