"""Round trips: compress -> decompress gives the same proof; a written database verifies in metamath-exe."""

from __future__ import annotations

import random

import pytest

from ilya.metamath import MetamathError, encode_number, load
from ilya.metamath.check import verify_file
from ilya.metamath.database import DEFAULT_DIR
from ilya.metamath.verify import decode

from .mmexe import MMEXE, mmexe_verdict

needs_mmexe = pytest.mark.skipif(MMEXE is None, reason="metamath-exe not installed")


@pytest.fixture(scope="module")
def iset():
    return load(DEFAULT_DIR / "iset.mm")


def test_number_encoding_matches_the_book():
    # Metamath book, appendix B: A..T are 1..20, then UA = 21, UT = 40, VA = 41, YT = 120, UUA = 121
    assert [encode_number(n) for n in (1, 20, 21, 40, 41, 120, 121)] == ["A", "T", "UA", "UT", "VA", "YT", "UUA"]


def test_compress_decompress_identity(iset):
    rng = random.Random(0)
    thms = rng.sample(iset.theorems(), 150)
    for st in thms:
        proof = iset.proof(st.label)
        text = iset.compress(proof, st.label)
        old = st.proof_text
        st.proof_text = tuple(text.split())
        try:
            assert iset.proof(st.label) == proof
            assert iset.verify(st.label) == []
            # compression never loses to the original compressed proof by much (both save repeats)
            if old[0] == "(":
                assert len(decode(iset, st)) <= len(decode(iset, st, old)) + 5
        finally:
            st.proof_text = old


def test_with_proof_refuses_a_wrong_proof(iset):
    proof = iset.proof("syl")
    with pytest.raises(MetamathError, match="syl"):
        iset.with_proof("syl", proof[:-1])
    assert "syl" not in iset.replacements


@needs_mmexe
def test_written_database_verifies_in_metamath_exe(tmp_path):
    db = load(DEFAULT_DIR / "nf.mm")
    rng = random.Random(1)
    chosen = rng.sample(db.theorems(), 5)
    for st in chosen:
        db.with_proof(st.label, db.proof(st.label))
    db.replacements[chosen[0].label] = " ".join(db.proof(chosen[0].label))  # a normal proof too
    out = db.write(tmp_path / "nf_rt.mm")
    assert mmexe_verdict(out).ok
    assert verify_file(out).ok
    # the file is the original except for the replaced proofs
    assert out.read_text().count("$p") == (DEFAULT_DIR / "nf.mm").read_text().count("$p")


@needs_mmexe
def test_written_wrong_proof_is_rejected_by_metamath_exe(tmp_path):
    db = load(DEFAULT_DIR / "hol.mm")
    st = db.theorems()[10]
    bad = db.proof(st.label)
    bad[-1], bad[-2] = bad[-2], bad[-1]
    out = db.write(tmp_path / "bad.mm", replacements={st.label: " ".join(bad)})
    mm = mmexe_verdict(out)
    assert not mm.ok and st.label in mm.bad_labels
    rep = verify_file(out)
    assert [lab for lab, _ in rep.failures] == [st.label]


@needs_mmexe
def test_includes_are_followed_once_and_written_inline(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "base.mm").write_text("$c wff |- ( ) -> $.\n$v ph ps $.\nwph $f wff ph $.\nwps $f wff ps $.\n"
                                      "wi $a wff ( ph -> ps ) $.\nax-id $a |- ( ph -> ph ) $.\n")
    (tmp_path / "sub" / "more.mm").write_text("$[ ../base.mm $]\nth1 $p |- ( ps -> ps ) $= wps ax-id $.\n")
    main = tmp_path / "main.mm"
    main.write_text("$[ base.mm $]\n$[ base.mm $]\n$[ sub/more.mm $]\n"
                    "th2 $p |- ( ( ph -> ph ) -> ( ph -> ph ) ) $= wph wph wi ax-id $.\n")
    db = load(main)
    assert [s.label for s in db.theorems()] == ["th1", "th2"]
    assert len(db.sources) == 3
    assert verify_file(main).ok and verify_file(main, backend="python").ok
    out = db.write(tmp_path / "flat.mm")
    assert "$[" not in out.read_text()
    assert mmexe_verdict(out).ok
    assert [s.label for s in load(out).theorems()] == ["th1", "th2"]


@pytest.mark.slow
@needs_mmexe
def test_set_mm_round_trip(tmp_path):
    db = load(DEFAULT_DIR / "set.mm")
    st = db["syl"]
    db.with_proof(st.label, db.proof(st.label))
    out = db.write(tmp_path / "set_rt.mm")
    assert mmexe_verdict(out, timeout=600).ok
