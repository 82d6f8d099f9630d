"""RNODE regularisers (Finlay, Jacobsen, Nurbekyan & Oberman 2020, "How to train your neural ODE").

Dynamics that are cheap to solve have small speed and small Jacobians along the trajectory.  Both
quantities are integrated alongside the state and added to the loss:

- kinetic energy ``int_0^T ||f(z, t)||^2 dt`` -- favours straight, constant-speed paths (optimal transport);
- Jacobian Frobenius norm ``int_0^T ||df/dz||_F^2 dt``, estimated with the Hutchinson noise already drawn
  for the divergence: ``||e^T df/dz||^2`` is unbiased for ``||df/dz||_F^2`` when ``E[e e^T] = I``.
"""

from __future__ import annotations

import torch


def kinetic_energy(f: torch.Tensor, e_dfdz: torch.Tensor | None) -> torch.Tensor:
    return f.flatten(1).pow(2).sum(1)  # (B,)


def jacobian_frobenius(f: torch.Tensor, e_dfdz: torch.Tensor | None) -> torch.Tensor:
    assert e_dfdz is not None, "the Jacobian Frobenius regulariser needs the Hutchinson product"
    return e_dfdz.flatten(1).pow(2).sum(1)  # (B,)


REGULARISERS = {"kinetic": kinetic_energy, "jacobian": jacobian_frobenius}
