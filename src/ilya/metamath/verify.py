"""The proof checker (Metamath book, section 4.3 and appendix B: compressed proofs).

A proof is run as a stack machine: a hypothesis label pushes its expression; an assertion label pops
one entry per mandatory hypothesis, reads the substitution off its ``$f`` entries (typecodes must
agree), checks each ``$e`` entry against the substituted hypothesis and every mandatory ``$d`` pair
against the theorem's ``$d``s, and pushes its substituted conclusion.  The proof is right when one
entry is left and it is the theorem's statement.  ``?`` steps (an incomplete proof) push an unknown
entry: they make a warning, not an error, as in metamath-exe.

This module is the reference implementation; `ilya.metamath._fast` is a compiled verifier that must
give identical verdicts (the tests run both).
"""

from __future__ import annotations

import multiprocessing
import os
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ilya.metamath.errors import MetamathError

if TYPE_CHECKING:
    from ilya.metamath.database import Database, Expr, Statement

SAVE = -1  # the compressed-proof 'Z' marker in a decoded step list


class ProofError(MetamathError):
    """A proof that does not check; ``label`` names the theorem, ``reason`` says why."""

    def __init__(self, label: str, reason: str, **where) -> None:
        self.label = label
        self.reason = reason
        super().__init__(f"{label}: {reason}", **where)


def _fail(st: Statement, reason: str) -> ProofError:
    name, line, col = st.where
    return ProofError(st.label, reason, file=name, line=line, col=col)


def decode_compressed(db: Database, st: Statement, text: tuple[str, ...] | list[str]) -> list:
    """Steps of a compressed proof: a `Statement`, ``None`` for '?', ``SAVE`` for 'Z', or an int k >= 0
    for 'the k-th saved step'."""
    try:
        close = text.index(")")
    except ValueError:
        raise _fail(st, "compressed proof: the label list '( ...' is not closed by ')'") from None
    labels = db.labels
    mand = [labels[h] for h in st.hyps]
    mand_set = set(st.hyps)
    table: list[Statement] = list(mand)
    for lab in text[1:close]:
        s = labels.get(lab)
        if s is None:
            raise _fail(st, f"compressed proof: unknown label {lab!r}")
        if lab in mand_set:
            raise _fail(st, f"compressed proof: the label list repeats mandatory hypothesis {lab!r}")
        if not s.active_at(st.index):
            raise _fail(st, f"compressed proof: label {lab!r} is not available here "
                            f"({'defined later' if s.index >= st.index else 'out of scope'})")
        table.append(s)
    letters = "".join(text[close + 1:])
    steps: list = []
    n_table = len(table)
    num = 0
    for ch in letters:
        o = ord(ch)
        if 65 <= o <= 84:  # A..T: last digit
            num = num * 20 + (o - 64)
            if num <= n_table:
                steps.append(table[num - 1])
            else:
                steps.append(num - n_table - 1)
            num = 0
        elif 85 <= o <= 89:  # U..Y: leading digits
            num = num * 5 + (o - 84)
        elif ch == "Z":
            if num:
                raise _fail(st, "compressed proof: 'Z' in the middle of a number")
            if not steps or steps[-1] is SAVE:
                raise _fail(st, "compressed proof: 'Z' does not follow a proof step")
            steps.append(SAVE)
        elif ch == "?":
            if num:
                raise _fail(st, "compressed proof: '?' in the middle of a number")
            steps.append(None)
        else:
            raise _fail(st, f"compressed proof: illegal character {ch!r}")
    if num:
        raise _fail(st, "compressed proof ends in the middle of a number")
    return steps


def decode_normal(db: Database, st: Statement, text: tuple[str, ...] | list[str]) -> list:
    labels = db.labels
    steps: list = []
    for lab in text:
        if lab == "?":
            steps.append(None)
            continue
        s = labels.get(lab)
        if s is None:
            raise _fail(st, f"unknown label {lab!r} in the proof")
        if not s.active_at(st.index):
            if s.index >= st.index:
                raise _fail(st, f"label {lab!r} is used before it is defined")
            raise _fail(st, f"hypothesis {lab!r} is not in scope here")
        steps.append(s)
    return steps


def decode(db: Database, st: Statement, text: tuple[str, ...] | list[str] | None = None) -> list:
    text = st.proof_text if text is None else text
    if text and text[0] == "(":
        return decode_compressed(db, st, text)
    return decode_normal(db, st, text)


def substitute(expr: Expr, subst: dict[str, Expr]) -> Expr:
    out: list[str] = []
    for s in expr:
        t = subst.get(s)
        if t is None:
            out.append(s)
        else:
            out.extend(t)
    return tuple(out)


