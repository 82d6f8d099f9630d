"""The proof API on real databases: frames, proof trees, GPT-f steps, unify/apply, syntax proofs."""

from __future__ import annotations

import pytest

from ilya.metamath import MetamathError, ProofNode, load, unify
from ilya.metamath.database import DEFAULT_DIR

DEMO0 = DEFAULT_DIR / "demo0.mm"
ISET = DEFAULT_DIR / "iset.mm"


@pytest.fixture(scope="module")
def demo0():
    return load(DEMO0)


@pytest.fixture(scope="module")
def iset():
    return load(ISET)


def test_frames_of_demo0(demo0):
    th1 = demo0["th1"]
    assert th1.kind == "p" and th1.expr == ("|-", "t", "=", "t")
    assert th1.hyps == ("tt",) and th1.vars == ("t",)
    mp = demo0["mp"]
    assert mp.hyps == ("wp", "wq", "min", "maj")
    assert mp.vars == ("P", "Q")
    assert [s.index for s in demo0.statements] == list(range(len(demo0.statements)))
    assert all(s.kind in "aefp" for s in demo0.statements)
    with pytest.raises(MetamathError, match="unknown label"):
        demo0["nope"]


def test_proof_tree_and_steps(demo0):
    proof = demo0.proof("th1")
    assert proof[-3:] == ["a1", "mp", "mp"] and len(proof) == 34
    tree = demo0.proof_tree("th1")
    assert isinstance(tree, ProofNode) and tree.label == "mp" and tree.expr == ("|-", "t", "=", "t")
    assert tree.size() == 34
    assert demo0.prove_tree_to_proof(tree) == proof
    steps = demo0.proof_steps("th1")
    assert steps[0].label == "mp" and steps[0].goal == ("|-", "t", "=", "t")
    assert steps[0].subst == {"P": ("(", "t", "+", "0", ")", "=", "t"), "Q": ("t", "=", "t")}
    provable = demo0.proof_steps("th1", only_provable=True)
    assert [s.label for s in provable] == ["mp", "a2", "mp", "a2", "a1"]


def test_unique_steps_visit_shared_subproofs_once(iset):
    st = next(s for s in iset.theorems() if "Z" in "".join(s.proof_text[-3:]) and len(s.proof_text) > 20)
    all_steps = iset.proof_steps(st.label)
    uniq = iset.proof_steps(st.label, unique=True)
    assert len(uniq) < len(all_steps)
    key = lambda s: (s.goal, s.label)  # noqa: E731
    assert {key(s) for s in uniq} == {key(s) for s in all_steps}
    assert uniq[0] == all_steps[0]


def test_unify_and_apply_replay_every_step(iset):
    for thm in ("id", "syl", "mp2", "pm2.43i"):
        for step in iset.proof_steps(thm):
            st = iset[step.label]
            u = unify(step.goal, st)
            assert u is not None
            assert all(u[v] == step.subst[v] for v in u)
            subgoals = iset.apply(step.goal, step.label, step.subst, before=thm)
            assert len(subgoals) == len(st.hyps)


def test_apply_refusals(iset):
    goal = ("|-", "(", "ph", "->", "ph", ")")
    with pytest.raises(MetamathError, match="not available before"):
        iset.apply(goal, "id", {"ph": ("ph",)}, before="a1i")
    with pytest.raises(MetamathError, match="type mismatch"):
        iset.apply(goal, "ax-1", {"ph": ("ph",), "ps": ("x",)}, before="id")
    with pytest.raises(MetamathError, match="does not match goal"):
        iset.apply(goal, "ax-1", {"ph": ("ph",), "ps": ("ph",)}, before="id")


def test_syntax_proof(iset):
    proof = iset.syntax_proof(("wff", "(", "ph", "->", "(", "ps", "->", "ph", ")", ")"))
    assert proof == ["wph", "wps", "wph", "wi", "wi"]
    with pytest.raises(MetamathError, match="does not parse"):
        iset.syntax_proof(("wff", "(", "ph", "->", ")"))


def test_compress_round_trip(iset):
    for thm in ("id", "syl", "mpbir", "pm2.43i"):
        p = iset.proof(thm)
        text = iset.compress(p, thm)
        assert text.lstrip().startswith("(")
        st = iset[thm]
        old = st.proof_text
        st.proof_text = tuple(text.split())
        try:
            assert iset.proof(thm) == p
            assert iset.verify(thm) == []
        finally:
            st.proof_text = old


def test_syntax_proof_rebuilds_every_syntax_subproof(iset):
    """For every syntax subproof of real theorems the parser finds a syntax proof of the same term that
    checks at that theorem (not always the authors' one: set.mm's grammar has ambiguities like weq/wceq)."""
    from ilya.metamath.verify import decode_normal, run_proof

    checked = 0
    for st in iset.theorems()[::20]:
        for node in _nodes(iset.proof_tree(st.label)):
            s = iset.labels.get(node.label)
            if node.expr is None or s is None or node.expr[0] == "|-" or s.kind != "a":
                continue
            proof = iset.syntax_proof(node.expr, before=st.label)
            stack, incomplete, _ = run_proof(iset, st, decode_normal(iset, st, proof))
            assert stack == [node.expr] and not incomplete
            checked += 1
    assert checked > 2000


def test_syntax_proof_respects_before(iset):
    expr = ("wff", "(", "ph", "<->", "ps", ")")
    assert iset.syntax_proof(expr)[-1] == "wb"
    with pytest.raises(MetamathError):
        iset.syntax_proof(expr, before="syl")  # <-> is defined after syl


def _nodes(root):
    stack, seen = [root], set()
    while stack:
        n = stack.pop()
        if id(n) in seen:
            continue
        seen.add(id(n))
        yield n
        stack.extend(n.children)


def test_proof_from_gptf_steps_round_trip(iset):
    """GPT-f steps -> full proof (syntax filled in) -> the kernel verifies it, for sampled theorems."""
    from ilya.metamath.verify import check_proof

    rng = __import__("random").Random(3)
    thms = [s for s in rng.sample(iset.theorems(), 120) if len(s.proof_text) < 60][:40]
    assert len(thms) >= 20
    for st in thms:
        for unique in (False, True):
            steps = iset.proof_steps(st.label, only_provable=True, unique=unique)
            proof = iset.proof_from_steps(st.label, steps)
            check_proof(iset, st, proof)
    steps = iset.proof_steps("syl", only_provable=True)
    with pytest.raises(MetamathError, match="open goal"):
        iset.proof_from_steps("syl", steps[1:])
    with pytest.raises(MetamathError, match="left over"):
        iset.proof_from_steps("syl", steps + steps[-1:])


def test_unify_matches_brute_force_on_many_pairs(iset):
    """unify agrees with the substitution read off the real proofs, and refuses what cannot match."""
    rng = __import__("random").Random(5)
    assertions = [s for s in iset.statements if s.kind in ("a", "p") and s.expr[0] == "|-"]
    goals = []
    for st in rng.sample(iset.theorems(), 30):
        goals += [(s.goal, s.label, s.subst) for s in iset.proof_steps(st.label, only_provable=True)][:5]
    for goal, label, subst in goals:
        u = unify(goal, iset[label])
        assert u is not None and all(u[v] == subst[v] for v in u)
        for other in rng.sample(assertions, 40):
            u = unify(goal, other)
            if u is not None:  # any match must reproduce the goal exactly
                from ilya.metamath.verify import substitute

                assert substitute(other.expr, u) == goal
    assert unify(("|-", "ph"), iset["ax-1"]) is None
    assert unify(("wff", "(", "ph", "->", "ps", ")"), iset["ax-1"]) is None
