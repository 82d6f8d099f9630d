"""RNODE regularisers (Finlay, Jacobsen, Nurbekyan & Oberman 2020, "How to train your neural ODE").

Dynamics that are cheap to solve have small speed and small Jacobians along the trajectory.  Both
quantities are integrated alongside the state and added to the loss:

- kinetic energy ``int_0^T ||f(z, t)||^2 dt`` -- favours straight, constant-speed paths (optimal transport);
- Jacobian Frobenius norm ``int_0^T ||df/dz||_F^2 dt``, estimated with the Hutchinson noise already drawn
  for the divergence: ``||e^T df/dz||^2`` is unbiased for ``||df/dz||_F^2`` when ``E[e e^T] = I``.

Their weights may decay over training (`weight_scale`, ``--reg-schedule``).
"""

from __future__ import annotations

import math

import torch

from ilya.ffjord.config import RegSchedule


def kinetic_energy(f: torch.Tensor, e_dfdz: torch.Tensor | None) -> torch.Tensor:
    return f.flatten(1).pow(2).sum(1)  # (B,)


def jacobian_frobenius(f: torch.Tensor, e_dfdz: torch.Tensor | None) -> torch.Tensor:
    assert e_dfdz is not None, "the Jacobian Frobenius regulariser needs the Hutchinson product"
    return e_dfdz.flatten(1).pow(2).sum(1)  # (B,)


REGULARISERS = {"kinetic": kinetic_energy, "jacobian": jacobian_frobenius}


def weight_scale(step: int, iters: int, schedule: RegSchedule = "constant", decay_start: float = 0.5,
                 final: float = 0.0) -> float:
    """The factor on the RNODE weights at 0-based ``step`` of ``iters``: 1 until the fraction ``decay_start``
    of training, then down to ``final`` at the last step, on a straight line (``linear``) or a half cosine
    (``cosine``); always 1 for ``constant``.  Strong early, weak late: the dynamics are kept simple while the
    model is shaped, and the density may sharpen at the end."""
    if schedule == "constant":
        return 1.0
    if schedule not in ("linear", "cosine"):
        raise ValueError(f"RNODE weight schedule {schedule!r}: expected constant, linear or cosine")
    start = decay_start * iters
    span = iters - 1 - start
    if step <= start:
        return 1.0
    if span <= 0:
        return final
    frac = min((step - start) / span, 1.0)
    if schedule == "linear":
        return 1.0 + (final - 1.0) * frac
    return final + (1.0 - final) * 0.5 * (1.0 + math.cos(math.pi * frac))
