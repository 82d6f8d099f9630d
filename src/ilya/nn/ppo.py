"""Proximal Policy Optimisation pieces shared by the RL systems (metarl, five, imitation).

Schulman et al. 2017, "Proximal Policy Optimization Algorithms": the clipped surrogate (eq. 7) and
generalised advantage estimation (Schulman et al. 2016, "High-Dimensional Continuous Control Using
Generalized Advantage Estimation", eq. 16).  These are plain functions over tensors/arrays so that
training loops stay readable and tests can call them directly.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch


def gae(rewards: torch.Tensor, values: torch.Tensor, dones: torch.Tensor, last_value: torch.Tensor,
        gamma: float = 0.99, lam: float = 0.95) -> tuple[torch.Tensor, torch.Tensor]:
    """Generalised advantage estimates and returns, along the last (time) axis.

    rewards, values, dones: (..., T); ``dones[..., t] = 1`` when the episode ended at step t (no
    bootstrap past it); last_value: (...,), the value after step T-1.  Returns (advantages, returns)
    with returns = advantages + values (the value targets).
    """
    T = rewards.shape[-1]
    adv = torch.zeros_like(rewards)
    last = torch.zeros_like(last_value)
    next_value = last_value
    for t in reversed(range(T)):
        nonterminal = 1.0 - dones[..., t].to(rewards.dtype)
        delta = rewards[..., t] + gamma * next_value * nonterminal - values[..., t]  # TD error
        last = delta + gamma * lam * nonterminal * last
        adv[..., t] = last
        next_value = values[..., t]
    return adv, adv + values


def discounted_returns(rewards: torch.Tensor, gamma: float) -> torch.Tensor:
    """Reward-to-go along the last axis: G_t = sum_k gamma^k r_{t+k}."""
    out = torch.zeros_like(rewards)
    running = torch.zeros_like(rewards[..., 0])
    for t in reversed(range(rewards.shape[-1])):
        running = rewards[..., t] + gamma * running
        out[..., t] = running
    return out


def ppo_clip_loss(logp_new: torch.Tensor, logp_old: torch.Tensor, adv: torch.Tensor, clip: float = 0.2,
                  mask: torch.Tensor | None = None) -> tuple[torch.Tensor, dict[str, float]]:
    """The clipped surrogate objective, negated (a loss): -E[min(r A, clip(r, 1-e, 1+e) A)].

    ``mask`` (same shape, 0/1) leaves out padding steps.  Also returns diagnostics: the approximate KL
    ``E[logp_old - logp_new]`` and the fraction of clipped ratios.
    """
    ratio = torch.exp(logp_new - logp_old)
    surr = torch.minimum(ratio * adv, torch.clamp(ratio, 1.0 - clip, 1.0 + clip) * adv)
    if mask is None:
        mask = torch.ones_like(surr)
    n = mask.sum().clamp_min(1.0)
    loss = -(surr * mask).sum() / n
    with torch.no_grad():
        kl = ((logp_old - logp_new) * mask).sum() / n
        clipped = (((ratio - 1.0).abs() > clip).float() * mask).sum() / n
    return loss, {"approx_kl": float(kl), "clip_frac": float(clipped)}


def masked_mean(x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    return (x * mask).sum() / mask.sum().clamp_min(1.0)


def normalize(x: torch.Tensor, mask: torch.Tensor | None = None, eps: float = 1e-8) -> torch.Tensor:
    """Zero mean, unit variance over the entries where ``mask`` is 1 (all when None)."""
    if mask is None:
        return (x - x.mean()) / (x.std() + eps)
    mean = masked_mean(x, mask)
    var = masked_mean((x - mean) ** 2, mask)
    return (x - mean) / (var.sqrt() + eps)


@dataclass
class RolloutBuffer:
    """Fixed-size (T, N) storage for on-policy rollouts of N parallel environments.

    ``add`` one step at a time, then ``finish(last_value)`` computes GAE advantages and returns.
    """

    T: int
    N: int
    obs_shape: tuple[int, ...]
    gamma: float = 0.99
    lam: float = 0.95
    t: int = 0
    data: dict[str, np.ndarray] = field(default_factory=dict)

    def __post_init__(self) -> None:
        T, N = self.T, self.N
        self.data = {
            "obs": np.zeros((T, N, *self.obs_shape), np.float32),
            "actions": np.zeros((T, N), np.int64),
            "logp": np.zeros((T, N), np.float32),
            "values": np.zeros((T, N), np.float32),
            "rewards": np.zeros((T, N), np.float32),
            "dones": np.zeros((T, N), np.float32),
        }

    def add(self, **step: np.ndarray) -> None:
        if self.t >= self.T:
            raise IndexError("RolloutBuffer is full; call finish() and reset()")
        for k, v in step.items():
            self.data[k][self.t] = v
        self.t += 1

    def finish(self, last_value: np.ndarray) -> dict[str, torch.Tensor]:
        """Tensors of every field, time-major (T, N, ...), plus ``advantages`` and ``returns``."""
        out = {k: torch.as_tensor(v[: self.t]) for k, v in self.data.items()}
        # gae works along the last axis: move time last, then back.
        adv, ret = gae(out["rewards"].T, out["values"].T, out["dones"].T,
                       torch.as_tensor(last_value, dtype=torch.float32), self.gamma, self.lam)
        out["advantages"], out["returns"] = adv.T.contiguous(), ret.T.contiguous()
        return out

    def reset(self) -> None:
        self.t = 0
