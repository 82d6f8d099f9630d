"""The CLI as a user meets it: one line on bad input, never a traceback, JSON on request."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from ilya import cli
from ilya.core import Run, RunConfig


def ilya(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "ilya", *args], capture_output=True, text=True, cwd=cwd,
                          timeout=120)


def _one_line_error(proc: subprocess.CompletedProcess[str]) -> str:
    assert proc.returncode != 0
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("ilya: error: ")
    assert "Traceback" not in proc.stderr
    return lines[0]


def test_unknown_run(tmp_path: Path) -> None:
    line = _one_line_error(ilya("plot", "toy/nope", "--runs-dir", str(tmp_path)))
    assert "unknown run 'toy/nope'" in line


def test_bad_flag_value(tmp_path: Path) -> None:
    line = _one_line_error(ilya("plot", "x", "--x", "sideways", "--runs-dir", str(tmp_path)))
    assert "--x" in line


def test_bad_flag_type_and_unknown_flag(tmp_path: Path) -> None:
    line = _one_line_error(ilya("runs", "--runs-dir", str(tmp_path), "--bogus"))
    assert "--bogus" in line


def test_unknown_command_and_system() -> None:
    assert "unknown command 'frobnicate'" in _one_line_error(ilya("frobnicate"))


def test_debug_shows_traceback(tmp_path: Path) -> None:
    proc = ilya("--debug", "plot", "toy/nope", "--runs-dir", str(tmp_path))
    assert proc.returncode != 0 and "Traceback" in proc.stderr


def test_help_shows_defaults() -> None:
    proc = ilya("report", "--help")
    assert proc.returncode == 0
    assert "runs_dir" in proc.stdout.replace("-", "_") and "default: runs" in proc.stdout
    top = ilya("--help")
    assert top.returncode == 0 and "metamath" in top.stdout and "report" in top.stdout


@dataclass
class _Cfg(RunConfig):
    lr: float = 0.1
    """learning rate"""


def test_runs_json_is_one_object_and_plot_report_end_to_end(tmp_path: Path) -> None:
    import time

    t0 = time.time()
    run = Run.open("toy", _Cfg(run="a", runs_dir=tmp_path))
    for s in (0, 5, 10):
        run.log(s, **{"train/loss": 1.0 / (s + 1), "valid/loss": 2.0 / (s + 1)})
    run.finish()
    elapsed = time.time() - t0

    def listing() -> dict[str, object]:
        proc = ilya("runs", "--json", "--runs-dir", str(tmp_path))
        assert proc.returncode == 0
        (row,) = json.loads(proc.stdout)["runs"]  # exactly one JSON document, one run in it
        return row

    row = listing()
    # steps is the last logged step, wall the run's own clock, plots what plots/ holds (none before `plot`)
    assert (row["system"], row["name"], row["status"], row["steps"], row["plots"]) == ("toy", "a", "finished",
                                                                                          10, 0)
    assert 0.0 <= float(row["wall_s"]) <= elapsed + 0.01
    proc = ilya("plot", "toy/a", "--runs-dir", str(tmp_path))
    loss_png = tmp_path / "toy/a/plots/loss.png"
    assert proc.returncode == 0 and str(loss_png.resolve()) in {str(Path(p).resolve()) for p in proc.stdout.split()}
    from ilya.core.plotting import png_text

    assert png_text(loss_png)["ilya:curves"] == "2"  # train and valid on one figure
    assert listing()["plots"] == len(list((tmp_path / "toy/a/plots").glob("*.png"))) == 1
    out = tmp_path / "r.html"
    assert ilya("report", "--runs-dir", str(tmp_path), "--out", str(out)).returncode == 0
    assert "plots/loss.png" in out.read_text()


def test_main_in_process_returns_exit_code(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert cli.main(["runs", "--runs-dir", str(tmp_path)]) == 0
    assert "no runs" in capsys.readouterr().out
    assert cli.main(["plot", "nope", "--runs-dir", str(tmp_path)]) == 2


def test_demo_runs_every_system_step_then_writes_report(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    import types

    calls: list[str] = []

    def fake_demo(runs_dir: Path) -> None:
        calls.append(str(runs_dir))
        run = Run.open("fake", _Cfg(run="demo", runs_dir=runs_dir))
        run.log(0, loss=1.0)
        run.finish()

    fake = types.ModuleType("ilya_fake_cli")
    fake.COMMANDS = {}  # type: ignore[attr-defined]
    fake.DEMO = "ilya_fake_cli:fake_demo"  # type: ignore[attr-defined]
    fake.fake_demo = fake_demo  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "ilya_fake_cli", fake)
    monkeypatch.setattr(cli, "GROUPS", {"fake": ("ilya_fake_cli", "a fake system"),
                                        "absent": ("ilya_absent_system.cli", "not built")})
    assert cli.main(["demo", "--runs-dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert calls == [str(tmp_path)]
    assert "=== ilya fake" in out and "absent" not in out
    report = tmp_path / "report.html"
    assert f"Report: {report.resolve()}" in out
    assert 'id="fake-demo"' in report.read_text()
    assert cli.main(["demo", "--only", "nosuch", "--runs-dir", str(tmp_path)]) == 2
