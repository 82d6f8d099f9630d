"""Cut a Metamath database after its N-th theorem (small real databases for tests and the demo).

set.mm's propositional calculus comes first, so its first few hundred theorems are a small, real,
self-contained database.  This is a text cut at the first point after the N-th ``$p`` where every
``${`` block is closed; parsing stays the kernel's job (``ilya.metamath.load`` reads the result).
"""

from __future__ import annotations

import re
from pathlib import Path

from ilya.core.errors import IlyaError

_TOKEN = re.compile(r"\S+")


def slice_database(src: str | Path, dst: str | Path, n_theorems: int | None = None,
                   until: str | None = None) -> Path:
    """Write the prefix of ``src`` ending after its ``n_theorems``-th ``$p`` (or after label ``until``)."""
    if (n_theorems is None) == (until is None):
        raise ValueError("give exactly one of n_theorems and until")
    text = Path(src).read_text(encoding="utf-8")
    depth, in_comment, seen, prev, target_hit, in_stmt = 0, False, 0, "", False, False
    end = None
    for m in _TOKEN.finditer(text):
        tok = m.group()
        if in_comment:
            if tok == "$)":
                in_comment = False
            continue
        if tok == "$(":
            in_comment = True
        elif tok == "${":
            depth += 1
        elif tok == "$}":
            depth -= 1
        elif tok == "$p":
            seen += 1
            in_stmt = True
            if (n_theorems is not None and seen == n_theorems) or (until is not None and prev == until):
                target_hit = True
        elif tok == "$." and in_stmt:
            in_stmt = False
        if target_hit and not in_stmt and depth == 0 and tok in ("$.", "$}"):
            end = m.end()
            break
        prev = tok
    if end is None:
        what = f"theorem {until}" if until else f"{n_theorems} theorems"
        raise IlyaError(f"cannot cut after {what}: not found", file=src)
    dst = Path(dst)
    dst.parent.mkdir(parents=True, exist_ok=True)
    # metamath-exe reads "$( Begin $[ file $]" markers in comments as include bookkeeping: defuse them
    body = re.sub(r"\$\( (Begin|End|Skip) \$\[", r"$( \1 [", text[:end])
    dst.write_text(body + "\n", encoding="utf-8")
    return dst


def discouraged_labels(path: str | Path) -> tuple[set[str], set[str]]:
    """set.mm's markers in the comment before a statement: labels whose proof must not be changed
    ("(Proof modification is discouraged.)") and labels new proofs must not cite ("(New usage is
    discouraged.)").  GPT-f's shorter proofs respected both."""
    text = Path(path).read_text(encoding="utf-8")
    no_modify: set[str] = set()
    no_usage: set[str] = set()
    comment: list[str] = []
    in_comment, prev = False, ""
    for m in _TOKEN.finditer(text):
        tok = m.group()
        if in_comment:
            if tok == "$)":
                in_comment = False
            else:
                comment.append(tok)
            continue
        if tok == "$(":
            in_comment, comment = True, []
        elif tok in ("$p", "$a"):
            body = " ".join(comment)
            if "(Proof modification is discouraged.)" in body:
                no_modify.add(prev)
            if "(New usage is discouraged.)" in body:
                no_usage.add(prev)
            comment = []
        prev = tok
    return no_modify, no_usage
