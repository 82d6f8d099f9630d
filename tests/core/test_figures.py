"""The figure registry: systems register, the plot/report machinery draws only what is registered."""

from __future__ import annotations

import sys
import types
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from ilya.core import figures
from ilya.core.config import OptimConfig, RunConfig
from ilya.core.plotting import new_figure, png_text, save_figure
from ilya.core.runs import Run


@dataclass
class _Cfg(RunConfig):
    """a toy config"""

    widths: tuple[int, ...] = (4, 8)
    """layer widths"""
    data: Path | None = None
    """a path"""
    optim: OptimConfig = field(default_factory=OptimConfig)
    """optimizer"""


def test_registered_figures_are_drawn_for_the_runs_of_their_system(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    mod = types.ModuleType("ilya.toysys.plots")

    @figures.run_figure("toysys", "square")
    def square(run: Run) -> list[Path]:
        fig, ax = new_figure()
        ax.plot([0, 1], [0, 1])
        return [save_figure(fig, run.plots_dir / "square.png")]

    @figures.headline("toysys")
    def rows(runs: list[Run]) -> list[figures.HeadlineRow]:
        return [figures.HeadlineRow("runs", "", str(len(runs)))]

    monkeypatch.setitem(sys.modules, "ilya.toysys", types.ModuleType("ilya.toysys"))
    monkeypatch.setitem(sys.modules, "ilya.toysys.plots", mod)
    run = Run.open("toysys", _Cfg(run="r", runs_dir=tmp_path))
    run.log(0, **{"train/loss": 1.0})
    run.log(1, **{"train/loss": 0.5})
    paths = figures.draw_run(run)
    assert sorted(p.name for p in paths) == ["loss.png", "square.png"]
    assert png_text(run.plots_dir / "square.png")["ilya:curves"] == "1"
    assert figures.headline_rows("toysys", [run]) == [figures.HeadlineRow("runs", "", "1")]
    # a system with no plots module has no figures, and other systems' figures are not drawn
    assert figures.run_figures("nosuchsystem") == {}
    other = Run.open("othersys", _Cfg(run="r", runs_dir=tmp_path))
    other.log(0, x=1.0)
    assert [p.name for p in figures.draw_run(other)] == ["x.png"]


def test_config_as_rebuilds_the_dataclass(tmp_path: Path) -> None:
    cfg = _Cfg(run="c", runs_dir=tmp_path, seed=3, widths=(1, 2, 3), data=tmp_path / "d.bin",
               optim=OptimConfig(lr=0.5, schedule="cosine"))
    Run.open("toysys", cfg).finish()
    back = Run.load("toysys/c", tmp_path).config_as(_Cfg)
    assert back == cfg
    assert isinstance(back.widths, tuple) and isinstance(back.data, Path) and isinstance(back.optim, OptimConfig)
    assert Run.load("toysys/c", tmp_path).config_as(_Cfg, seed=9).seed == 9
