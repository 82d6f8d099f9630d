# pyright: strict
"""The proof checker: the code that decides whether a proof is right (Metamath book, section 4.3 and
appendix B: compressed proofs).  It reads only the parsed database (`ilya.metamath.parse`).

A proof is run as a stack machine: a hypothesis label pushes its expression; an assertion label pops
one entry per mandatory hypothesis, reads the substitution off its ``$f`` entries (typecodes must
agree), checks each ``$e`` entry against the substituted hypothesis and every mandatory ``$d`` pair
against the theorem's ``$d``s, and pushes its substituted conclusion.  The proof is right when one
entry is left and it is the theorem's statement.  ``?`` steps (an incomplete proof) push an unknown
entry: they make a warning, not an error, as in metamath-exe.

Read in this order: `decode` (proof text -> steps), `run_proof` (the stack machine, one function per
kind of step: `_assertion_step` and its three checks), `final_check`.  This module is the reference
implementation; `ilya.metamath._fast` is a compiled verifier that must give identical verdicts (the
tests run both on every Debian database and on mutated proofs).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

from ilya.metamath.errors import MetamathError
from ilya.metamath.parse import Expr, ParsedDatabase, Statement

SAVE = -1  # the compressed-proof 'Z' marker in a decoded step list

DecodedStep = Statement | int | None
"""one step of a decoded proof: a `Statement`, ``None`` for '?', ``SAVE`` for 'Z', or an int k >= 0 for
'the k-th saved step'"""
N = TypeVar("N")
Build = Callable[[str, "Expr | None", list[N]], N]


class ProofError(MetamathError):
    """A proof that does not check; ``label`` names the theorem, ``reason`` says why."""

    def __init__(self, label: str, reason: str, *, file: str | None = None, line: int | None = None,
                 col: int | None = None) -> None:
        self.label = label
        self.reason = reason
        super().__init__(f"{label}: {reason}", file=file, line=line, col=col)


def _fail(st: Statement, reason: str) -> ProofError:
    name, line, col = st.where
    return ProofError(st.label, reason, file=name, line=line, col=col)


# ---------------------------------------------------------------------------- decoding
def decode_compressed(db: ParsedDatabase, st: Statement, text: Sequence[str]) -> list[DecodedStep]:
    """Steps of a compressed proof ``( labels ) LETTERS`` (Metamath book, appendix B)."""
    try:
        close = list(text).index(")")
    except ValueError:
        raise _fail(st, "compressed proof: the label list '( ...' is not closed by ')'") from None
    labels = db.labels
    mand_set = set(st.hyps)
    table: list[Statement] = [labels[h] for h in st.hyps]
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
    steps: list[DecodedStep] = []
    n_table = len(table)
    num = 0
    for ch in letters:
        o = ord(ch)
        if 65 <= o <= 84:  # A..T: last digit
            num = num * 20 + (o - 64)
            steps.append(table[num - 1] if num <= n_table else num - n_table - 1)
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


def decode_normal(db: ParsedDatabase, st: Statement, text: Sequence[str]) -> list[DecodedStep]:
    """Steps of a normal proof (a list of labels, '?' for an unknown step)."""
    labels = db.labels
    steps: list[DecodedStep] = []
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


def decode(db: ParsedDatabase, st: Statement, text: Sequence[str] | None = None) -> list[DecodedStep]:
    """The steps of ``st``'s proof (or of ``text``), compressed or normal."""
    text = st.proof_text if text is None else text
    if text and text[0] == "(":
        return decode_compressed(db, st, text)
    return decode_normal(db, st, text)


# ---------------------------------------------------------------------------- the stack machine
def substitute(expr: Expr, subst: dict[str, Expr]) -> Expr:
    """``expr`` with every variable of ``subst`` replaced by its term."""
    out: list[str] = []
    for s in expr:
        t = subst.get(s)
        if t is None:
            out.append(s)
        else:
            out.extend(t)
    return tuple(out)


def _substitution(st: Statement, k: int, s: Statement, hyps: list[Statement],
                  args: list[Expr | None]) -> dict[str, Expr] | None:
    """The substitution the ``$f`` entries give ``s``'s variables (typecodes checked); None when an entry
    is unknown ('?')."""
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
    return None if unknown else subst


def _check_essentials(st: Statement, k: int, s: Statement, hyps: list[Statement], args: list[Expr | None],
                      subst: dict[str, Expr]) -> None:
    """Each ``$e`` entry on the stack is the substituted hypothesis (no entry is unknown here)."""
    for h, a in zip(hyps, args, strict=True):
        if h.kind == "e" and substitute(h.expr, subst) != a:
            raise _fail(st, f"step {k + 1}: {s.label} hypothesis {h.label} does not match: "
                            f"expected '{' '.join(substitute(h.expr, subst))}' but the stack "
                            f"has '{' '.join(a or ())}'")


