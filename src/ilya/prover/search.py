"""Best-first proof search over goals (GPT-f paper §3.4 and §4.2).

The search keeps an AND-OR graph per theorem: a *goal* is proved by any one of its *steps*, a step
proves its goal once all its subgoals are proved.  Each expansion pops the best open goal, asks the
policy for ``e`` candidate steps (the paper samples 32 at temperature 1), deduplicates them, applies each
through the kernel (malformed, unknown, unavailable, ill-typed or ``$d``-violating steps are dropped and
counted) and queues the subgoals.  A goal's priority is the cumulative log-probability of the steps
that lead to it (paper §3.4) or, with a value function, its estimated log-probability of being provable
(paper §4.2).  The search stops at the first proof, after ``d`` expansions (paper: 128) or when the
theorem's own time is spent.  Goals are shared within a theorem (same expression, same hypotheses, same provability), so the
graph is a DAG with cycles; proofs are extracted bottom-up and are therefore always well-founded.

`search_many` runs several searches in lockstep so that each round's policy calls are one batch
across searches (the paper batches inference across its prover workers).  Each theorem keeps its own
budget: ``d`` expansions of ``e`` candidates, and, as a cap, ``time_limit`` seconds of *its own* model and
kernel time (its share of each batched policy call plus its kernel calls), never the wall time of the
batch.  With a policy that proposes the same steps for a goal whatever else is in the batch (the
frequency baseline; `ilya.prover.model.LMPolicy`, which seeds each sample from its goal), the proved
set and the proofs do not depend on ``batch`` or on the number of workers while ``d`` is what stops
the searches; a binding time limit depends on the machine's speed.
"""

from __future__ import annotations

import heapq
import math
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Protocol

from ilya.core.errors import IlyaError
from ilya.prover.config import PRIORITIES, Priority
from ilya.prover.format import Expr, ProofStep, step_text


class StepRejected(Exception):
    """The kernel refused a proposed step; ``reason`` is a short category (``$d``, ``mismatch`` ...)."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


class SearchKernel(Protocol):
    """What the search needs from the kernel (``ilya.prover.kernel.Kernel`` implements it)."""

    def expand(self, theorem: str, goal: Expr, step: ProofStep) -> list[Expr]:
        """The ``|-`` subgoals of applying ``step`` to ``goal``, or raise `StepRejected`."""
        ...

    def hypothesis(self, theorem: str, goal: Expr) -> str | None:
        """The label of ``theorem``'s ``$e`` hypothesis whose expression is ``goal``, if any."""
        ...


Candidate = tuple[ProofStep | None, float]  # (step or None when the sample is malformed, log-probability)


class Policy(Protocol):
    """Proposes proof steps; optionally estimates values (log P(provable))."""

    def propose(self, goals: list[Expr], e: int, theorems: list[str]) -> list[list[Candidate]]:
        """``e`` sampled candidates (with log-probabilities) for each goal; one batched call."""
        ...

    def value(self, goals: list[Expr]) -> list[float]:
        """log P(PROVABLE) of each goal."""
        ...


@dataclass
class SearchConfig:
    e: int = 32
    """candidate steps sampled per expansion (paper: 32)"""
    d: int = 128
    """maximum expansions per theorem (paper: 128)"""
    time_limit: float = 60.0
    """seconds per theorem: its own model time (its share of each batched policy call) plus its kernel
    time, not the wall time of a lockstep batch (``inf``: expansions alone bound the search)"""
    priority: Priority = "logprob"
    """logprob (cumulative log-probability, §3.4) or value (the learned value, §4.2)"""
    stop_at_first: bool = True
    """stop at the first proof; False keeps searching until d (to look for shorter proofs)"""

    def __post_init__(self) -> None:
        if self.e < 1 or self.d < 1:
            raise IlyaError(f"search budget e={self.e}, d={self.d}: both must be at least 1")
        if not self.time_limit > 0:
            raise IlyaError(f"--time-limit {self.time_limit:g}: expected a positive number of seconds")
        if self.priority not in PRIORITIES:
            raise IlyaError(f"--priority {self.priority}: expected one of {', '.join(PRIORITIES)}")


@dataclass
class _Edge:
    step: ProofStep
    logp: float
    parent: _Goal
    subgoals: list[_Goal]


@dataclass(eq=False)
class _Goal:
    expr: Expr
    logp: float  # cumulative log-probability of the best path from the root
    hyp: str | None = None  # theorem hypothesis closing it
    value: float | None = None
    expanded: bool = False
    proved: bool = False
    edges: list[_Edge] = field(default_factory=list)
    parents: list[_Edge] = field(default_factory=list)

    def priority(self, mode: str) -> float:
        if mode == "value" and self.value is not None:
            return self.value
        return self.logp


