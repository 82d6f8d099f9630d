"""The whole of set.mm (slow: run with `pytest -m slow`)."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from ilya.prover.dataset import theorem_record
from ilya.prover.kernel import Kernel

SETMM = Path("/usr/share/metamath/databases/set.mm")
pytestmark = [pytest.mark.slow, pytest.mark.skipif(not SETMM.is_file(), reason="set.mm not installed")]


@pytest.fixture(scope="module")
def setmm():
    from ilya.metamath import load

    return load(SETMM)


def test_dataset_steps_replay_into_setmm_proofs(setmm, replay):
    kernel = Kernel(setmm)
    thms = [s for s in setmm.theorems()]
    for st in random.Random(0).sample(thms, 300):
        rec = theorem_record(setmm, st.label)
        if len(rec.steps) > 3000:
            continue
        labels = kernel.assemble(replay(kernel, rec), st.label)
        kernel.verify(st.label, labels)


def test_full_dataset_statistics(setmm, tmp_path):
    from ilya.prover.dataset import build_dataset

    stats = build_dataset(setmm, tmp_path / "ds")
    assert stats["theorems"] > 37_000 and stats["proof_steps"] > 2_000_000
    assert 800 <= stats["test_theorems"] <= 1200 and 800 <= stats["valid_theorems"] <= 1200
