"""Best-first search on a toy kernel (no Metamath): proofs, budgets, shortest proof, value targets."""

from __future__ import annotations

import math

from ilya.prover.format import ProofStep
from ilya.prover.search import SearchConfig, StepRejected, search, search_many


class Numbers:
    """Goals ("n", k): k == 1 is the hypothesis; "dec" turns k into k-1 and 1, "half" halves an even k."""

    def expand(self, theorem, goal, step):
        k = int(goal[1])
        if step.label == "dec" and k > 1:
            return [("n", str(k - 1)), ("n", "1")]
        if step.label == "half" and k > 1 and k % 2 == 0:
            return [("n", str(k // 2))]
        if step.label == "bad":
            raise StepRejected("mismatch")
        raise StepRejected("mismatch")

    def hypothesis(self, theorem, goal):
        return "h1" if goal == ("n", "1") else None


class Fixed:
    """Proposes the same candidates (with given log-probabilities) everywhere."""

    def __init__(self, cands, values=None):
        self.cands, self.values, self.calls = cands, values, []

    def propose(self, goals, e, theorems):
        self.calls.append(len(goals))
        return [[(ProofStep(lab) if lab else None, lp) for lab, lp in self.cands][:e] for _ in goals]

    def value(self, goals):
        return [self.values(g) for g in goals]


def test_search_proves_and_counts_rejections():
    pol = Fixed([("dec", -1.0), ("bad", -0.5), ("dec", -1.0), (None, -2.0)])
    r = search("t", ("n", "4"), pol, Numbers(), SearchConfig(e=4, d=10))
    assert r.proved and r.stopped == "proved"
    assert r.proof.size() == 3  # 4 -> 3 -> 2 -> 1
    assert r.counts["rejected:mismatch"] == r.expansions  # "bad" every time, dropped
    assert r.counts["rejected:malformed"] == r.expansions
    assert r.counts["unique"] == 2 * r.expansions  # the duplicate "dec" is sampled but deduplicated


def test_budget_stops_search():
    pol = Fixed([("bad", -0.1)])
    r = search("t", ("n", "9"), pol, Numbers(), SearchConfig(e=1, d=5))
    assert not r.proved and r.expansions == 1 and r.stopped == "exhausted"
    pol = Fixed([("dec", -0.1)])
    r = search("t", ("n", "50"), pol, Numbers(), SearchConfig(e=1, d=5))
    assert not r.proved and r.expansions == 5 and r.stopped == "budget"


def test_keep_searching_finds_the_shortest_proof():
    pol = Fixed([("dec", -0.1), ("half", -5.0)])
    first = search("t", ("n", "8"), pol, Numbers(), SearchConfig(e=2, d=50))
    full = search("t", ("n", "8"), pol, Numbers(), SearchConfig(e=2, d=50, stop_at_first=False))
    assert first.proved and full.proved
    assert full.proof.size() == 3  # 8 -> 4 -> 2 -> 1 by halving
    assert first.stopped == "proved" and full.stopped == "exhausted"


def test_value_priority_and_targets():
    # the value prefers even numbers: halving is found first although its log-probability is low
    pol = Fixed([("dec", -0.1), ("half", -5.0)], values=lambda g: 0.0 if int(g[1]) % 2 == 0 else -9.0)
    r = search("t", ("n", "8"), pol, Numbers(), SearchConfig(e=2, d=50, priority="value"))
    assert r.proved and r.proof.size() == 3
    targets = dict(r.value_targets)
    assert targets[("n", "8")] == 1 and all(v in (0, 1) for v in targets.values())


def test_lockstep_batches_across_searches():
    pol = Fixed([("dec", -0.1)])
    problems = [(f"t{k}", ("n", str(k))) for k in (2, 3, 4, 5)]
    rs = search_many(problems, pol, Numbers(), SearchConfig(e=1, d=10), batch=4)
    assert [r.theorem for r in rs] == ["t2", "t3", "t4", "t5"]
    assert all(r.proved for r in rs)
    assert max(pol.calls) == 4  # one policy call served four searches
    assert [r.proof.size() for r in rs] == [1, 2, 3, 4]
    assert all(math.isfinite(r.wall) for r in rs)
