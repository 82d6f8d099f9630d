"""Prover training under torchrun: 2 DDP processes (gloo) give the loss curve of 1 process, same global batch."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest


def _train(n: int, data: Path, runs: Path) -> list[dict]:
    exe = shutil.which("torchrun", path=str(Path(sys.executable).parent)) or "torchrun"
    env = {**os.environ, "OMP_NUM_THREADS": "1", "ILYA_PROGRESS": "0", "CUDA_VISIBLE_DEVICES": ""}
    cmd = [exe, "--standalone", "--nproc-per-node", str(n), "-m", "ilya", "prover", "train", "--data", str(data),
           "--runs-dir", str(runs), "--device", "cpu", "--threads", "1", "--steps", "6",
           "--batch-size", "8", "--n-layer", "1", "--n-head", "2", "--n-embd", "32", "--block-size", "160",
           "--vocab-size", "260", "--log-every", "1", "--eval-interval", "3", "--optim.warmup", "2",
           "--optim.lr", "3e-3"]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=240, env=env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    # (no --run: torchrun's own parser takes any "--run..." for its --run-path; the run gets a dated name)
    [path] = list((runs / "prover").iterdir())
    return [json.loads(x) for x in (path / "metrics.jsonl").read_text().splitlines()]


@pytest.mark.procs
def test_two_ddp_processes_give_the_loss_curve_of_one(dataset, tmp_path):
    pytest.importorskip("torch.distributed")
    one, two = _train(1, dataset[0], tmp_path / "one"), _train(2, dataset[0], tmp_path / "two")

    def curve(rows, key):
        return [(r["step"], r[key]) for r in rows if key in r]

    l1, l2 = curve(one, "train/loss"), curve(two, "train/loss")
    assert [s for s, _ in l1] == [s for s, _ in l2] == list(range(1, 7))  # rank 0 alone logged, once a step
    assert [v for _, v in l2] == pytest.approx([v for _, v in l1], rel=1e-4)
    assert [v for _, v in curve(two, "valid/loss")] == pytest.approx([v for _, v in curve(one, "valid/loss")],
                                                                       rel=1e-4)
    assert l1[-1][1] < l1[0][1]  # it learns
    [path] = list((tmp_path / "two" / "prover").iterdir())
    summary = json.loads((path / "summary.json").read_text())
    assert summary["processes"] == 2 and (path / "model" / "model.json").is_file()
