"""The multiscale convolutional CNF for images and its preprocessing (FFJORD §5.2, Dinh et al. 2017).

Pixels are integers in [0, n_bins).  They are dequantised with uniform noise and scaled to [0, 1],
``y = (x + u) / n_bins``, then mapped to the real line by the logit transform
``w = logit(alpha + (1 - 2 alpha) y)`` whose log-Jacobian is added to the log-density.

The flow works at several scales: CNF blocks with convolutional dynamics act on (C, H, W); then a
*squeeze* trades space for channels, (C, H, W) -> (4C, H/2, W/2), and half of the channels are factored
out to the standard-normal base; the other half go on to the next, coarser scale.

Bits per dimension, the standard way: ``bpd = (-log p_y(y) / D + log n_bins) / log 2`` where p_y is the
model's density of the dequantised image in [0, 1]^D (an upper bound on the discrete model's bits).
"""

from __future__ import annotations

import math

import torch
import torch.nn as nn

from ilya.ffjord.cnf import CNF, SequentialFlow, SolverOptions, standard_normal_logprob
from ilya.ffjord.layers import ODEnet
from ilya.ffjord.odefunc import ODEFunc


def squeeze(x: torch.Tensor) -> torch.Tensor:
    """(B, C, H, W) -> (B, 4C, H/2, W/2): each 2x2 patch becomes 4 channels."""
    B, C, H, W = x.shape
    x = x.view(B, C, H // 2, 2, W // 2, 2).permute(0, 1, 3, 5, 2, 4)  # (B, C, 2, 2, H/2, W/2)
    return x.reshape(B, C * 4, H // 2, W // 2)


def unsqueeze(x: torch.Tensor) -> torch.Tensor:
    """Inverse of `squeeze`."""
    B, C4, H2, W2 = x.shape
    x = x.view(B, C4 // 4, 2, 2, H2, W2).permute(0, 1, 4, 2, 5, 3)  # (B, C, H/2, 2, W/2, 2)
    return x.reshape(B, C4 // 4, H2 * 2, W2 * 2)


def dequantize(x: torch.Tensor, n_bins: int, generator: torch.Generator | None = None) -> torch.Tensor:
    """Integer pixels -> y in (0, 1) with uniform noise in each bin."""
    u = torch.rand(x.shape, generator=generator, device=x.device)
    return (x.float() + u) / n_bins


def logit_transform(y: torch.Tensor, alpha: float = 1e-6) -> tuple[torch.Tensor, torch.Tensor]:
    """y in [0, 1] -> (w, log|dw/dy| summed per image)."""
    s = alpha + (1 - 2 * alpha) * y
    w = torch.log(s) - torch.log1p(-s)
    logdet = (math.log(1 - 2 * alpha) - torch.log(s) - torch.log1p(-s)).flatten(1).sum(1)  # (B,)
    return w, logdet


def logit_inverse(w: torch.Tensor, alpha: float = 1e-6) -> torch.Tensor:
    return ((torch.sigmoid(w) - alpha) / (1 - 2 * alpha)).clamp(0, 1)


def bits_per_dim(log_py: torch.Tensor, n_dims: int, n_bins: int) -> torch.Tensor:
    """Bits per dimension of the discrete data, from the density of the dequantised y in [0, 1]^D."""
    return (-log_py / n_dims + math.log(n_bins)) / math.log(2)


class MultiscaleCNF(nn.Module):
    """CNF blocks at ``n_scales`` resolutions with squeeze + factor-out between them."""

    def __init__(self, shape: tuple[int, int, int], n_scales: int = 2, n_blocks: int = 2,
                 hidden: tuple[int, ...] = (32, 32, 32), layer: str = "concatsquash",
                 activation: str = "softplus", divergence: str = "approximate", noise: str = "rademacher",
                 regularisers: tuple[str, ...] = (), T: float = 1.0, train_T: bool = True,
                 options: SolverOptions | None = None, alpha: float = 1e-6) -> None:
        super().__init__()
        c, h, w = shape
        if h % (2 ** (n_scales - 1)) or w % (2 ** (n_scales - 1)):
            raise ValueError(f"image {h}x{w} cannot be squeezed {n_scales - 1} times")
        self.shape, self.alpha, self.n_scales = shape, alpha, n_scales
        self.scales = nn.ModuleList()
        self.scale_shapes: list[tuple[int, int, int]] = []
        for i in range(n_scales):
            self.scale_shapes.append((c, h, w))
            blocks = []
            for _ in range(n_blocks):
                net = ODEnet((c, h, w), hidden, layer, activation)
                func = ODEFunc(net, divergence, noise, regularisers)
                blocks.append(CNF(func, T=T, train_T=train_T, options=SolverOptions(**vars(options or SolverOptions()))))
            self.scales.append(SequentialFlow(blocks))
            if i < n_scales - 1:
                c, h, w = 2 * c, h // 2, w // 2  # squeeze to 4c, keep half

    def forward(self, w: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Logit-space images -> (log p(w), the factored-out latents concatenated), per image."""
        logp = torch.zeros(w.shape[0], device=w.device)
        x = w
        for i, flow in enumerate(self.flows):
            x, delta = flow(x)
            logp = logp + delta
            if i < self.n_scales - 1:
                x = squeeze(x)
                out, x = x.chunk(2, dim=1)
                logp = logp + standard_normal_logprob(out)
        return logp + standard_normal_logprob(x), x

    def log_prob_y(self, y: torch.Tensor) -> torch.Tensor:
        """log p(y) for dequantised images y in [0, 1]: the logit Jacobian plus the flow's log p(w)."""
        w, logdet = logit_transform(y, self.alpha)
        logp_w, _ = self(w)
        return logp_w + logdet

    @torch.no_grad()
    def sample(self, n: int, device: torch.device | str = "cpu") -> torch.Tensor:
        """Images y in [0, 1], (n, C, H, W): draw every factored-out half and run each scale backwards."""
        c, h, w = self.scale_shapes[-1]
        x = torch.randn(n, c, h, w, device=device)
        for i in reversed(range(self.n_scales)):
            x, _ = self.flows[i].inverse(x)
            if i > 0:
                x = unsqueeze(torch.cat([torch.randn_like(x), x], dim=1))
        return logit_inverse(x, self.alpha)

    @property
    def flows(self) -> list[SequentialFlow]:
        """The per-scale flows, typed (``self.scales`` is the ModuleList that registers them)."""
        return [s for s in self.scales if isinstance(s, SequentialFlow)]

    # counters shared with SequentialFlow
    def reset_nfe(self) -> None:
        for s in self.flows:
            s.reset_nfe()

    def nfe(self) -> int:
        return sum(s.nfe() for s in self.flows)

    def nfe_vjp(self) -> int:
        return sum(s.nfe_vjp() for s in self.flows)

    def regularisation(self) -> dict[str, torch.Tensor]:
        out: dict[str, torch.Tensor] = {}
        for s in self.flows:
            for k, v in s.regularisation().items():
                out[k] = out.get(k, 0.0) + v
        return out

    def set_divergence(self, divergence: str) -> None:
        for s in self.flows:
            s.set_divergence(divergence)

    def set_solver(self, **changes) -> None:
        for s in self.flows:
            s.set_solver(**changes)
