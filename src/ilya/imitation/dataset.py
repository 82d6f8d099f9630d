"""Demonstration datasets: scripted demonstrations of every task of a task set, in one folder.

Format (``ilya.imitation.demos/1``), a folder holding:

* ``manifest.json``: the format name, the task set's fingerprint, physics mode, ``max_blocks``, the
  training and test layouts, demonstrations per task and the seed;
* one ``<split>_<index>.npz`` per task (written atomically as each task finishes, so an interrupted
  `collect` resumes at the first missing task) with ``obs`` (N, T+1, D) float32 observations padded with
  their last one, ``actions`` (N, T, 4) float32 padded with zeros, ``lengths`` (N,) actions per
  demonstration, ``success`` (N,) and ``seeds`` (N,) the reset seed of each demonstration.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import numpy as np

from ilya.core.checkpoint import atomic_write_text
from ilya.core.errors import IlyaError
from ilya.imitation.config import CollectConfig, TaskSetConfig
from ilya.imitation.env import BlockStackEnv
from ilya.imitation.expert import run_expert
from ilya.imitation.parallel import run_jobs
from ilya.imitation.tasks import Task, TaskSet, task_set_from_config

FORMAT = "ilya.imitation.demos/1"
EXPERT = 2
"""version of the scripted expert (a dataset of another expert is refused)"""


def demo_seed(seed: int, split: str, index: int, j: int) -> int:
    """Reset seed of demonstration ``j`` of task ``index`` of ``split`` (evaluation uses other seeds)."""
    return seed * 10_000_000 + (0 if split == "train" else 5_000_000) + index * 10_000 + j


def default_dir(cfg: TaskSetConfig, runs_dir: Path) -> Path:
    return Path(runs_dir) / "datasets" / "imitation" / f"{cfg.physics}-{task_set_from_config(cfg).fingerprint()}"


def collect_task(layout: str, max_blocks: int, physics: str, seeds: list[int]) -> dict[str, np.ndarray]:
    """Expert demonstrations of one task from the given reset seeds, padded into arrays."""
    env = BlockStackEnv(layout, n_blocks=max_blocks, max_blocks=max_blocks, physics=physics)  # type: ignore[arg-type]
    runs = [run_expert(env, seed=s) for s in seeds]
    env.close()
    T = max(len(r[3]) for r in runs)
    D = runs[0][2].shape[1]
    obs = np.zeros((len(runs), T + 1, D), np.float32)
    act = np.zeros((len(runs), T, 4), np.float32)
    for i, (_, _, o, a) in enumerate(runs):
        obs[i, : len(o)] = o
        obs[i, len(o):] = o[-1]
        act[i, : len(a)] = a
    return {"obs": obs, "actions": act, "lengths": np.array([len(r[3]) for r in runs], np.int64),
            "success": np.array([r[0] for r in runs]), "stages": np.array([r[1] for r in runs], np.int64),
            "seeds": np.array(seeds, np.int64)}


def manifest_of(ts: TaskSet, physics: str, demos: int, test_demos: int, seed: int) -> dict[str, Any]:
    return {"format": FORMAT, "fingerprint": ts.fingerprint(), "physics": physics, "max_blocks": ts.max_blocks,
            "train": [t.layout for t in ts.train], "test": [t.layout for t in ts.test],
            "demos_per_task": demos, "test_demos_per_task": test_demos, "seed": seed, "expert": EXPERT}


def read_manifest(path: Path) -> dict[str, Any]:
    mf = Path(path) / "manifest.json"
    if not mf.is_file():
        raise IlyaError("not a demonstration dataset (no manifest.json); make one with `ilya imitation collect`",
                        file=path)
    try:
        manifest = json.loads(mf.read_text())
    except json.JSONDecodeError as e:
        raise IlyaError(f"corrupt manifest: {e.msg}", file=mf, line=e.lineno, col=e.colno) from None
    if manifest.get("format") != FORMAT:
        raise IlyaError(f"dataset format {manifest.get('format')!r}: expected {FORMAT!r}", file=mf)
    return manifest


def check_manifest(manifest: dict[str, Any], expected: dict[str, Any], path: Path) -> None:
    """A dataset of another task set (or physics, or sizes) is refused with one line."""
    for key in ("fingerprint", "physics", "demos_per_task", "test_demos_per_task", "seed", "expert"):
        if manifest.get(key) != expected[key]:
            what = "task set" if key == "fingerprint" else key
            raise IlyaError(f"dataset was made for another {what} ({manifest.get(key)!r}, these flags give "
                            f"{expected[key]!r}); pass the flags it was collected with or another folder",
                            file=Path(path) / "manifest.json")


def collect(cfg: CollectConfig) -> dict[str, Any]:
    """Collect (or finish collecting) the dataset of ``cfg``'s task set; returns its figures."""
    ts = task_set_from_config(cfg)
    out = Path(cfg.out) if cfg.out is not None else default_dir(cfg, cfg.runs_dir)
    expected = manifest_of(ts, cfg.physics, cfg.demos_per_task, cfg.test_demos_per_task, cfg.seed)
    if (out / "manifest.json").exists():
        check_manifest(read_manifest(out), expected, out)
    else:
        out.mkdir(parents=True, exist_ok=True)
        atomic_write_text(out / "manifest.json", json.dumps(expected, indent=1) + "\n")
    todo: list[tuple[str, int, Task]] = [(s, i, t) for s, i, t in ts.all() if not (out / f"{s}_{i:03d}.npz").exists()]
    jobs = []
    for split, i, task in todo:
        n = cfg.demos_per_task if split == "train" else cfg.test_demos_per_task
        jobs.append((task.layout, ts.max_blocks, cfg.physics, [demo_seed(cfg.seed, split, i, j) for j in range(n)]))

    def write(k: int, arrays: dict[str, np.ndarray]) -> None:
        split, i, _ = todo[k]
        path = out / f"{split}_{i:03d}.npz"
        tmp = path.with_name(f".{path.stem}.{os.getpid()}.tmp.npz")
        np.savez_compressed(tmp, **cast(dict[str, Any], arrays))
        os.replace(tmp, path)

    import time

    t0 = time.time()
    run_jobs(collect_task, jobs, workers=cfg.workers, address=cfg.address, desc="collect", on_result=write)
    dt = time.time() - t0
    data = load_dataset(out)
    n_demos = sum(len(d["lengths"]) for d in data.train + data.test)
    n_new = sum(len(j[3]) for j in jobs)
    return {"dataset": str(out), "tasks": len(ts.train) + len(ts.test), "collected_tasks": len(todo),
            "demos": n_demos, "expert_success": float(np.mean(np.concatenate([d["success"] for d in data.train + data.test]))),
            "mean_length": float(np.mean(np.concatenate([d["lengths"] for d in data.train + data.test]))),
            "seconds": dt, "demos_per_s": n_new / dt if n_new and dt > 0 else None}


