"""A continuous normalizing flow block, stacks of them, and the standard-normal flow model (FFJORD §3).

Convention: data x lives at t = 0 and the base variable z at t = T.  Integrating the augmented dynamics
from 0 to T gives ``z = z(T)`` and ``Delta = int_0^T tr(df/dz) dt``, so that

    log p(x) = log N(z; 0, I) + Delta.

Sampling integrates the same ODE backwards from T to 0.  The end time T may be learned (FFJORD trains
``sqrt(T)`` so T stays positive).  Solving uses ``torchdiffeq.odeint`` (backprop through the solver's
operations) or ``odeint_adjoint`` (the adjoint method of Chen et al. 2018: O(1) memory, f re-evaluated
backwards in time).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import cast

import torch
import torch.nn as nn
from torchdiffeq import odeint, odeint_adjoint

from ilya.ffjord.layers import ODEnet
from ilya.ffjord.odefunc import ODEFunc

FIXED_GRID = ("euler", "midpoint", "rk4", "explicit_adams", "implicit_adams")
SOLVERS = ("dopri5", "dopri8", "bosh3", "adaptive_heun", "fehlberg2", *FIXED_GRID)


@dataclass
class SolverOptions:
    """How each block's ODE is solved."""

    solver: str = "dopri5"
    atol: float = 1e-5
    rtol: float = 1e-5
    step_size: float | None = None  # fixed-grid solvers only
    adjoint: bool = False


