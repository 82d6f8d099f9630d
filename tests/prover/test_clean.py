"""Clean splits: alpha-equivalent duplicates and statements derived in train proofs are flagged."""

from __future__ import annotations

import json

import pytest

from ilya.prover.clean import canonical

MM = """
$c ( ) -> wff |- $.
$v ph ps ch $.
wph $f wff ph $.
wps $f wff ps $.
wch $f wff ch $.
wi $a wff ( ph -> ps ) $.
ax-1 $a |- ( ph -> ( ps -> ph ) ) $.
${ min $e |- ph $. maj $e |- ( ph -> ps ) $. ax-mp $a |- ps $. $}
${ a1i.1 $e |- ph $. a1i $p |- ( ps -> ph ) $= wph wps wph wi a1i.1 wph wps ax-1 ax-mp $. $}
th1 $p |- ( ps -> ( ch -> ps ) ) $= wps wch ax-1 $.
tT $p |- ( ph -> ( ph -> ph ) ) $= wph wph ax-1 $.
${ W.1 $e |- ph $. W.2 $e |- ( ph -> ps ) $. W $p |- ps $= wph wps W.1 W.2 ax-mp $. $}
tV $p |- ( ph -> ( ps -> ( ch -> ps ) ) ) $= wps wch wps wi wi wph wps wch ax-1 a1i $.
${ b.1 $e |- ps $. a1ialt $p |- ( ch -> ps ) $= wps wch wps wi b.1 wps wch ax-1 ax-mp $. $}
${ U.1 $e |- ( ( ps -> ( ps -> ps ) ) -> ch ) $. U $p |- ch $= wps wps wps wi wi wch wps wps ax-1 U.1 ax-mp $. $}
${ X.1 $e |- ( ch -> ph ) $. X.2 $e |- ch $. X $p |- ph $= wch wph X.2 X.1 ax-mp $. $}
tV2 $p |- ( ps -> ( ch -> ( ph -> ch ) ) ) $= wch wph wch wi wi wps wch wph ax-1 a1i $.
${ c.1 $e |- ( ( ph -> ( ps -> ( ch -> ps ) ) ) -> ch ) $.
   cV $p |- ch $= wph wps wch wps wi wi wi wch wph wps wch tV c.1 ax-mp $. $}
"""
SPLIT = {"a1i": "test", "th1": "test", "tT": "test", "W": "test", "tV": "test",
         "a1ialt": "train", "U": "train", "X": "train", "tV2": "valid", "cV": "train"}
WANT = {
    "a1i": ["duplicate_later_train"],                     # a1ialt: renamed, later, train
    "th1": ["derived_in_train_proof", "duplicate_earlier"],  # ax-1 renamed; a1ialt's proof derives it
    "tT": ["derived_in_train_proof"],                     # U's proof derives ( ps -> ( ps -> ps ) )
    "W": ["duplicate_later_train", "duplicate_earlier"],  # X: hypotheses swapped and renamed; ax-mp before
    "tV": [],  # its later duplicate tV2 is not a train theorem; cV's proof only cites it (not a proof of it)
    "tV2": ["derived_in_train_proof", "duplicate_earlier"],  # cV proves its statement by citing tV
}


@pytest.fixture()
def small(tmp_path):
    from ilya.metamath import load
    from ilya.prover.dataset import theorem_record

    mm = tmp_path / "small.mm"
    mm.write_text(MM)
    db = load(mm)
    for st in db.theorems():
        db.verify(st.label)  # the hand-written proofs are right
    data = tmp_path / "ds"
    data.mkdir()
    for s in ("train", "valid", "test"):
        rows = [theorem_record(db, lab).to_json() for lab in SPLIT if SPLIT[lab] == s]
        (data / f"{s}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    return db, data


def ex(text: str) -> tuple[str, ...]:
    return tuple(text.split())


def test_canonical_is_alpha_equivalence():
    vt = {"ph": "wff", "ps": "wff", "ch": "wff", "x": "setvar"}
    e = ex("|- ( ph -> ( ps -> ph ) )")
    assert canonical(e, [], vt) == canonical(ex("|- ( ch -> ( ph -> ch ) )"), [], vt)
    assert canonical(e, [], vt) != canonical(ex("|- ( ph -> ( ph -> ph ) )"), [], vt)
    assert canonical(e, [], vt) != canonical(ex("|- ( x -> ( ps -> x ) )"), [], vt)  # types kept
    h1, h2 = ex("|- ph"), ex("|- ( ph -> ps )")
    g1, g2 = ex("|- ch"), ex("|- ( ch -> ph )")
    assert canonical(("|-", "ps"), [h1, h2], vt) == canonical(("|-", "ph"), [g2, g1], vt)  # order, names
    # same shape, different roles: every order of the tied hypotheses is tried
    a, b = ex("|- ( ph -> ps )"), ex("|- ( ps -> ch )")
    c, d = ex("|- ( ps -> ph )"), ex("|- ( ch -> ps )")
    assert canonical(ex("|- ( ph -> ch )"), [a, b], vt) == \
        canonical(ex("|- ( ch -> ph )"), [c, d], vt)
    assert canonical(ex("|- ( ph -> ch )"), [a, b], vt) != \
        canonical(ex("|- ( ch -> ph )"), [a, b], vt)


def test_mark_clean_flags_duplicates_and_derived_statements(small):
    from ilya.prover.dataset import mark_clean, read_split, split_flags, split_labels

    db, data = small
    report = mark_clean(db, data)
    got = {**split_flags(data, "test"), **split_flags(data, "valid")}
    assert got == WANT
    assert report["test"] == {"theorems": 5, "clean": 1, "flagged": 4, "in_training_data": 4,
                              "duplicate_later_train": 2, "derived_in_train_proof": 2, "duplicate_earlier": 2,
                              "derived_in_later_train_proof": 2}
    assert report["flagged"]["a1i"]["because"] == {"duplicate_later_train": "a1ialt"}
    assert report["flagged"]["tT"]["because"]["derived_in_train_proof"] == "U"
    assert report["flagged"]["W"]["because"] == {"duplicate_later_train": "X", "duplicate_earlier": "ax-mp"}
    assert split_labels(data, "test", clean=True) == ["tV"]
    assert split_labels(data, "test") == ["a1i", "th1", "tT", "W", "tV"]
    recs = {r.label: r for r in read_split(data, "test")}
    assert recs["tV"].clean and not recs["tT"].clean and recs["W"].flags == WANT["W"]
    assert json.loads((data / "clean.json").read_text())["test"]["clean"] == 1
    # idempotent: a second pass flags the same theorems
    assert mark_clean(db, data)["test"] == report["test"]


def test_unflagged_dataset_is_refused_with_the_fix(small):
    from ilya.core.errors import IlyaError
    from ilya.prover.dataset import split_labels

    _, data = small
    with pytest.raises(IlyaError, match="--clean-only"):
        split_labels(data, "test", clean=True)


def test_built_dataset_is_flagged(dataset):
    """`build_dataset` flags its splits (the 150-theorem slice of set.mm: a few ALT copies, none derived)."""
    from ilya.prover.dataset import load_stats, split_flags

    out, _ = dataset
    stats = load_stats(out)
    flags = split_flags(out, "test")
    assert stats["clean"]["test"]["theorems"] == len(flags)
    assert stats["clean"]["test"]["clean"] == sum(not f for f in flags.values())