@dataclass
class Dataset:
    """A loaded dataset: per task the arrays of its shard."""

    path: Path
    manifest: dict[str, Any]
    train: list[dict[str, np.ndarray]]
    test: list[dict[str, np.ndarray]]

    @property
    def max_blocks(self) -> int:
        return int(self.manifest["max_blocks"])

    def tasks(self, split: str) -> list[Task]:
        return [Task(lay, self.max_blocks) for lay in self.manifest[split]]


def load_dataset(path: Path, expected: dict[str, Any] | None = None) -> Dataset:
    """Load a complete dataset (``expected``: the manifest the caller's task flags give)."""
    path = Path(path)
    manifest = read_manifest(path)
    if expected is not None:
        check_manifest(manifest, expected, path)
    parts: dict[str, list[dict[str, np.ndarray]]] = {"train": [], "test": []}
    for split in ("train", "test"):
        for i in range(len(manifest[split])):
            shard = path / f"{split}_{i:03d}.npz"
            if not shard.is_file():
                raise IlyaError(f"dataset is incomplete ({shard.name} missing); finish it with "
                                "`ilya imitation collect` and the same flags", file=path)
            with np.load(shard) as z:
                parts[split].append({k: z[k] for k in z.files})
    return Dataset(path, manifest, parts["train"], parts["test"])
