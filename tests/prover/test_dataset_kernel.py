"""Dataset steps replay through the kernel into the original proofs; the split; wrong steps are refused."""

from __future__ import annotations

import json

import pytest

from ilya.prover.dataset import SPLITS, read_split, split_of, theorem_record
from ilya.prover.format import ProofStep
from ilya.prover.kernel import Kernel
from ilya.prover.search import StepRejected


def test_replayed_steps_rebuild_every_proof(slice_db, replay):
    _, db = slice_db
    kernel = Kernel(db)
    for st in db.theorems():
        rec = theorem_record(db, st.label)
        labels = kernel.assemble(replay(kernel, rec), st.label)
        assert labels == db.proof(st.label)
        kernel.verify(st.label, labels)


def test_split_is_deterministic_and_disjoint(dataset):
    out, stats = dataset
    labels = {s: [json.loads(x)["label"] for x in (out / f"{s}.jsonl").read_text().splitlines()] for s in SPLITS}
    assert not set(labels["test"]) & set(labels["train"])
    assert not set(labels["valid"]) & set(labels["train"])
    assert not set(labels["valid"]) & set(labels["test"])
    assert sum(map(len, labels.values())) == stats["theorems"] == 150
    assert 5 <= len(labels["test"]) <= 45 and 5 <= len(labels["valid"]) <= 45
    for s, labs in labels.items():
        assert all(split_of(lab, stats["valid_fraction"], stats["test_fraction"]) == s for lab in labs)
    assert stats["proof_steps"] == sum(len(r.steps) for s in SPLITS for r in read_split(out, s))


def test_kernel_refuses_wrong_steps(slice_db):
    _, db = slice_db
    k = Kernel(db)
    goal = tuple(db["syl"].expr)
    good = theorem_record(db, "syl").steps[0][1]
    assert k.expand("syl", goal, good)
    cases = {
        "unknown_label": ProofStep.make("nosuchlabel"),
        "unavailable": ProofStep.make("syl", {"ph": ("ph",), "ps": ("ps",), "ch": ("ch",)}),  # itself
        "mismatch": ProofStep.make("ax-1", {"ph": ("ph",), "ps": ("ps",)}),
        "type": ProofStep.make("ax-mp", {"ph": ("(", "ph",), "ps": goal[1:]}),
        "hypothesis": ProofStep.make("syl.1"),
    }
    later = [s for s in db.theorems() if s.index > db["syl"].index][0].label
    cases["unavailable_later"] = ProofStep.make(later)
    for name, step in cases.items():
        with pytest.raises(StepRejected) as e:
            k.expand("syl", goal, step)
        assert e.value.reason == name.replace("_later", ""), (name, e.value)


DV_MM = """
$c ( ) -> wff |- set A. $.
$v ph ps x y $.
wph $f wff ph $.
wps $f wff ps $.
vx $f set x $.
vy $f set y $.
wi $a wff ( ph -> ps ) $.
wal $a wff A. x ph $.
${ $d x ph $. ax-5 $a |- ( ph -> A. x ph ) $. $}
${ $d x ps $. good $p |- ( ps -> A. x ps ) $= wps vx ax-5 $. $}
bad $p |- ( ps -> A. x ps ) $= ? $.
"""


def test_dv_violations_are_refused(tmp_path):
    from ilya.metamath import load

    p = tmp_path / "dv.mm"
    p.write_text(DV_MM)
    db = load(p)
    k = Kernel(db)
    step = ProofStep.make("ax-5", {"ph": ("ps",), "x": ("x",)})
    goal = tuple(db["bad"].expr)
    assert k.expand("good", goal, step) == []  # "good" has $d x ps
    with pytest.raises(StepRejected) as e:
        k.expand("bad", goal, step)
    assert e.value.reason == "dv"


def test_free_substitution_is_completed_by_unification(slice_db):
    """--subst free: terms the goal determines may be left out; a wrong written term is still refused."""
    _, db = slice_db
    k = Kernel(db)
    goal, full = theorem_record(db, "syl").steps[0]
    concl = {x for x in db[full.label].expr if x in db[full.label].vars}
    free = ProofStep(full.label, tuple((v, t) for v, t in full.subst if v not in concl))
    assert len(free.subst) < len(full.subst)
    assert k.expand("syl", goal, free) == k.expand("syl", goal, full)
    wrong = ProofStep(full.label, tuple((v, ("ta",)) if v in concl else (v, t) for v, t in full.subst))
    with pytest.raises(StepRejected):
        k.expand("syl", goal, wrong)