def run_proof(db: Database, st: Statement, steps: list, build=None):
    """Run decoded ``steps`` for theorem ``st``; return (stack, incomplete, nodes).

    ``build(label, expr, children)`` makes a tree node per step when given (then ``nodes`` is the node
    stack, parallel to the expression stack).
    """
    labels, variables = db.labels, db.variables
    stack: list = []
    nodes: list = []
    saved: list = []
    incomplete = False
    all_dvs = st.all_dvs
    for k, s in enumerate(steps):
        if s is SAVE:
            saved.append((stack[-1], nodes[-1] if build else None))
            continue
        if type(s) is int:
            if s >= len(saved):
                raise _fail(st, f"step {k + 1}: compressed proof refers to saved step {s + 1}, "
                                f"but only {len(saved)} were saved ('Z')")
            e, nd = saved[s]
            stack.append(e)
            if build:
                nodes.append(nd)
            continue
        if s is None:
            incomplete = True
            stack.append(None)
            if build:
                nodes.append(build("?", None, []))
            continue
        if s.kind in ("f", "e"):
            stack.append(s.expr)
            if build:
                nodes.append(build(s.label, s.expr, []))
            continue
        n = len(s.hyps)
        if len(stack) < n:
            raise _fail(st, f"step {k + 1}: {s.label} needs {n} hypotheses but the stack holds {len(stack)}")
        base = len(stack) - n
        args = stack[base:]
        del stack[base:]
        if build:
            kids = nodes[base:]
            del nodes[base:]
        hyps = [labels[h] for h in s.hyps]
        subst: dict[str, Expr] = {}
        unknown = False
        for h, a in zip(hyps, args, strict=True):
            if a is None:
                unknown = True
            elif h.kind == "f":
                if a[0] != h.expr[0]:
                    raise _fail(st, f"step {k + 1}: {s.label} hypothesis {h.label} needs typecode "
                                    f"{h.expr[0]!r} but gets '{' '.join(a)}'")
                subst[h.expr[1]] = a[1:]
        if unknown:
            stack.append(None)
        else:
            for h, a in zip(hyps, args, strict=True):
                if h.kind == "e" and substitute(h.expr, subst) != a:
                    raise _fail(st, f"step {k + 1}: {s.label} hypothesis {h.label} does not match: "
                                    f"expected '{' '.join(substitute(h.expr, subst))}' but the stack "
                                    f"has '{' '.join(a)}'")
            for x, y in s.dvs:
                vx = [v for v in subst[x] if v in variables]
                vy = [v for v in subst[y] if v in variables]
                for a in vx:
                    for b in vy:
                        if a == b:
                            raise _fail(st, f"step {k + 1}: $d violation: {s.label} needs {x}, {y} "
                                            f"disjoint but both substitutions contain {a}")
                        if ((a, b) if a < b else (b, a)) not in all_dvs:
                            raise _fail(st, f"step {k + 1}: $d violation: {s.label} needs $d {a} {b} "
                                            f"(from $d {x} {y}), which {st.label} does not have")
            stack.append(substitute(s.expr, subst))
        if build:
            nodes.append(build(s.label, stack[-1], kids))
    return stack, incomplete, nodes


def _final_check(st: Statement, stack: list, incomplete: bool) -> list[str]:
    if incomplete:
        return [f"{st.label}: proof is incomplete ('?' steps)"]
    if len(stack) != 1:
        raise _fail(st, f"proof leaves {len(stack)} expressions on the stack, not 1")
    if stack[0] != st.expr:
        raise _fail(st, f"proof proves '{' '.join(stack[0])}', not the statement '{' '.join(st.expr)}'")
    return []


def verify_statement(db: Database, st: Statement) -> list[str]:
    """Check one ``$p``: raise `ProofError` if wrong; return warnings (an incomplete proof)."""
    if st.kind != "p":
        raise MetamathError(f"{st.label} is a ${st.kind} statement, not a $p: it has no proof to verify")
    stack, incomplete, _ = run_proof(db, st, decode(db, st))
    return _final_check(st, stack, incomplete)


def check_proof(db: Database, st: Statement, labels: list[str]) -> None:
    """Check a normal proof (label list) of ``st`` given by the caller; raise `ProofError` if wrong."""
    stack, incomplete, _ = run_proof(db, st, decode_normal(db, st, labels))
    warn = _final_check(st, stack, incomplete)
    if warn:
        raise _fail(st, "the new proof is incomplete ('?' steps)")


# ---------------------------------------------------------------------------- whole database
@dataclass
class VerifyReport:
    """The outcome of verifying many proofs."""

    checked: int = 0
    failures: list[tuple[str, str]] = field(default_factory=list)  # (label, full message)
    warnings: list[str] = field(default_factory=list)
    seconds: float = 0.0
    backend: str = "python"

    @property
    def ok(self) -> bool:
        return not self.failures


_POOL_DB: Database | None = None


def _verify_chunk(labels: list[str]) -> tuple[int, list[tuple[str, str]], list[str]]:
    db = _POOL_DB
    assert db is not None
    fails, warns = [], []
    for lab in labels:
        try:
            warns += verify_statement(db, db.labels[lab])
        except MetamathError as e:
            fails.append((lab, str(e)))
    return len(labels), fails, warns


def split_chunks(items: list, jobs: int, per_job: int = 8) -> list[list]:
    """Interleave work into ``jobs * per_job`` chunks of similar size (proof sizes vary along a file)."""
    n = max(1, min(len(items), jobs * per_job))
    return [items[i::n] for i in range(n)]


def verify_database(db: Database, jobs: int = 1, labels: list[str] | None = None) -> VerifyReport:
    """Verify every ``$p`` (or those named) in pure Python, in ``jobs`` forked processes."""
    global _POOL_DB
    t0 = time.perf_counter()
    todo = [s.label for s in db.statements if s.kind == "p"] if labels is None else list(labels)
    for lab in todo:
        if db[lab].kind != "p":
            raise MetamathError(f"--label {lab}: a ${db[lab].kind} statement, not a $p")
    report = VerifyReport()
    _POOL_DB = db
    try:
        if jobs > 1 and len(todo) > 1 and "fork" in multiprocessing.get_all_start_methods():
            ctx = multiprocessing.get_context("fork")
            with ctx.Pool(min(jobs, os.cpu_count() or jobs)) as pool:
                results = pool.map(_verify_chunk, split_chunks(todo, jobs))
        else:
            results = [_verify_chunk(todo)]
    finally:
        _POOL_DB = None
    order = {lab: i for i, lab in enumerate(todo)}
    for n, fails, warns in results:
        report.checked += n
        report.failures += fails
        report.warnings += warns
    report.failures.sort(key=lambda f: order[f[0]])
    report.seconds = time.perf_counter() - t0
    return report
