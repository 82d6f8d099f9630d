# pyright: strict
"""The prover's interface: match an assertion to a goal, apply it, and prove the syntax of a term.

GPT-f (Polu & Sutskever 2020, section 3.2) proposes a label and a substitution for a goal; the kernel
checks the proposal and returns the subgoals.  `unify` finds the substitution from the goal alone
(variables that occur only in hypotheses stay open); `apply` checks everything a Metamath verifier would
when the step is later used in a proof, so a refused step is never a proof that fails at the end.
"""

from __future__ import annotations

from ilya.metamath.errors import MetamathError
from ilya.metamath.parse import Expr, ParsedDatabase, Statement
from ilya.metamath.verify import substitute


def unify(goal: Expr, assertion: Statement, variables: set[str] | None = None,
          typed: bool = True) -> dict[str, Expr] | None:
    """A substitution of ``assertion``'s variables making its conclusion equal to ``goal``, or None.

    Each variable takes a non-empty run of symbols; repeated variables must agree; with ``typed`` (the
    default) each term must also parse as its variable's type (``wff``, ``class``, ...) with the
    database's syntax axioms, so ``A`` never takes half of a class term.  With several well-typed
    matches the first found (shortest leading terms) is returned.
    """
    pattern = assertion.expr
    vs = set(assertion.vars) if variables is None else variables
    n, m = len(goal), len(pattern)
    if not goal or not pattern or goal[0] != pattern[0] or n < m:
        return None
    # quick rejects: the constants before the first and after the last variable must match in place
    j = 0
    while j < m and pattern[j] not in vs:
        if goal[j] != pattern[j]:
            return None
        j += 1
    if j == m:
        return {} if n == m else None
    k = 1
    while pattern[m - k] not in vs:
        if goal[n - k] != pattern[m - k]:
            return None
        k += 1
    subst: dict[str, Expr] = {}
    db = assertion.db if typed else None
    types: dict[str, str] = {}
    gram: Grammar | None = None
    if db is not None:
        for h in assertion.hyps:
            hs = db.labels[h]
            if hs.kind == "f":
                types[hs.expr[1]] = hs.expr[0]
        gram = grammar(db)
    checked: dict[tuple[str, Expr], bool] = {}

    def well_typed(v: str, t: Expr) -> bool:
        tc = types.get(v)
        if tc is None or gram is None:
            return True
        key = (tc, t)
        ok = checked.get(key)
        if ok is None:
            ok = checked[key] = gram.parse((tc, *t)) is not None
        return ok

    def go(i: int, j: int) -> bool:
        while j < m and pattern[j] not in vs:
            if i >= n or goal[i] != pattern[j]:
                return False
            i += 1
            j += 1
        if j == m:
            return i == n
        v = pattern[j]
        bound = subst.get(v)
        if bound is not None:
            k = len(bound)
            return goal[i:i + k] == bound and go(i + k, j + 1)
        for end in range(i + 1, n - (m - j - 1) + 1):
            if j + 1 < m and pattern[j + 1] not in vs and goal[end] != pattern[j + 1]:
                continue  # the constant after the variable must come next
            term = goal[i:end]
            if db is not None and not well_typed(v, term):
                continue
            subst[v] = term
            if go(end, j + 1):
                return True
        subst.pop(v, None)
        return False

    return dict(subst) if go(0, 0) else None


