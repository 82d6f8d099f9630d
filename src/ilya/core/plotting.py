"""One plotting style for every figure ilya draws, and the generic metric-curve figures.

Metric keys of the form ``split/name`` (``train/loss``, ``valid/loss``) share one figure per ``name``:
colour tells the run, line style the split, the way a paper overlays train and validation curves.
Every PNG carries a ``ilya:curves`` text chunk with its number of curves, so tests can check a figure.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from ilya.core.runs import Run

STYLE: dict[Any, Any] = {
    "figure.figsize": (6.0, 4.0),
    "figure.dpi": 110,
    "savefig.dpi": 110,
    "savefig.bbox": "tight",
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.titlesize": 11,
    "axes.labelsize": 10,
    "legend.fontsize": 8,
    "legend.frameon": False,
    "lines.linewidth": 1.6,
    "font.family": "DejaVu Sans",
}
LINESTYLES = {"train": "-", "valid": "--", "test": ":", "eval": "-."}
SKIP_KEYS = {"step", "wall", "epoch"}


def use_style() -> None:
    """Apply the ilya style to matplotlib (idempotent)."""
    for key, value in STYLE.items():
        plt.rcParams[key] = value


def new_figure(nrows: int = 1, ncols: int = 1, **kwargs: Any) -> tuple[Figure, Any]:
    use_style()
    return plt.subplots(nrows, ncols, **kwargs)


def save_figure(fig: Figure, path: str | Path, curves: int | None = None) -> Path:
    """Save as PNG (with the number of curves recorded in its metadata) and close the figure."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if curves is None:
        curves = sum(len(ax.get_lines()) for ax in fig.axes)
    fig.savefig(path, format="png", metadata={"ilya:curves": str(curves)})  # pyright: ignore[reportUnknownMemberType]
    plt.close(fig)
    return path


def png_text(path: str | Path) -> dict[str, str]:
    """The tEXt chunks of a PNG (used to read back ``ilya:curves``)."""
    import struct

    data = Path(path).read_bytes()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError(f"{path}: not a PNG")
    out: dict[str, str] = {}
    i = 8
    while i + 8 <= len(data):
        (length,), kind = struct.unpack(">I", data[i:i + 4]), data[i + 4:i + 8]
        body = data[i + 8:i + 8 + length]
        if kind == b"tEXt" and b"\0" in body:
            k, v = body.split(b"\0", 1)
            out[k.decode("latin-1")] = v.decode("latin-1")
        i += 12 + length
    return out


def _slug(s: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", s).strip("_") or "metric"


def _split_key(key: str) -> tuple[str, str]:
    if "/" in key:
        split, name = key.split("/", 1)
        return name, split
    return key, ""


def plot_metrics(runs: Sequence[Run], x: str = "step") -> list[Path]:
    """Draw every numeric metric of ``runs`` on shared axes; write the PNGs into each run's plots/.

    One run gives ``plots/<metric>.png``; several give ``plots/compare_<metric>.png`` in each of them.
    """
    groups: dict[str, set[str]] = defaultdict(set)
    for run in runs:
        for row in run.metrics():
            for k, v in row.items():
                if k not in SKIP_KEYS and isinstance(v, (int, float)) and not isinstance(v, bool):
                    name, _ = _split_key(k)
                    groups[name].add(k)
    written: list[Path] = []
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for name, keys in sorted(groups.items()):
        fig, ax = new_figure()
        curves = 0
        for i, run in enumerate(runs):
            for key in sorted(keys):
                steps, values = run.series(key)
                if not steps:
                    continue
                if x == "wall":
                    wall = dict(zip(*run.series("wall"), strict=True))
                    xs = [wall.get(s, float("nan")) for s in steps]
                else:
                    xs = steps
                _, split = _split_key(key)
                label = " ".join(p for p in ((run.name if len(runs) > 1 else ""), split) if p) or name
                ax.plot(xs, values, color=colors[i % len(colors)], linestyle=LINESTYLES.get(split, "-"),
                        label=label, marker="o" if len(steps) == 1 else None)
                curves += 1
        if curves == 0:
            plt.close(fig)
            continue
        ax.set_xlabel("wall-clock seconds" if x == "wall" else "step")
        ax.set_ylabel(name)
        title = runs[0].system + ": " + name
        ax.set_title(title)
        if curves > 1:
            ax.legend()
        fname = (f"compare_{_slug(name)}.png" if len(runs) > 1 else f"{_slug(name)}.png")
        use_style()
        tmp = runs[0].plots_dir / fname
        save_figure(fig, tmp, curves)
        written.append(tmp)
        for run in runs[1:]:
            dst = run.plots_dir / fname
            dst.write_bytes(tmp.read_bytes())
            written.append(dst)
    return written
