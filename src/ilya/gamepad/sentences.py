"""Splitting a Coq .v file into sentences, the unit coqtop executes one at a time.

A sentence ends at a ``.`` followed by whitespace or the end of the text (so ``Nat.add`` and ``x.+1``
do not end one, nor does the ``..`` of a notation).  Comments ``(* ... *)`` nest and are skipped, strings
``"..."`` (with ``""`` as an escaped quote) are kept whole, and at the start of a sentence a bullet
(``-``, ``+``, ``*``, repeated: ``--``, ``**``), a brace ``{`` / ``}`` or a goal selector brace ``2: {`` is a
sentence on its own, since coqtop reads ``- by [].`` as two commands.  Each sentence keeps the line and
column where it starts, for error messages.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ilya.core.errors import IlyaError


@dataclass(frozen=True)
class Sentence:
    """One Coq sentence: its text (comments removed, whitespace squeezed), where it starts in the file."""

    text: str
    line: int
    col: int

    @property
    def is_bullet(self) -> bool:
        return BULLET_RE.fullmatch(self.text) is not None or self.text in ("{", "}") or \
            SELECTOR_BRACE_RE.fullmatch(self.text) is not None


BULLET_RE = re.compile(r"(-+|\++|\*+)")
SELECTOR_BRACE_RE = re.compile(r"(\d+|\[[A-Za-z_][\w']*\])\s*:\s*\{")
_WS = re.compile(r"\s+")


class UnterminatedError(IlyaError):
    """A comment or string that never closes, or text after the last full stop."""


def split_sentences(text: str, file: str | None = None, *, strict: bool = True) -> list[Sentence]:
    """The sentences of ``text``; with ``strict`` an unclosed comment/string or trailing text is an error."""
    out: list[Sentence] = []
    n = len(text)
    i = 0
    line, col = 1, 1
    buf: list[str] = []
    start: tuple[int, int] | None = None

    def advance(k: int) -> None:
        nonlocal i, line, col
        for _ in range(k):
            if text[i] == "\n":
                line += 1
                col = 1
            else:
                col += 1
            i += 1

    def emit() -> None:
        nonlocal buf, start
        s = _WS.sub(" ", "".join(buf)).strip()
        if s and start is not None:
            out.append(Sentence(s, start[0], start[1]))
        buf = []
        start = None

    while i < n:
        c = text[i]
        if text.startswith("(*", i):
            depth, cl, cc = 0, line, col
            while i < n:
                if text.startswith("(*", i):
                    depth += 1
                    advance(2)
                elif text.startswith("*)", i):
                    depth -= 1
                    advance(2)
                    if depth == 0:
                        break
                elif text[i] == '"':  # strings inside comments are lexed too (Coq does so)
                    advance(1)
                    while i < n and text[i] != '"':
                        advance(1)
                    if i < n:
                        advance(1)
                else:
                    advance(1)
            if depth != 0:
                if strict:
                    raise UnterminatedError("comment never closed", file=file, line=cl, col=cc)
                return out
            buf.append(" ")
            continue
        if c.isspace():
            buf.append(c)
            advance(1)
            continue
        if start is None:
            # sentence start: bullets and braces are sentences of their own
            m = SELECTOR_BRACE_RE.match(text, i)
            if m:
                start = (line, col)
                buf.append(m.group(0))
                advance(len(m.group(0)))
                emit()
                continue
            if c in "{}":
                start = (line, col)
                buf.append(c)
                advance(1)
                emit()
                continue
            m = BULLET_RE.match(text, i)
            if m and not text.startswith("(*", i):
                end = m.end()
                nxt = text[end] if end < n else " "
                # a bullet is followed by space, another sentence start or a comment; "*)" is no bullet
                if nxt.isspace() or nxt in "({}" or end == n:
                    start = (line, col)
                    buf.append(m.group(0))
                    advance(end - i)
                    emit()
                    continue
            start = (line, col)
        if c == '"':
            sl, sc = line, col
            buf.append(c)
            advance(1)
            while True:
                if i >= n:
                    if strict:
                        raise UnterminatedError("string never closed", file=file, line=sl, col=sc)
                    return out
                if text[i] == '"':
                    if text.startswith('""', i):
                        buf.append('""')
                        advance(2)
                        continue
                    buf.append('"')
                    advance(1)
                    break
                buf.append(text[i])
                advance(1)
            continue
        if c == ".":
            prev = text[i - 1] if i > 0 else " "
            nxt = text[i + 1] if i + 1 < n else " "
            if (nxt.isspace() or i + 1 == n) and prev != ".":
                buf.append(".")
                advance(1)
                emit()
                continue
            if nxt == "." :  # "..": part of a notation or ssreflect's `..`
                buf.append("..")
                advance(2)
                continue
        buf.append(c)
        advance(1)
    if start is not None and "".join(buf).strip() and strict:
        raise UnterminatedError("text after the last sentence has no final '.'", file=file,
                                line=start[0], col=start[1])
    return out


PROOF_ENDS = ("Qed.", "Defined.", "Admitted.", "Abort.", "Save.", "Abort All.")


def is_proof_start(s: str) -> bool:
    """``Proof.`` / ``Proof using ...`` / ``Proof with ...`` (not a step of the proof)."""
    return s == "Proof." or s.startswith(("Proof using", "Proof with"))


def is_proof_end(s: str) -> bool:
    return s in PROOF_ENDS or s.startswith(("Save ", "Qed exporting"))
