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
