"""`ilya imitation` from the command line: bad input is one line and a non-zero exit; the commands' outputs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ilya.cli import main

TINY = ["--max-blocks", "3", "--max-stages", "2", "--train-tasks", "3", "--test-tasks", "2"]


def _ilya(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "ILYA_PROGRESS": "0", "MUJOCO_GL": os.environ.get("MUJOCO_GL", "egl")}
    return subprocess.run([sys.executable, "-m", "ilya", "imitation", *args], capture_output=True, text=True,
                          cwd=cwd, env=env, timeout=120)


@pytest.mark.parametrize("args,msg", [
    (["video", "--layout", "ab cz"], "unknown block label 'z'"),
    (["video", "--layout", "ab ef", "--blocks", "4"], "outside the scene of 4 blocks"),
    (["train", *TINY, "--dataset", "nowhere"], "not a demonstration dataset"),
])
def test_bad_input_is_one_line(tmp_path: Path, args: list[str], msg: str) -> None:
    r = _ilya(*args, "--runs-dir", str(tmp_path), cwd=tmp_path)
    assert r.returncode == 2, r.stderr
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("ilya: error:") and msg in lines[0], r.stderr


def test_dataset_of_another_task_set_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ds = tmp_path / "ds"
    assert main(["imitation", "collect", *TINY, "--demos-per-task", "2", "--test-demos-per-task", "1",
                 "--out", str(ds), "--json"]) in (0, None)
    out = json.loads(capsys.readouterr().out)
    assert out["demos"] == 8 and out["expert_success"] == 1.0
    r = _ilya("train", *TINY[:-2], "--test-tasks", "3", "--dataset", str(ds), "--demos-per-task", "2",
              "--test-demos-per-task", "1", "--runs-dir", str(tmp_path), cwd=tmp_path)
    assert r.returncode == 2 and "another task set" in r.stderr and len(r.stderr.strip().splitlines()) == 1


def test_expert_command_json(capsys: pytest.CaptureFixture[str]) -> None:
    main(["imitation", "expert", *TINY, "--trials", "2", "--json"])
    out = json.loads(capsys.readouterr().out)
    assert out["train"]["success"] == 1.0 and out["test"]["success"] == 1.0
    assert set(out["test"]["by_stages"]) <= {"1", "2"} and out["test"]["episodes"] == 4


def test_video_gif(tmp_path: Path) -> None:
    out = tmp_path / "expert.gif"
    r = _ilya("video", "--layout", "ab", "--blocks", "2", "--every", "4", "--width", "96", "--height", "72",
              "--out", str(out), cwd=tmp_path)
    if r.returncode != 0 and ("gl" in r.stderr.lower() or "egl" in r.stderr.lower()):
        pytest.skip(f"no offscreen OpenGL here: {r.stderr.strip().splitlines()[-1]}")
    assert r.returncode == 0, r.stderr
    import imageio.v2 as imageio

    frames = imageio.mimread(out)
    assert len(frames) > 3 and frames[0].shape[:2] == (72, 96)
    assert "1/1 stages, success" in r.stdout
