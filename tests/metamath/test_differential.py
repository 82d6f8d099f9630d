"""Differential tests: ilya (both backends) against metamath-exe on real databases and bad inputs."""

from __future__ import annotations

import random
import zlib

import pytest

from ilya.metamath import MetamathError, load
from ilya.metamath.check import fast_available, verify_file
from ilya.metamath.database import DEFAULT_DIR

from .mmexe import MMEXE, mmexe_verdict
from .mutate import PROOF_MUTATIONS, break_dv, mutate_proof

needs_mmexe = pytest.mark.skipif(MMEXE is None, reason="metamath-exe not installed")
needs_dbs = pytest.mark.skipif(not (DEFAULT_DIR / "set.mm").exists(), reason="metamath-databases missing")
SMALL = ["big-unifier.mm", "demo0.mm", "hol.mm", "miu.mm", "peano.mm", "ql.mm", "nf.mm", "iset.mm"]
BACKENDS = ["python", "fast"] if fast_available() else ["python"]


def ilya_verdict(path, backend):
    """(ok, failing labels, any parse error) from ilya."""
    try:
        rep = verify_file(path, backend=backend)
    except MetamathError as e:
        return False, None, str(e)
    return rep.ok, {lab for lab, _ in rep.failures}, [m for _, m in rep.failures]


@needs_dbs
@pytest.mark.parametrize("name", SMALL)
@pytest.mark.parametrize("backend", BACKENDS)
def test_real_database_verifies(name, backend):
    rep = verify_file(DEFAULT_DIR / name, backend=backend)
    assert rep.ok, rep.failures[:3]
    db_p = sum(1 for s in load(DEFAULT_DIR / name).statements if s.kind == "p")
    assert rep.checked == db_p


@needs_dbs
@needs_mmexe
@pytest.mark.parametrize("name", SMALL)
def test_metamath_exe_agrees_on_real_database(name):
    assert mmexe_verdict(DEFAULT_DIR / name).ok


@needs_dbs
@pytest.mark.slow
@pytest.mark.parametrize("backend", BACKENDS)
def test_set_mm_verifies(backend):
    rep = verify_file(DEFAULT_DIR / "set.mm", backend=backend, jobs=2)
    assert rep.ok and rep.checked > 30000


@needs_dbs
@needs_mmexe
@pytest.mark.slow
def test_set_mm_metamath_exe():
    assert mmexe_verdict(DEFAULT_DIR / "set.mm").ok


def _check_against_mmexe(tmp_path, text, name):
    p = tmp_path / f"{name}.mm"
    p.write_text(text)
    mm = mmexe_verdict(p)
    verdicts = {b: ilya_verdict(p, b) for b in BACKENDS}
    for b, (ok, bad, msgs) in verdicts.items():
        assert ok == mm.ok, f"{b}: ilya ok={ok} ({msgs}) but metamath-exe ok={mm.ok}\n{mm.output[-800:]}"
        if not ok and bad is not None:
            assert bad == mm.bad_labels, (b, bad, mm.bad_labels)
    if len(BACKENDS) == 2:
        assert verdicts["python"] == verdicts["fast"]
    return mm.ok


@needs_dbs
@needs_mmexe
@pytest.mark.parametrize("base", ["demo0.mm", "hol.mm", "ql.mm"])
@pytest.mark.parametrize("kind", PROOF_MUTATIONS)
def test_mutated_proofs_match_metamath_exe(tmp_path, base, kind):
    db = load(DEFAULT_DIR / base)
    rng = random.Random(zlib.crc32(f"{base}{kind}".encode()))
    rejected = 0
    for trial in range(3):
        _, label, text = mutate_proof(db, rng, kind)
        rejected += not _check_against_mmexe(tmp_path, text, f"{kind}{trial}")
    if kind in ("later", "letter", "drop"):
        assert rejected >= 1  # these mutations almost always break the proof


@needs_dbs
@needs_mmexe
def test_broken_dv_matches_metamath_exe(tmp_path):
    db = load(DEFAULT_DIR / "nf.mm")
    rng = random.Random(4)
    rejected = 0
    for trial in range(3):
        label, text = break_dv(db, rng)
        rejected += not _check_against_mmexe(tmp_path, text, f"dv{trial}")
    assert rejected >= 1
