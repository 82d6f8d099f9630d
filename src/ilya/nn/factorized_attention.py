# ruff: noqa: E741  (``l`` is the paper's name for the stride/block length, and the public API's)
"""Factorized sparse attention patterns (Child et al. 2019, §4.2-4.3) and three ways to compute them.

Every position ``i`` attends to positions ``j <= i`` in the union of two halves ``A1`` and ``A2``:

* ``strided`` (stride ``l``): ``A1 = {j : i - j <= l}``, ``A2 = {j : (i - j) mod l == 0}``;
* ``fixed`` (block ``l``, summary width ``c``): ``A1 = {j : j // l == i // l}``,
  ``A2 = {j : j mod l >= l - c}``.

``part`` picks what a head uses (§4.3): ``"merged"`` (the union, one head sees both halves), ``"A1"`` or
``"A2"`` (one half, for interleaving halves by layer or splitting them across heads). A half that could
leave a row empty (fixed ``A2`` before the first summary column) also always contains ``j == i``, so every
row of every pattern is non-empty and the softmax is defined; ``dense`` is plain causal attention.

Implementations (all agree to 1e-5 in fp32, outputs and gradients; see tests/sparse):

* ``reference``: dense SDPA with the boolean ``(n, n)`` mask (O(n²), for tests);
* ``blocked``: the sequence is reshaped into ``n/l`` blocks of ``l``; each half is a small batched matmul
  (the local band against the current and previous block, the strided half as causal attention down the
  columns of the ``(n/l, l)`` grid, the fixed summary half against the ``c`` last keys of every block), and
  one softmax runs over the concatenated scores. Memory is O(n·(l + n/l)) = O(n·√n) for ``l ≈ √n``; no
  ``n × n`` tensor is ever made. This is the training path on CPU (and on GPU when FlexAttention is absent);
* ``flex``: FlexAttention with a block mask built from the same predicates (CUDA; on CPU torch only runs its
  forward, which the tests use to check the mask).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import lru_cache

import torch
import torch.nn.functional as F

PATTERNS = ("dense", "strided", "fixed")
PARTS = ("merged", "A1", "A2")
IMPLS = ("auto", "blocked", "reference", "flex")


def _check(pattern: str, l: int | None, c: int | None, part: str) -> tuple[int, int]:
    if pattern not in PATTERNS:
        raise ValueError(f"pattern {pattern!r}: expected one of {', '.join(PATTERNS)}")
    if part not in PARTS:
        raise ValueError(f"part {part!r}: expected one of {', '.join(PARTS)}")
    if pattern == "dense":
        return 1, 0
    if l is None or int(l) < 1:
        raise ValueError(f"{pattern} attention needs a stride/block l >= 1 (got {l})")
    l = int(l)
    if pattern == "fixed":
        c = 1 if c is None else int(c)
        if not 1 <= c <= l:
            raise ValueError(f"fixed attention needs 1 <= c <= l (got c={c}, l={l})")
        return l, c
    return l, 0


# ----------------------------------------------------------------------------- the predicates
def allowed(pattern: str, i: torch.Tensor, j: torch.Tensor, l: int, c: int, part: str = "merged") -> torch.Tensor:
    """Elementwise: may query position ``i`` attend to key position ``j``? (broadcasts; exact formulas)."""
    causal = j <= i
    if pattern == "dense":
        return causal
    if pattern == "strided":
        a1 = (i - j) <= l
        a2 = torch.remainder(i - j, l) == 0
    else:  # fixed
        a1 = torch.div(j, l, rounding_mode="floor") == torch.div(i, l, rounding_mode="floor")
        a2 = torch.remainder(j, l) >= l - c
        if part == "A2":
            a2 = a2 | (j == i)
    if part == "A1":
        return causal & a1
    if part == "A2":
        return causal & a2
    return causal & (a1 | a2)


def pattern_mask(pattern: str, n: int, l: int | None = None, c: int | None = None, *,
                 part: str = "merged", device: torch.device | str | None = None) -> torch.Tensor:
    """The ``(n, n)`` bool mask, ``True`` where row ``i`` may attend to column ``j`` (Child et al. §4.3)."""
    l_, c_ = _check(pattern, l, c, part)
    idx = torch.arange(n, device=device)
    out = torch.empty(n, n, dtype=torch.bool, device=device)
    for s in range(0, n, 1024):  # row chunks keep the int64 temporaries small
        out[s:s + 1024] = allowed(pattern, idx[s:s + 1024, None], idx[None, :], l_, c_, part)
    return out


def pattern_rows(pattern: str, positions: torch.Tensor, n_keys: int, l: int | None = None,
                 c: int | None = None, *, part: str = "merged") -> torch.Tensor:
    """Mask rows ``(len(positions), n_keys)`` for queries at ``positions`` (KV-cache decoding)."""
    l_, c_ = _check(pattern, l, c, part)
    j = torch.arange(n_keys, device=positions.device)
    return allowed(pattern, positions[:, None], j[None, :], l_, c_, part)


# ----------------------------------------------------------------------------- implementations
def reference_attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, pattern: str, l: int | None = None,
                        c: int | None = None, part: str = "merged") -> torch.Tensor:
    """Dense SDPA restricted by the boolean mask: the O(n²) ground truth."""
    mask = pattern_mask(pattern, q.shape[-2], l, c, part=part, device=q.device)
    return F.scaled_dot_product_attention(q, k, v, attn_mask=mask)


def _pad_to(x: torch.Tensor, n_total: int) -> torch.Tensor:
    n = x.shape[-2]
    return x if n == n_total else F.pad(x, (0, 0, 0, n_total - n))


def _combine(scores: list[torch.Tensor], values: list[Callable[[torch.Tensor], torch.Tensor]]) -> torch.Tensor:
    """One softmax over the concatenated per-half scores, then each half applies its own weights."""
    sizes = [s.shape[-1] for s in scores]
    p = torch.softmax(torch.cat(scores, dim=-1), dim=-1)
    out = None
    for pi, apply in zip(torch.split(p, sizes, dim=-1), values, strict=True):
        o = apply(pi)
        out = o if out is None else out + o
    assert out is not None
    return out


class _Part:
    """One group of (query, key) pairs of a pattern, laid out as ``G`` independent small attentions.

    ``qv(t)`` views a ``(B, H, N, ...)`` per-query tensor as ``(B, H, G, Rq, ...)``; ``kv(t)`` gives the
    keys of a ``(B, H, N, d)`` tensor as ``(B, H, G or 1, Rk, d)`` and ``add_k(buf, g0, g1, x)`` adds a
    key-gradient back; ``mask(g0, g1)`` is a bool ``(G' or 1, Rq, Rk)`` of the allowed pairs.
    """

    def __init__(self, G: int, qv, kv, add_k, mask, klim=None) -> None:  # noqa: ANN001
        self.G, self.qv, self.kv, self.add_k, self.mask = G, qv, kv, add_k, mask
        self.klim = klim  # shared keys: how many of them the query groups g0..g1-1 can see (causality)

    def keys(self, kv: torch.Tensor, g0: int, g1: int) -> torch.Tensor:
        if kv.shape[2] > 1:
            return kv[:, :, g0:g1]
        return kv if self.klim is None else kv[:, :, :, :self.klim(g0, g1)]


def _rows_layout(B: int, H: int, nb: int, l: int, offset: int = 0):  # noqa: ANN202
    """Per-query tensors as blocks of l (row r of the (nb, l) grid), starting at block ``offset``."""
    return lambda t: t.view(B, H, nb, l, *t.shape[3:])[:, :, offset:]


def _cols_layout(B: int, H: int, nb: int, l: int):  # noqa: ANN202
    """Per-query tensors as columns s of the (nb, l) grid: (B, H, l, nb, ...)."""
    return lambda t: t.view(B, H, nb, l, *t.shape[3:]).transpose(2, 3)


def _add_view(view):  # noqa: ANN001, ANN202
    def add(buf: torch.Tensor, g0: int, g1: int, x: torch.Tensor) -> None:
        view(buf)[:, :, g0:g1].add_(x)
    return add


def _strided_parts(B: int, H: int, nb: int, l: int, dev: torch.device, part: str) -> list[_Part]:
    parts = []
    a = torch.arange(l, device=dev)
    if part in ("merged", "A1"):
        # A1 = {j : 0 <= i - j <= l}: the causal band inside block r, and block r-1 from column a on
        rows = _rows_layout(B, H, nb, l)
        parts.append(_Part(nb, rows, rows, _add_view(rows), lambda g0, g1: (a[None, :] <= a[:, None])[None]))
        if nb > 1:
            q1, k0 = _rows_layout(B, H, nb, l, 1), _rows_layout(B, H, nb, l)
            parts.append(_Part(nb - 1, q1, lambda t: k0(t)[:, :, :nb - 1],
                               _add_view(lambda t: k0(t)[:, :, :nb - 1]),
                               lambda g0, g1: (a[None, :] >= a[:, None])[None]))
    if part in ("merged", "A2"):
        # A2 = {j : (i - j) mod l == 0}: causal attention down each column s of the grid; rows r and r-1
        # are already in the band when merged
        cols = _cols_layout(B, H, nb, l)
        r = torch.arange(nb, device=dev)
        gap = 2 if part == "merged" else 0
        m = (r[None, :] <= r[:, None] - gap)[None]
        parts.append(_Part(l, cols, cols, _add_view(cols), lambda g0, g1: m))
    return parts


def _fixed_parts(B: int, H: int, nb: int, l: int, c: int, dev: torch.device, part: str) -> list[_Part]:
    parts = []
    rows = _rows_layout(B, H, nb, l)
    a = torch.arange(l, device=dev)
    if part in ("merged", "A1"):
        # A1 = {j : j // l == i // l}: causal attention inside each block
        parts.append(_Part(nb, rows, rows, _add_view(rows), lambda g0, g1: (a[None, :] <= a[:, None])[None]))
    if part in ("merged", "A2"):
        # A2 = {j : j mod l >= l - c}: every query block against the c last keys of all blocks

        def kv(t: torch.Tensor) -> torch.Tensor:
            return rows(t)[:, :, :, l - c:].reshape(B, H, 1, nb * c, t.shape[-1])

        def add_k(buf: torch.Tensor, g0: int, g1: int, x: torch.Tensor) -> None:
            rows(buf)[:, :, :g1, l - c:].add_(x.sum(2).view(B, H, g1, c, -1))

        jblk = torch.arange(nb, device=dev).repeat_interleave(c)     # block of each summary key
        if part == "merged":                                         # own block's summaries are in A1
            m = (jblk[None, :] < torch.arange(nb, device=dev)[:, None])[:, None, :]
        else:                                                        # j == i is the separate self term
            jpos = jblk * l + torch.arange(l - c, l, device=dev).repeat(nb)
            m = jpos[None, None, :] < torch.arange(nb * l, device=dev).view(nb, l)[:, :, None]
        parts.append(_Part(nb, rows, kv, add_k, lambda g0, g1: m[g0:g1, :, :g1 * c], lambda g0, g1: g1 * c))
    return parts


def _chunks(part: _Part, per_group: int) -> list[tuple[int, int]]:
    step = max(1, CHUNK_ELEMENTS // max(per_group, 1))
    return [(g, min(part.G, g + step)) for g in range(0, part.G, step)]


def _qk(qc: torch.Tensor, kk: torch.Tensor) -> torch.Tensor:
    """(B, H, G, Rq, d) @ (B, H, G or 1, Rk, d)^T; a shared key group is one big matmul, not G copies."""
    if kk.shape[2] == 1 and qc.shape[2] > 1 and qc.is_contiguous():
        B, H, G, Rq, d = qc.shape
        return (qc.view(B, H, G * Rq, d) @ kk[:, :, 0].transpose(-1, -2)).view(B, H, G, Rq, -1)
    return qc @ kk.transpose(-1, -2)


def _pv(p: torch.Tensor, vk: torch.Tensor) -> torch.Tensor:
    """(B, H, G, Rq, Rk) @ (B, H, G or 1, Rk, d)."""
    if vk.shape[2] == 1 and p.shape[2] > 1:
        B, H, G, Rq, Rk = p.shape
        return (p.reshape(B, H, G * Rq, Rk) @ vk[:, :, 0]).view(B, H, G, Rq, -1)
    return p @ vk


def _pt_x(p: torch.Tensor, x: torch.Tensor, shared: bool) -> torch.Tensor:
    """p^T @ x per group, summed over groups into (B, H, 1, Rk, d) when the keys are shared."""
    if shared and p.shape[2] > 1:
        B, H, G, Rq, Rk = p.shape
        return (p.reshape(B, H, G * Rq, Rk).transpose(-1, -2) @ x.reshape(B, H, G * Rq, -1))[:, :, None]
    return p.transpose(-1, -2) @ x


class _FactorizedAttention(torch.autograd.Function):
    """Softmax over the union of the parts, computed part by part and chunk by chunk (FlashAttention-style):
    the forward keeps only q, k, v, the output and the per-query log-sum-exp; the backward recomputes each
    chunk's scores. Peak memory is O(n·d) plus one chunk of scores."""

    @staticmethod
    def forward(ctx, q, k, v, parts, self_term):  # noqa: ANN001, ANN205
        B, H, N, d = q.shape
        scale = 1.0 / math.sqrt(d)
        neg = torch.finfo(q.dtype).min
        out = torch.zeros_like(q)
        lse = torch.full((B, H, N), neg, dtype=q.dtype, device=q.device)
        if self_term:
            lse = (q * k).sum(-1) * scale                            # (B, H, N): j == i
            out = v.clone()
        for i, part in enumerate(parts):
            first = i == 0 and not self_term                         # the first part writes the output itself
            o_p = out if first else torch.zeros_like(q)
            lse_p = lse if first else torch.full((B, H, N), neg, dtype=q.dtype, device=q.device)
            qv, kv, vv = part.qv(q), part.kv(k), part.kv(v)
            per_group = B * H * qv.shape[3] * kv.shape[3]
            for g0, g1 in _chunks(part, per_group):
                kk, vk = part.keys(kv, g0, g1), part.keys(vv, g0, g1)
                s = _qk(qv[:, :, g0:g1], kk).mul_(scale).masked_fill_(~part.mask(g0, g1), neg)
                m = torch.logsumexp(s, dim=-1)                       # (B, H, G', Rq)
                part.qv(lse_p)[:, :, g0:g1] = m
                part.qv(o_p)[:, :, g0:g1] = _pv(torch.exp_(s.sub_(m[..., None])), vk)
            if first:
                continue
            new = torch.logaddexp(lse, lse_p)
            out.mul_(torch.exp(lse - new)[..., None]).add_(o_p.mul_(torch.exp(lse_p - new)[..., None]))
            lse = new
        ctx.save_for_backward(q, k, v, out, lse)
        ctx.parts, ctx.self_term = parts, self_term
        return out

    @staticmethod
    def backward(ctx, dout):  # noqa: ANN001, ANN205
        q, k, v, out, lse = ctx.saved_tensors
        B, H, N, d = q.shape
        scale = 1.0 / math.sqrt(d)
        neg = torch.finfo(q.dtype).min
        dout = dout.contiguous()
        delta = (dout * out).sum(-1)                                 # (B, H, N)
        dq, dk, dv = torch.zeros_like(q), torch.zeros_like(k), torch.zeros_like(v)
        if ctx.self_term:
            p = torch.exp((q * k).sum(-1) * scale - lse)             # (B, H, N)
            dv += p[..., None] * dout
            ds = p * ((dout * v).sum(-1) - delta)
            dq += ds[..., None] * k * scale
            dk += ds[..., None] * q * scale
        for part in ctx.parts:
            qv, kv, vv = part.qv(q), part.kv(k), part.kv(v)
            dov, lsev, deltav, dqv = part.qv(dout), part.qv(lse), part.qv(delta), part.qv(dq)
            per_group = B * H * qv.shape[3] * kv.shape[3]
            for g0, g1 in _chunks(part, per_group):
                kk, vk = part.keys(kv, g0, g1), part.keys(vv, g0, g1)
                qc, doc = qv[:, :, g0:g1], dov[:, :, g0:g1]
                shared = kv.shape[2] == 1
                s = _qk(qc, kk).mul_(scale).masked_fill_(~part.mask(g0, g1), neg)
                p = torch.exp_(s.sub_(lsev[:, :, g0:g1, :, None]))    # (B, H, G', Rq, Rk)
                part.add_k(dv, g0, g1, _pt_x(p, doc, shared))
                ds = _qk(doc, vk).sub_(deltav[:, :, g0:g1, :, None]).mul_(p).mul_(scale)
                dqv[:, :, g0:g1] += _pv(ds, kk)
                part.add_k(dk, g0, g1, _pt_x(ds, qc, shared))
        return dq, dk, dv, None, None


# score elements per chunk (2 MiB in fp32): bounds the transient memory of the blocked path
CHUNK_ELEMENTS = 1 << 19


def blocked_attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, pattern: str, l: int | None = None,
                      c: int | None = None, part: str = "merged") -> torch.Tensor:
    """Factorized attention in O(n·(l + n/l)) memory, never forming an ``n × n`` tensor."""
    l_, c_ = _check(pattern, l, c, part)
    if pattern == "dense":
        return F.scaled_dot_product_attention(q, k, v, is_causal=True)
    B, H, n, d = q.shape
    nb = -(-n // l_)
    N = nb * l_
    q, k, v = (_pad_to(t, N).contiguous() for t in (q, k, v))    # whole blocks; padded keys are never visible
    if pattern == "strided":
        parts = _strided_parts(B, H, nb, l_, q.device, part)
    else:
        parts = _fixed_parts(B, H, nb, l_, c_, q.device, part)
    out = _FactorizedAttention.apply(q, k, v, parts, pattern == "fixed" and part == "A2")
    return out[:, :, :n]


@lru_cache(maxsize=32)
def _block_mask(pattern: str, n: int, l: int, c: int, part: str, device: str):  # noqa: ANN202
    from torch.nn.attention.flex_attention import create_block_mask

    def mask_mod(b, h, q_idx, kv_idx):  # noqa: ANN001, ANN202
        return allowed(pattern, q_idx, kv_idx, l, c, part)

    return create_block_mask(mask_mod, None, None, n, n, device=device)


_compiled_flex = None


def flex_attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, pattern: str, l: int | None = None,
                   c: int | None = None, part: str = "merged") -> torch.Tensor:
    """FlexAttention with a block mask of the pattern (compiled on CUDA; forward-only on CPU)."""
    global _compiled_flex
    from torch.nn.attention import flex_attention as fa

    l_, c_ = _check(pattern, l, c, part)
    bm = _block_mask(pattern, q.shape[-2], l_, c_, part, str(q.device))
    if q.is_cuda:
        if _compiled_flex is None:
            _compiled_flex = torch.compile(fa.flex_attention, dynamic=False)
        return _compiled_flex(q, k, v, block_mask=bm)
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fa.flex_attention(q, k, v, block_mask=bm)


IMPLEMENTATIONS: dict[str, Callable[..., torch.Tensor]] = {
    "reference": reference_attention,
    "blocked": blocked_attention,
    "flex": flex_attention,
}


def sparse_attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, pattern: str, l: int | None = None,
                     c: int | None = None, *, part: str = "merged", impl: str = "auto") -> torch.Tensor:
    """Softmax attention of ``q, k, v`` ``(B, H, n, d)`` restricted to ``pattern``; differentiable.

    ``impl="auto"`` uses FlexAttention on CUDA and the blocked O(n·√n) path elsewhere.
    """
    if impl not in IMPLS:
        raise ValueError(f"impl {impl!r}: expected one of {', '.join(IMPLS)}")
    if impl == "auto":
        impl = "flex" if (q.is_cuda and pattern != "dense") else "blocked"
    return IMPLEMENTATIONS[impl](q, k, v, pattern, l, c, part)
