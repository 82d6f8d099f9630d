"""Causal self-attention with a pluggable pattern: ``dense``, ``strided`` or ``fixed`` (Child et al. §4).

How the two halves of a factorized pattern are used (§4.3) is ``mode``:
``merged`` (every head attends to the union), ``interleaved`` (layer ``k`` uses half ``A1`` if ``k`` is
even, ``A2`` if odd) or ``multihead`` (the first half of the heads use ``A1``, the others ``A2``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import torch
import torch.nn as nn
import torch.nn.functional as F

from ilya.nn.factorized_attention import pattern_rows, sparse_attention

ATTN_MODES = ("merged", "interleaved", "multihead")


class ResidualProjection(nn.Linear):
    """A linear layer that writes into the residual stream: initialised with std 0.02/sqrt(2N) (§5.2)."""


@dataclass
class KVCache:
    """Keys and values seen so far by one layer: ``(B, nh, T, hs)`` each (grown by concatenation).

    ``valid`` ``(B, T)`` (bool, optional) marks the keys a row may attend to: rows of different lengths
    share one right-padded cache, and padding is never attended to (dense attention only).  ``mask``
    ``(B, T_new, keys)`` (bool, optional) replaces the causal mask for the next call only: several short
    continuations of one prefix packed into one row, each seeing the prefix and its own earlier tokens.
    """

    k: torch.Tensor | None = None
    v: torch.Tensor | None = None
    extra: dict = field(default_factory=dict)
    valid: torch.Tensor | None = None
    mask: torch.Tensor | None = None

    @property
    def length(self) -> int:
        return 0 if self.k is None else self.k.shape[2]


class CausalSelfAttention(nn.Module):
    """Multi-head attention; ``pattern`` picks which keys each query may see."""

    def __init__(self, n_embd: int, n_head: int, dropout: float, pattern: str = "dense",
                 stride: int | None = None, c: int | None = None, mode: str = "merged",
                 layer_index: int = 0, impl: str = "auto") -> None:
        super().__init__()
        assert n_embd % n_head == 0, "n_embd must be divisible by n_head"
        if mode not in ATTN_MODES:
            raise ValueError(f"attention mode {mode!r}: expected one of {', '.join(ATTN_MODES)}")
        if mode == "multihead" and pattern != "dense" and n_head < 2:
            raise ValueError("multihead sparse attention needs at least 2 heads")
        self.c_attn = nn.Linear(n_embd, 3 * n_embd)
        self.c_proj = ResidualProjection(n_embd, n_embd)  # scaled init, §5.2
        self.resid_dropout = nn.Dropout(dropout)
        self.n_head, self.n_embd, self.dropout = n_head, n_embd, dropout
        self.pattern, self.stride, self.c, self.mode, self.impl = pattern, stride, c, mode, impl
        # which half (or both) each head group uses: a list of (head slice, part)
        if pattern == "dense" or mode == "merged":
            self.groups = [(slice(0, n_head), "merged")]
        elif mode == "interleaved":
            self.groups = [(slice(0, n_head), "A1" if layer_index % 2 == 0 else "A2")]
        else:
            h = n_head // 2
            self.groups = [(slice(0, h), "A1"), (slice(h, n_head), "A2")]

    def _attend(self, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, impl: str | None = None) -> torch.Tensor:
        if self.pattern == "dense":
            return F.scaled_dot_product_attention(q, k, v, is_causal=True)
        outs = [sparse_attention(q[:, hs], k[:, hs], v[:, hs], self.pattern, self.stride, self.c,
                                 part=part, impl=impl or self.impl) for hs, part in self.groups]
        return outs[0] if len(outs) == 1 else torch.cat(outs, dim=1)

    def _decode_mask(self, start: int, T: int, n_keys: int, device: torch.device) -> torch.Tensor:
        """(nh, T, n_keys) mask for queries at positions start..start+T-1 against cached keys."""
        pos = torch.arange(start, start + T, device=device)
        rows = []
        for hs, part in self.groups:
            m = pattern_rows(self.pattern, pos, n_keys, self.stride, self.c, part=part)
            rows.append(m.expand(hs.stop - hs.start, T, n_keys))
        return torch.cat(rows, dim=0)

    def forward(self, x: torch.Tensor, cache: KVCache | None = None) -> torch.Tensor:
        B, T, C = x.shape
        q, k, v = self.c_attn(x).split(self.n_embd, dim=2)
        hs = C // self.n_head
        q = q.view(B, T, self.n_head, hs).transpose(1, 2)  # (B, nh, T, hs)
        k = k.view(B, T, self.n_head, hs).transpose(1, 2)
        v = v.view(B, T, self.n_head, hs).transpose(1, 2)
        if cache is None or cache.length == 0:
            impl = None
            if cache is not None:                           # prompt prefill: prompt lengths vary, so no
                cache.k, cache.v = k, v                     # compiled FlexAttention per length
                impl = "blocked" if self.impl == "auto" else None
            y = self._attend(q, k, v, impl)                 # (B, nh, T, hs)
        else:
            start = cache.length
            assert cache.k is not None and cache.v is not None
            cache.k = torch.cat([cache.k, k], dim=2)
            cache.v = torch.cat([cache.v, v], dim=2)
            if cache.mask is not None:                                     # packed continuations
                if self.pattern != "dense":
                    raise ValueError("packed continuations need dense attention")
                mask, cache.mask = cache.mask[:, None], None                 # (B, 1, T, keys)
                y = F.scaled_dot_product_attention(q, cache.k, cache.v, attn_mask=mask)
                y = y.transpose(1, 2).contiguous().view(B, T, C)
                return self.resid_dropout(self.c_proj(y))
            mask = self._decode_mask(start, T, cache.length, x.device)     # (nh, T, keys)
            if cache.valid is not None:                                    # right-padded rows
                if self.pattern != "dense":
                    raise ValueError("padded caches need dense attention")
                cache.valid = torch.cat([cache.valid, cache.valid.new_ones(B, T)], dim=1)
                mask = mask[None] & cache.valid[:, None, None, :]            # (B, nh, T, keys)
            y = F.scaled_dot_product_attention(q, cache.k, cache.v, attn_mask=mask)
        y = y.transpose(1, 2).contiguous().view(B, T, C)
        return self.resid_dropout(self.c_proj(y))


def scaled_init_std(base_std: float, n_layer: int) -> float:
    """Residual projections start at ``base_std / sqrt(2 N)`` (N layers, two residual adds each), §5.2."""
    return base_std / math.sqrt(2 * n_layer)
