"""Sparse Transformers (Child, Gray, Radford & Sutskever 2019): factorized attention on bytes and images.

Public API::

    import ilya.sparse as sp
    mask = sp.pattern_mask("strided", n=16, l=4)          # (16, 16) bool, True where i may attend to j
    y = sp.attention(q, k, v, "fixed", l=128, c=8)        # q, k, v (batch, heads, n, d) -> (batch, heads, n, d)

``attention`` uses the blocked O(n·√n)-memory implementation on CPU and FlexAttention on CUDA; pass
``impl="reference"`` (dense masked SDPA), ``"blocked"`` or ``"flex"`` to choose, and ``part="A1"|"A2"``
for one half of the pattern. The model is `ilya.nn.Transformer` with ``attn="strided"|"fixed"``.
"""

from __future__ import annotations

import torch

from ilya.nn.factorized_attention import PARTS, PATTERNS, pattern_mask, sparse_attention


def attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, pattern: str, l: int | None = None,  # noqa: E741
              c: int | None = None, *, part: str = "merged", impl: str = "auto") -> torch.Tensor:
    """Softmax attention ``(batch, heads, n, d)`` restricted to ``pattern`` (dense, strided, fixed); differentiable."""
    return sparse_attention(q, k, v, pattern, l, c, part=part, impl=impl)


__all__ = ["PARTS", "PATTERNS", "attention", "pattern_mask"]