@dataclass
class ProofTree:
    """A found proof: ``step`` applied to ``goal`` with one subtree per ``|-`` subgoal, or a hypothesis."""

    goal: Expr
    step: ProofStep | None = None
    hyp: str | None = None
    children: list[ProofTree] = field(default_factory=list)

    def size(self) -> int:
        """Number of steps (assertion applications), the count set.mm's proof is compared with."""
        return (0 if self.step is None else 1) + sum(c.size() for c in self.children)

    def to_json(self) -> dict[str, Any]:
        if self.step is None:
            return {"goal": " ".join(self.goal), "hyp": self.hyp}
        return {"goal": " ".join(self.goal), "step": step_text(self.step),
                "children": [c.to_json() for c in self.children]}


@dataclass
class SearchResult:
    theorem: str
    proved: bool
    proof: ProofTree | None
    expansions: int
    wall: float
    model_time: float
    kernel_time: float
    counts: Counter = field(default_factory=Counter)  # sampled / unique / accepted / rejected:<reason>
    value_targets: list[tuple[Expr, int]] = field(default_factory=list)  # (goal, 1 provable / 0 not)
    stopped: str = ""  # proved / budget / time / exhausted

    def summary(self) -> dict[str, Any]:
        return {"label": self.theorem, "proved": self.proved, "expansions": self.expansions,
                "wall": round(self.wall, 3), "model_time": round(self.model_time, 3),
                "kernel_time": round(self.kernel_time, 3), "stopped": self.stopped,
                "steps": self.proof.size() if self.proof else None, **dict(self.counts)}


class _Search:
    """The state of one theorem's search."""

    def __init__(self, theorem: str, goal: Expr, kernel: SearchKernel, cfg: SearchConfig) -> None:
        self.theorem, self.kernel, self.cfg = theorem, kernel, cfg
        self.goals: dict[Expr, _Goal] = {}
        self.heap: list[tuple[float, int, _Goal]] = []
        self._tick = 0
        self.counts: Counter = Counter()
        self.expansions = 0
        self.t0 = time.perf_counter()
        self.model_time = self.kernel_time = 0.0
        self.stopped = ""
        self.new_goals: list[_Goal] = []
        self.root = self._goal(goal, 0.0)

    # -------------------------------------------------------------- graph
    def _goal(self, expr: Expr, logp: float) -> _Goal:
        g = self.goals.get(expr)
        if g is not None:
            if logp > g.logp:  # a better path: requeue with the better priority
                g.logp = logp
                if not g.expanded and not g.proved and self.cfg.priority != "value":
                    self._push(g)
            return g
        g = _Goal(expr, logp, hyp=self.kernel.hypothesis(self.theorem, expr))
        self.goals[expr] = g
        if g.hyp is not None:
            g.proved = True
        else:
            self.new_goals.append(g)
            if self.cfg.priority != "value":  # value priority: queued once its value is known
                self._push(g)
        return g

    def _push(self, g: _Goal) -> None:
        self._tick += 1
        heapq.heappush(self.heap, (-g.priority(self.cfg.priority), self._tick, g))

    def push_valued(self) -> None:
        """Re-queue goals whose value just arrived (value priority)."""
        for g in self.new_goals:
            if not g.expanded and not g.proved:
                self._push(g)

    def _mark_proved(self, g: _Goal) -> None:
        stack = [g]
        while stack:
            n = stack.pop()
            if n.proved:
                continue
            n.proved = True
            for e in n.parents:
                if not e.parent.proved and all(s.proved for s in e.subgoals):
                    stack.append(e.parent)

    @property
    def seconds(self) -> float:
        """The search's own time so far: its share of the policy calls plus its kernel calls."""
        return self.model_time + self.kernel_time

    # -------------------------------------------------------------- search loop
    def check_done(self) -> bool:
        """Whether the search is over (and why, in ``stopped``)."""
        if self.stopped:
            return True
        if self.root.proved and self.cfg.stop_at_first:
            self.stopped = "proved"
        elif self.expansions >= self.cfg.d:
            self.stopped = "budget"
        elif self.seconds > self.cfg.time_limit:  # its own model + kernel seconds, not the batch's wall
            self.stopped = "time"
        else:
            while self.heap and (self.heap[0][2].expanded or self.heap[0][2].proved):
                heapq.heappop(self.heap)
            if not self.heap:
                self.stopped = "exhausted"
        return bool(self.stopped)

    def next_goal(self) -> _Goal | None:
        """The best open goal, or None (and ``stopped`` set) when the search is over."""
        if self.check_done():
            return None
        return heapq.heappop(self.heap)[2]

    def expand(self, g: _Goal, candidates: list[Candidate]) -> None:
        g.expanded = True
        self.expansions += 1
        seen: set[ProofStep] = set()
        self.counts["sampled"] += len(candidates)
        for step, logp in sorted(candidates, key=lambda c: -c[1]):
            if step is None:
                self.counts["rejected:malformed"] += 1
                continue
            if step in seen:
                continue
            seen.add(step)
            self.counts["unique"] += 1
            t = time.perf_counter()
            try:
                subgoals = self.kernel.expand(self.theorem, g.expr, step)
            except StepRejected as r:
                self.counts[f"rejected:{r.reason}"] += 1
                continue
            finally:
                self.kernel_time += time.perf_counter() - t
            self.counts["accepted"] += 1
            edge = _Edge(step, logp, g, [])
            g.edges.append(edge)
            for s in subgoals:
                child = self._goal(s, g.logp + logp)
                child.parents.append(edge)
                edge.subgoals.append(child)
            if all(s.proved for s in edge.subgoals):
                self._mark_proved(g)

    # -------------------------------------------------------------- results
    def best_proof(self) -> ProofTree | None:
        """The proof with the fewest steps among all proofs found (fixpoint over the AND-OR graph)."""
        if not self.root.proved:
            return None
        proved = [g for g in self.goals.values() if g.proved]
        size: dict[int, float] = {id(g): (0.0 if g.hyp is not None else math.inf) for g in proved}
        choice: dict[int, _Edge] = {}
        changed = True
        while changed:
            changed = False
            for g in proved:
                for e in g.edges:
                    if not all(s.proved for s in e.subgoals):
                        continue
                    c = 1 + sum(size[id(s)] for s in e.subgoals)
                    if c < size[id(g)]:
                        size[id(g)], choice[id(g)] = c, e
                        changed = True

        def build(g: _Goal) -> ProofTree:
            if g.hyp is not None:
                return ProofTree(g.expr, hyp=g.hyp)
            e = choice[id(g)]
            return ProofTree(g.expr, step=e.step, children=[build(s) for s in e.subgoals])

        return build(self.root)

    def value_targets(self) -> list[tuple[Expr, int]]:
        """Paper §4.1: goals of a proof are PROVABLE; expanded goals that were never proved are not."""
        out: list[tuple[Expr, int]] = []
        proof = self.best_proof()
        if proof is not None:
            stack = [proof]
            while stack:
                t = stack.pop()
                if t.step is not None:
                    out.append((t.goal, 1))
                stack.extend(t.children)
        out += [(g.expr, 0) for g in self.goals.values() if g.expanded and not g.proved]
        return out

    def result(self) -> SearchResult:
        proof = self.best_proof()
        return SearchResult(self.theorem, proof is not None, proof, self.expansions,
                            time.perf_counter() - self.t0, self.model_time, self.kernel_time,
                            self.counts, self.value_targets(), self.stopped or "exhausted")


