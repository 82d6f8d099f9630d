"""``ilya report``: one static HTML page, a section per system, that opens from disk with no server.

Each section opens with the system's headline table (the paper's figure beside ours, with protocol,
budget, run and command: `ilya.core.figures.headline`), then the paper's key figures redrawn large from
our runs (`ilya.core.figures.paper_figure`), then one line per run with its final figures formatted,
its plots and its config folded away.  Images load lazily, so the page stays fast with hundreds of runs.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape

from ilya.core import figures
from ilya.core.runs import Run

HEADLINE_COLUMNS = ("claim", "paper", "ours", "protocol", "budget", "run", "command")
_MAX_FIGURES = 8  # final figures shown on a run's line (the rest are in its details)


def _final_values(run: Run) -> dict[str, Any]:
    """summary.json if the run wrote one, else the last value of every metric."""
    summary = run.read_summary()
    if summary:
        return summary
    last: dict[str, Any] = {}
    for row in run.metrics():
        last.update({k: v for k, v in row.items() if k != "wall"})
    return last


def fmt(v: Any) -> str:
    """A value as a reader wants it: 4 significant digits, lists summarised, never a raw dump."""
    if isinstance(v, bool) or v is None:
        return str(v)
    if isinstance(v, int):
        return f"{v:,}" if abs(v) >= 10_000 else str(v)
    if isinstance(v, float):
        if math.isnan(v) or math.isinf(v):
            return str(v)
        return f"{v:.4g}"
    if isinstance(v, (list, tuple)):
        items: list[Any] = list(v)  # pyright: ignore[reportUnknownArgumentType]
        nums = [float(x) for x in items if isinstance(x, (int, float)) and not isinstance(x, bool)]
        if items and len(nums) == len(items):
            if len(nums) <= 4:
                return ", ".join(fmt(x) for x in items)
            return f"{len(nums)} values, mean {sum(nums) / len(nums):.4g} ({min(nums):.4g} … {max(nums):.4g})"
        return f"{len(items)} items" if len(items) > 4 else ", ".join(fmt(x) for x in items)
    if isinstance(v, dict):
        return f"{len(v)} fields"  # pyright: ignore[reportUnknownArgumentType]
    s = str(v)
    return s if len(s) <= 80 else s[:77] + "…"


def _scalar(v: Any) -> bool:
    return isinstance(v, (int, float, str, bool)) and not (isinstance(v, str) and len(v) > 40)


def _rel(p: Path, base: Path) -> str:
    return os.path.relpath(p.resolve(), base.resolve())


def write_report(runs_dir: str | os.PathLike[str] = "runs", out: str | os.PathLike[str] | None = None,
                 systems: Sequence[tuple[str, str]] = ()) -> Path:
    """Render the report of every run under ``runs_dir``; ``systems`` gives (name, blurb) in page order.

    Systems with runs but not in ``systems`` follow in alphabetical order.
    """
    runs_dir = Path(runs_dir)
    out = Path(out) if out is not None else runs_dir / "report.html"
    out.parent.mkdir(parents=True, exist_ok=True)
    files = out.parent / (out.stem + "_files")
    env = Environment(loader=PackageLoader("ilya", "core/templates"), autoescape=select_autoescape())
    env.filters["fmt"] = fmt  # pyright: ignore[reportUnknownMemberType]

    by_system: dict[str, list[Run]] = {}
    for run in Run.all(runs_dir):
        by_system.setdefault(run.system, []).append(run)
    order = [s for s, _ in systems if s in by_system] + sorted(set(by_system) - {s for s, _ in systems})
    blurbs = dict(systems)
    sections: list[dict[str, Any]] = []
    for system in order:
        runs = by_system[system]
        headline = [r.__dict__ for r in figures.headline_rows(system, runs)]
        paper: list[dict[str, str]] = []
        for name, (title, fn) in figures.paper_figures(system).items():
            for p in fn(runs, files / system) or []:
                paper.append({"name": name, "title": title, "src": _rel(p, out.parent)})
        entries: list[dict[str, Any]] = []
        for run in runs:
            final = _final_values(run)
            shown = {k: v for k, v in final.items() if _scalar(v)}
            entries.append({
                "name": run.name,
                "status": run.status(),
                "shown": dict(list(sorted(shown.items()))[:_MAX_FIGURES]),
                "final": dict(sorted(final.items())),
                "config": dict(sorted(run.config.items())),
                "plots": [_rel(p, out.parent) for p in run.plots()],
                "samples": [_rel(p, out.parent) for p in sorted(run.path.glob("samples*.txt"))],
            })
        sections.append({"system": system, "blurb": blurbs.get(system, ""), "headline": headline,
                         "paper": paper, "runs": entries})
    html = env.get_template("report.html.j2").render(
        sections=sections, columns=HEADLINE_COLUMNS, n_runs=sum(len(s["runs"]) for s in sections),
        generated=time.strftime("%Y-%m-%d %H:%M:%S"), runs_dir=str(runs_dir))
    out.write_text(html, encoding="utf-8")
    return out
