"""The prover's view of the Metamath kernel (``ilya.metamath``): steps, proof assembly, verification.

The search only sees ``|-`` goals.  `Kernel.expand` applies a proposed step with ``db.apply`` *cut at the
theorem being proved* (``before=theorem``: only earlier statements may be cited, ``$d`` checked against
the theorem's own), completes the substitution of variables the goal determines when the model left
them out, and keeps the ``|-`` subgoals (the ``wff``/``class``/``setvar`` ones are checked to parse, and
their proofs are filled in later by ``db.syntax_proof``).  `Kernel.assemble` turns a found proof tree
into a normal Metamath proof, `Kernel.verify` checks it with the kernel's verifier, and `Kernel.compress`
writes it as it would appear in set.mm.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import ilya.metamath as metamath
from ilya.metamath import Database, MetamathError, check_proof
from ilya.prover.format import Expr, ProofStep
from ilya.prover.search import ProofTree, StepRejected

_REASONS = (
    ("unknown label", "unknown_label"),
    ("not available", "unavailable"),
    ("$d violation", "dv"),
    ("type mismatch", "type"),
    ("does not match", "mismatch"),
    ("misses variables", "subst"),
    ("not variables of", "subst"),
)


def reason_of(message: str) -> str:
    """A short category for a kernel refusal (used as ``rejected:<reason>`` counts)."""
    for needle, reason in _REASONS:
        if needle in message:
            return reason
    return "other"


@dataclass
class Theorem:
    """What a search needs to know about the theorem it proves."""

    label: str
    goal: Expr
    hyps: dict[Expr, str]  # $e hypothesis expression -> label
    index: int


class Kernel:
    """Wraps an ``ilya.metamath.Database`` for search (implements `ilya.prover.search.SearchKernel`)."""

    def __init__(self, db: Database, forbidden: set[str] | None = None) -> None:
        self.db = db
        self.forbidden = forbidden or set()  # labels the prover may not cite (e.g. discouraged ones)
        self._theorems: dict[str, Theorem] = {}
        self._float_cache: dict[int, dict[Expr, str]] = {}
        self._all_floats: list[Any] | None = None
        self._index: int | None = None

    # ------------------------------------------------------------------ theorems
    def theorem(self, label: str) -> Theorem:
        th = self._theorems.get(label)
        if th is None:
            st = self.db[label]
            hyps = {tuple(self.db[h].expr): h for h in st.hyps if self.db[h].kind == "e"}
            th = Theorem(label, tuple(st.expr), hyps, st.index)
            self._theorems[label] = th
        return th

    def add_statement(self, label: str, goal: Expr, hyps: dict[Expr, str], index: int) -> Theorem:
        """Register a goal that is not a database ``$p`` (``ilya prover prove`` of a new statement)."""
        th = Theorem(label, tuple(goal), dict(hyps), index)
        self._theorems[label] = th
        return th

    def hypothesis(self, theorem: str, goal: Expr) -> str | None:
        return self.theorem(theorem).hyps.get(tuple(goal))

    # ------------------------------------------------------------------ steps
    def complete(self, goal: Expr, step: ProofStep) -> dict[str, Expr]:
        """The step's substitution, with variables fixed by the goal filled in where the model omitted them.

        A variable the model did write is kept as written (a wrong term is refused by `expand`).
        """
        sub = step.subst_dict()
        st = self.db[step.label]
        if st.kind in ("a", "p") and any(v not in sub for v in st.vars):
            u = metamath.unify(tuple(goal), st)  # the package's function (its module has the same name)
            if u is not None:
                for v, t in u.items():
                    sub.setdefault(v, tuple(t))
        return sub

    def expand(self, theorem: str, goal: Expr, step: ProofStep) -> list[Expr]:
        th = self.theorem(theorem)
        db = self.db
        if step.label not in db:
            raise StepRejected("unknown_label", step.label)
        if step.label in self.forbidden:
            raise StepRejected("forbidden", step.label)
        st = db[step.label]
        if st.kind not in ("a", "p"):
            raise StepRejected("hypothesis", f"{step.label} is a ${st.kind}")
        if st.index >= th.index:
            raise StepRejected("unavailable", f"{step.label} is not before {theorem}")
        if st.typecode != goal[0]:
            raise StepRejected("mismatch", f"{step.label} proves a {st.typecode}")
        try:
            sub = self.complete(goal, step)
            subgoals = db.apply(tuple(goal), step.label, sub, before=self._before(th))
        except MetamathError as e:
            raise StepRejected(reason_of(str(e)), str(e)) from None
        out = []
        for g in subgoals:
            if g[0] == goal[0]:
                out.append(tuple(g))
        return out

    def _before(self, th: Theorem) -> str | None:
        st = self.db.labels.get(th.label)
        return th.label if st is not None and st.kind == "p" else None

    # ------------------------------------------------------------------ proofs
    def assemble(self, tree: ProofTree, theorem: str | None = None) -> list[str]:
        """The normal (RPN) Metamath proof of a found proof tree, syntax subproofs filled in.

        With ``theorem``, the variables' ``$f`` hypotheses are the ones in scope at that theorem (set.mm
        declares some variables' ``$f`` locally, under other labels than their first one).
        """
        out: list[str] = []
        self._index = self.theorem(theorem).index if theorem is not None else None
        self._rpn(tree, out)
        return out

    def _syntax(self, index: int | None, expr: Expr) -> list[str]:
        proof = self.db.syntax_proof(expr)
        if index is None:
            return proof
        floats = self._floats_at(index)
        out = []
        for lab in proof:
            st = self.db[lab]
            out.append(floats.get(tuple(st.expr), lab) if st.kind == "f" else lab)
        return out

    def _floats_at(self, index: int) -> dict[Expr, str]:
        """``$f`` hypotheses in scope at statement ``index``: (typecode, var) -> label."""
        got = self._float_cache.get(index)
        if got is None:
            if self._all_floats is None:
                self._all_floats = [s for s in self.db.statements if s.kind == "f"]
            got = {}
            for f in self._all_floats:
                if f.index < index and f.active_at(index):
                    got[tuple(f.expr)] = f.label
            self._float_cache[index] = got
        return got

    def _rpn(self, t: ProofTree, out: list[str]) -> None:
        db = self.db
        if t.step is None:
            assert t.hyp is not None
            out.append(t.hyp)
            return
        st = db[t.step.label]
        sub = self.complete(t.goal, t.step)
        children = iter(t.children)
        for h in st.hyps:
            hs = db[h]
            if hs.kind == "f":
                out.extend(self._syntax(self._index, (hs.expr[0], *sub[hs.expr[1]])))
            else:
                self._rpn(next(children), out)
        out.append(st.label)

    def verify(self, theorem: str, labels: list[str]) -> None:
        """Raise ``MetamathError`` unless ``labels`` is a correct proof of ``theorem`` (database ``$p``)."""
        check_proof(self.db, self.db[theorem], list(labels))

    def compress(self, theorem: str, labels: list[str]) -> str:
        """The proof as set.mm writes it (compressed format)."""
        return self.db.compress(list(labels), theorem)