def search_many(problems: list[tuple[str, Expr]], policy: Policy, kernel: SearchKernel,
                cfg: SearchConfig, batch: int = 8, on_result: Any = None) -> list[SearchResult]:
    """Search every (theorem label, goal) with ``batch`` searches in lockstep; results in input order.

    Each round pops one goal from every active search and asks the policy for all of them in one call.
    ``on_result(result)`` is called as each search ends (for progress bars and incremental output).
    """
    if cfg.priority not in PRIORITIES:
        raise IlyaError(f"--priority {cfg.priority}: expected one of {', '.join(PRIORITIES)}")
    results: list[SearchResult | None] = [None] * len(problems)
    pending = list(range(len(problems)))[::-1]
    active: list[tuple[int, _Search]] = []

    def start(i: int) -> _Search:
        s = _Search(problems[i][0], problems[i][1], kernel, cfg)
        _value(policy, [s], cfg)
        return s

    while pending or active:
        while pending and len(active) < batch:
            i = pending.pop()
            active.append((i, start(i)))
        picked: list[tuple[int, _Search, _Goal]] = []
        for i, s in active:
            g = s.next_goal()
            if g is not None:
                picked.append((i, s, g))
        if picked:
            t = time.perf_counter()
            cands = policy.propose([g.expr for _, _, g in picked], cfg.e, [s.theorem for _, s, _ in picked])
            dt = time.perf_counter() - t
            for (_, s, g), c in zip(picked, cands, strict=True):
                s.model_time += dt / len(picked)
                s.expand(g, c)
            _value(policy, [s for _, s, _ in picked], cfg)
        still: list[tuple[int, _Search]] = []
        for i, s in active:
            if s.check_done():
                results[i] = r = s.result()
                if on_result is not None:
                    on_result(r)
            else:
                still.append((i, s))
        active = still
    return [r for r in results if r is not None]


def _value(policy: Policy, searches: list[_Search], cfg: SearchConfig) -> None:
    """Value priority: evaluate every goal created this round in one batch, then queue them."""
    if cfg.priority != "value":
        for s in searches:
            s.new_goals.clear()
        return
    goals = [g for s in searches for g in s.new_goals]
    if goals:
        t = time.perf_counter()
        values = policy.value([g.expr for g in goals])
        dt = time.perf_counter() - t
        for g, v in zip(goals, values, strict=True):
            g.value = v
        for s in searches:
            s.model_time += dt / len(searches)
            s.push_valued()
    for s in searches:
        s.new_goals.clear()


def search(theorem: str, goal: Expr, policy: Policy, kernel: SearchKernel,
           cfg: SearchConfig | None = None) -> SearchResult:
    """Prove one goal (the statement of ``theorem``) with best-first search."""
    return search_many([(theorem, goal)], policy, kernel, cfg or SearchConfig(), batch=1)[0]
