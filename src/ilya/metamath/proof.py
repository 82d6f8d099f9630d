# pyright: strict
"""Proofs as trees, as GPT-f steps, and as normal or compressed text (Metamath book, appendix B).

A proof tree has one `ProofNode` per step: the label applied, the expression it proves and the
subproofs of the label's mandatory hypotheses (in hypothesis order).  GPT-f (Polu & Sutskever 2020,
section 3) trains on one `Step` per node that applies an assertion: the goal, the label and the
substitution of the assertion's variables.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field

from ilya.metamath.errors import MetamathError
from ilya.metamath.parse import Expr, ParsedDatabase, Statement
from ilya.metamath.unify import apply, syntax_proof
from ilya.metamath.verify import SAVE, decode, final_check, run_proof


@dataclass(eq=False)
class ProofNode:
    """One proof step: ``label`` proves ``expr`` from ``children`` (one per mandatory hypothesis).

    ``expr`` is None under an unknown ('?') step.  Shared subproofs (compressed 'Z') are the same node
    object in several places; treat nodes as read-only.
    """

    label: str
    expr: Expr | None
    children: list[ProofNode] = field(default_factory=lambda: [])

    def size(self) -> int:
        """Number of steps of the fully expanded (normal) proof."""
        memo: dict[int, int] = {}
        for node in _postorder_unique(self):
            memo[id(node)] = 1 + sum(memo[id(c)] for c in node.children)
        return memo[id(self)]

    def depth(self) -> int:
        memo: dict[int, int] = {}
        for node in _postorder_unique(self):
            memo[id(node)] = 1 + max((memo[id(c)] for c in node.children), default=0)
        return memo[id(self)]


@dataclass(frozen=True)
class Step:
    """A GPT-f training step: prove ``goal`` by applying ``label`` with ``subst`` (var -> term)."""

    goal: Expr
    label: str
    subst: dict[str, Expr]


def _postorder_unique(root: ProofNode):
    """Each distinct node once, children before parents (iterative: proofs are deep)."""
    seen: set[int] = set()
    stack: list[tuple[ProofNode, bool]] = [(root, False)]
    while stack:
        node, done = stack.pop()
        if done:
            yield node
            continue
        if id(node) in seen:
            continue
        seen.add(id(node))
        stack.append((node, True))
        for c in reversed(node.children):
            if id(c) not in seen:
                stack.append((c, False))


def proof_tree(db: ParsedDatabase, st: Statement) -> ProofNode:
    """The checked proof of ``st`` as a tree (raises `ProofError` if the proof is wrong)."""
    if st.kind != "p":
        raise MetamathError(f"{st.label} is a ${st.kind} statement: it has no proof")
    stack, incomplete, nodes = run_proof(db, st, decode(db, st), build=ProofNode)
    final_check(st, stack, incomplete)
    if len(nodes) != 1:
        raise MetamathError(f"{st.label}: incomplete proof leaves {len(nodes)} subproofs")
    return nodes[0]


def tree_to_rpn(root: ProofNode) -> list[str]:
    """The normal proof (labels in reverse Polish order) of a tree, shared subproofs written out."""
    out: list[str] = []
    stack: list[tuple[ProofNode, bool]] = [(root, False)]
    while stack:
        node, done = stack.pop()
        if done:
            out.append(node.label)
            continue
        stack.append((node, True))
        for c in reversed(node.children):
            stack.append((c, False))
    return out


def normal_proof(db: ParsedDatabase, st: Statement) -> list[str]:
    """``st``'s proof as a normal (uncompressed) label list; '?' for unknown steps."""
    if st.kind != "p":
        raise MetamathError(f"{st.label} is a ${st.kind} statement: it has no proof")
    if st.proof_text[0] != "(":
        return list(st.proof_text)
    steps = decode(db, st)
    if SAVE not in steps and not any(type(s) is int for s in steps):
        return ["?" if s is None else s.label for s in steps if not isinstance(s, int)]
    _, _, nodes = run_proof(db, st, steps, build=ProofNode)
    out: list[str] = []
    for nd in nodes:
        out += tree_to_rpn(nd)
    return out


def proof_steps(db: ParsedDatabase, st: Statement, only_provable: bool = False, unique: bool = False) -> list[Step]:
    """One `Step` per node applying an ``$a``/``$p``, in pre-order.

    ``only_provable=True`` keeps only steps whose goal has the theorem's typecode (``|-`` in set.mm):
    the steps GPT-f's model writes, the syntax (``wff``/``class``/``setvar``) steps being filled in by
    `syntax_proof`.  ``unique=True`` visits a subproof shared by the compressed proof ('Z') once (the
    fully expanded tree of a few set.mm proofs has over a million nodes).
    """
    root = proof_tree(db, st)
    labels = db.labels
    out: list[Step] = []
    stack = [root]
    seen: set[int] = set()
    while stack:
        node = stack.pop()
        if unique:
            if id(node) in seen:
                continue
            seen.add(id(node))
        s = labels.get(node.label)
        expr = node.expr
        if s is not None and s.kind in ("a", "p") and expr is not None and (
                not only_provable or expr[0] == st.expr[0]):
            subst: dict[str, Expr] = {}
            for h, c in zip(s.hyps, node.children, strict=True):
                hs = labels[h]
                if hs.kind == "f" and c.expr is not None:
                    subst[hs.expr[1]] = c.expr[1:]
            out.append(Step(expr, node.label, subst))
        stack.extend(reversed(node.children))
    return out


# ---------------------------------------------------------------------------- compressed proofs
def encode_number(n: int) -> str:
    """A compressed-proof number (n >= 1): base-5 'U'..'Y' digits then one base-20 'A'..'T' digit."""
    n -= 1
    s = chr(65 + n % 20)
    n //= 20
    while n:
        n -= 1
        s = chr(85 + n % 5) + s
        n //= 5
    return s


