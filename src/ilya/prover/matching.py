"""Which assertions can prove a goal: conclusions matched as syntax trees through an index.

A search step applies an assertion whose conclusion, under some substitution, *is* the goal.  Out of
set.mm's ~39k ``|-`` assertions only a few hundred fit a given goal, and the policies need exactly that
list: the frequency baseline ranks it, and the language model's constrained decoding scores it
(``LMPolicy(..., db=db)``).  String unification over every assertion per expansion would cost seconds;
instead each conclusion is parsed once into its syntax tree (the grammar of the database's syntax
axioms) and indexed by its root constructor and the constructors just below it, so a goal looks up a
few buckets and matches the trees found there.  A match gives the substitution of every variable of the
conclusion; the remaining (hypothesis-only) variables are *free*: the policy has to invent them.
"""

from __future__ import annotations

import itertools
import math
import time
from dataclasses import dataclass
from typing import Any

from ilya.metamath import Database
from ilya.prover.format import Expr

# A syntax tree node: (label, typecode, yield, children).  A variable leaf has label None, yield (var,).
Node = tuple[Any, str, Expr, tuple]
_ANY = None  # a bucket key part that stands for "a variable in the pattern: matches any subtree"


@dataclass(frozen=True)
class Match:
    """An assertion that proves the goal: its label, the substitution the goal fixes, its free variables."""

    label: str
    subst: dict[str, Expr]
    free: tuple[str, ...]


def _tree(db: Database, rpn: list[str]) -> Node:
    """The syntax tree of an RPN syntax proof (``$f`` labels are leaves, syntax ``$a`` are nodes)."""
    stack: list[Node] = []
    for lab in rpn:
        st = db[lab]
        if st.kind == "f":
            stack.append((None, st.expr[0], (st.expr[1],), ()))
            continue
        k = len(st.hyps)
        kids = tuple(stack[len(stack) - k:]) if k else ()
        del stack[len(stack) - k:]
        by_var = {db[h].expr[1]: kid for h, kid in zip(st.hyps, kids, strict=True)}
        out: list[str] = []
        for s in st.expr[1:]:
            kid = by_var.get(s)
            out.extend(kid[2] if kid is not None else (s,))
        stack.append((lab, st.expr[0], tuple(out), kids))
    assert len(stack) == 1, "not a syntax proof"
    return stack[0]


def _key(node: Node) -> tuple:
    """Bucket of a pattern: root constructor and the constructors of its children (variables: any)."""
    if node[0] is None:
        return (_ANY,)
    return (node[0], tuple(k[0] for k in node[3]))


def _match(p: Node, g: Node, pvars: frozenset[str], sub: dict[str, Node]) -> bool:
    if p[0] is None and p[2][0] in pvars:  # a variable of the assertion: binds a subtree of its type
        v = p[2][0]
        if p[1] != g[1]:
            return False
        prev = sub.get(v)
        if prev is None:
            sub[v] = g
            return True
        return prev[2] == g[2]
    if p[0] != g[0]:
        return False
    if p[0] is None:  # a variable that is not the assertion's (cannot happen in a conclusion)
        return p[2] == g[2]
    return all(_match(a, b, pvars, sub) for a, b in zip(p[3], g[3], strict=True))


class Matcher:
    """All ``|-`` assertions of a database, indexed by the shape of their conclusion."""

    def __init__(self, db: Database) -> None:
        from ilya.metamath import grammar

        t0 = time.perf_counter()
        self.db, self._grammar = db, grammar(db)
        self.buckets: dict[tuple, list[tuple[int, str, Node, frozenset[str], tuple[str, ...]]]] = {}
        self.unparsed: list[str] = []
        self.match_seconds = 0.0  # time spent in `matches` (for the benchmark's kernel/model split)
        self._goal_cache: dict[Expr, Node | None] = {}
        for st in db.statements:
            if st.kind not in ("a", "p") or st.typecode != "|-":
                continue
            rpn = self._grammar.parse(("wff", *st.expr[1:]), None)
            if rpn is None:
                self.unparsed.append(st.label)
                continue
            tree = _tree(db, rpn)
            in_concl = {s for s in st.expr[1:] if s in set(st.vars)}
            free = tuple(v for v in st.vars if v not in in_concl)
            self.buckets.setdefault(_key(tree), []).append((st.index, st.label, tree, frozenset(st.vars), free))
        for b in self.buckets.values():
            b.sort()
        self.seconds = time.perf_counter() - t0

    def parse(self, goal: Expr) -> Node | None:
        """The syntax tree of a ``|-`` goal, or None when it does not parse."""
        hit = self._goal_cache.get(goal, self)
        if hit is not self:
            return hit  # type: ignore[return-value]
        rpn = self._grammar.parse(("wff", *goal[1:]), None)
        tree = None if rpn is None else _tree(self.db, rpn)
        if len(self._goal_cache) > 100_000:
            self._goal_cache.clear()
        self._goal_cache[goal] = tree
        return tree

    def matches(self, goal: Expr, before: int | None = None) -> list[Match]:
        """Assertions (index < ``before``) whose conclusion is ``goal`` under a substitution, oldest first."""
        t0 = time.perf_counter()
        try:
            return self._matches(tuple(goal), before)
        finally:
            self.match_seconds += time.perf_counter() - t0

    def _matches(self, goal: Expr, before: int | None) -> list[Match]:
        if not goal or goal[0] != "|-":
            return []
        g = self.parse(goal)
        if g is None:
            return []
        limit = math.inf if before is None else before
        keys = [(_ANY,)]
        if g[0] is not None:
            options = [(k[0], _ANY) if k[0] is not None else (_ANY,) for k in g[3]]
            keys += [(g[0], combo) for combo in itertools.product(*options)]
        found: list[tuple[int, Match]] = []
        for key in dict.fromkeys(keys):
            for index, label, tree, pvars, free in self.buckets.get(key, ()):
                if index >= limit:
                    break
                sub: dict[str, Node] = {}
                if _match(tree, g, pvars, sub):
                    found.append((index, Match(label, {v: n[2] for v, n in sub.items()}, free)))
        found.sort(key=lambda x: x[0])
        return [m for _, m in found]


def matcher(db: Database) -> Matcher:
    """The database's matcher, built once (a few seconds for set.mm) and kept on the database object."""
    m = getattr(db, "_prover_matcher", None)
    if not isinstance(m, Matcher):
        m = Matcher(db)
        setattr(db, "_prover_matcher", m)  # noqa: B010 (an attribute the Database class does not declare)
    return m
