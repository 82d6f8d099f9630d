# ruff: noqa: E741  (``l`` is the paper's stride/block length)
"""Figures of the Sparse Transformer paper: attention connectivity (Fig. 3), sample grids, and the
time/memory-vs-sequence-length figure of the attention benchmark."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from ilya.core.plotting import new_figure, save_figure
from ilya.nn.factorized_attention import pattern_mask
from ilya.sparse.data import TokenData, tokens_to_images

# colours: A1 only, A2 only, both halves, the query itself
_C_A1, _C_A2, _C_BOTH, _C_Q = (0.16, 0.35, 0.70), (0.55, 0.75, 0.95), (0.30, 0.55, 0.85), (0.85, 0.25, 0.20)


def _halves(pattern: str, n: int, l: int, c: int) -> tuple[np.ndarray, np.ndarray]:
    if pattern == "dense":
        m = pattern_mask("dense", n).numpy()
        return m, np.zeros_like(m)
    a1 = pattern_mask(pattern, n, l, c, part="A1").numpy()
    a2 = pattern_mask(pattern, n, l, c, part="A2").numpy()
    if pattern == "fixed":   # the A2 half carries j == i only to keep rows non-empty: not drawn as A2
        a2 = a2 & ~np.eye(n, dtype=bool) | (a2 & a1)
    return a1, a2


def _rgb(a1: np.ndarray, a2: np.ndarray) -> np.ndarray:
    img = np.ones((*a1.shape, 3))
    img[a1 & ~a2] = _C_A1
    img[a2 & ~a1] = _C_A2
    img[a1 & a2] = _C_BOTH
    return img


def plot_pattern_figure(path: str | Path, l: int = 6, c: int | None = None, highlight: str | None = None,
                        query: tuple[int, int] | None = None) -> Path:
    """Child et al. Fig. 3: for dense, strided and fixed attention, the inputs one output attends to on an
    ``l × l`` image (top) and the connectivity matrix of all outputs (rows) and inputs (columns, bottom).

    The figure uses a small ``l`` (default 6, as in the paper) so that cells are visible; the pattern is the
    same at any size. Dark blue: first half ``A1``, light blue: second half ``A2``, red: the output."""
    l = max(2, min(int(l), 12))
    c = max(1, min(c or max(1, l // 3), l))
    n = l * l
    qr, qc = query or (l - 2, l // 2)
    qi = qr * l + qc
    fig, axes = new_figure(2, 3, figsize=(9.0, 6.4))
    for col, pattern in enumerate(("dense", "strided", "fixed")):
        a1, a2 = _halves(pattern, n, l, c)
        top = _rgb(a1[qi].reshape(l, l), a2[qi].reshape(l, l))
        top[qr, qc] = _C_Q
        ax = axes[0, col]
        ax.imshow(top, interpolation="nearest")
        ax.set_xticks(np.arange(-0.5, l, 1), minor=True)
        ax.set_yticks(np.arange(-0.5, l, 1), minor=True)
        ax.grid(which="minor", color="0.6", linewidth=0.6)
        ax.grid(which="major", visible=False)
        ax.tick_params(which="both", length=0, labelbottom=False, labelleft=False)
        name = {"dense": "(a) Transformer (dense)", "strided": f"(b) strided, l={l}",
                "fixed": f"(c) fixed, l={l}, c={c}"}[pattern]
        ax.set_title(name + ("  ◀ this run" if highlight == pattern else ""), fontsize=9)
        ax = axes[1, col]
        ax.imshow(_rgb(a1, a2), interpolation="nearest")
        ax.set_xlabel("input j")
        if col == 0:
            ax.set_ylabel("output i")
        ax.tick_params(labelsize=7)
    fig.suptitle("Attention connectivity (Child et al. 2019, Fig. 3): dark = A1, light = A2, red = output",
                 fontsize=10)
    return save_figure(fig, path, curves=3)


def image_grid(images: np.ndarray, path: str | Path, title: str = "", ncol: int = 8) -> Path:
    """Save ``(N, H, W, C)`` uint8 images as one PNG grid."""
    n = len(images)
    ncol = min(ncol, n)
    nrow = -(-n // ncol)
    fig, axes = new_figure(nrow, ncol, figsize=(1.2 * ncol, 1.2 * nrow + 0.4), squeeze=False)
    for k, ax in enumerate(axes.flat):
        ax.axis("off")
        if k < n:
            img = images[k]
            ax.imshow(img[..., 0] if img.shape[-1] == 1 else img, cmap="gray" if img.shape[-1] == 1 else None,
                      vmin=0, vmax=255, interpolation="nearest")
    if title:
        fig.suptitle(title, fontsize=10)
    return save_figure(fig, path, curves=n)


def save_sample(run: Any, data: TokenData, sample: np.ndarray) -> Path:
    """A text sample into ``sample.txt`` or an image grid into ``plots/samples.png``."""
    if data.kind == "image":
        assert data.image_shape is not None
        return image_grid(tokens_to_images(sample, data.image_shape), run.plots_dir / "samples.png",
                          f"samples ({data.name})")
    p = run.path / "sample.txt"
    p.write_bytes(bytes(sample[0].tolist()))
    return p


def plot_scaling(rows: list[dict[str, Any]], path: str | Path) -> Path:
    """Forward+backward time and peak memory against sequence length, one line per attention."""
    fig, (ax_t, ax_m) = new_figure(1, 2, figsize=(10.0, 4.0))
    for attn in sorted({r["attn"] for r in rows}):
        rs = sorted((r for r in rows if r["attn"] == attn), key=lambda r: r["n"])
        ns = [r["n"] for r in rs]
        ax_t.plot(ns, [r["time_s"] for r in rs], marker="o", label=attn)
        ax_m.plot(ns, [r["peak_mib"] for r in rs], marker="o", label=attn)
    for ax, lab in ((ax_t, "forward+backward seconds"), (ax_m, "peak memory (MiB)")):
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_xlabel("sequence length n")
        ax.set_ylabel(lab)
        ax.legend()
    ax_t.set_title("time vs n")
    ax_m.set_title("peak memory vs n")
    return save_figure(fig, path)
