"""Sparse Transformers (Child, Gray, Radford & Sutskever 2019): factorized attention on bytes and images.

Public API::

    import ilya.sparse as sp
    mask = sp.pattern_mask("strided", n=16, l=4)          # (16, 16) bool, True where i may attend to j
    y = sp.attention(q, k, v, "fixed", l=128, c=8)        # q, k, v (batch, heads, n, d) -> (batch, heads, n, d)

``attention`` uses the blocked O(n·√n)-memory implementation on CPU and FlexAttention on CUDA; pass
``impl="reference"`` (dense masked SDPA), ``"blocked"`` or ``"flex"`` to choose, and ``part="A1"|"A2"``
for one half of the pattern. The model is `ilya.nn.Transformer` with ``attn="strided"|"fixed"``.

The names are loaded on first use, so ``import ilya.sparse.cli`` (``ilya sparse --help``) imports no torch.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the names for type checkers; at run time they load on first use (below)
    import torch

    from ilya.nn.factorized_attention import PARTS, PATTERNS, pattern_mask

__all__ = ["PARTS", "PATTERNS", "attention", "pattern_mask"]


def attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, pattern: str, l: int | None = None,  # noqa: E741
              c: int | None = None, *, part: str = "merged", impl: str = "auto") -> torch.Tensor:
    """Softmax attention ``(batch, heads, n, d)`` restricted to ``pattern`` (dense, strided, fixed); differentiable."""
    from ilya.nn.factorized_attention import sparse_attention

    return sparse_attention(q, k, v, pattern, l, c, part=part, impl=impl)


def __getattr__(name: str) -> Any:  # PEP 562: torch is imported when a name is first used
    if name in ("PARTS", "PATTERNS", "pattern_mask"):
        from ilya.nn import factorized_attention

        return getattr(factorized_attention, name)
    raise AttributeError(f"module 'ilya.sparse' has no attribute {name!r}")
