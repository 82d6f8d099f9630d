"""The one training plumbing of every gradient-trained system (sparse, prover, ffjord, gamepad, imitation, five).

A loop reads top to bottom::

    from ilya.core.config import OptimConfig
    from ilya.nn.training import Trainer

    trainer = Trainer(model, cfg.optim, total_steps=cfg.steps, device=device)
    start = trainer.resume(run)                      # 0 for a new run; restores model, optimizer, scaler
    for step in trainer.steps(run, start, cfg.steps, desc="train"):   # progress bar on stderr
        with trainer.autocast():
            loss = model(x, y)
        stats = trainer.step(loss)                   # backward, unscale, clip, step, schedule
        if trainer.due(step, cfg.log_every):
            run.log(step + 1, **{"train/loss": loss.item()}, **stats)
        if trainer.due(step, cfg.ckpt_every):
            trainer.save(run, step + 1)              # atomic; the last three kept
    trainer.save(run, cfg.steps)

What it settles once: AdamW parameter groups (matrices decayed; biases, norms and embeddings not), the
learning-rate schedule (linear warm-up, then cosine/linear decay or constant), global-norm gradient
clipping, mixed precision on CUDA (bf16, or fp16 with a gradient scaler), ``torch.compile`` on request,
and checkpoint/resume of all of it through `ilya.core.runs.Run`.  ``extra`` state (RNG states, counters,
a tokenizer's name) rides in the same checkpoint.  Under ``torchrun`` the model is wrapped in
DistributedDataParallel (`ilya.nn.distributed`): call the model through ``trainer.forward``, give each rank
its `ilya.nn.distributed.shard` of the global batch, and log ``trainer.mean(loss)``.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator
from typing import Any

import torch
from torch import nn

from ilya.core.config import OptimConfig
from ilya.core.progress import progress
from ilya.core.runs import Run
from ilya.nn import distributed


def param_groups(model: nn.Module, weight_decay: float) -> list[dict[str, Any]]:
    """Two groups: weight decay on matrices of Linear/Conv layers, none on biases, norms and embeddings."""
    no_decay_types = (nn.Embedding, nn.LayerNorm, nn.GroupNorm, nn.BatchNorm1d, nn.BatchNorm2d,
                      nn.BatchNorm3d, nn.RMSNorm)
    decay, no_decay, seen = [], [], set()
    for module in model.modules():
        for name, p in module.named_parameters(recurse=False):
            if not p.requires_grad or id(p) in seen:
                continue
            seen.add(id(p))
            if p.dim() >= 2 and not isinstance(module, no_decay_types) and name != "bias":
                decay.append(p)
            else:
                no_decay.append(p)
    groups = [{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}]
    return [g for g in groups if g["params"]]


def lr_at(step: int, total: int, cfg: OptimConfig) -> float:
    """The learning rate of ``step`` (0-based) out of ``total``: linear warm-up, then the schedule."""
    if cfg.warmup > 0 and step < cfg.warmup:
        return cfg.lr * (step + 1) / cfg.warmup
    if cfg.schedule == "constant" or total <= cfg.warmup:
        return cfg.lr
    frac = min(max((step - cfg.warmup) / max(total - cfg.warmup, 1), 0.0), 1.0)
    lo = cfg.lr * cfg.min_lr_ratio
    if cfg.schedule == "cosine":
        return lo + (cfg.lr - lo) * 0.5 * (1.0 + math.cos(math.pi * frac))
    return cfg.lr + (lo - cfg.lr) * frac


def make_optimizer(model: nn.Module, cfg: OptimConfig) -> torch.optim.Optimizer:
    """The optimizer ``cfg.optimizer`` names, over `param_groups`."""
    groups = param_groups(model, cfg.weight_decay)
    betas = (cfg.beta1, cfg.beta2)
    if cfg.optimizer == "adamw":
        return torch.optim.AdamW(groups, lr=cfg.lr, betas=betas)
    if cfg.optimizer == "adam":
        return torch.optim.Adam(groups, lr=cfg.lr, betas=betas)
    if cfg.optimizer == "adamax":
        return torch.optim.Adamax(groups, lr=cfg.lr, betas=betas)
    return torch.optim.SGD(groups, lr=cfg.lr, momentum=cfg.beta1)


def maybe_compile(model: nn.Module, enabled: bool) -> nn.Module:
    """``torch.compile(model)`` when asked (the state dict keys stay those of ``model``)."""
    return torch.compile(model) if enabled else model  # type: ignore[return-value]


class Trainer:
    """Optimizer, schedule, clipping, mixed precision and checkpoints for one model."""

    def __init__(self, model: nn.Module, cfg: OptimConfig, total_steps: int,
                 device: torch.device | str = "cpu") -> None:
        self.model = model
        self.cfg = cfg
        self.total_steps = int(total_steps)
        self.device = torch.device(device)
        self.optimizer = make_optimizer(model, cfg)
        cuda = self.device.type == "cuda"
        self.amp_dtype: torch.dtype | None = None
        if cuda and cfg.precision != "fp32":
            self.amp_dtype = torch.bfloat16 if cfg.precision == "bf16" else torch.float16
        self.scaler = torch.amp.GradScaler("cuda", enabled=cuda and cfg.precision == "fp16")
        self.dist = distributed.init(self.device)
        forward: nn.Module = model
        if self.dist.enabled:
            from torch.nn.parallel import DistributedDataParallel

            ids = [self.device.index] if self.device.type == "cuda" else None
            forward = DistributedDataParallel(model, device_ids=ids)
        self.forward = maybe_compile(forward, cfg.compile)
        self.step_count = 0
        self.extra: dict[str, Any] = {}
        """the ``extra`` of the checkpoint `resume` loaded"""

    # ------------------------------------------------------------------ one step
    def autocast(self) -> contextlib.AbstractContextManager[Any]:
        """Mixed precision for the forward pass on CUDA (a no-op on the CPU or in fp32)."""
        if self.amp_dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(device_type="cuda", dtype=self.amp_dtype)

    def set_lr(self, step: int) -> float:
        lr = lr_at(step, self.total_steps, self.cfg)
        for group in self.optimizer.param_groups:
            group["lr"] = lr
        return lr

    def step(self, loss: torch.Tensor) -> dict[str, float]:
        """Backward, (unscale,) clip, optimizer step and zero grads; returns ``lr`` and ``grad_norm``."""
        lr = self.set_lr(self.step_count)
        self.scaler.scale(loss).backward()
        self.scaler.unscale_(self.optimizer)
        params = [p for g in self.optimizer.param_groups for p in g["params"]]
        if self.cfg.grad_clip > 0:
            norm = torch.nn.utils.clip_grad_norm_(params, self.cfg.grad_clip)
        else:
            norm = torch.linalg.vector_norm(torch.stack(
                [p.grad.detach().norm() for p in params if p.grad is not None] or [torch.zeros(())]))
        self.scaler.step(self.optimizer)
        self.scaler.update()
        self.optimizer.zero_grad(set_to_none=True)
        self.step_count += 1
        return {"lr": lr, "grad_norm": float(norm)}

    # ------------------------------------------------------------------ loop helpers
    def steps(self, run: Run | None, start: int, total: int, desc: str = "train") -> Iterator[int]:
        """Step indices ``start .. total-1`` with a progress bar (resumed runs start part-way)."""
        bar = progress(total=total, initial=start, desc=desc)
        try:
            for step in range(start, total):
                yield step
                bar.update(1)
        finally:
            bar.close()

    @staticmethod
    def mean(value: float | torch.Tensor) -> float:
        """A scalar averaged over the data-parallel ranks (for logging the global loss)."""
        return distributed.mean(float(value))

    @staticmethod
    def due(step: int, every: int) -> bool:
        """True after every ``every``-th step (``step`` is 0-based); never when ``every`` <= 0."""
        return every > 0 and (step + 1) % every == 0

    # ------------------------------------------------------------------ checkpoints
    def state_dict(self) -> dict[str, Any]:
        return {"model": self.model.state_dict(), "optim": self.optimizer.state_dict(),
                "scaler": self.scaler.state_dict(), "trainer_step": self.step_count}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optim"])
        if state.get("scaler"):
            self.scaler.load_state_dict(state["scaler"])
        self.step_count = int(state.get("trainer_step", state.get("step", 0)))

    def save(self, run: Run, step: int, **extra: Any) -> None:
        """Atomically checkpoint model, optimizer, scaler and ``extra`` as step ``step`` (rank 0 writes)."""
        if self.dist.is_main:
            run.save_checkpoint(step, {**self.state_dict(), "extra": extra})
        distributed.barrier()

    def resume(self, run: Run) -> int:
        """Restore the run's latest checkpoint; the step to continue from (0 for a new run)."""
        distributed.barrier()  # rank 0 has created (or cleared) the run folder
        state = run.load_checkpoint(map_location=str(self.device))
        if state is None:
            return 0
        self.load_state_dict(state)
        self.extra = dict(state.get("extra") or {})
        return int(state["step"])
