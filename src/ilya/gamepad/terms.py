"""Coq terms printed with ``Set Printing All`` -> abstract syntax trees with shared subterms.

``Set Printing All`` prints every term in full (``@eq nat (addn a b) (addn b a)``: implicit arguments,
coercions and no notations), so the printed text is a small language:

    term  ::= forall BINDERS , term | fun BINDERS => term | let x := term (: term)? in term
            | match ... end | app (-> term)?
    app   ::= atom atom*                    (application: node "app" [head, args...])
    atom  ::= name | @name | number | _ | ?evar | "string" | ( term ) | ( term : term )

Trees are hash-consed in a `TermTable`: a node is ``(label, children ids)`` and equal subtrees get the
same id, so a subterm that occurs many times in a proof state is stored (and embedded) once.  Anything the
grammar does not cover becomes a ``raw`` node of its tokens, so parsing never fails.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_TOKEN_RE = re.compile(
    r'\s*(?:(?P<str>"(?:[^"]|"")*")|(?P<sym>:=|=>|->|<-|<->|\(|\)|,|:|\||\{|\}|;)'
    r"|(?P<word>[^\s(),:|{};\"]+))")
BINDER_KW = {"forall", "fun"}


def tokenize(text: str) -> list[str]:
    toks: list[str] = []
    pos = 0
    n = len(text)
    while pos < n:
        m = _TOKEN_RE.match(text, pos)
        if m is None or m.end() == pos:
            rest = text[pos:].strip()
            if not rest:
                break
            toks.append(rest[0])
            pos = text.index(rest[0], pos) + 1
            continue
        tok = m.group("str") or m.group("sym") or m.group("word")
        if tok:
            toks.append(tok)
        pos = m.end()
    return toks


@dataclass
class TermTable:
    """Hash-consed term nodes: ``nodes[i] = (label, (child ids...))``; equal trees share one id."""

    nodes: list[tuple[str, tuple[int, ...]]] = field(default_factory=list)
    index: dict[tuple[str, tuple[int, ...]], int] = field(default_factory=dict)

    def intern(self, label: str, children: tuple[int, ...] = ()) -> int:
        key = (label, children)
        i = self.index.get(key)
        if i is None:
            i = len(self.nodes)
            self.nodes.append(key)
            self.index[key] = i
        return i

    def __len__(self) -> int:
        return len(self.nodes)

    def label(self, i: int) -> str:
        return self.nodes[i][0]

    def children(self, i: int) -> tuple[int, ...]:
        return self.nodes[i][1]

    def size(self, i: int) -> int:
        """Number of nodes of the tree ``i`` unfolded (shared subterms counted every time)."""
        memo: dict[int, int] = {}
        for j in sorted(self.reachable([i])):
            memo[j] = 1 + sum(memo[c] for c in self.nodes[j][1])
        return memo[i]

    def reachable(self, roots: list[int]) -> set[int]:
        seen: set[int] = set()
        stack = list(roots)
        while stack:
            j = stack.pop()
            if j in seen:
                continue
            seen.add(j)
            stack.extend(self.nodes[j][1])
        return seen

    def to_text(self, i: int) -> str:
        """Print the tree back as Coq text (fully parenthesised)."""
        label, kids = self.nodes[i]
        if not kids:
            return label
        parts = [self.to_text(k) for k in kids]
        if label == "app":
            return "(" + " ".join(parts) + ")"
        if label in ("forall", "fun"):
            binders = " ".join(parts[:-1])
            return f"({label} {binders}{',' if label == 'forall' else ' =>'} {parts[-1]})"
        if label.startswith("binder:"):
            return f"({label[7:]} : {parts[0]})"
        if label.startswith("let:"):
            ty = f" : {parts[2]}" if len(parts) > 2 else ""
            return f"(let {label[4:]}{ty} := {parts[0]} in {parts[1]})"
        if label == "->":
            return f"({parts[0]} -> {parts[1]})"
        if label == "cast":
            return f"({parts[0]} : {parts[1]})"
        return "(" + label + " " + " ".join(parts) + ")"

    def tokens(self, i: int) -> list[str]:
        """Leaf labels and node labels in prefix order (the bag-of-tokens and GRU input)."""
        out: list[str] = []
        stack = [i]
        while stack:
            j = stack.pop()
            label, kids = self.nodes[j]
            out.append(label)
            stack.extend(reversed(kids))
        return out


class _Parser:
    def __init__(self, toks: list[str], table: TermTable) -> None:
        self.t = toks
        self.i = 0
        self.table = table

    def peek(self) -> str | None:
        return self.t[self.i] if self.i < len(self.t) else None

    def take(self, expect: str | None = None) -> str:
        tok = self.peek()
        if tok is None or (expect is not None and tok != expect):
            raise ValueError(f"expected {expect!r}, got {tok!r}")
        self.i += 1
        return tok

    def term(self, stop: frozenset[str] = frozenset()) -> int:
        tok = self.peek()
        if tok in BINDER_KW:
            self.take()
            binders = self.binders(tok == "forall")
            self.take("," if tok == "forall" else "=>")
            body = self.term(stop)
            return self.table.intern(tok, (*binders, body))
        if tok == "let":
            self.take()
            name = self.take()
            ty: int | None = None
            if self.peek() == ":":
                self.take()
                ty = self.term(frozenset({":="}))
            self.take(":=")
            val = self.term(frozenset({"in"}))
            self.take("in")
            body = self.term(stop)
            kids = (val, body) if ty is None else (val, body, ty)
            return self.table.intern("let:" + name, kids)
        if tok == "match":
            return self.match()
        head = self.app(stop)
        if self.peek() == "->":
            self.take()
            rhs = self.term(stop)
            return self.table.intern("->", (head, rhs))
        return head

    def binders(self, is_forall: bool) -> list[int]:
        out: list[int] = []
        end = "," if is_forall else "=>"
        while self.peek() not in (end, None):
            if self.peek() == "(":
                self.take("(")
                names: list[str] = []
                while self.peek() not in (":", ")", ":="):
                    names.append(self.take())
                ty = self.table.intern("_")
                if self.peek() == ":":
                    self.take(":")
                    ty = self.term(frozenset({")"}))
                self.take(")")
                out += [self.table.intern("binder:" + nm, (ty,)) for nm in names]
            else:
                names = []
                while self.peek() not in (":", end, None, "("):
                    names.append(self.take())
                ty = self.table.intern("_")
                if self.peek() == ":":
                    self.take(":")
                    ty = self.term(frozenset({end}))
                out += [self.table.intern("binder:" + nm, (ty,)) for nm in names]
        return out

    def match(self) -> int:
        # match is kept as a node over its scrutinee/branch pieces, split at the keywords
        self.take("match")
        pieces: list[int] = []
        depth = 1
        seg: list[str] = []
        while True:
            tok = self.take()
            if tok == "match":
                depth += 1
            elif tok == "end":
                depth -= 1
                if depth == 0:
                    break
            if depth == 1 and tok in ("with", "|", "=>", "return", "as", "in"):
                if seg:
                    pieces.append(parse_tokens(seg, self.table))
                seg = []
                continue
            seg.append(tok)
        if seg:
            pieces.append(parse_tokens(seg, self.table))
        return self.table.intern("match", tuple(pieces))

    def app(self, stop: frozenset[str]) -> int:
        parts: list[int] = []
        while True:
            tok = self.peek()
            if tok is None or tok in stop or tok in (")", ",", "=>", "->", ":=", ":", "in", "|", "with",
                                                      "end", ";", "}", "as", "return"):
                break
            if tok == "match":  # self-delimited by its `end`: the application goes on after it
                parts.append(self.match())
                continue
            if tok in BINDER_KW or tok == "let":
                parts.append(self.term(stop))
                break
            parts.append(self.atom())
        if not parts:
            raise ValueError(f"expected a term, got {self.peek()!r}")
        if len(parts) == 1:
            return parts[0]
        return self.table.intern("app", tuple(parts))

    def atom(self) -> int:
        tok = self.take()
        if tok == "(":
            inner = self.term(frozenset({")", ":"}))
            if self.peek() == ":":
                self.take(":")
                ty = self.term(frozenset({")"}))
                self.take(")")
                return self.table.intern("cast", (inner, ty))
            self.take(")")
            return inner
        if tok.startswith("?") and self.peek() == "{":  # ?x@{...} evar instances: drop the instance
            depth = 0
            while self.peek() is not None:
                t = self.take()
                depth += t == "{"
                depth -= t == "}"
                if depth == 0:
                    break
            return self.table.intern(tok.split("@")[0])
        return self.table.intern(tok)


def parse_tokens(toks: list[str], table: TermTable) -> int:
    p = _Parser(toks, table)
    try:
        root = p.term()
        if p.i != len(toks):
            raise ValueError("trailing tokens")
        return root
    except (ValueError, IndexError, RecursionError):
        return table.intern("raw", tuple(table.intern(t) for t in toks))


def parse_term(text: str, table: TermTable) -> int:
    """Parse one printed term into ``table``; returns its node id."""
    return parse_tokens(tokenize(text), table)


# ---------------------------------------------------------------------------- goal displays
@dataclass
class Goal:
    """One goal: hypotheses (name, type id, optional body id) and the conclusion id."""

    hyps: list[tuple[str, int, int | None]]
    concl: int

    def as_json(self) -> dict[str, object]:
        return {"hyps": [[n, t] if b is None else [n, t, b] for n, t, b in self.hyps], "concl": self.concl}


_GOALS_HEAD = re.compile(r"^(\d+) (?:focused )?goals?(?: \(ID \d+\))?", re.M)
_SUBGOAL = re.compile(r"^goal (\d+)(?: \(ID \d+\))? is:\s*$", re.M)
_SEP = re.compile(r"^\s*=+\s*$", re.M)


def parse_hyp(line: str, table: TermTable) -> list[tuple[str, int, int | None]]:
    """``x, y : T`` or ``x := v : T`` -> one entry per name."""
    depth = 0
    for k, ch in enumerate(line):
        if ch in "({":
            depth += 1
        elif ch in ")}":
            depth -= 1
        elif ch == ":" and depth == 0:
            if line.startswith(":=", k):
                name = line[:k].strip()
                rest = line[k + 2:]
                # the value ends at the last top-level " : "
                cut = _last_toplevel_colon(rest)
                body_txt, ty_txt = (rest[:cut], rest[cut + 1:]) if cut >= 0 else (rest, "_")
                return [(name, parse_term(ty_txt, table), parse_term(body_txt, table))]
            names = [nm.strip() for nm in line[:k].split(",") if nm.strip()]
            ty = parse_term(line[k + 1:], table)
            return [(nm, ty, None) for nm in names]
    return [(line.strip(), table.intern("_"), None)]


def _last_toplevel_colon(s: str) -> int:
    depth, last = 0, -1
    for k, ch in enumerate(s):
        if ch in "({":
            depth += 1
        elif ch in ")}":
            depth -= 1
        elif ch == ":" and depth == 0 and not s.startswith(":=", k) and (k == 0 or s[k - 1] != ":"):
            last = k
    return last


def _join_lines(block: str) -> list[str]:
    """Hypothesis lines (a continuation line is indented deeper than the first)."""
    out: list[str] = []
    for ln in block.splitlines():
        if not ln.strip():
            continue
        if out and ln.startswith("    "):
            out[-1] += " " + ln.strip()
        else:
            out.append(ln.strip())
    return out


def parse_goal_block(block: str, table: TermTable) -> Goal:
    """The hypotheses and conclusion of one goal display (``hyps ... ===== concl``)."""
    m = _SEP.search(block)
    if m is None:
        return Goal([], parse_term(" ".join(block.split()), table))
    hyps: list[tuple[str, int, int | None]] = []
    for ln in _join_lines(block[: m.start()]):
        hyps += parse_hyp(ln, table)
    return Goal(hyps, parse_term(" ".join(block[m.end():].split()), table))


def goal_count(output: str) -> int | None:
    """Number of goals announced by a goal display (0 for ``No more goals``; None when none is shown)."""
    if "No more goals" in output or "subproof is complete" in output or "No more subgoals" in output:
        return 0
    m = _GOALS_HEAD.search(output)
    return int(m.group(1)) if m else None


def parse_goals(output: str, table: TermTable) -> tuple[Goal | None, list[int]] | None:
    """A goal display -> (first goal with hypotheses, conclusions of the other goals); None if no display.

    coqtop shows the hypotheses of the focused goal only; the others come as ``goal N is: concl``.
    """
    n = goal_count(output)
    if n is None:
        return None
    if n == 0:
        return None, []
    head = _GOALS_HEAD.search(output)
    assert head is not None
    body = output[head.end():]
    parts = _SUBGOAL.split(body)
    first = parse_goal_block(parts[0], table)
    others = [parse_term(" ".join(parts[k + 1].split()), table) for k in range(1, len(parts) - 1, 2)]
    return first, others
