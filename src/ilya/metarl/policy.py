"""The MAML policy: a small tanh MLP written functionally, so that adapted parameters can differ per task.

Parameters are a plain ``{name: tensor}`` dict.  Every weight may carry a leading task axis N: then task
i's observations (N, K, T, D) go through task i's weights (a batched matmul), which is how MAML's
per-task inner updates are computed for a whole meta-batch at once (see `ilya.metarl.maml.adapt`).
The same forward pass exists in NumPy for samplers (Ray workers need no torch graph).
"""

from __future__ import annotations

import math

import numpy as np
import torch

Params = dict[str, torch.Tensor]


def init_mlp(obs_dim: int, n_actions: int, hidden: tuple[int, ...] = (64, 64),
             generator: torch.Generator | None = None) -> Params:
    """Glorot-uniform weights, zero biases, a near-uniform initial policy (small last layer)."""
    sizes = [obs_dim, *hidden, n_actions]
    params: Params = {}
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
        bound = math.sqrt(6.0 / (a + b)) * (0.1 if i == len(sizes) - 2 else 1.0)
        params[f"w{i}"] = (torch.rand(a, b, generator=generator) * 2 - 1) * bound
        params[f"b{i}"] = torch.zeros(b)
    return params


def n_layers(params: dict) -> int:
    return len(params) // 2


def mlp_logits(params: Params, obs: torch.Tensor) -> torch.Tensor:
    """obs (..., D) or (N, ..., D) with per-task params (N, D, H) -> logits (..., A)."""
    L = n_layers(params)
    x = obs
    for i in range(L):
        w, b = params[f"w{i}"], params[f"b{i}"]
        if w.dim() == 3:  # per-task weights: flatten the middle axes, bmm, restore
            shape = x.shape
            x = torch.bmm(x.reshape(shape[0], -1, shape[-1]), w) + b[:, None, :]
            x = x.reshape(*shape[:-1], w.shape[-1])
        else:
            x = x @ w + b
        if i < L - 1:
            x = torch.tanh(x)
    return x


def mlp_logits_np(params: dict[str, np.ndarray], obs: np.ndarray) -> np.ndarray:
    """NumPy twin of `mlp_logits` for samplers: obs (N, K, D), weights (D, H) or (N, D, H)."""
    L = n_layers(params)
    x = obs
    for i in range(L):
        w, b = params[f"w{i}"], params[f"b{i}"]
        x = x @ w + (b[:, None, :] if b.ndim == 2 else b)
        if i < L - 1:
            x = np.tanh(x)
    return x


def log_softmax_np(logits: np.ndarray) -> np.ndarray:
    z = logits - logits.max(-1, keepdims=True)
    return z - np.log(np.exp(z).sum(-1, keepdims=True))


def sample_from_logits(logits: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Categorical samples by inverting the CDF with given uniforms ``u`` (so samplers are repeatable)."""
    p = np.exp(log_softmax_np(logits))
    cdf = np.cumsum(p, -1)
    return np.minimum((cdf < u[..., None]).sum(-1), logits.shape[-1] - 1)


def to_numpy(params: Params) -> dict[str, np.ndarray]:
    return {k: v.detach().cpu().numpy().astype(np.float32) for k, v in params.items()}
