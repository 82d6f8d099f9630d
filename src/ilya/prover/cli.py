"""``ilya prover ...``: dataset, train, eval, suggest, prove, iterate, shorten (GPT-f, Polu & Sutskever 2020)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import tyro

from ilya.core.errors import IlyaError
from ilya.core.runs import RunConfig

DEFAULT_DB = Path("/usr/share/metamath/databases/set.mm")
DEFAULT_DATA = Path("data/prover/set.mm")


def _load_db(path: Path | None, data: Path | None = None) -> Any:
    from ilya.metamath import load
    from ilya.prover.dataset import load_stats

    if path is None and data is not None:
        db = load_stats(data).get("database")
        path = Path(db) if db else None
    return load(path or DEFAULT_DB)


def _model_dir(ref: str, runs_dir: Path) -> Path:
    p = Path(ref)
    if (p / "model.json").is_file():
        return p
    if (p / "model" / "model.json").is_file():
        return p / "model"
    from ilya.core.runs import Run

    run = Run.load(ref, runs_dir, system="prover")
    if not (run.path / "model" / "model.json").is_file():
        raise IlyaError(f"run {ref} has no trained model yet (run `ilya prover train --run {run.name}`)",
                        file=run.path)
    return run.path / "model"


def pick_theorems(labels: list[str], limit: int) -> list[str]:
    """A fixed subset of a split: the ``limit`` labels with the smallest hash (same for every policy)."""
    key = lambda s: hashlib.sha256(("pick:" + s).encode()).digest()  # noqa: E731
    return sorted(labels, key=key)[:limit] if limit else list(labels)


# ---------------------------------------------------------------------------- dataset
@dataclass
class DatasetConfig:
    """Build the proof-step dataset (train/valid/test by a hash of the theorem label) and its statistics."""

    db: Path = DEFAULT_DB
    """Metamath database to read"""
    out: Path = DEFAULT_DATA
    """folder to write train/valid/test.jsonl and stats.json into"""
    valid: int = 1000
    """theorems in the valid split (about; paper: 1,000)"""
    test: int = 1000
    """theorems in the test split (about; paper: 1,000)"""
    max_theorems: int = 0
    """use only the first N theorems of the database (0 = all)"""
    max_steps_per_theorem: int = 5000
    """keep at most this many steps of one (expanded) proof"""
    json: bool = False
    """print the statistics as one JSON object"""


def dataset_command(cfg: DatasetConfig) -> dict[str, Any]:
    from ilya.prover.dataset import build_dataset

    db = _load_db(cfg.db)
    stats = build_dataset(db, cfg.out, cfg.valid, cfg.test, cfg.max_theorems or None, cfg.max_steps_per_theorem)
    if not cfg.json:
        p = stats["paper"]
        print(f"{'':24}{'ours':>12}{'paper':>12}")
        print(f"{'theorems':24}{stats['theorems']:>12,}{p['theorems']:>12,}")
        print(f"{'proof steps':24}{stats['proof_steps']:>12,}{p['proof_steps']:>12,}")
        print(f"{'valid theorems':24}{stats['valid_theorems']:>12,}{p['valid_theorems']:>12,}")
        print(f"{'test theorems':24}{stats['test_theorems']:>12,}{p['test_theorems']:>12,}")
        print(f"train {stats['train_theorems']:,} theorems / {stats['train_steps']:,} steps; "
              f"{stats['unique_proof_steps']:,} of all {stats['proof_steps']:,} steps distinct within their theorem; "
              f"{stats['mean_goal_symbols']} symbols per goal; written to {cfg.out}/ in {stats['seconds']} s")
    return stats


# ---------------------------------------------------------------------------- train
def train_command(cfg: Any) -> dict[str, Any]:
    from ilya.prover.train import train

    out = train(cfg)
    print(f"prover train: valid loss {out['valid/loss']:.3f} after {out['steps']} steps "
          f"({out['params']:,} parameters, {out['train_seconds']:.0f} s)")
    return out


from ilya.prover.train import TrainConfig  # noqa: E402  (config class needed at import for tyro)


# ---------------------------------------------------------------------------- eval
@dataclass
class EvalConfig(RunConfig):
    """Prove the theorems of a split with best-first search; report % proved; write proofs.jsonl."""

    model: str | None = None
    """trained model: a prover run name (its model/ folder) or a model folder"""
    policy: str = "model"
    """model (the trained language model) or frequency (the model-free baseline)"""
    data: Path = DEFAULT_DATA
    """dataset folder (its database and, for the baseline, its train split)"""
    db: Path | None = None
    """Metamath database (default: the one the dataset was built from)"""
    split: str = "test"
    """split to prove: train, valid or test"""
    limit: int = 100
    """number of theorems of the split (a fixed hash-chosen subset; 0 = all)"""
    labels: list[str] | None = None
    """prove these labels instead of a split"""
    e: int = 8
    """candidate steps sampled per expansion (paper: 32)"""
    d: int = 32
    """expansions per theorem (paper: 128)"""
    time_limit: float = 30.0
    """seconds per theorem"""
    priority: str = "logprob"
    """logprob (cumulative log-probability) or value (the learned value function)"""
    decode: str = "constrained"
    """constrained (the model scores only assertions that match the goal, then writes the missing terms)
    or sample (the paper: free sampling, the kernel drops what does not apply)"""
    temperature: float = 1.0
    """sampling temperature (paper: 1)"""
    batch: int = 8
    """searches run in lockstep per worker (their policy calls are batched)"""
    workers: int = 1
    """Ray workers (1 = no Ray)"""
    address: str | None = None
    """join this Ray cluster instead of starting a local one"""
    metamath_exe: bool = False
    """also check every found proof with Debian's metamath binary"""
    threads: int = 1
    """torch threads per worker"""
    json: bool = False
    """print the figures as one JSON object"""