def apply(db: ParsedDatabase, goal: Expr, label: str, subst: dict[str, Expr], before: str | None = None,
          hyps: list[Expr] | None = None) -> list[Expr]:
    """The subgoals of proving ``goal`` by ``label`` under ``subst``, in ``label``'s hypothesis order.

    A ``$f`` hypothesis gives a typed goal such as ``("wff", "ps")``; an ``$e`` one its substituted
    expression.  Citing a hypothesis (a ``$e``/``$f`` in scope of ``before``, or an expression listed in
    ``hyps``) closes the goal: ``[]``.  Raises `MetamathError` with the reason otherwise.
    """
    goal = tuple(goal)
    thm = db[before] if before is not None else None
    if label not in db.labels:
        raise MetamathError(f"unknown label {label!r}")
    s = db.labels[label]
    if thm is not None and not s.active_at(thm.index):
        raise MetamathError(f"label {label} not available before {thm.label}")
    if s.kind in ("e", "f"):
        if s.expr != goal and not (hyps and goal in [tuple(h) for h in hyps]):
            raise MetamathError(f"conclusion does not match goal: hypothesis {label} is "
                                f"'{' '.join(s.expr)}'")
        return []
    missing = [v for v in s.vars if v not in subst]
    if missing:
        raise MetamathError(f"substitution misses variables {' '.join(missing)} of {label}")
    extra = [v for v in subst if v not in s.vars]
    if extra:
        raise MetamathError(f"substitution names {' '.join(extra)}, which are not variables of {label}")
    sub = {v: tuple(t) for v, t in subst.items()}
    floats = {db.labels[h].expr[1]: db.labels[h].expr[0] for h in s.hyps if db.labels[h].kind == "f"}
    for v, t in sub.items():
        if not t:
            raise MetamathError(f"substitution type mismatch: {v} gets an empty term")
        if grammar(db).parse((floats[v], *t), None if thm is None else thm.index) is None:
            raise MetamathError(f"substitution type mismatch: '{' '.join(t)}' is not a {floats[v]} "
                                f"(for {v} of {label})")
    if substitute(s.expr, sub) != goal:
        raise MetamathError(f"conclusion does not match goal: {label} proves "
                            f"'{' '.join(substitute(s.expr, sub))}'")
    if thm is not None:
        for x, y in s.dvs:
            for a in (u for u in sub[x] if u in db.variables):
                for b in (u for u in sub[y] if u in db.variables):
                    if a == b or ((a, b) if a < b else (b, a)) not in thm.all_dvs:
                        raise MetamathError(f"$d violation: {label} needs $d {x} {y}; {thm.label} has no "
                                            f"$d {a} {b}" if a != b else
                                            f"$d violation: {label} needs $d {x} {y} but both get {a}")
    out: list[Expr] = []
    for h in s.hyps:
        hs = db.labels[h]
        out.append((hs.expr[0], *sub[hs.expr[1]]) if hs.kind == "f" else substitute(hs.expr, sub))
    return out


# ---------------------------------------------------------------------------- syntax proofs
_Rule = tuple[str, tuple[tuple[str, "str | None"], ...], tuple[str, ...]]
"""a syntax axiom as a rule: its label, its symbols (each with its type when a variable), its hypotheses"""