class CNF(nn.Module):
    """One CNF block: ``forward(x) -> (z, Delta)``; ``forward(z, reverse=True) -> (x, Delta)``.

    ``Delta = int_0^T tr(df/dz) dt`` along the trajectory in both directions, so
    ``log p(input at t=0) = log p(output at t=T) + Delta``.  ``self.regs`` holds the integrated RNODE
    terms of the last forward solve, one (B,) tensor per regulariser.
    """

    def __init__(self, odefunc: ODEFunc, T: float = 1.0, train_T: bool = False,
                 options: SolverOptions | None = None) -> None:
        super().__init__()
        self.odefunc = odefunc
        self.options = options or SolverOptions()
        if self.options.solver not in SOLVERS:
            raise ValueError(f"solver {self.options.solver!r}: expected one of {', '.join(SOLVERS)}")
        sqrt_T = torch.tensor(math.sqrt(T))
        if train_T:
            self.sqrt_end_time = nn.Parameter(sqrt_T)
        else:
            self.register_buffer("sqrt_end_time", sqrt_T)
        self.regs: list[torch.Tensor] = []

    @property
    def end_time(self) -> torch.Tensor:
        return self.sqrt_end_time * self.sqrt_end_time

    def _solver_kwargs(self) -> dict:
        o = self.options
        kw: dict = {"method": o.solver, "atol": o.atol, "rtol": o.rtol}
        if o.solver in FIXED_GRID:
            kw["options"] = {"step_size": o.step_size or 0.05}
        elif self.odefunc.regularisers:
            # The RNODE integrals only regularise: leave them out of the step-size control, so that they
            # do not themselves force extra steps (error control on z and log p only).
            kw["options"] = {"norm": _state_and_logp_norm}
        return kw

    def forward(self, z: torch.Tensor, context: torch.Tensor | None = None, reverse: bool = False,
                times: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        B = z.shape[0]
        T = self.end_time.to(z)
        if times is None:
            times = torch.stack([torch.zeros_like(T), T])
        if reverse:
            times = times.flip(0)
        n_regs = len(self.odefunc.regularisers)
        zero = torch.zeros(B, device=z.device, dtype=z.dtype)
        state0 = (z, zero, *([zero] * n_regs))
        self.odefunc.before_solve(z, context)
        if self.options.adjoint:
            params = tuple(p for p in self.odefunc.parameters() if p.requires_grad)
            if context is not None and context.requires_grad:
                params = (*params, context)
            solved = odeint_adjoint(self.odefunc, state0, times, adjoint_params=params, **self._solver_kwargs())
        else:
            solved = odeint(self.odefunc, state0, times, **self._solver_kwargs())
        traj = cast(tuple[torch.Tensor, ...], solved)  # one (len(times), ...) tensor per state component
        sign = -1.0 if reverse else 1.0
        if len(times) > 2:  # the whole trajectory was asked for (plots of the flow over time)
            return traj[0], sign * traj[1]
        z_out, delta = traj[0][-1], sign * traj[1][-1]
        self.regs = [sign * r[-1] for r in traj[2:]]
        return z_out, delta


def _state_and_logp_norm(states: tuple[torch.Tensor, ...]) -> torch.Tensor:
    return torch.stack([s.pow(2).mean().sqrt() for s in states[:2]]).max()


def standard_normal_logprob(z: torch.Tensor) -> torch.Tensor:
    """``log N(z; 0, I)`` summed over all but the batch dimension."""
    return (-0.5 * math.log(2 * math.pi) - 0.5 * z.pow(2)).flatten(1).sum(1)  # (B,)


class SequentialFlow(nn.Module):
    """Several CNF blocks composed; the flow model ``p(x)`` with a standard-normal base (FFJORD §3).

    Stacking blocks with separate dynamics lets the model bend the density in stages, as the paper's
    2D and tabular models do.
    """

    def __init__(self, blocks: list[CNF]) -> None:
        super().__init__()
        self.blocks = nn.ModuleList(blocks)

    def forward(self, x: torch.Tensor, context: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """x -> (z, Delta) with ``log p(x) = log N(z) + Delta``."""
        delta = torch.zeros(x.shape[0], device=x.device, dtype=x.dtype)
        for block in self.blocks:
            x, d = block(x, context)
            delta = delta + d
        return x, delta

    def inverse(self, z: torch.Tensor, context: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """z -> (x, Delta): the sampling direction, with the same Delta as `forward` would give for x."""
        delta = torch.zeros(z.shape[0], device=z.device, dtype=z.dtype)
        for block in reversed(self.blocks):
            z, d = block(z, context, reverse=True)
            delta = delta + d
        return z, delta

    def log_prob(self, x: torch.Tensor, context: torch.Tensor | None = None) -> torch.Tensor:
        z, delta = self(x, context)
        return standard_normal_logprob(z) + delta  # (B,)

    @torch.no_grad()
    def sample(self, n: int, shape: tuple[int, ...], device: torch.device | str = "cpu") -> torch.Tensor:
        z = torch.randn(n, *shape, device=device)
        return self.inverse(z)[0]

    def regularisation(self) -> dict[str, torch.Tensor]:
        """The batch means of the integrated RNODE terms of the last forward pass, summed over blocks."""
        out: dict[str, torch.Tensor] = {}
        for block in self.cnf_blocks:
            for name, r in zip(block.odefunc.regularisers, block.regs, strict=True):
                out[name] = out.get(name, 0.0) + r.mean()
        return out

    @property
    def cnf_blocks(self) -> list[CNF]:
        """The blocks, typed (``self.blocks`` is the ModuleList that registers them)."""
        return [b for b in self.blocks if isinstance(b, CNF)]

    # ---------------------------------------------------------------- counters
    def odefuncs(self) -> list[ODEFunc]:
        return [m for m in self.modules() if isinstance(m, ODEFunc)]

    def reset_nfe(self) -> None:
        for f in self.odefuncs():
            f.reset_counters()

    def nfe(self) -> int:
        return sum(f.nfe for f in self.odefuncs())

    def nfe_vjp(self) -> int:
        return sum(f.nfe_vjp for f in self.odefuncs())

    def set_divergence(self, divergence: str) -> None:
        """Switch every block between the Hutchinson estimate (training) and the exact trace (evaluation)."""
        for f in self.odefuncs():
            f.divergence = divergence

    def set_solver(self, **changes) -> None:
        for m in self.modules():
            if isinstance(m, CNF):
                for k, v in changes.items():
                    setattr(m.options, k, v)


@dataclass
class FlowConfig:
    """The architecture of an MLP-dynamics flow (2D and tabular data)."""

    dim: int = 2
    hidden: tuple[int, ...] = (64, 64, 64)
    num_blocks: int = 1
    layer: str = "concatsquash"
    activation: str = "tanh"
    divergence: str = "approximate"
    noise: str = "rademacher"
    regularisers: tuple[str, ...] = ()
    T: float = 1.0
    train_T: bool = True
    d_context: int = 0
    time_features: int = 0
    solver: SolverOptions = field(default_factory=SolverOptions)


def build_flow(cfg: FlowConfig) -> SequentialFlow:
    """A stack of ``num_blocks`` CNF blocks with MLP dynamics, each with its own network and end time."""
    blocks = []
    for _ in range(cfg.num_blocks):
        net = ODEnet(cfg.dim, tuple(cfg.hidden), cfg.layer, cfg.activation, d_context=cfg.d_context,
                     time_features=cfg.time_features)
        func = ODEFunc(net, cfg.divergence, cfg.noise, tuple(cfg.regularisers))
        opts = SolverOptions(**vars(cfg.solver))
        blocks.append(CNF(func, T=cfg.T, train_T=cfg.train_T, options=opts))
    return SequentialFlow(blocks)
