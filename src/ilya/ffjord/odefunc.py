"""The augmented dynamics a CNF integrates: state, log-density change, and RNODE integrands (FFJORD §3).

``d/dt [z, Delta, R_1, ...] = [f(z, t), tr(df/dz), r_1(z, t), ...]``.  The network f is an `ODEnet`;
this wrapper adds the divergence (exact or Hutchinson with noise fixed over the solve), the
regulariser integrands, and two counters:

- ``nfe``: how many times the solver evaluated the dynamics (forward solves, and the adjoint's
  backward solve, which re-evaluates f);
- ``nfe_vjp``: how many of those evaluations had a vector-Jacobian product taken through them during a
  direct-backprop backward pass (counted by a gradient hook, i.e. what autograd actually ran).
"""

from __future__ import annotations

import torch
import torch.nn as nn

from ilya.ffjord.divergence import divergence_exact, divergence_hutchinson, sample_noise
from ilya.ffjord.regularization import REGULARISERS


class ODEFunc(nn.Module):
    """Wraps f(z, t[, c]) into the augmented dynamics of z, the log-density and the regularisers."""

    def __init__(self, net: nn.Module, divergence: str = "approximate", noise: str = "rademacher",
                 regularisers: tuple[str, ...] = ()) -> None:
        super().__init__()
        if divergence not in ("approximate", "exact"):
            raise ValueError(f"divergence {divergence!r}: expected approximate or exact")
        for r in regularisers:
            if r not in REGULARISERS:
                raise ValueError(f"regulariser {r!r}: expected some of {', '.join(REGULARISERS)}")
        self.net = net
        self.divergence = divergence
        self.noise = noise
        self.regularisers = tuple(regularisers)
        self.context: torch.Tensor | None = None
        self._e: torch.Tensor | None = None
        self.nfe = 0
        self.nfe_vjp = 0

    def before_solve(self, z: torch.Tensor, context: torch.Tensor | None = None) -> None:
        """Draw the Hutchinson noise once: it stays fixed for the whole solve (and its adjoint)."""
        self.context = context
        needs_noise = self.divergence == "approximate" or "jacobian" in self.regularisers
        self._e = sample_noise(z, self.noise) if needs_noise else None

    def reset_counters(self) -> None:
        self.nfe = 0
        self.nfe_vjp = 0

    def _count_vjp(self, grad: torch.Tensor) -> torch.Tensor:
        self.nfe_vjp += 1
        return grad

    def forward(self, t: torch.Tensor, states: tuple[torch.Tensor, ...]) -> tuple[torch.Tensor, ...]:
        z = states[0]
        self.nfe += 1
        create_graph = torch.is_grad_enabled()  # True while training (direct or adjoint backward)
        with torch.enable_grad():
            if not (create_graph and z.requires_grad):
                z = z.detach().requires_grad_(True)
            f = self.net(t, z, self.context)  # same shape as z
            e_dfdz = None
            if self.divergence == "exact":
                div = divergence_exact(f, z, create_graph=create_graph)
            else:
                assert self._e is not None, "call before_solve() first"
                div, e_dfdz = divergence_hutchinson(f, z, self._e, create_graph=create_graph)
            if "jacobian" in self.regularisers and e_dfdz is None:
                assert self._e is not None
                e_dfdz = torch.autograd.grad(f, z, self._e, create_graph=create_graph)[0]
            regs = [REGULARISERS[r](f, e_dfdz) for r in self.regularisers]
        if create_graph and f.requires_grad:
            f.register_hook(self._count_vjp)
        if not create_graph:  # evaluation: do not keep the graph alive between solver steps
            f, div, regs = f.detach(), div.detach(), [r.detach() for r in regs]
        return (f, div, *regs)
