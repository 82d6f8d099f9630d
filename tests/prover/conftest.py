"""Small real databases: the first theorems of set.mm (propositional calculus), cut by the slicer."""

from __future__ import annotations

from pathlib import Path

import pytest

SETMM = Path("/usr/share/metamath/databases/set.mm")


@pytest.fixture(scope="session")
def slice_db(tmp_path_factory):
    """(path, database) of set.mm cut after its 150th theorem."""
    from ilya.metamath import load
    from ilya.prover.slicing import slice_database

    if not SETMM.is_file():
        pytest.skip("set.mm (Debian metamath-databases) not installed")
    path = slice_database(SETMM, tmp_path_factory.mktemp("mm") / "slice.mm", n_theorems=150)
    return path, load(path)


@pytest.fixture(scope="session")
def dataset(slice_db, tmp_path_factory):
    """The proof-step dataset of the slice (about 30 test theorems)."""
    from ilya.prover.dataset import build_dataset

    out = tmp_path_factory.mktemp("data") / "ds"
    stats = build_dataset(slice_db[1], out, valid=25, test=25)
    return out, stats


def _replay(kernel, rec):
    """Rebuild a proof tree from the record's pre-order steps, checking each goal on the way."""
    from ilya.prover.search import ProofTree

    steps = iter(rec.steps)

    def build(goal):
        hyp = kernel.hypothesis(rec.label, goal)
        if hyp is not None:
            return ProofTree(goal, hyp=hyp)
        g, step = next(steps)
        assert g == goal
        return ProofTree(goal, step=step, children=[build(s) for s in kernel.expand(rec.label, goal, step)])

    tree = build(rec.goal)
    assert next(steps, None) is None
    return tree


@pytest.fixture(scope="session")
def replay():
    """``replay(kernel, record)``: a dataset record's steps rebuilt into a proof tree through the kernel."""
    return _replay
