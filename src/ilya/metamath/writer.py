# pyright: strict
"""Writing a database back out: the original text (comments included) with chosen proofs replaced.

Splicing the parsed file keeps every comment, typesetting definition and layout as they were, so the
written set.mm differs from the read one only where a proof was replaced.  Included files (``$[ $]``) are
written inline, so the output is one self-contained file.
"""

from __future__ import annotations

from pathlib import Path

from ilya.core.checkpoint import atomic_write_text
from ilya.metamath.errors import MetamathError
from ilya.metamath.parse import ParsedDatabase
from ilya.metamath.source import Source


def render(db: ParsedDatabase, replacements: dict[str, str]) -> str:
    """The database text with ``replacements`` (label -> proof text between ``$=`` and ``$.``)."""
    edits: dict[int, list[tuple[int, int, str | Source | None]]] = {}
    for lab, text in replacements.items():
        st = db[lab]
        if st.kind != "p":
            raise MetamathError(f"{lab} is a ${st.kind} statement: it has no proof to replace")
        if "$" in text:
            raise MetamathError(f"replacement proof of {lab} contains '$'")
        offs = st.source.offsets()
        a = offs[st.proof_tok[0]] + 2
        b = offs[st.proof_tok[1]]
        edits.setdefault(id(st.source), []).append((a, b, "\n" + text.strip("\n") + "\n    "))
    for src, i, j, inc in db.includes:
        offs = src.offsets()
        edits.setdefault(id(src), []).append((offs[i], offs[j] + 2, inc))

    def emit(src: Source) -> str:
        parts: list[str] = []
        pos = 0
        for a, b, what in sorted(edits.get(id(src), []), key=lambda e: e[0]):
            parts.append(src.text[pos:a])
            if isinstance(what, str):
                parts.append(what)
            elif what is not None:
                parts.append(f"$( begin included file {what.name} $)\n" + emit(what)
                             + f"\n$( end included file {what.name} $)")
            pos = b
        parts.append(src.text[pos:])
        return "".join(parts)

    return emit(db.sources[0])


def write_database(db: ParsedDatabase, path: Path, replacements: dict[str, str]) -> Path:
    atomic_write_text(path, render(db, replacements))
    return path
