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


@pytest.fixture(scope="session")
def tiny_model(dataset, tmp_path_factory):
    """(runs dir, run folder, summary) of a 1-layer model trained 120 steps on the slice (~10 s)."""
    from ilya.prover.config import ProverOptim, TrainConfig
    from ilya.prover.train import train

    runs = tmp_path_factory.mktemp("runs")
    cfg = TrainConfig(run="tiny", runs_dir=runs, data=dataset[0], threads=1, steps=120, n_layer=1, n_head=2, n_embd=48,
                      block_size=160, vocab_size=300, eval_interval=60, optim=ProverOptim(warmup=10, lr=3e-3),
                      batch_size=16)
    out = train(cfg)
    return runs, runs / "prover" / "tiny", out


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