def _check_disjoint(db: ParsedDatabase, st: Statement, k: int, s: Statement, subst: dict[str, Expr]) -> None:
    """Every mandatory ``$d x y`` of ``s``: the variables of the two substituted terms are distinct and
    each pair of them is a ``$d`` of the theorem ``st``."""
    variables, all_dvs = db.variables, st.all_dvs
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


def _assertion_step(db: ParsedDatabase, st: Statement, k: int, s: Statement,
                    stack: list[Expr | None]) -> int:
    """Step ``k`` applies the assertion ``s``: pop its hypotheses' entries, check them, push its
    substituted conclusion (None under a '?').  Returns how many entries were popped."""
    n = len(s.hyps)
    if len(stack) < n:
        raise _fail(st, f"step {k + 1}: {s.label} needs {n} hypotheses but the stack holds {len(stack)}")
    base = len(stack) - n
    args = stack[base:]
    del stack[base:]
    hyps = [db.labels[h] for h in s.hyps]
    subst = _substitution(st, k, s, hyps, args)
    if subst is None:
        stack.append(None)
        return n
    _check_essentials(st, k, s, hyps, args, subst)
    if s.dvs:
        _check_disjoint(db, st, k, s, subst)
    stack.append(substitute(s.expr, subst))
    return n


def run_proof(db: ParsedDatabase, st: Statement, steps: list[DecodedStep],
              build: Build[N] | None = None) -> tuple[list[Expr | None], bool, list[N]]:
    """Run decoded ``steps`` for theorem ``st``; return (stack, incomplete, nodes).

    ``build(label, expr, children)`` makes a tree node per step when given (then ``nodes`` is the node
    stack, parallel to the expression stack); it takes no part in the verdict.
    """
    stack: list[Expr | None] = []
    nodes: list[N] = []
    saved: list[tuple[Expr | None, N | None]] = []
    incomplete = False
    for k, s in enumerate(steps):
        if s is SAVE:  # 'Z': remember the entry on top
            saved.append((stack[-1], nodes[-1] if build else None))
        elif isinstance(s, int):  # a saved entry again
            if s >= len(saved):
                raise _fail(st, f"step {k + 1}: compressed proof refers to saved step {s + 1}, "
                                f"but only {len(saved)} were saved ('Z')")
            e, nd = saved[s]
            stack.append(e)
            if build and nd is not None:
                nodes.append(nd)
        elif s is None:  # '?'
            incomplete = True
            stack.append(None)
            if build:
                nodes.append(build("?", None, []))
        elif s.kind in ("f", "e"):  # a hypothesis
            stack.append(s.expr)
            if build:
                nodes.append(build(s.label, s.expr, []))
        else:  # an axiom or theorem
            n = _assertion_step(db, st, k, s, stack)
            if build:
                kids = nodes[len(nodes) - n:]
                del nodes[len(nodes) - n:]
                nodes.append(build(s.label, stack[-1], kids))
    return stack, incomplete, nodes


def _run(db: ParsedDatabase, st: Statement, steps: list[DecodedStep]) -> tuple[list[Expr | None], bool, list[object]]:
    return run_proof(db, st, steps)


def final_check(st: Statement, stack: list[Expr | None], incomplete: bool) -> list[str]:
    """The verdict once every step ran: one entry left, and it is the statement (else `ProofError`);
    returns the warnings (an incomplete proof)."""
    if len(stack) != 1:  # wrong even with '?' steps (a '?' is one entry), as metamath-exe holds
        raise _fail(st, f"proof leaves {len(stack)} expressions on the stack, not 1")
    if incomplete:
        return [f"{st.label}: proof is incomplete ('?' steps)"]
    top = stack[0]
    if top != st.expr:
        raise _fail(st, f"proof proves '{' '.join(top or ())}', not the statement '{' '.join(st.expr)}'")
    return []



def verify_statement(db: ParsedDatabase, st: Statement) -> list[str]:
    """Check one ``$p``: raise `ProofError` if wrong; return warnings (an incomplete proof)."""
    if st.kind != "p":
        raise MetamathError(f"{st.label} is a ${st.kind} statement, not a $p: it has no proof to verify")
    stack, incomplete, _ = _run(db, st, decode(db, st))
    return final_check(st, stack, incomplete)


def check_proof(db: ParsedDatabase, st: Statement, labels: list[str]) -> None:
    """Check a normal proof (label list) of ``st`` given by the caller; raise `ProofError` if wrong."""
    stack, incomplete, _ = _run(db, st, decode_normal(db, st, labels))
    if final_check(st, stack, incomplete):
        raise _fail(st, "the new proof is incomplete ('?' steps)")
