from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pytest

from ilya.core import IlyaError, Run, RunConfig


@dataclass
class ToyConfig(RunConfig):
    lr: float = 0.1
    """learning rate"""


def test_create_writes_layout(tmp_path: Path) -> None:
    run = Run.open("toy", ToyConfig(run="a", runs_dir=tmp_path, seed=7))
    assert run.path == tmp_path / "toy" / "a"
    for name in ("config.json", "status.json"):
        assert (run.path / name).is_file()
    assert (run.path / "checkpoints").is_dir() and (run.path / "plots").is_dir()
    cfg = json.loads((run.path / "config.json").read_text())
    assert cfg["seed"] == 7 and cfg["lr"] == 0.1
    assert not run.resumed and run.status() == "running"


def test_resume_same_config_and_refuse_changed(tmp_path: Path) -> None:
    Run.open("toy", ToyConfig(run="a", runs_dir=tmp_path)).save_checkpoint(5, {"x": 1})
    again = Run.open("toy", ToyConfig(run="a", runs_dir=tmp_path, device="cpu"))  # device may change
    assert again.resumed
    assert again.load_checkpoint()["step"] == 5
    with pytest.raises(IlyaError, match=r"another config \(lr: 0.1 -> 0.5\).*--fresh"):
        Run.open("toy", ToyConfig(run="a", runs_dir=tmp_path, lr=0.5))
    fresh = Run.open("toy", ToyConfig(run="a", runs_dir=tmp_path, lr=0.5, fresh=True))
    assert not fresh.resumed and fresh.load_checkpoint() is None
    assert json.loads((fresh.path / "config.json").read_text())["lr"] == 0.5


@dataclass
class ToyConfigV2(ToyConfig):
    momentum: float = 0.9
    """a field added after runs were made"""


def test_resume_accepts_a_field_added_since_at_its_default(tmp_path: Path) -> None:
    Run.open("toy", ToyConfig(run="a", runs_dir=tmp_path)).save_checkpoint(3, {"x": 1})
    assert Run.open("toy", ToyConfigV2(run="a", runs_dir=tmp_path)).resumed
    with pytest.raises(IlyaError, match=r"another config \(momentum: None -> 0.5\)"):
        Run.open("toy", ToyConfigV2(run="a", runs_dir=tmp_path, momentum=0.5))


def test_bad_run_name_is_refused(tmp_path: Path) -> None:
    with pytest.raises(IlyaError, match="run name"):
        Run.open("toy", ToyConfig(run="../escape", runs_dir=tmp_path))


def test_metrics_append_reload_and_torn_line(tmp_path: Path) -> None:
    run = Run.open("toy", ToyConfig(run="m", runs_dir=tmp_path))
    for step in range(3):
        run.log(step, **{"train/loss": 1.0 / (step + 1)})
    with open(run.metrics_path, "a") as f:
        f.write('{"step": 3, "train/lo')  # a process killed mid-write
    reloaded = Run.load("toy/m", tmp_path)
    rows = reloaded.metrics()
    assert [r["step"] for r in rows] == [0, 1, 2]
    assert all("wall" in r for r in rows)
    steps, values = reloaded.series("train/loss")
    assert steps == [0, 1, 2] and values == pytest.approx([1.0, 0.5, 1 / 3])


def test_series_prefers_values_logged_after_resume(tmp_path: Path) -> None:
    run = Run.open("toy", ToyConfig(run="r", runs_dir=tmp_path))
    run.log(1, loss=5.0)
    run.log(2, loss=4.0)
    run.log(2, loss=3.0)  # step 2 redone after resuming from the step-1 checkpoint
    assert run.series("loss") == ([1, 2], [5.0, 3.0])


def test_status_finished_failed_interrupted(tmp_path: Path) -> None:
    with Run.open("toy", ToyConfig(run="ok", runs_dir=tmp_path)) as run:
        run.log(0, loss=1.0)
    assert Run.load("toy/ok", tmp_path).status() == "finished"
    with pytest.raises(RuntimeError), Run.open("toy", ToyConfig(run="bad", runs_dir=tmp_path)):
        raise RuntimeError("boom")
    assert Run.load("toy/bad", tmp_path).status() == "failed"
    run = Run.open("toy", ToyConfig(run="gone", runs_dir=tmp_path))
    run.set_status("running")
    status = json.loads((run.path / "status.json").read_text())
    status["pid"] = 2**22 + 12345  # no such process
    (run.path / "status.json").write_text(json.dumps(status))
    assert run.status() == "interrupted"


def test_checkpoints_keep_last_three(tmp_path: Path) -> None:
    run = Run.open("toy", ToyConfig(run="k", runs_dir=tmp_path))
    for step in range(0, 50, 10):
        run.save_checkpoint(step, {"step_seen": step})
    assert [p.name for p in run.checkpoints()] == [f"ckpt_{s:09d}.safetensors" for s in (20, 30, 40)]
    assert run.load_checkpoint()["step_seen"] == 40


def test_unknown_run_is_a_user_error(tmp_path: Path) -> None:
    with pytest.raises(IlyaError, match="unknown run 'toy/nope'"):
        Run.load("toy/nope", tmp_path)
