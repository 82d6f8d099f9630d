"""The divergence tr(df/dz) that drives the log-density (FFJORD §3).

``d log p(z(t)) / dt = -tr(df/dz)``.  Computing the trace exactly costs D backward passes (one per
dimension), so FFJORD replaces it by Hutchinson's unbiased estimator ``E_e[e^T (df/dz) e]`` with
``E[e e^T] = I``: one vector-Jacobian product per evaluation, whatever D is.  The noise ``e`` is drawn
once per solve and kept fixed while the ODE is solved, so the integrand is a smooth function of t that an
adaptive solver can integrate (§3.1).
"""

from __future__ import annotations

import torch

NOISES = ("gaussian", "rademacher")


def sample_noise(like: torch.Tensor, kind: str = "rademacher") -> torch.Tensor:
    """A draw of ``e`` with ``E[e e^T] = I``: standard normal, or +-1 with equal probability."""
    if kind == "gaussian":
        return torch.randn_like(like)
    if kind == "rademacher":
        return torch.randint(0, 2, like.shape, device=like.device).to(like) * 2 - 1
    raise ValueError(f"noise {kind!r}: expected one of {', '.join(NOISES)}")


def divergence_hutchinson(f: torch.Tensor, z: torch.Tensor, e: torch.Tensor,
                          create_graph: bool = True) -> tuple[torch.Tensor, torch.Tensor]:
    """``e^T (df/dz) e`` per sample, and the vector-Jacobian product ``e^T df/dz`` (reused by RNODE)."""
    e_dfdz = torch.autograd.grad(f, z, e, create_graph=create_graph)[0]  # (B, ...)
    return (e_dfdz * e).flatten(1).sum(1), e_dfdz  # (B,), (B, ...)


def divergence_exact(f: torch.Tensor, z: torch.Tensor, create_graph: bool = True) -> torch.Tensor:
    """``sum_i df_i/dz_i`` with one backward pass per dimension: exact, for low D and for evaluation."""
    f_flat = f.flatten(1)  # (B, D)
    div = torch.zeros(f.shape[0], device=f.device, dtype=f.dtype)
    for i in range(f_flat.shape[1]):
        g = torch.autograd.grad(f_flat[:, i].sum(), z, create_graph=create_graph, retain_graph=True)[0]
        div = div + g.flatten(1)[:, i]
    return div  # (B,)