class Grammar:
    """The syntax axioms (``$a`` whose typecode is a ``$f`` typecode) as grammar rules of a packrat
    parser: a typed term such as ``wff ( ph -> ps )`` parses into its RPN syntax proof."""

    def __init__(self, db: ParsedDatabase) -> None:
        self.db = db
        floats = [s for s in db.statements if s.kind == "f"]
        self.var_type: dict[str, str] = {}
        self.var_floats: dict[str, list[Statement]] = {}  # every $f of a variable (scopes may differ)
        for f in floats:
            self.var_type.setdefault(f.expr[1], f.expr[0])
            self.var_floats.setdefault(f.expr[1], []).append(f)
        for fs in self.var_floats.values():  # without a theorem to prove, prefer $f's that are never closed
            fs.sort(key=lambda f: (f.end >= 0, f.index))
        self.types = set(self.var_type.values())
        self.index = {s.label: s.index for s in db.statements if s.kind == "a"}
        self._cache: dict[tuple[Expr, int | None], tuple[str, ...] | None] = {}
        # rules: typecode -> first constant -> [(label, items)], and rules starting with a variable
        self.by_first: dict[str, dict[str, list[_Rule]]] = {t: {} for t in self.types}
        self.by_var: dict[str, list[_Rule]] = {t: [] for t in self.types}
        for s in db.statements:
            if s.kind != "a" or s.expr[0] not in self.types:
                continue
            if any(db.labels[h].kind == "e" for h in s.hyps):
                continue
            vt = {db.labels[h].expr[1]: db.labels[h].expr[0] for h in s.hyps}
            items = tuple((x, vt.get(x)) for x in s.expr[1:])  # (symbol, its type if a variable)
            rule: _Rule = (s.label, items, s.hyps)
            if not items:
                continue
            if items[0][1] is None:
                self.by_first[s.expr[0]].setdefault(items[0][0], []).append(rule)
            else:
                self.by_var[s.expr[0]].append(rule)

    def parse(self, expr: Expr, limit: int | None = None) -> list[str] | None:
        """The RPN proof of ``expr``, using only syntax axioms with index < ``limit`` when given."""
        key = (expr, limit)
        if key in self._cache:
            hit = self._cache[key]
            return None if hit is None else list(hit)
        proof = self._parse(expr, limit)
        if len(self._cache) > 50_000:  # a bounded memo: provers ask about the same terms again and again
            self._cache.clear()
        self._cache[key] = None if proof is None else tuple(proof)
        return proof

    def _parse(self, expr: Expr, limit: int | None) -> list[str] | None:
        tc, toks = expr[0], expr[1:]
        index = self.index
        if tc not in self.types and tc == "|-" and "wff" in self.types:
            tc = "wff"
        if tc not in self.types:
            return None
        memo: dict[tuple[str, int], dict[int, tuple[str, ...]]] = {}
        active: set[tuple[str, int]] = set()
        n = len(toks)

        def nt(t: str, i: int) -> dict[int, tuple[str, ...]]:
            key = (t, i)
            r = memo.get(key)
            if r is not None:
                return r
            if key in active:  # left recursion: no progress
                return {}
            active.add(key)
            res: dict[int, tuple[str, ...]] = {}
            if i < n:
                tok = toks[i]
                for f in self.var_floats.get(tok, ()):
                    if f.expr[0] == t and (limit is None or f.active_at(limit)):
                        res[i + 1] = (f.label,)
                        break
                for rule in (*self.by_first[t].get(tok, ()), *self.by_var[t]):
                    if limit is not None and index[rule[0]] >= limit:
                        continue
                    for end, proof in seq(rule, i):
                        res.setdefault(end, proof)
            active.discard(key)
            memo[key] = res
            return res

        def seq(rule: _Rule, i: int) -> list[tuple[int, tuple[str, ...]]]:
            label, items, hyps = rule
            partial: list[tuple[int, dict[str, tuple[str, ...]]]] = [(i, {})]
            for sym, typ in items:
                nxt: list[tuple[int, dict[str, tuple[str, ...]]]] = []
                for pos, got in partial:
                    if typ is None:
                        if pos < n and toks[pos] == sym:
                            nxt.append((pos + 1, got))
                    else:
                        for end, proof in nt(typ, pos).items():
                            nxt.append((end, {**got, sym: proof}))
                partial = nxt
                if not partial:
                    return []
            out: list[tuple[int, tuple[str, ...]]] = []
            for pos, got in partial:
                proof: tuple[str, ...] = ()
                for h in hyps:
                    proof += got[self.db.labels[h].expr[1]]
                out.append((pos, (*proof, label)))
            return out

        return list(nt(tc, 0).get(n, ())) or None


def grammar(db: ParsedDatabase) -> Grammar:
    """The database's syntax grammar (built once, kept on the database)."""
    g = db._syntax  # pyright: ignore[reportPrivateUsage]
    if not isinstance(g, Grammar):
        g = db._syntax = Grammar(db)  # pyright: ignore[reportPrivateUsage]
    return g


def syntax_proof(db: ParsedDatabase, expr: Expr, before: str | None = None) -> list[str]:
    """The RPN proof of a typed term (``("wff", "(", "ph", "->", "ps", ")")``) from the syntax axioms
    (only those before the statement ``before`` when given, so the proof can be cited there)."""
    limit = None if before is None else db[before].index
    proof = grammar(db).parse(tuple(expr), limit)
    if proof is None:
        raise MetamathError(f"'{' '.join(expr)}' does not parse with the database's syntax axioms")
    return proof
