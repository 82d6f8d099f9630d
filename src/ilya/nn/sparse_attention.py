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
    return allowed(pattern, idx[:, None], idx[None, :], l_, c_, part)


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


def _strided_blocked(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, l: int, part: str) -> torch.Tensor:
    B, H, n, d = q.shape
    nb = -(-n // l)
    N = nb * l
    q, k, v = (_pad_to(t, N) for t in (q, k, v))
    scale = 1.0 / math.sqrt(d)
    qb = q.view(B, H, nb, l, d) * scale                           # (B, H, nb, l, d): row r, column s
    kb, vb = k.view(B, H, nb, l, d), v.view(B, H, nb, l, d)
    scores, values = [], []
    use_local, use_stride = part in ("merged", "A1"), part in ("merged", "A2")
    neg = torch.finfo(q.dtype).min
    if use_local:
        # A1: keys i-l..i live in the current and the previous block
        kl = torch.cat([F.pad(kb, (0, 0, 0, 0, 1, 0))[:, :, :nb], kb], dim=3)  # (B, H, nb, 2l, d)
        vl = torch.cat([F.pad(vb, (0, 0, 0, 0, 1, 0))[:, :, :nb], vb], dim=3)
        a = torch.arange(l, device=q.device)[:, None]
        kk = torch.arange(2 * l, device=q.device)[None, :]
        m = ((kk >= a) & (kk <= a + l)).expand(nb, l, 2 * l).clone()  # i - j = l + a - kk in [0, l]
        m[0, :, :l] = False                                           # block -1 does not exist
        s = (qb @ kl.transpose(-1, -2)).masked_fill(~m, neg)          # (B, H, nb, l, 2l)
        scores.append(s)
        values.append(lambda p: p @ vl)                               # (B, H, nb, l, d)
    if use_stride:
        # A2: (i - j) mod l == 0 means the same column s of the (nb, l) grid, row r' <= r
        qc, kc, vc = qb.transpose(2, 3), kb.transpose(2, 3), vb.transpose(2, 3)  # (B, H, l, nb, d)
        r = torch.arange(nb, device=q.device)
        gap = 2 if use_local else 0                                   # rows r, r-1 are in the band already
        m = r[None, :] <= r[:, None] - gap                            # (nb_q, nb_k)
        s = (qc @ kc.transpose(-1, -2)).masked_fill(~m, neg)          # (B, H, l, nb, nb)
        scores.append(s.transpose(2, 3))                              # (B, H, nb, l, nb)
        values.append(lambda p: (p.transpose(2, 3) @ vc).transpose(2, 3))
    out = _combine(scores, values)                                    # (B, H, nb, l, d)
    return out.reshape(B, H, N, d)[:, :, :n]


def _fixed_blocked(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, l: int, c: int, part: str) -> torch.Tensor:
    B, H, n, d = q.shape
    nb = -(-n // l)
    N = nb * l
    q, k, v = (_pad_to(t, N) for t in (q, k, v))
    scale = 1.0 / math.sqrt(d)
    qb = q.view(B, H, nb, l, d) * scale
    kb, vb = k.view(B, H, nb, l, d), v.view(B, H, nb, l, d)
    scores, values = [], []
    neg = torch.finfo(q.dtype).min
    dev = q.device
    if part in ("merged", "A1"):
        # A1: causal attention inside each block of l
        m = torch.ones(l, l, dtype=torch.bool, device=dev).tril()
        s = (qb @ kb.transpose(-1, -2)).masked_fill(~m, neg)          # (B, H, nb, l, l)
        scores.append(s)
        values.append(lambda p: p @ vb)
    if part in ("merged", "A2"):
        # A2: the last c positions of every block ("summary" keys), (B, H, nb*c, d)
        ks = kb[:, :, :, l - c:].reshape(B, H, nb * c, d)
        vs = vb[:, :, :, l - c:].reshape(B, H, nb * c, d)
        s = qb @ ks[:, :, None].transpose(-1, -2)                     # (B, H, nb, l, nb*c)
        jblk = torch.arange(nb, device=dev).repeat_interleave(c)      # block of each summary key
        if part == "merged":
            m = (jblk[None, :] < torch.arange(nb, device=dev)[:, None])[:, None, :]  # own block is in A1
        else:
            jpos = jblk * l + torch.arange(l - c, l, device=dev).repeat(nb)
            ipos = torch.arange(N, device=dev).view(nb, l)
            m = jpos[None, None, :] < ipos[:, :, None]                 # j == i comes from the self term
        scores.append(s.masked_fill(~m, neg))
        values.append(lambda p: p @ vs[:, :, None])
        if part == "A2":
            scores.append((qb * kb).sum(-1, keepdim=True))            # (B, H, nb, l, 1): j == i
            values.append(lambda p: p * vb)
    out = _combine(scores, values)
    return out.reshape(B, H, N, d)[:, :, :n]


def blocked_attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, pattern: str, l: int | None = None,
                      c: int | None = None, part: str = "merged") -> torch.Tensor:
    """Factorized attention in O(n·(l + n/l)) memory, never forming an ``n × n`` tensor."""
    l_, c_ = _check(pattern, l, c, part)
    if pattern == "dense":
        return F.scaled_dot_product_attention(q, k, v, is_causal=True)
    if pattern == "strided":
        return _strided_blocked(q, k, v, l_, part)
    return _fixed_blocked(q, k, v, l_, c_, part)


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
