"""A recurrent actor-critic for discrete actions: embedding -> GRU/LSTM -> policy logits and value.

The memory of RL² (Duan et al. 2016) and of OpenAI Five's LSTM policy.  The hidden state is passed in
and out explicitly, so the caller decides when memory is kept (across the episodes of one RL² trial)
and when it is reset (between trials): ``forward(x, h, starts)`` zeroes the state of a sequence at the
steps where ``starts`` is 1.
"""

from __future__ import annotations

from typing import Literal

import torch
import torch.nn as nn

Hidden = torch.Tensor | tuple[torch.Tensor, torch.Tensor]


class RecurrentActorCritic(nn.Module):
    """x (B, T, D) -> logits (B, T, A), value (B, T), next hidden."""

    def __init__(self, obs_dim: int, n_actions: int, hidden: int = 64, embed: int = 64,
                 cell: Literal["gru", "lstm"] = "gru") -> None:
        super().__init__()
        self.obs_dim, self.n_actions, self.hidden, self.cell = obs_dim, n_actions, hidden, cell
        self.embed = nn.Sequential(nn.Linear(obs_dim, embed), nn.Tanh())
        rnn_cls = {"gru": nn.GRU, "lstm": nn.LSTM}[cell]
        self.rnn = rnn_cls(embed, hidden, batch_first=True)
        self.pi = nn.Linear(hidden, n_actions)
        self.v = nn.Linear(hidden, 1)
        nn.init.orthogonal_(self.pi.weight, gain=0.01)
        nn.init.zeros_(self.pi.bias)

    def initial_state(self, batch: int) -> Hidden:
        """The reset memory (zeros), one per sequence in the batch."""
        h = torch.zeros(1, batch, self.hidden)
        return (h, torch.zeros_like(h)) if self.cell == "lstm" else h

    @staticmethod
    def _mask(h: Hidden, keep: torch.Tensor) -> Hidden:
        keep = keep.view(1, -1, 1)
        if isinstance(h, tuple):
            return (h[0] * keep, h[1] * keep)
        return h * keep

    def forward(self, x: torch.Tensor, h: Hidden | None = None,
                starts: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor, Hidden]:
        """Run a batch of sequences; ``starts`` (B, T) resets the memory before the marked steps."""
        B, T, _ = x.shape
        state: Hidden = self.initial_state(B) if h is None else h
        e = self.embed(x)  # (B, T, E)
        if starts is None:
            out, state = self.rnn(e, state)  # (B, T, H): the fused fast path
        else:
            outs: list[torch.Tensor] = []
            for t in range(T):
                state = self._mask(state, 1.0 - starts[:, t].to(x.dtype))
                o, state = self.rnn(e[:, t : t + 1], state)
                outs.append(o)
            out = torch.cat(outs, dim=1)
        return self.pi(out), self.v(out).squeeze(-1), state

    @torch.no_grad()
    def step(self, x: torch.Tensor, h: Hidden) -> tuple[torch.Tensor, torch.Tensor, Hidden]:
        """One time step for acting: x (B, D) -> logits (B, A), value (B,), next hidden."""
        logits, value, h = self.forward(x[:, None], h)
        return logits[:, 0], value[:, 0], h
