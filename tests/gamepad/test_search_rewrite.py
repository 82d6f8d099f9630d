"""Best-first search over the live env, and the algebraic rewrite problems (scripted proofs checked by Coq)."""

from __future__ import annotations

import random

import numpy as np

from ilya.gamepad.coqtop import Coqtop
from ilya.gamepad.env import CoqEnv
from ilya.gamepad.rewrite import (
    PRELUDE,
    apply,
    candidates,
    generate,
    goal_term,
    script_proof,
    scripted,
    synthesize,
    text,
    train_predictor,
)
from ilya.gamepad.search import Policy, best_first, qualified
from ilya.gamepad.tactics import TACTIC_CLASSES


def test_best_first_search_proves_small_goals_and_gives_up_within_budget() -> None:
    env = CoqEnv(prelude="ssreflect", step_timeout=2.0, max_steps=10_000)
    policy = Policy(None, np.ones(len(TACTIC_CLASSES)) / len(TACTIC_CLASSES))
    try:
        env.reset(options={"statement": "forall b : bool, b || ~~ b"})
        res = best_first(env, policy, 6)
        assert res["proved"] and res["proof"] == ["by case"]
        env.reset(options={"statement": "forall A B : Prop, A /\\ B -> B /\\ A"})
        assert best_first(env, policy, 6)["proved"]
        env.reset(options={"statement": "forall n : nat, n * n = n"})  # false: nothing proves it
        res = best_first(env, policy, 3)
        assert not res["proved"] and res["tried"] > 10
    finally:
        env.close()
    assert qualified("ssreflect/ssrnat.v:addnC") == "mathcomp.ssreflect.ssrnat.addnC"


def test_rewrite_problems_are_true_and_the_script_terminates() -> None:
    rng = random.Random(0)
    for _ in range(50):
        t = generate(rng, 8)
        proof = script_proof(t)
        cur = t
        for a in proof:
            assert a in candidates(cur) or a.arg in {c.arg for c in candidates(cur)}
            cur = apply(cur, a)
        assert cur == "e" and len(proof) < 60
    assert scripted(("b", "b")).rule == "bb"
    # ((b m) m) b: rotate m m together first
    assert scripted(((("b", "m"), "m"), "b")).rule == "assoc"


def test_scripted_and_model_proofs_are_accepted_by_coq() -> None:
    rng = random.Random(1)
    train = [generate(rng, 5) for _ in range(60)]
    pred, stats = train_predictor(train, 0)
    assert stats["train_step_acc"] > 0.8
    with Coqtop(timeout=30) as coq:
        for line in PRELUDE.strip().splitlines():
            assert coq.send(line).error is None
        coq.send("Set Printing All.")
        coq.send("Set Printing Width 100000.")
        t = (("e", ("b", "b")), ("m", "m"))
        ans = coq.send(f"Lemma probe : {text(t)} = e.")
        assert goal_term(ans.output) == t
        coq.send("Abort.")
        proved = 0
        for k in range(5):
            p = generate(rng, 6)
            assert synthesize(coq, f"s{k}", p, lambda cur, seen: scripted(cur), 100).proved
            att = synthesize(coq, f"m{k}", p, lambda cur, seen: pred.rank(cur)[0], 40)
            proved += att.proved
        assert proved >= 3
        # a wrong "proof" is not accepted: Qed needs the goal closed
        bad = synthesize(coq, "bad", (("b", "m"), ("m", "b")), lambda cur, seen: candidates(cur)[-1], 2)
        assert not bad.proved
