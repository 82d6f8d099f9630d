"""The assertion index: the same matches as string unification, the dataset's steps always among them."""

from __future__ import annotations

import random

from ilya.prover.matching import matcher


def _subst(expr, sub):
    out = []
    for s in expr:
        out.extend(sub.get(s, (s,)))
    return tuple(out)


def test_matches_agree_with_unification_and_respect_the_cut(slice_db):
    from ilya.metamath import unify

    _, db = slice_db
    m = matcher(db)
    assert not m.unparsed
    asserts = [s for s in db.statements if s.kind in ("a", "p") and s.typecode == "|-"]
    theorems = [s for s in db.statements if s.kind == "p"]
    rng = random.Random(0)
    checked = 0
    for th in rng.sample(theorems, 25):
        for step in db.proof_steps(th.label, only_provable=True)[:4]:
            goal = tuple(step.goal)
            got = {x.label: x for x in m.matches(goal, th.index)}
            want = {s.label for s in asserts if s.index < th.index and unify(goal, s) is not None}
            assert set(got) == want
            assert step.label in got  # the step set.mm takes is always offered
            for x in got.values():
                st = db[x.label]
                assert _subst(st.expr, x.subst) == goal  # the substitution really makes the conclusion the goal
                assert set(x.subst) | set(x.free) == set(st.vars) and not set(x.subst) & set(x.free)
            assert {k: tuple(v) for k, v in step.subst.items() if k in got[step.label].subst} == \
                got[step.label].subst
            checked += 1
    assert checked > 50


def test_substitution_of_one_label_and_goals_that_do_not_parse(slice_db):
    _, db = slice_db
    m = matcher(db)
    goal = ("|-", "(", "ph", "->", "(", "ps", "->", "ph", ")", ")")
    found = {x.label: x.subst for x in m.matches(goal, None)}
    assert found["ax-1"] == {"ph": ("ph",), "ps": ("ps",)}
    assert "ax-2" not in found
    assert m.matches(("|-", "(", "ph", "->"), None) == []
    assert m.matches(("wff", "ph"), None) == []
    # nothing at or after the cut: ax-1 is statement index k, so before=k excludes it
    assert "ax-1" not in {x.label for x in m.matches(goal, db["ax-1"].index)}
    assert matcher(db) is m  # built once per database


def test_frequency_baseline_offers_matching_steps_that_invent_no_terms_first(slice_db, dataset):
    from ilya.prover.baselines import FrequencyPolicy
    from ilya.prover.dataset import read_split
    from ilya.prover.kernel import Kernel

    _, db = slice_db
    pol = FrequencyPolicy(db, list(read_split(dataset[0], "train")))
    kernel = Kernel(db)
    label = "mpcom" if "mpcom" in db else "syl5"
    goal = tuple(db[label].expr)
    matches = {x.label: x for x in matcher(db).matches(goal, db[label].index)}
    cands = pol.propose([goal], 40, [label])[0]
    assert cands and [lp for _, lp in cands] == sorted((lp for _, lp in cands), reverse=True)
    invents = [bool(matches[s.label].free) for s, _ in cands]
    assert invents == sorted(invents)  # every step that needs no invented term comes first
    assert not invents[0] and any(invents)
    for s, _ in cands:
        if not matches[s.label].free:
            kernel.expand(label, goal, s)  # a step with the goal's own substitution always applies
