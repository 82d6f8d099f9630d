"""``ilya report``: one static HTML page with every run (opens from disk, no server)."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape

from ilya.core.runs import Run


def _final_values(run: Run) -> dict[str, Any]:
    """summary.json if the run wrote one, else the last value of every metric."""
    summary = run.read_summary()
    if summary:
        return summary
    last: dict[str, Any] = {}
    for row in run.metrics():
        last.update({k: v for k, v in row.items() if k != "wall"})
    return last


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.4g}"
    return str(v)


def write_report(runs_dir: str | os.PathLike[str] = "runs", out: str | os.PathLike[str] | None = None) -> Path:
    """Render the report of every run under ``runs_dir``; plots are linked relative to the page."""
    runs_dir = Path(runs_dir)
    out = Path(out) if out is not None else runs_dir / "report.html"
    out.parent.mkdir(parents=True, exist_ok=True)
    env = Environment(loader=PackageLoader("ilya", "core/templates"), autoescape=select_autoescape())
    env.filters["fmt"] = _fmt  # pyright: ignore[reportUnknownMemberType]
    entries: list[dict[str, Any]] = []
    for run in Run.all(runs_dir):
        entries.append({
            "system": run.system,
            "name": run.name,
            "status": run.status(),
            "config": run.config,
            "figures": _final_values(run),
            "plots": [os.path.relpath(p.resolve(), out.parent.resolve()) for p in run.plots()],
            "samples": [os.path.relpath(p.resolve(), out.parent.resolve())
                        for p in sorted(run.path.glob("samples*.txt"))],
        })
    systems = sorted({str(e["system"]) for e in entries})
    html = env.get_template("report.html.j2").render(
        runs=entries, systems=systems, generated=time.strftime("%Y-%m-%d %H:%M:%S"),
        runs_dir=str(runs_dir))
    out.write_text(html, encoding="utf-8")
    return out
