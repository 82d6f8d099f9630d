"""``ilya report`` opened in a real browser: sections, headline tables, images that load, offline."""

from __future__ import annotations

import re
import sys
import time
import types
from dataclasses import dataclass
from pathlib import Path

import pytest

from ilya.core import figures
from ilya.core.config import RunConfig
from ilya.core.plotting import new_figure, save_figure
from ilya.core.report import HEADLINE_COLUMNS, fmt, write_report
from ilya.core.runs import Run

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from browser import chromium  # noqa: E402


@dataclass
class _Cfg(RunConfig):
    """toy"""

    widths: tuple[int, ...] = (64, 64)
    """layer widths"""


def _setup_system(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "ilya.webtoy", types.ModuleType("ilya.webtoy"))
    monkeypatch.setitem(sys.modules, "ilya.webtoy.plots", types.ModuleType("ilya.webtoy.plots"))

    @figures.paper_figure("webtoy", "fig1", title="Figure 1: loss against steps, every run")
    def fig1(runs: list[Run], out: Path) -> list[Path]:
        fig, ax = new_figure(figsize=(10, 5))
        for r in runs:
            ax.plot(*r.series("train/loss"), label=r.name)
        return [save_figure(fig, out / "fig1.png")]

    @figures.headline("webtoy")
    def rows(runs: list[Run]) -> list[figures.HeadlineRow]:
        best = min(r.read_summary().get("loss", 9.0) for r in runs)
        return [figures.HeadlineRow("test loss", "0.50", fmt(best), "test split, 3 seeds", "10 s CPU",
                                    "webtoy/r0", "ilya webtoy train --run r0")]


def _make_runs(root: Path, n: int) -> None:
    for i in range(n):
        run = Run.open("webtoy", _Cfg(run=f"r{i}", runs_dir=root, seed=i))
        for s in range(5):
            run.log(s, **{"train/loss": 1.0 / (s + 1 + i)})
        run.summary(loss=1.0 / (5 + i), curve=[0.1 * k for k in range(50)], nested={"a": 1})
        figures.draw_run(run)
        run.finish()


def test_report_in_chromium(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _setup_system(monkeypatch)
    _make_runs(tmp_path, 3)
    out = write_report(tmp_path, systems=[("webtoy", "A toy system for the report")])
    html = out.read_text()
    assert not re.search(r"""(src|href)=["']https?://""", html), "the page must work offline"
    assert "[0.0, 0.1" not in html and "50 values, mean" in html  # lists are summarised, not dumped
    with chromium() as driver:
        driver.get(out.resolve().as_uri())
        time.sleep(0.5)
        sections = driver.find_elements("css selector", "section.system")
        assert [s.get_attribute("id") for s in sections] == ["webtoy"]
        head = driver.find_element("css selector", "table.headline")
        assert [th.text for th in head.find_elements("css selector", "th")] == list(HEADLINE_COLUMNS)
        cells = [td.text for td in head.find_elements("css selector", "tr:nth-child(2) td")]
        assert cells[:3] == ["test loss", "0.50", fmt(1.0 / 7)]  # the best of the three runs
        # every table (headline, runs, each run's figures and flags) has its columns on every row
        shapes = driver.execute_script(
            "return [...document.querySelectorAll('table')].map(t => [...t.rows].map(r => r.cells.length))")
        assert len(shapes) == 2 + 2 * 3
        assert all(len(set(rows)) == 1 and len(rows) >= 2 for rows in shapes), shapes
        # every image loads, the paper figure is shown large
        for d in driver.find_elements("css selector", "details"):
            driver.execute_script("arguments[0].open = true", d)
        time.sleep(0.5)
        imgs = driver.find_elements("css selector", "img")
        assert len(imgs) == 1 + 3  # the paper figure, one loss plot per run
        driver.execute_script("window.scrollTo(0, document.body.scrollHeight)")
        time.sleep(0.5)
        broken = driver.execute_script(
            "return [...document.images].filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.src)")
        assert broken == []
        paper = driver.find_element("css selector", "figure.paper img")
        assert paper.size["width"] >= 900


def test_report_with_200_runs_has_every_run_and_lazy_images(tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    _setup_system(monkeypatch)
    for i in range(200):
        run = Run.open("webtoy", _Cfg(run=f"r{i}", runs_dir=tmp_path, seed=i))
        run.log(0, **{"train/loss": 1.0})
        run.summary(loss=0.5 + i / 1000)
        run.finish()
    html = write_report(tmp_path, systems=[("webtoy", "")]).read_text()
    assert html.count('<tr id="webtoy-r') == 200
    assert 'loading="lazy"' in html or "<img" not in html.split("Runs (200)")[1]
