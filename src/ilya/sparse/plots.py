# ruff: noqa: E741  (``l`` is the paper's stride/block length)
"""Figures of the Sparse Transformer paper: attention connectivity (Fig. 3), sample grids, the
time/memory-vs-sequence-length figure of the attention benchmark, and the report's headline rows.

Registered with `ilya.core.figures`: the run figures ``attention_patterns`` (Fig. 3 with the run's pattern
marked) and ``samples`` (image runs: a 16-image grid from the latest checkpoint), the paper figure
``fig3`` and the headline rows (bits/byte or bits/dim against the paper's enwik8 / CIFAR-10 figures).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from ilya.core.figures import HeadlineRow, headline, paper_figure, run_figure
from ilya.core.plotting import new_figure, save_figure
from ilya.core.runs import Run
from ilya.nn.factorized_attention import pattern_mask
from ilya.sparse.config import PatternsConfig
from ilya.sparse.data import tokens_to_images

PATTERNS = ("dense", "strided", "fixed")
# the paper's best figures (Child et al. 2019, Table 2 / §7): data set -> (figure, unit, what)
PAPER = {"enwik8": (0.99, "bits/byte", "enwik8 test, 30 layers, fixed attention"),
         "cifar10": (2.80, "bits/dim", "CIFAR-10 test, 128 layers, strided attention")}

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


def pattern_panels(l: int = 6, c: int | None = None, query: tuple[int, int] | None = None,
                   ) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """What Fig. 3 draws, per pattern: the ``(l, l, 3)`` image of the inputs the query output attends to
    (A1 dark, A2 light, both mid blue, the query red, white elsewhere) and the ``(n, n, 3)`` connectivity."""
    l = max(2, min(int(l), 12))
    c = max(1, min(c or max(1, l // 3), l))
    n = l * l
    qr, qc = query or (l - 2, l // 2)
    qi = qr * l + qc
    out: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for pattern in PATTERNS:
        a1, a2 = _halves(pattern, n, l, c)
        top = _rgb(a1[qi].reshape(l, l), a2[qi].reshape(l, l))
        top[qr, qc] = _C_Q
        out[pattern] = (top, _rgb(a1, a2))
    return out


def plot_pattern_figure(path: str | Path, l: int = 6, c: int | None = None, highlight: str | None = None,
                        query: tuple[int, int] | None = None) -> Path:
    """Child et al. Fig. 3: for dense, strided and fixed attention, the inputs one output attends to on an
    ``l × l`` image (top) and the connectivity matrix of all outputs (rows) and inputs (columns, bottom).

    The figure uses a small ``l`` (default 6, as in the paper) so that cells are visible; the pattern is the
    same at any size. Dark blue: first half ``A1``, light blue: second half ``A2``, red: the output."""
    panels = pattern_panels(l, c, query)
    l = max(2, min(int(l), 12))
    c = max(1, min(c or max(1, l // 3), l))
    fig, axes = new_figure(2, 3, figsize=(9.0, 6.4))
    for col, pattern in enumerate(PATTERNS):
        top, full = panels[pattern]
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
        ax.imshow(full, interpolation="nearest")
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


def patterns_command(cfg: PatternsConfig) -> None:
    """``ilya sparse patterns``: Fig. 3 into ``cfg.out`` (its path printed)."""
    print(plot_pattern_figure(cfg.out, cfg.l, cfg.c))


# ----------------------------------------------------------------------------- registered figures
@run_figure("sparse", "attention_patterns")
def run_patterns(run: Run) -> list[Path]:
    """Fig. 3 at the run's stride (capped for legibility), the run's pattern marked."""
    l = int(run.read_summary().get("stride") or run.config.get("stride") or 6)
    c = int(run.config.get("c") or 0) or max(1, l // 8)
    return [plot_pattern_figure(run.plots_dir / "attention_patterns.png", l=l, c=c,
                                highlight=run.config.get("attn"))]


@run_figure("sparse", "samples")
def run_samples(run: Run) -> list[Path]:
    """Image runs: 16 samples (temperature 1, top-p 0.95, the run's seed) from the latest checkpoint."""
    if run.config.get("data") not in ("fashion-mnist", "cifar10") or not run.checkpoints():
        return []
    from ilya.sparse.model import load_model, sample_tokens

    model, data, _ = load_model(run)
    if data.image_shape is None:
        return []
    out = sample_tokens(model, data, 16, 1, temperature=1.0, top_p=0.95, seed=int(run.config.get("seed", 0)))
    return [image_grid(tokens_to_images(out, data.image_shape), run.plots_dir / "samples.png",
                       f"samples ({data.name})")]


@paper_figure("sparse", "fig3", title="Fig. 3: attention connectivity of dense, strided and fixed attention")
def fig3(runs: list[Run], out: Path) -> list[Path]:
    return [plot_pattern_figure(out / "sparse_fig3.png")]


@headline("sparse")
def headline_rows(runs: list[Run]) -> list[HeadlineRow]:
    """Per finished run: its exact valid (and test, when evaluated) bits beside the paper's best."""
    rows: list[HeadlineRow] = []
    for run in runs:
        s = run.read_summary()
        data = str(run.config.get("data", ""))
        unit_key = "valid_bpb" if "valid_bpb" in s else "valid_bpd" if "valid_bpd" in s else None
        if unit_key is None:
            continue
        paper, unit, what = PAPER.get(data, (None, "bits/byte" if unit_key == "valid_bpb" else "bits/dim", ""))
        figure = f"{s['test_bits']:.3f} test" if "test_bits" in s else f"{s[unit_key]:.3f} valid"
        exact = "whole split" if s.get("valid_exact") else f"first {s.get('valid_tokens', 0)} tokens"
        rows.append(HeadlineRow(
            claim=f"{unit}, {data} ({run.config.get('attn')} attention)",
            paper=f"{paper} ({what})" if paper is not None else "",
            ours=figure,
            protocol=f"valid {exact}; {s.get('params', 0) / 1e6:.2f}M params, {s.get('iters')} steps",
            budget=f"{s.get('train_seconds', 0):.0f} s training on {s.get('device', '?')}",
            run=f"sparse/{run.name}",
            command=f"ilya sparse train --data {data} --attn {run.config.get('attn')} --run {run.name}"))
    return rows


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
