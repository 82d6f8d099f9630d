"""Config dataclasses every system shares (no torch, no numpy: ``--help`` imports this).

A command's config is a dataclass that ``tyro`` turns into flags: each field's docstring is its help
line, a ``Literal`` field lists its choices in ``--help`` and the parser refuses any other value.
Training configs inherit `RunConfig` (run name, seed, device, runs folder); gradient-trained systems
hold an `OptimConfig` for the shared training plumbing of `ilya.nn.training`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

DeviceName = Literal["auto", "cpu", "cuda"]
Schedule = Literal["cosine", "linear", "constant"]
Precision = Literal["fp32", "bf16", "fp16"]
OptimizerName = Literal["adamw", "adam", "adamax", "sgd"]


@dataclass
class RunConfig:
    """Flags shared by every command that creates or resumes a run."""

    run: str | None = None
    """run name under runs/<system>/ (default: a new time-stamped name); an existing run is resumed"""
    fresh: bool = False
    """start the named run over, discarding what it holds, instead of resuming it"""
    seed: int = 0
    """seed for Python, NumPy and torch"""
    device: DeviceName = "auto"
    """auto (CUDA if present, else CPU), cpu or cuda"""
    runs_dir: Path = Path("runs")
    """folder that holds runs/<system>/<name>/"""


@dataclass
class OptimConfig:
    """Optimizer, schedule and numerics of one gradient-trained model (see `ilya.nn.training.Trainer`)."""

    optimizer: OptimizerName = "adamw"
    """adamw, adam, adamax (the one-shot imitation paper's) or sgd"""
    lr: float = 1e-3
    """peak learning rate"""
    weight_decay: float = 0.0
    """decoupled weight decay on matrices (biases, norms and embeddings are never decayed)"""
    beta1: float = 0.9
    """first-moment decay (momentum for sgd)"""
    beta2: float = 0.999
    """second-moment decay"""
    warmup: int = 0
    """linear warm-up steps"""
    schedule: Schedule = "constant"
    """learning rate after warm-up: cosine or linear decay to min_lr_ratio * lr, or constant"""
    min_lr_ratio: float = 0.1
    """final learning rate as a fraction of lr (cosine and linear)"""
    grad_clip: float = 0.0
    """clip the global gradient norm to this (0: no clipping)"""
    precision: Precision = "fp32"
    """autocast dtype on CUDA: bf16 or fp16 (fp16 with a gradient scaler); the CPU always runs fp32"""
    compile: bool = False
    """torch.compile the model (pays on a GPU for long runs; off on the CPU by default)"""