def compress(db: ParsedDatabase, st: Statement, labels: list[str], width: int = 79, indent: int = 6) -> str:
    """Write the normal proof ``labels`` of ``st`` as compressed-proof text (what goes between ``$=``
    and ``$.``), saving ('Z') every subproof used more than once."""
    arity: dict[str, int] = {}
    for lab in labels:
        if lab not in arity:
            s = db.labels.get(lab)
            if lab == "?":
                arity[lab] = 0
            elif s is None:
                raise MetamathError(f"{st.label}: unknown label {lab!r} in the proof to compress")
            else:
                arity[lab] = len(s.hyps) if s.kind in ("a", "p") else 0
    # hash-cons the tree: a node id per distinct (label, child ids)
    ids: dict[tuple[str, tuple[int, ...]], int] = {}
    nodes: list[tuple[str, tuple[int, ...]]] = []
    stack: list[int] = []
    for lab in labels:
        k = arity[lab]
        if len(stack) < k:
            raise MetamathError(f"{st.label}: the proof to compress is not a well-formed RPN proof")
        kids = tuple(stack[len(stack) - k:]) if k else ()
        if k:
            del stack[len(stack) - k:]
        key = (lab, kids)
        nid = ids.get(key)
        if nid is None:
            nid = ids[key] = len(nodes)
            nodes.append(key)
        stack.append(nid)
    if len(stack) != 1:
        raise MetamathError(f"{st.label}: the proof to compress leaves {len(stack)} subproofs, not 1")
    root = stack[0]
    refs = [0] * len(nodes)
    seen: set[int] = set()
    todo = [root]
    while todo:  # reference counts in the shared graph
        nid = todo.pop()
        if nid in seen:
            continue
        seen.add(nid)
        for c in nodes[nid][1]:
            refs[c] += 1
            todo.append(c)
    # number the labels: mandatory hypotheses first, then the rest by decreasing use
    mand = list(st.hyps)
    uses: dict[str, int] = {}
    for nid in seen:
        lab = nodes[nid][0]
        if lab != "?" and lab not in mand:
            uses[lab] = uses.get(lab, 0) + 1 + refs[nid]
    first = {lab: i for i, lab in reversed(list(enumerate(labels)))}
    others = sorted(uses, key=lambda lab: (-uses[lab], first[lab]))
    number = {lab: i + 1 for i, lab in enumerate(mand + others)}
    base = len(number)
    out: list[str] = []
    saved: dict[int, int] = {}
    work: list[tuple[int, bool]] = [(root, False)]
    while work:
        nid, done = work.pop()
        lab, kids = nodes[nid]
        if done:
            out.append("?" if lab == "?" else encode_number(number[lab]))
            if kids and refs[nid] > 1:
                out.append("Z")
                saved[nid] = base + len(saved) + 1
            continue
        if nid in saved:
            out.append(encode_number(saved[nid]))
            continue
        work.append((nid, True))
        for c in reversed(kids):
            work.append((c, False))
    # lay out: "( labels ) LETTERS" wrapped at ``width``
    pad = " " * indent
    lines: list[str] = []
    cur = pad + "("
    for w in [*others, ")"]:
        if len(cur) + 1 + len(w) > width:
            lines.append(cur)
            cur = pad + w
        else:
            cur += " " + w
    letters = "".join(out)
    room = width - len(cur) - 1
    if room > 0:
        cur += " " + letters[:room]
        letters = letters[room:]
    lines.append(cur)
    step = width - indent
    for i in range(0, len(letters), step):
        lines.append(pad + letters[i:i + step])
    return "\n".join(lines)


def proof_from_steps(db: ParsedDatabase, theorem: str, steps: list[Step]) -> list[str]:
    """Rebuild a full normal proof of ``theorem`` from GPT-f steps (its ``|-`` steps in pre-order).

    Each step is applied with `Database.apply` (so every check of a real verifier is made), syntax
    subgoals are proved with `syntax_proof`, ``$e`` subgoals by the theorem's hypotheses, and a goal
    proved earlier is reused when the next step is for another goal (the ``unique=True`` step lists).
    Raises `MetamathError` naming the step that does not fit.
    """
    st = db[theorem]
    hyps = {db.labels[h].expr: h for h in st.hyps if db.labels[h].kind == "e"}
    proved: dict[Expr, list[str]] = {}
    pos = 0

    def prove(goal: Expr, depth: int) -> list[str]:
        nonlocal pos
        if goal in hyps:
            return [hyps[goal]]
        if goal in proved and (pos >= len(steps) or steps[pos].goal != goal):
            return proved[goal]
        if pos >= len(steps):
            raise MetamathError(f"{theorem}: steps run out before '{' '.join(goal)}' is proved")
        step = steps[pos]
        pos += 1
        if tuple(step.goal) != goal:
            raise MetamathError(f"{theorem}: step {pos} is for '{' '.join(step.goal)}' but the open goal is "
                                f"'{' '.join(goal)}'")
        subgoals = apply(db, goal, step.label, step.subst, before=theorem)
        out: list[str] = []
        for h, g in zip(db.labels[step.label].hyps, subgoals, strict=True):
            if db.labels[h].kind == "f":
                out += syntax_proof(db, g, before=theorem)
            else:
                out += prove(g, depth + 1)
        out.append(step.label)
        proved[goal] = out
        return out

    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, 20000))
    try:
        proof = prove(st.expr, 0)
    finally:
        sys.setrecursionlimit(limit)
    if pos != len(steps):
        raise MetamathError(f"{theorem}: {len(steps) - pos} steps left over after the proof is complete")
    return proof
