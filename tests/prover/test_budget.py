"""Issue 17 item 2: each theorem has its own budget, and results do not depend on --batch or --workers."""

from __future__ import annotations

import math
import time

import pytest

from ilya.core.errors import IlyaError
from ilya.prover.format import ProofStep
from ilya.prover.search import SearchConfig, StepRejected, search_many


class Numbers:
    """Goals ("n", k): k == 1 is the hypothesis; "dec" turns k into k-1 and 1."""

    def expand(self, theorem, goal, step):
        k = int(goal[1])
        if step.label == "dec" and k > 1:
            return [("n", str(k - 1)), ("n", "1")]
        raise StepRejected("mismatch")

    def hypothesis(self, theorem, goal):
        return "h1" if goal == ("n", "1") else None


class Slow:
    """Proposes "dec" everywhere; every call takes ``seconds`` whatever the batch size."""

    def __init__(self, seconds):
        self.seconds = seconds

    def propose(self, goals, e, theorems):
        time.sleep(self.seconds)
        return [[(ProofStep("dec"), -0.1)] for _ in goals]

    def value(self, goals):
        return [0.0 for _ in goals]


def test_lockstep_batch_does_not_spend_one_theorems_time_on_the_others():
    """8 searches share each 40 ms policy call: each is charged 5 ms a round, so all reach d = 6 within a
    0.1 s limit (charged wall time, each would have stopped on time after 3 rounds)."""
    problems = [(f"t{k}", ("n", "50")) for k in range(8)]
    rs = search_many(problems, Slow(0.04), Numbers(), SearchConfig(e=1, d=6, time_limit=0.1), batch=8)
    assert [r.stopped for r in rs] == ["budget"] * 8 and [r.expansions for r in rs] == [6] * 8
    assert all(r.wall > 0.2 for r in rs)  # the batch's wall time went past the limit
    assert all(0.025 <= r.model_time < 0.1 for r in rs)  # each theorem's share: 6 x 40 ms / 8


def test_own_time_stops_a_search():
    [r] = search_many([("t", ("n", "50"))], Slow(0.05), Numbers(), SearchConfig(e=1, d=100, time_limit=0.12),
                      batch=1)
    assert r.stopped == "time" and 3 <= r.expansions < 100 and r.model_time + r.kernel_time > 0.12


def test_search_config_refuses_empty_budgets():
    for kw in ({"e": 0}, {"d": 0}, {"time_limit": 0.0}, {"time_limit": -1.0}, {"time_limit": math.nan}):
        with pytest.raises(IlyaError):
            SearchConfig(**kw)
    assert SearchConfig(time_limit=math.inf).time_limit == math.inf


def _proofs(rows):
    return [(r["label"], r["proved"], r.get("proof"), r.get("tree"), r["expansions"], r.get("sampled", 0),
             r.get("accepted", 0)) for r in rows]


@pytest.mark.procs
def test_results_do_not_depend_on_batch_or_workers(tiny_model, slice_db, dataset):
    """The trained model (constrained decoding, terms sampled): the same proved set, the same proofs and
    the same expansions with 1 search at a time, 5 in lockstep, and 2 Ray workers of 3."""
    from ilya.prover.dataset import split_labels
    from ilya.prover.evaluate import prove, prove_distributed
    from ilya.prover.policies import make_policy

    db_path, db = slice_db
    spec = {"kind": "model", "path": str(tiny_model[1] / "model"), "threads": 1, "seed": 3}
    labels = split_labels(dataset[0], "test")[:16]
    cfg = SearchConfig(e=8, d=12, time_limit=math.inf)
    one = prove(db, make_policy(spec, db), labels, cfg, batch=1)
    five = prove(db, make_policy(spec, db), labels, cfg, batch=5)
    assert _proofs(five) == _proofs(one)
    assert sum(r["proved"] for r in one) >= 2 and sum(r["expansions"] for r in one) > 40
    assert {r["stopped"] for r in one} <= {"proved", "budget", "exhausted"}
    timing: dict[str, float] = {}
    ray_rows = prove_distributed(str(db_path), spec, labels, cfg, workers=2, batch=3, timing=timing)
    assert _proofs(ray_rows) == _proofs(one)
    assert timing["load_seconds"] > 0 and timing["search_seconds"] > 0


def test_lm_proposals_do_not_depend_on_the_other_goals(tiny_model, slice_db):
    from ilya.prover.model import LMPolicy, load_model

    _, db = slice_db
    model, tok, _ = load_model(tiny_model[1] / "model")
    labels = ["mpd", "syl", "id", "a1i"]
    goals = [tuple(db[lab].expr) for lab in labels]
    for decode in ("constrained", "sample"):
        pol = LMPolicy(model, tok, db=db, decode=decode)
        pol.seed(7)
        together = pol.propose(goals, 6, labels)
        alone = [pol.propose([g], 6, [lab])[0] for g, lab in zip(goals, labels, strict=True)]
        for a, b in zip(together, alone, strict=True):
            assert [s for s, _ in a] == [s for s, _ in b], decode
            assert [lp for _, lp in a] == pytest.approx([lp for _, lp in b], abs=1e-4)
        pol.seed(8)  # another seed, other samples (the free sampling, at least)
        if decode == "sample":
            assert pol.propose(goals, 6, labels) != together
