"""A VAE whose Gaussian posterior is refined by an amortised FFJORD flow (FFJORD §5.3).

The encoder gives ``mu(x), sigma(x)`` and a context vector ``c(x)``; a sample ``z_0 ~ N(mu, sigma^2)``
is pushed through a CNF whose dynamics ``f(z, t, c(x))`` see that context, so the flow is amortised:
one network, a different posterior transformation per input.  With ``Delta = int tr(df/dz) dt``,

    log q(z_T | x) = log N(z_0; mu, sigma^2) - Delta,
    -ELBO(x) = -E_q[log p(x | z_T) + log N(z_T; 0, I) - log q(z_T | x)].

``posterior="gaussian"`` is the plain VAE baseline (no flow), trained and evaluated the same way.
"""

from __future__ import annotations

import math

import torch
import torch.nn as nn
import torch.nn.functional as F

from ilya.ffjord.cnf import FlowConfig, SolverOptions, build_flow, standard_normal_logprob

POSTERIORS = ("gaussian", "ffjord")


class VAE(nn.Module):
    """MLP encoder/decoder with Bernoulli likelihood over binarised pixels."""

    def __init__(self, d_x: int, d_z: int = 16, hidden: int = 256, posterior: str = "ffjord",
                 d_context: int = 16, flow_hidden: tuple[int, ...] = (64, 64), flow_blocks: int = 1,
                 solver: SolverOptions | None = None) -> None:
        super().__init__()
        if posterior not in POSTERIORS:
            raise ValueError(f"posterior {posterior!r}: expected one of {', '.join(POSTERIORS)}")
        self.posterior, self.d_z = posterior, d_z
        self.encoder = nn.Sequential(nn.Linear(d_x, hidden), nn.ELU(), nn.Linear(hidden, hidden), nn.ELU())
        self.to_mu = nn.Linear(hidden, d_z)
        self.to_logvar = nn.Linear(hidden, d_z)
        self.decoder = nn.Sequential(nn.Linear(d_z, hidden), nn.ELU(), nn.Linear(hidden, hidden), nn.ELU(),
                                     nn.Linear(hidden, d_x))
        self.flow = None
        if posterior == "ffjord":
            self.to_context = nn.Linear(hidden, d_context)
            self.flow = build_flow(FlowConfig(dim=d_z, hidden=flow_hidden, num_blocks=flow_blocks,
                                              d_context=d_context, T=0.5, train_T=True,
                                              solver=solver or SolverOptions(atol=1e-5, rtol=1e-5)))

    def neg_elbo(self, x: torch.Tensor) -> torch.Tensor:
        """One-sample estimate of -ELBO per input, in nats.  x: (B, D) in {0, 1}."""
        h = self.encoder(x)  # (B, hidden)
        mu, logvar = self.to_mu(h), self.to_logvar(h).clamp(-10, 10)
        std = torch.exp(0.5 * logvar)
        eps = torch.randn_like(mu)
        z = mu + std * eps  # (B, d_z)
        log_q = (-0.5 * math.log(2 * math.pi) - 0.5 * logvar - 0.5 * eps.pow(2)).sum(1)  # log N(z0; mu, s^2)
        if self.flow is not None:
            z, delta = self.flow(z, context=self.to_context(h))
            log_q = log_q - delta
        log_px = -F.binary_cross_entropy_with_logits(self.decoder(z), x, reduction="none").sum(1)
        return -(log_px + standard_normal_logprob(z) - log_q)  # (B,)

    @torch.no_grad()
    def reconstruct_mean(self, x: torch.Tensor) -> torch.Tensor:
        h = self.encoder(x)
        return torch.sigmoid(self.decoder(self.to_mu(h)))
