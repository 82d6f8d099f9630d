"""Ray jobs: a worker that dies is retried and no result is lost; the in-process path gives the same results."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from ilya.imitation.parallel import run_jobs


def crash_once(marker: str, x: int) -> int:
    """Kills its worker process the first time it runs for x == 2 (a dying evaluation worker)."""
    if x == 2 and not os.path.exists(marker):
        Path(marker).write_text("crashed")
        os._exit(1)
    return x * x


def test_in_process() -> None:
    got: list[tuple[int, int]] = []
    out = run_jobs(crash_once, [(__file__, i) for i in range(4)], on_result=lambda i, r: got.append((i, r)))
    assert out == [0, 1, 4, 9] and sorted(got) == [(0, 0), (1, 1), (2, 4), (3, 9)]


@pytest.mark.timeout(180)
@pytest.mark.procs
def test_dead_worker_is_retried(tmp_path: Path) -> None:
    ray = pytest.importorskip("ray")
    from ray import cloudpickle

    cloudpickle.register_pickle_by_value(sys.modules[__name__])
    marker = str(tmp_path / "marker")
    try:
        out = run_jobs(crash_once, [(marker, i) for i in range(5)], workers=2)
    finally:
        ray.shutdown()
    assert Path(marker).read_text() == "crashed"          # the job for 2 did kill its worker
    assert out == [0, 1, 4, 9, 16]                        # and its result came back on the retry
