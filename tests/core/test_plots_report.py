from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from ilya.core import Run, RunConfig
from ilya.core.plotting import plot_metrics, png_text
from ilya.core.report import write_report


@dataclass
class ToyConfig(RunConfig):
    lr: float = 0.1
    """learning rate"""


def _toy_run(root: Path, name: str, system: str = "toy", lr: float = 0.1) -> Run:
    run = Run.open(system, ToyConfig(run=name, runs_dir=root, lr=lr))
    for step in range(5):
        run.log(step, **{"train/loss": 2.0 - lr * step, "valid/loss": 2.1 - lr * step, "lr": lr})
    return run


def _is_png(p: Path) -> bool:
    return p.stat().st_size > 1000 and p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_single_run_plots_one_figure_per_metric(tmp_path: Path) -> None:
    run = _toy_run(tmp_path, "a")
    paths = plot_metrics([run])
    names = sorted(p.name for p in paths)
    assert names == ["loss.png", "lr.png"]
    for p in paths:
        assert _is_png(p)
    assert png_text(run.plots_dir / "loss.png")["ilya:curves"] == "2"  # train + valid
    assert png_text(run.plots_dir / "lr.png")["ilya:curves"] == "1"


def test_several_runs_share_axes_and_every_run_gets_the_figure(tmp_path: Path) -> None:
    runs = [_toy_run(tmp_path, n, lr=lr) for n, lr in (("a", 0.1), ("b", 0.2), ("c", 0.3))]
    paths = plot_metrics(runs)
    for run in runs:
        p = run.plots_dir / "compare_loss.png"
        assert p in paths and _is_png(p)
        assert png_text(p)["ilya:curves"] == "6"  # 3 runs x (train, valid)


def test_report_lists_every_run_and_links_every_plot(tmp_path: Path) -> None:
    runs = [_toy_run(tmp_path, "a"), _toy_run(tmp_path, "b"), _toy_run(tmp_path, "z", system="alpha")]
    for r in runs:
        r.finish()
    runs[1].summary(test_bpb=1.234)
    out = write_report(tmp_path, tmp_path / "report.html")
    html = out.read_text()
    for r in runs:
        assert f'id="{r.system}-{r.name}"' in html
        for p in r.plots():
            rel = p.relative_to(tmp_path).as_posix()
            assert f'src="{rel}"' in html and (out.parent / rel).exists()
    assert "test_bpb" in html and "1.234" in html
    assert html.count('class="status finished"') == 3
    # systems are sorted: alpha before toy
    assert html.index('id="alpha"') < html.index('id="toy"')
    assert not re.search(r"\{\{|\{%", html)  # the template was rendered


def test_report_with_no_runs(tmp_path: Path) -> None:
    html = write_report(tmp_path / "empty").read_text()
    assert "No runs yet" in html