def _policy_spec(cfg: Any) -> dict[str, Any]:
    if cfg.policy == "frequency":
        return {"kind": "frequency", "data": str(cfg.data)}
    if cfg.policy != "model":
        raise IlyaError(f"--policy {cfg.policy}: expected model or frequency")
    if not cfg.model:
        raise IlyaError("--model is required with --policy model (a `ilya prover train` run)")
    from ilya.core.device import resolve_device

    return {"kind": "model", "path": str(_model_dir(cfg.model, cfg.runs_dir).resolve()),
            "device": str(resolve_device(cfg.device)), "temperature": cfg.temperature,
            "decode": getattr(cfg, "decode", "constrained"),
            "threads": cfg.threads, "seed": cfg.seed}


def eval_command(cfg: EvalConfig) -> dict[str, Any]:
    from ilya.prover.evaluate import run_eval

    return run_eval(cfg, _policy_spec(cfg))


# ---------------------------------------------------------------------------- suggest / prove
@dataclass
class SuggestConfig:
    """Proof assistant: the top-k next steps for a theorem (or a goal) with log-probabilities and subgoals."""

    target: Annotated[str, tyro.conf.Positional]
    """a theorem label of the database, or a goal such as '|- ( ph -> ph )'"""
    model: str | None = None
    """trained model (prover run name or model folder); omit for the frequency baseline"""
    data: Path = DEFAULT_DATA
    """dataset folder (for the baseline and the default database)"""
    db: Path | None = None
    """Metamath database (default: the dataset's)"""
    k: int = 5
    """steps to show"""
    e: int = 32
    """samples drawn to rank them"""
    runs_dir: Path = Path("runs")
    """folder that holds runs/"""
    json: bool = False
    """print one JSON object"""


def suggest_command(cfg: SuggestConfig) -> dict[str, Any]:
    from ilya.prover.assistant import suggest

    return suggest(cfg)


@dataclass
class ProveConfig:
    """Prove a theorem of the database, or the last $p of a small .mm file, and print the proof."""

    target: Annotated[str, tyro.conf.Positional]
    """a theorem label, or a .mm file whose last $p statement is to be proved"""
    model: str | None = None
    """trained model (prover run name or model folder); omit for the frequency baseline"""
    data: Path = DEFAULT_DATA
    """dataset folder (for the baseline and the default database)"""
    db: Path | None = None
    """Metamath database (default: the dataset's)"""
    e: int = 16
    """candidate steps per expansion"""
    d: int = 128
    """expansions"""
    time_limit: float = 120.0
    """seconds"""
    priority: str = "logprob"
    """logprob or value"""
    seed: int = 0
    """sampling seed"""
    runs_dir: Path = Path("runs")
    """folder that holds runs/"""
    json: bool = False
    """print one JSON object"""


def prove_command(cfg: ProveConfig) -> dict[str, Any] | int:
    from ilya.prover.assistant import prove_one

    return prove_one(cfg)


# ---------------------------------------------------------------------------- iterate / shorten
from ilya.prover.iterate import IterateConfig, iterate  # noqa: E402
from ilya.prover.shorten import ShortenConfig, shorten  # noqa: E402

COMMANDS = {
    "dataset": (DatasetConfig, dataset_command),
    "train": (TrainConfig, train_command),
    "eval": (EvalConfig, eval_command),
    "suggest": (SuggestConfig, suggest_command),
    "prove": (ProveConfig, prove_command),
    "iterate": (IterateConfig, iterate),
    "shorten": (ShortenConfig, shorten),
}


def replot(run: Any) -> list[Path]:
    from ilya.prover.plots import replot_run

    return replot_run(run)


def demo(runs_dir: Path) -> None:
    from ilya.prover.demo import run_demo

    run_demo(runs_dir)
