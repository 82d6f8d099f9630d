"""The one LSTM policy shared by the five heroes, with multi-head masked actions.

Berner et al. 2019 (Section 3, Figure 1): every hero runs the same network on its own observation; the
LSTM's output feeds a value head and action heads.  Here the network is the shared
`ilya.nn.recurrent.RecurrentActorCritic` (embedding -> LSTM -> logits, value) whose logits are the three
heads side by side: kind (noop, move, attack, nuke, stun), direction (8) and target (K slots).  Illegal
choices are masked out; the log-probability of an action counts the direction only for a move and the
target only for an attack or a spell.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from ilya.five.envs import ATTACK, HEAD_SIZES, MOVE, NUKE, STUN
from ilya.nn.recurrent import RecurrentActorCritic

NEG = -1e9
N_LOGITS = sum(HEAD_SIZES)
Hidden = tuple[torch.Tensor, torch.Tensor]


@dataclass(frozen=True)
class PolicyShape:
    """What a checkpoint's network is: input features, LSTM units, embedding width."""

    obs_dim: int
    hidden: int
    embed: int

    def as_dict(self) -> dict[str, int]:
        return {"obs_dim": self.obs_dim, "hidden": self.hidden, "embed": self.embed}


class FivePolicy(nn.Module):
    """x (B, T, D) -> masked head logits, value; the memory is passed in and out explicitly."""

    def __init__(self, shape: PolicyShape) -> None:
        super().__init__()
        self.shape = shape
        self.net = RecurrentActorCritic(shape.obs_dim, N_LOGITS, hidden=shape.hidden, embed=shape.embed,
                                        cell="lstm")

    def initial_state(self, batch: int) -> Hidden:
        h = self.net.initial_state(batch)
        assert isinstance(h, tuple)
        return h

    def forward(self, x: torch.Tensor, h: Hidden, starts: torch.Tensor | None = None
                ) -> tuple[torch.Tensor, torch.Tensor, Hidden]:
        """Sequences with resets: the fused LSTM runs over the stretches between steps where any starts."""
        x = x[..., : self.shape.obs_dim]  # an older, narrower policy reads the prefix of the features
        e = self.net.embed(x)
        if starts is None or not bool(starts.any()):
            out, h = self.net.rnn(e, h)
        else:
            T = x.shape[1]
            cuts = [0] + [t for t in range(1, T) if bool(starts[:, t].any())] + [T]
            outs = []
            for a, b in zip(cuts[:-1], cuts[1:], strict=True):
                keep = (1.0 - starts[:, a].to(x.dtype)).view(1, -1, 1)
                h = (h[0] * keep, h[1] * keep)
                o, h = self.net.rnn(e[:, a:b], h)
                outs.append(o)
            out = torch.cat(outs, 1)
        hh: Hidden = (h[0], h[1])  # type: ignore[index]
        return self.net.pi(out), self.net.v(out).squeeze(-1), hh

    def param_count(self) -> int:
        return sum(p.numel() for p in self.parameters())


def split_heads(logits: torch.Tensor, mask: torch.Tensor) -> list[torch.Tensor]:
    """Masked log-softmax of each head; ``mask`` is the concatenated boolean masks (..., N_LOGITS)."""
    logits = torch.where(mask, logits, torch.full_like(logits, NEG))
    out, i = [], 0
    for n in HEAD_SIZES:
        out.append(torch.log_softmax(logits[..., i:i + n], -1))
        i += n
    return out


def uses_direction(kind: torch.Tensor) -> torch.Tensor:
    return (kind == MOVE).to(torch.float32)


def uses_target(kind: torch.Tensor) -> torch.Tensor:
    return ((kind == ATTACK) | (kind == NUKE) | (kind == STUN)).to(torch.float32)


def log_prob_entropy(logits: torch.Tensor, mask: torch.Tensor, actions: torch.Tensor
                     ) -> tuple[torch.Tensor, torch.Tensor]:
    """log π(a) and the entropy of the kind head plus the expected entropies of the heads it uses."""
    lk, ld, lt = split_heads(logits, mask)
    kind, d, t = actions[..., 0], actions[..., 1], actions[..., 2]
    lp = lk.gather(-1, kind[..., None])[..., 0] + uses_direction(kind) * ld.gather(-1, d[..., None])[..., 0] \
        + uses_target(kind) * lt.gather(-1, t[..., None])[..., 0]
    pk = lk.exp()

    def ent(lp_: torch.Tensor) -> torch.Tensor:
        return -(lp_.exp() * lp_).sum(-1)

    entropy = ent(lk) + pk[..., MOVE] * ent(ld) + (pk[..., ATTACK] + pk[..., NUKE] + pk[..., STUN]) * ent(lt)
    return lp, entropy


def sample_actions(logits: torch.Tensor, mask: np.ndarray, rng: np.random.Generator
                   ) -> tuple[np.ndarray, np.ndarray]:
    """Draw (kind, direction, target) for each row with NumPy's generator; returns actions (R, 3), log π."""
    m = torch.as_tensor(mask)
    heads = split_heads(logits, m)
    acts = []
    for lp in heads:
        p = lp.exp().double().numpy()
        c = np.cumsum(p, -1)
        u = rng.random((p.shape[0], 1)) * c[:, -1:]
        acts.append(np.minimum((c < u).sum(-1), p.shape[1] - 1))
    a = np.stack(acts, -1).astype(np.int64)
    lp, _ = log_prob_entropy(logits, m, torch.as_tensor(a))
    return a, lp.numpy().astype(np.float32)


def concat_masks(kind: np.ndarray, direction: np.ndarray, target: np.ndarray) -> np.ndarray:
    return np.concatenate([kind, direction, target], -1)
