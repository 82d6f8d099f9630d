"""torchrun with 2 gloo processes gives the loss curve of 1 process on the same global batch."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent


def _torchrun(n: int, tmp: Path) -> dict[str, object]:
    out, runs = tmp / f"out{n}.json", tmp / f"runs{n}"
    exe = shutil.which("torchrun", path=str(Path(sys.executable).parent)) or "torchrun"
    env = {**os.environ, "OMP_NUM_THREADS": "1", "ILYA_PROGRESS": "0", "CUDA_VISIBLE_DEVICES": ""}
    proc = subprocess.run([exe, "--standalone", "--nproc-per-node", str(n), str(HERE / "ddp_toy.py"), str(out),
                           str(runs)], capture_output=True, text=True, timeout=300, env=env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    rows = [json.loads(x) for x in (runs / "toy/ddp/metrics.jsonl").read_text().splitlines()]
    data = json.loads(out.read_text())
    data["logged_steps"] = [r["step"] for r in rows]
    return data


@pytest.mark.procs
def test_two_processes_match_one(tmp_path: Path) -> None:
    pytest.importorskip("torch.distributed")
    one, two = _torchrun(1, tmp_path), _torchrun(2, tmp_path)
    assert (one["world"], two["world"]) == (1, 2)
    assert two["losses"] == pytest.approx(one["losses"], rel=1e-5, abs=1e-6)
    # rank 0 alone wrote the run folder: each step logged once
    assert one["logged_steps"] == two["logged_steps"] == list(range(1, 9))
    assert one["losses"][-1] < one["losses"][0]
