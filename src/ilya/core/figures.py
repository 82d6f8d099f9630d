"""The figure registry: each system registers its figures; ``ilya plot``, ``ilya report`` and the demo draw them.

``core`` knows no system.  A system's ``plots.py`` registers, at import time, functions of three kinds::

    from ilya.core.figures import HeadlineRow, headline, paper_figure, run_figure

    @run_figure("sparse", "samples")                 # one run -> PNGs in run.plots_dir
    def samples(run: Run) -> list[Path]: ...

    @paper_figure("sparse", "table2", title="Table 2: bits/byte by attention")
    def table2(runs: list[Run], out: Path) -> list[Path]: ...   # every run of the system -> PNGs in out/

    @headline("sparse")                              # rows of the report's paper-against-ours table
    def rows(runs: list[Run]) -> list[HeadlineRow]: ...

`load(system)` imports ``ilya.<system>.plots`` (the one place a system's figures live) so the
registry is filled only for the systems a command touches.  `draw_run` is what a training loop calls
at its end: the generic metric curves (`ilya.core.plotting.plot_metrics`) plus the system's run figures.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from ilya.core.runs import Run

RunFigureFn = Callable[["Run"], list[Path]]
PaperFigureFn = Callable[[list["Run"], Path], list[Path]]
F = TypeVar("F", bound=Callable[..., object])


@dataclass(frozen=True)
class HeadlineRow:
    """One line of a system's headline table in the report: the paper's figure beside ours."""

    claim: str
    """what is measured, e.g. 'bits/byte, set.mm test split'"""
    paper: str
    """the paper's figure, as the paper states it ('' when the paper has none)"""
    ours: str
    """our figure, formatted"""
    protocol: str = ""
    """how ours was measured (split, seeds, budget of the search...)"""
    budget: str = ""
    """training compute behind ours (e.g. '30 CPU-min, 2 cores')"""
    run: str = ""
    """the run folder (system/name) it comes from"""
    command: str = ""
    """the command that reproduces it"""


HeadlineFn = Callable[[list["Run"]], list[HeadlineRow]]


def _dict() -> dict[str, Any]:
    return {}


@dataclass
class _Registry:
    run_figures: dict[str, dict[str, RunFigureFn]] = field(default_factory=_dict)
    paper_figures: dict[str, dict[str, tuple[str, PaperFigureFn]]] = field(default_factory=_dict)
    headlines: dict[str, list[HeadlineFn]] = field(default_factory=_dict)


REGISTRY = _Registry()


def run_figure(system: str, name: str) -> Callable[[F], F]:
    """Register ``fn(run) -> [png paths]``, drawn into the run's plots/ at the end of every run."""
    def deco(fn: F) -> F:
        REGISTRY.run_figures.setdefault(system, {})[name] = fn  # type: ignore[assignment]
        return fn
    return deco


def paper_figure(system: str, name: str, *, title: str) -> Callable[[F], F]:
    """Register ``fn(runs, out_dir) -> [png paths]``: the paper's key figure redrawn from all our runs."""
    def deco(fn: F) -> F:
        REGISTRY.paper_figures.setdefault(system, {})[name] = (title, fn)  # type: ignore[assignment]
        return fn
    return deco


def headline(system: str) -> Callable[[F], F]:
    """Register ``fn(runs) -> [HeadlineRow]`` for the system's section of the report."""
    def deco(fn: F) -> F:
        REGISTRY.headlines.setdefault(system, []).append(fn)  # type: ignore[arg-type]
        return fn
    return deco


def load(system: str) -> bool:
    """Import ``ilya.<system>.plots`` so its figures register; False when the system has none."""
    modname = f"ilya.{system}.plots"
    try:
        importlib.import_module(modname)
    except ModuleNotFoundError as e:
        if e.name is not None and modname.startswith(e.name):
            return False
        raise
    return True


def run_figures(system: str) -> dict[str, RunFigureFn]:
    load(system)
    return dict(REGISTRY.run_figures.get(system, {}))


def paper_figures(system: str) -> dict[str, tuple[str, PaperFigureFn]]:
    load(system)
    return dict(REGISTRY.paper_figures.get(system, {}))


def headline_rows(system: str, runs: list[Run]) -> list[HeadlineRow]:
    load(system)
    rows: list[HeadlineRow] = []
    for fn in REGISTRY.headlines.get(system, []):
        rows += fn(runs)
    return rows


def draw_run(run: Run) -> list[Path]:
    """The metric curves of one run and every run figure its system registered (into run.plots_dir)."""
    from ilya.core.plotting import plot_metrics

    if not run.writer:
        return []
    paths = plot_metrics([run])
    for fn in run_figures(run.system).values():
        paths += list(fn(run) or [])
    return paths


def draw_paper(system: str, runs: list[Run], out: Path) -> list[Path]:
    """Every paper figure of ``system`` drawn from ``runs`` into ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    paths: list[Path] = []
    for _title, fn in paper_figures(system).values():
        paths += list(fn(runs, out) or [])
    return paths
