"""Success rate by number of stages, as in the paper: on training and test tasks, conditioned on the whole
demonstration or on its final state, with one demonstration or an ensemble (jobs on Ray workers or here)."""

from __future__ import annotations

import dataclasses
import sys
from collections import defaultdict
from typing import Any

import numpy as np
import torch

from ilya.core.errors import IlyaError
from ilya.core.runs import Run
from ilya.core.stats import rate
from ilya.imitation.config import EvalConfig, ModelConfig, TrainConfig
from ilya.imitation.dataset import Dataset, load_dataset
from ilya.imitation.env import BlockStackEnv
from ilya.imitation.expert import run_expert
from ilya.imitation.parallel import run_jobs
from ilya.imitation.policy import OneShotPolicy
from ilya.imitation.rollout import condition, rollouts
from ilya.imitation.tasks import Task

EVAL_SEED_BASE = 900_000_000


def eval_seed(seed: int, split: str, index: int, k: int) -> int:
    """Initial state of evaluation episode ``k`` of a task (never a demonstration's)."""
    return EVAL_SEED_BASE + seed * 10_000_000 + (0 if split == "train" else 5_000_000) + index * 10_000 + k


def by_stages(tasks: list[Task], successes: list[np.ndarray]) -> dict[str, dict[str, float]]:
    """{n_stages: {success, lo, hi, n}} (Wilson 95 % intervals) over the tasks' episodes."""
    groups: dict[int, list[bool]] = defaultdict(list)
    for task, s in zip(tasks, successes, strict=True):
        groups[task.n_stages] += [bool(x) for x in s]
    out: dict[str, dict[str, float]] = {}
    for n in sorted(groups):
        r = rate(sum(groups[n]), len(groups[n]))
        out[str(n)] = {"success": r.mean, "lo": r.lo, "hi": r.hi, "n": r.n}
    return out


def state_numpy(model: torch.nn.Module) -> dict[str, np.ndarray]:
    return {k: v.detach().cpu().numpy() for k, v in model.state_dict().items()}


def evaluate_policy(model: torch.nn.Module, model_cfg: ModelConfig, data: Dataset, split: str, trials: int,
                    conditioning: str = "demo", ensemble: int = 1, physics: str | None = None, seed: int = 0,
                    workers: int = 0, address: str | None = None) -> dict[str, Any]:
    """Success by number of stages of ``model`` on the ``split`` tasks of ``data``."""
    tasks = data.tasks(split)
    shards = data.train if split == "train" else data.test
    phys = physics or data.manifest["physics"]
    layouts, seeds, demos, owner = [], [], [], []
    for i, (task, shard) in enumerate(zip(tasks, shards, strict=True)):
        n = len(shard["lengths"])
        for k in range(trials):
            layouts.append(task.layout)
            seeds.append(eval_seed(seed, split, i, k))
            demos.append([condition(shard["obs"][(k + e) % n], int(shard["lengths"][(k + e) % n]), conditioning,
                                    model_cfg.temporal_dropout) for e in range(ensemble)])
            owner.append(i)
    res = rollouts(state_numpy(model), dataclasses.asdict(model_cfg), data.max_blocks, phys, layouts, seeds, demos,
                   workers=workers, address=address, desc=f"eval {split}")
    own = np.asarray(owner)
    succ = [res["success"][own == i] for i in range(len(tasks))]
    allv = res["success"]
    r = rate(int(allv.sum()), len(allv))
    return {"split": split, "conditioning": conditioning, "ensemble": ensemble, "physics": phys,
            "trials_per_task": trials, "tasks": len(tasks), "success": r.mean, "lo": r.lo, "hi": r.hi,
            "by_stages": by_stages(tasks, succ),
            "stages_done": float(np.mean(res["stages"])) if len(own) else 0.0}


def expert_rates(tasks: list[Task], physics: str, trials: int, seed: int, workers: int = 0,
                 address: str | None = None, split: str = "test") -> dict[str, Any]:
    """The scripted expert's success by number of stages on ``tasks`` (fresh initial states)."""
    jobs = [(t.layout, t.n_blocks, physics, [eval_seed(seed, split, i, k) for k in range(trials)])
            for i, t in enumerate(tasks)]
    res = run_jobs(expert_task, jobs, workers=workers, address=address, desc="expert")
    succ = [np.asarray(r) for r in res]
    allv = np.concatenate(succ)
    r = rate(int(allv.sum()), len(allv))
    return {"success": r.mean, "lo": r.lo, "hi": r.hi, "episodes": len(allv), "by_stages": by_stages(tasks, succ)}


def expert_task(layout: str, max_blocks: int, physics: str, seeds: list[int]) -> list[bool]:
    env = BlockStackEnv(layout, n_blocks=max_blocks, max_blocks=max_blocks, physics=physics)  # type: ignore[arg-type]
    out = [run_expert(env, seed=s, record=False)[0] for s in seeds]
    env.close()
    return out


def load_policy(run: Run) -> tuple[OneShotPolicy, TrainConfig, Dataset]:
    """The trained policy, config and dataset of a run."""
    if "algo" not in run.config or "max_blocks" not in run.config:
        raise IlyaError(f"run {run.system}/{run.name} is not an imitation training run", file=run.path / "config.json")
    cfg = run.config_as(TrainConfig)
    state = run.load_checkpoint()
    if state is None:
        raise IlyaError(f"run {run.name} has no checkpoint yet", file=run.checkpoints_dir)
    model = OneShotPolicy(cfg.model)
    model.load_state_dict(state["model"])
    model.eval()
    ds = run.read_summary().get("dataset") or state.get("extra", {}).get("dataset")
    if not ds:
        raise IlyaError(f"run {run.name} records no dataset", file=run.path)
    return model, cfg, load_dataset(ds)


def evaluate(cfg: EvalConfig) -> dict[str, Any]:
    """`ilya imitation eval`: success by stages of a run's policy."""
    torch.set_num_threads(1)
    run = Run.load(cfg.run, cfg.runs_dir, system="imitation")
    model, tcfg, data = load_policy(run)
    splits = ["train", "test"] if cfg.split == "both" else [cfg.split]
    out: dict[str, Any] = {"run": f"{run.system}/{run.name}", "algo": tcfg.algo}
    for split in splits:
        res = evaluate_policy(model, tcfg.model, data, split, cfg.trials, cfg.conditioning, cfg.ensemble,
                              cfg.physics, cfg.seed, cfg.workers, cfg.address)
        out[split] = res
        if not cfg.json:
            print(format_rates(f"{tcfg.algo} {split} tasks ({cfg.conditioning}, ensemble {cfg.ensemble})", res))
    key = f"eval/{cfg.conditioning}_e{cfg.ensemble}"
    run.summary(**{key: {s: out[s] for s in splits}})
    if not cfg.json:
        print(f"saved in {run.path / 'summary.json'} under {key!r}", file=sys.stderr)
    return out


def format_rates(title: str, res: dict[str, Any]) -> str:
    rows = [f"{title}: {100 * res['success']:.1f}% [{100 * res['lo']:.0f}, {100 * res['hi']:.0f}]"]
    for n, r in res["by_stages"].items():
        rows.append(f"  {n} stage{'s' if n != '1' else ''}: {100 * r['success']:5.1f}% "
                    f"[{100 * r['lo']:.0f}, {100 * r['hi']:.0f}] of {int(r['n'])}")
    return "\n".join(rows)
