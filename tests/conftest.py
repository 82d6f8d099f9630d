"""Shared test set-up: the `gpu` marker is skipped without CUDA; `procs` tests (torchrun, a local Ray) run one at
a time across xdist workers; plots never need a display."""

from __future__ import annotations

import fcntl
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

os.environ.setdefault("MPLBACKEND", "Agg")
os.environ.setdefault("ILYA_PROGRESS", "0")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    try:
        import torch

        has_cuda = torch.cuda.is_available()
    except ImportError:
        has_cuda = False
    if has_cuda:
        return
    skip = pytest.mark.skip(reason="needs CUDA")
    for item in items:
        if "gpu" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def _one_process_group_at_a_time(request: pytest.FixtureRequest) -> Iterator[None]:
    """Two torchrun jobs or local Ray clusters started at once by two xdist workers can pick the same free
    port (each binds port 0, closes it and binds again) and then wait on each other's rendezvous until the
    timeout. A lock file shared by the session's workers lets one such test run at a time."""
    if request.node.get_closest_marker("procs") is None:
        yield
        return
    run_id = os.environ.get("PYTEST_XDIST_TESTRUNUID", str(os.getpid()))
    with open(Path(tempfile.gettempdir()) / f"ilya-tests-procs-{run_id}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
