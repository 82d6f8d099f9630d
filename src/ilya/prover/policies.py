"""Policies from a spec (a plain dict that travels to Ray workers), and where a trained model lives.

``{"kind": "model", "path": run/model, "device", "temperature", "decode", "threads", "seed", "from_run"}``
is the trained language model (with ``from_run``, the weights of the run's latest checkpoint) (`ilya.prover.model.LMPolicy`); ``{"kind": "frequency", "data"}`` the model-free
baseline (`ilya.prover.baselines.FrequencyPolicy`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ilya.core.errors import IlyaError
from ilya.core.runs import Run
from ilya.metamath import Database
from ilya.prover.config import Decode, PolicyKind
from ilya.prover.search import Policy


def model_dir(ref: str, runs_dir: Path) -> Path:
    """The folder of a trained model: ``ref`` itself, its ``model/``, or the ``model/`` of run ``ref``."""
    p = Path(ref)
    if (p / "model.json").is_file():
        return p
    if (p / "model" / "model.json").is_file():
        return p / "model"
    run = Run.load(ref, runs_dir, system="prover")
    if not (run.path / "model" / "model.json").is_file():
        raise IlyaError(f"run {ref} has no trained model yet (run `ilya prover train --run {run.name}`)",
                        file=run.path)
    return run.path / "model"


def policy_spec(policy: PolicyKind, model: str | None, data: Path, runs_dir: Path, *, device: str = "cpu",
                temperature: float = 1.0, decode: Decode = "constrained", threads: int = 1,
                seed: int = 0) -> dict[str, Any]:
    """The spec of the policy a command's flags name (``--policy model`` needs ``--model``)."""
    if policy == "frequency":
        return {"kind": "frequency", "data": str(data)}
    if not model:
        raise IlyaError("--model is required with --policy model (a `ilya prover train` run)")
    from ilya.core.device import resolve_device

    mdir = model_dir(model, runs_dir).resolve()
    return {"kind": "model", "path": str(mdir), "device": str(resolve_device(device)), "temperature": temperature,
            "decode": decode, "threads": threads, "seed": seed, "from_run": (mdir.parent / "config.json").is_file()}


def make_policy(spec: dict[str, Any], db: Database) -> Policy:
    """A policy from its spec; the database's assertion index is built here (part of loading, not search)."""
    from ilya.prover.matching import matcher

    matcher(db)
    if spec["kind"] == "model":
        import torch

        from ilya.prover.model import LMPolicy, load_model

        torch.set_num_threads(int(spec.get("threads", 1)) or 1)
        model, tok, _ = load_model(Path(spec["path"]), spec.get("device", "cpu"))
        if spec.get("from_run"):  # a run's model: the weights of its latest checkpoint (a damaged one is refused)
            state = Run.load(Path(spec["path"]).parent).load_checkpoint()
            if state is not None:
                model.load_state_dict(state["model"])
        pol = LMPolicy(model, tok, spec.get("device", "cpu"), temperature=spec.get("temperature", 1.0),
                       max_new_tokens=spec.get("max_new_tokens", 96), decode=spec.get("decode", "constrained"),
                       db=db)
        pol.seed(int(spec.get("seed", 0)))
        return pol
    if spec["kind"] == "frequency":
        from ilya.prover.baselines import FrequencyPolicy

        return FrequencyPolicy.from_data(db, Path(spec["data"]))
    raise IlyaError(f"unknown policy kind {spec['kind']!r}: expected model or frequency")
