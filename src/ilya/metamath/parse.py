# pyright: strict
"""The parsed Metamath database: statements in order, with their frames (Metamath book, chapter 4).

`parse_file` reads a file (following ``$[ file $]`` includes) into a `ParsedDatabase`: the ordered list of
``$f $e $a $p`` statements, each with its mandatory hypotheses, mandatory disjoint-variable pairs and
mandatory variables.  This module and `ilya.metamath.source` (the lexer) are the parser a reviewer of the
kernel must trust; the checker (`ilya.metamath.verify`) reads nothing else.  `ilya.metamath.database`
adds the proof API on top (`Database`, `load`).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

from ilya.metamath.errors import MetamathError
from ilya.metamath.source import Source

KEYWORDS = frozenset({"$c", "$v", "$f", "$e", "$d", "$a", "$p", "${", "$}", "$[", "$]", "$.", "$=",
                      "$(", "$)"})
_LABEL = re.compile(r"^[A-Za-z0-9._-]+$")
_LABELLED = frozenset({"$f", "$e", "$a", "$p"})

Expr = tuple[str, ...]


class Statement:
    """One ``$f``, ``$e``, ``$a`` or ``$p`` statement and its frame.

    ``expr`` has its typecode first.  For ``$a``/``$p``: ``hyps`` are the mandatory hypotheses in
    order, ``vars`` the mandatory variables (in the order of their ``$f``), ``dvs`` the mandatory
    disjoint pairs (each pair sorted).  ``$p`` statements also keep ``all_dvs`` (every ``$d`` pair in
    scope, what their proofs are checked against) and their proof as written.
    """

    __slots__ = ("label", "kind", "expr", "index", "hyps", "dvs", "vars", "all_dvs", "proof_text",
                 "end", "source", "tok", "proof_tok", "db")

    def __init__(self, label: str, kind: str, expr: Expr, index: int, source: Source, tok: int) -> None:
        self.label = label
        self.kind = kind
        self.expr = expr
        self.index = index
        self.hyps: tuple[str, ...] = ()
        self.dvs: frozenset[tuple[str, str]] = frozenset()
        self.vars: tuple[str, ...] = ()
        self.all_dvs: frozenset[tuple[str, str]] = frozenset()
        self.proof_text: tuple[str, ...] = ()  # the proof's tokens (a $p only)
        self.end = -1  # a hypothesis: index of the first statement after its scope closed (-1: never)
        self.source = source
        self.tok = tok  # token index of the label in its source
        self.proof_tok: tuple[int, int] = (-1, -1)  # a $p: token indices of its '$=' and '$.'
        self.db: ParsedDatabase | None = None  # the database it belongs to (for typed unification)

    @property
    def typecode(self) -> str:
        return self.expr[0]

    @property
    def is_assertion(self) -> bool:
        return self.kind in ("a", "p")

    @property
    def where(self) -> tuple[str, int, int]:
        line, col = self.source.position(self.tok)
        return self.source.name, line, col

    def active_at(self, index: int) -> bool:
        """Whether this statement can be cited by the proof of the statement at ``index``."""
        if self.kind in ("a", "p"):
            return self.index < index
        return self.index < index and (self.end < 0 or index < self.end)

    def __repr__(self) -> str:
        return f"Statement({self.label!r}, ${self.kind}, {' '.join(self.expr)!r})"


class _Scope:
    __slots__ = ("vars", "floats", "hyps", "ess", "dvs")

    def __init__(self, n_hyps: int, n_ess: int, n_dvs: int) -> None:
        self.vars: list[str] = []
        self.floats: list[str] = []
        self.hyps = n_hyps
        self.ess = n_ess
        self.dvs = n_dvs

class ParsedDatabase:
    """What the parser makes of a file: statements, labels, symbols, sources (see `ilya.metamath.load`)."""

    def __init__(self) -> None:
        self.statements: list[Statement] = []
        self.labels: dict[str, Statement] = {}
        self.constants: dict[str, str] = {}
        self.variables: dict[str, str] = {}  # every symbol ever declared $v
        self.sources: list[Source] = []
        self.path: Path | None = None
        self.includes: list[tuple[Source, int, int, Source | None]] = []  # (in, '$[' tok, '$]' tok, file)
        self.replacements: dict[str, str] = {}
        self.warnings: list[str] = []
        self._syntax: object = None  # the grammar of its syntax axioms (ilya.metamath.unify)

    # ------------------------------------------------------------------ lookup
    def __getitem__(self, label: str) -> Statement:
        st = self.labels.get(label)
        if st is None:
            raise MetamathError(f"unknown label {label!r}")
        return st

    def __contains__(self, label: object) -> bool:
        return label in self.labels

    def __len__(self) -> int:
        return len(self.statements)

    def __iter__(self) -> Iterator[Statement]:
        return iter(self.statements)

    def theorems(self) -> list[Statement]:
        return [s for s in self.statements if s.kind == "p"]

    def is_var(self, sym: str) -> bool:
        return sym in self.variables



# ---------------------------------------------------------------------------- parser
class _Parser:
    def __init__(self, db: ParsedDatabase) -> None:
        self.db = db
        self.active_vars: set[str] = set()
        self.active_float: dict[str, str] = {}  # variable -> its active $f label
        self.hyps: list[Statement] = []  # active $f and $e in order
        self.ess: list[Statement] = []  # active $e in order
        self.dvs: list[tuple[str, str]] = []  # active $d pairs (sorted)
        self.scopes: list[_Scope] = []
        self.seen_files: set[str] = set()

    def new_scope(self) -> None:
        self.scopes.append(_Scope(len(self.hyps), len(self.ess), len(self.dvs)))

    def close_scope(self) -> None:
        sc = self.scopes.pop()
        n = len(self.db.statements)
        for h in self.hyps[sc.hyps:]:
            h.end = n
        del self.hyps[sc.hyps:]
        del self.ess[sc.ess:]
        del self.dvs[sc.dvs:]
        for v in sc.vars:
            self.active_vars.discard(v)
        for v in sc.floats:
            self.active_float.pop(v, None)

    # ------------------------------------------------------------------ files
    def parse_file(self, path: Path, display: str, src_in: Source | None = None, tok: int = 0) -> None:
        key = os.path.realpath(path)
        if key in self.seen_files:
            return
        self.seen_files.add(key)
        if src_in is not None and not path.exists():
            src_in.fail(tok, f"included file {display!r} does not exist")
        src = Source.read(path, display)
        self.db.sources.append(src)
        self.parse_tokens(src)

    def parse_tokens(self, src: Source) -> None:
        toks = src.tokens
        n = len(toks)
        i = 0
        db = self.db
        consts, variables, labels = db.constants, db.variables, db.labels
        while i < n:
            t = toks[i]
            if t[0] == "$":
                kw, label, start = t, None, i
            else:
                label, start = t, i
                if not _LABEL.match(t):
                    src.fail(i, f"{t!r} is not a keyword or a label (labels use letters, digits, '-', '_', '.')")
                if i + 1 >= n:
                    src.fail(i, f"label {t!r} at the end of the file: expected $f, $e, $a or $p after it")
                kw = toks[i + 1]
                if kw not in _LABELLED:
                    src.fail(i + 1, f"expected $f, $e, $a or $p after label {t!r}, found {kw!r}")
                if t in labels:
                    src.fail(i, f"label {t!r} is already used (line {labels[t].where[1]})")
                if t in consts or t in variables:
                    src.fail(i, f"label {t!r} is already a math symbol")
                i += 1
            if kw not in KEYWORDS:
                src.fail(i, f"unknown keyword {kw!r}")
            if label is None and kw in _LABELLED:
                src.fail(i, f"{kw} statement without a label")
            if kw == "${":
                self.new_scope()
                i += 1
                continue
            if kw == "$}":
                if not self.scopes:
                    src.fail(i, "'$}' without a matching '${'")
                self.close_scope()
                i += 1
                continue
            if kw == "$[":
                if self.scopes:
                    src.fail(i, "'$[' include is only allowed in the outermost scope")
                if i + 2 >= n or toks[i + 2] != "$]":
                    src.fail(i, "expected '$[ filename $]'")
                fname = toks[i + 1]
                path = src.path.parent / fname
                slot = len(db.includes)
                db.includes.append((src, i, i + 2, None))
                before = len(db.sources)
                self.parse_file(path, str(Path(src.name).parent / fname), src, i + 1)
                if len(db.sources) > before:  # not an already included file
                    db.includes[slot] = (src, i, i + 2, db.sources[before])
                i += 3
                continue
            if kw in ("$.", "$=", "$]", "$)", "$("):
                src.fail(i, f"unexpected {kw!r}: no statement is open")
            # a statement running up to '$.'
            try:
                end = toks.index("$.", i + 1)
            except ValueError:
                src.fail(start, f"statement {kw} is never closed by '$.' (file ends first)")
            body = toks[i + 1:end]
            if " ".join(body).count("$") > (kw == "$p"):
                seen_eq = False
                for j, s in enumerate(body):
                    if "$" in s:
                        if kw == "$p" and s == "$=" and not seen_eq:
                            seen_eq = True
                            continue
                        what = "keyword" if s in KEYWORDS else "token (math symbols may not contain '$')"
                        src.fail(i + 1 + j, f"unexpected {what} {s!r} inside a {kw} statement")
            lab = label if label is not None else ""  # every labelled keyword has one (checked above)
            if kw == "$c":
                self.declare_consts(src, i, body)
            elif kw == "$v":
                self.declare_vars(src, i, body)
            elif kw == "$d":
                self.add_dv(src, i, body)
            elif kw == "$f":
                self.add_float(src, start, lab, body)
            elif kw == "$e":
                self.add_statement(src, start, lab, "e", body)
            elif kw == "$a":
                self.add_statement(src, start, lab, "a", body)
            elif kw == "$p":
                if "$=" not in body:
                    src.fail(start, f"$p statement {label} has no proof ('$=' missing)")
                k = body.index("$=")
                st = self.add_statement(src, start, lab, "p", body[:k])
                st.proof_text = tuple(body[k + 1:])
                st.proof_tok = (i + 1 + k, end)
                if not st.proof_text:
                    src.fail(end, f"$p statement {label} has an empty proof")
            i = end + 1
        if src is self.db.sources[0] and self.scopes:
            src.fail(n, "file ends inside a '${' scope (missing '$}')")

    # ------------------------------------------------------------------ statements
    def check_math_symbol(self, src: Source, tok: int, s: str) -> None:
        if "$" in s:
            src.fail(tok, f"math symbol {s!r} may not contain '$'")

    def declare_consts(self, src: Source, i: int, body: list[str]) -> None:
        if self.scopes:
            src.fail(i, "$c is only allowed in the outermost scope")
        if not body:
            src.fail(i, "empty $c statement")
        db = self.db
        for j, s in enumerate(body):
            self.check_math_symbol(src, i + 1 + j, s)
            if s in db.constants:
                src.fail(i + 1 + j, f"constant {s!r} is declared twice")
            if s in db.variables:
                src.fail(i + 1 + j, f"{s!r} was declared as a variable, cannot become a constant")
            if s in db.labels:
                src.fail(i + 1 + j, f"math symbol {s!r} is already a label")
            db.constants[s] = s

    def declare_vars(self, src: Source, i: int, body: list[str]) -> None:
        if not body:
            src.fail(i, "empty $v statement")
        db = self.db
        for j, s in enumerate(body):
            self.check_math_symbol(src, i + 1 + j, s)
            if s in db.constants:
                src.fail(i + 1 + j, f"{s!r} is a constant, cannot be declared a variable")
            if s in self.active_vars:
                src.fail(i + 1 + j, f"variable {s!r} is declared twice in scope")
            if s in db.labels:
                src.fail(i + 1 + j, f"math symbol {s!r} is already a label")
            db.variables.setdefault(s, s)
            self.active_vars.add(s)
            if self.scopes:
                self.scopes[-1].vars.append(s)

    def add_dv(self, src: Source, i: int, body: list[str]) -> None:
        for j, s in enumerate(body):
            if s not in self.active_vars:
                src.fail(i + 1 + j, f"$d symbol {s!r} is not an active variable")
        if len(body) < 2:
            src.fail(i, "a $d statement needs at least two variables")
        if len(set(body)) != len(body):
            src.fail(i, "a variable appears twice in one $d statement")
        vs = [self.db.variables[s] for s in body]
        for a in range(len(vs)):
            for b in range(a + 1, len(vs)):
                x, y = vs[a], vs[b]
                self.dvs.append((x, y) if x < y else (y, x))

    def make_expr(self, src: Source, at: int, body: list[str]) -> Expr:
        consts, active = self.db.constants, self.active_vars
        variables = self.db.variables
        out: list[str] = []
        for j, s in enumerate(body):
            c = consts.get(s)
            if c is not None:
                out.append(c)
            elif s in active:
                out.append(variables[s])
            else:
                what = "an inactive variable" if s in variables else "not a declared math symbol"
                src.fail(at + j, f"{s!r} is {what}")
        return tuple(out)

    def add_float(self, src: Source, start: int, label: str, body: list[str]) -> None:
        if len(body) != 2:
            src.fail(start, f"$f statement {label} must be a typecode and one variable")
        tc, v = body
        if tc not in self.db.constants:
            src.fail(start + 2, f"typecode {tc!r} of $f {label} is not a declared constant")
        if v not in self.active_vars:
            src.fail(start + 3, f"{v!r} in $f {label} is not an active variable")
        if v in self.active_float:
            src.fail(start + 3, f"variable {v!r} already has an active $f ({self.active_float[v]})")
        st = self._new(src, start, label, "f", (self.db.constants[tc], self.db.variables[v]))
        self.active_float[v] = label
        self.hyps.append(st)
        if self.scopes:
            self.scopes[-1].floats.append(v)

    def _new(self, src: Source, start: int, label: str, kind: str, expr: Expr) -> Statement:
        db = self.db
        st = Statement(label, kind, expr, len(db.statements), src, start)
        st.db = db
        db.statements.append(st)
        db.labels[label] = st
        return st

    def add_statement(self, src: Source, start: int, label: str, kind: str, body: list[str]) -> Statement:
        if not body:
            src.fail(start, f"${kind} statement {label} needs at least a typecode")
        if body[0] not in self.db.constants:
            src.fail(start + 2, f"typecode {body[0]!r} of {label} is not a declared constant")
        expr = self.make_expr(src, start + 2, body)
        if kind == "e":
            st = self._new(src, start, label, "e", expr)
            self.hyps.append(st)
            self.ess.append(st)
            return st
        variables = self.db.variables
        mand = {s for s in expr if s in variables}
        for e in self.ess:
            mand.update(s for s in e.expr if s in variables)
        hyps = list(self.ess)
        for v in mand:
            fl = self.active_float.get(v)
            if fl is None:
                src.fail(start, f"variable {v!r} of {label} has no active $f statement")
            hyps.append(self.db.labels[fl])
        hyps.sort(key=lambda h: h.index)
        st = self._new(src, start, label, kind, expr)
        st.hyps = tuple(h.label for h in hyps)
        st.vars = tuple(h.expr[1] for h in hyps if h.kind == "f")
        st.dvs = frozenset(p for p in self.dvs if p[0] in mand and p[1] in mand)
        if kind == "p":
            st.all_dvs = frozenset(self.dvs)
        return st


def parse_file(db: ParsedDatabase, path: Path) -> None:
    """Parse the Metamath file ``path`` into the empty ``db``; raise `MetamathError` on any syntax error."""
    if not path.exists():
        raise MetamathError("no such file", file=str(path))
    db.path = path
    _Parser(db).parse_file(path, str(path))
