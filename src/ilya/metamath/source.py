# pyright: strict
"""Reading a Metamath source file into tokens (Metamath book, section 4.1: lexical rules).

A file is printable ASCII plus the white space characters space, tab, LF, FF and CR.  Tokens are the
maximal runs of non-white characters; ``$( ... $)`` comments are dropped here (they may appear anywhere,
also inside a statement or a proof, and may not nest).  Token offsets are only worked out when something
needs a position (an error, the writer), so reading set.mm stays a few C-level ``split`` calls.
"""

from __future__ import annotations

import bisect
import re
from pathlib import Path
from typing import NoReturn

from ilya.metamath.errors import MetamathError

_BAD_BYTE = re.compile(rb"[^\x21-\x7e \t\n\r\f]")
_WS = " \t\n\r\f"
_TOKEN = re.compile(r"[^ \t\n\r\f]+")


class Source:
    """One file's text and its token list (comments removed); positions are computed lazily."""

    def __init__(self, path: str | Path, text: str, display: str | None = None) -> None:
        self.path = Path(path)
        self.name = display if display is not None else str(path)
        self.text = text
        self._newlines: list[int] | None = None
        self._offsets: list[int] | None = None
        self.tokens: list[str] = self._split()

    @classmethod
    def read(cls, path: str | Path, display: str | None = None) -> Source:
        name = display if display is not None else str(path)
        try:
            data = Path(path).read_bytes()
        except OSError as e:
            raise MetamathError(f"cannot read file ({e.strerror or e})", file=name) from None
        bad = _BAD_BYTE.search(data)
        if bad is not None:
            src = cls(path, data[: bad.start()].decode("ascii"), display)
            line, col = src.position_of_offset(bad.start())
            raise MetamathError(f"illegal character (byte {data[bad.start()]}): a Metamath file is printable "
                                "ASCII and white space", file=name, line=line, col=col)
        return cls(path, data.decode("ascii"), display)

    # ------------------------------------------------------------------ tokenising
    def _chunks(self) -> list[tuple[int, int]]:
        """The (start, end) character ranges outside comments, checking the comment rules."""
        text, n, pos = self.text, len(self.text), 0
        out: list[tuple[int, int]] = []
        while True:
            i = text.find("$(", pos)
            if i < 0:
                out.append((pos, n))
                return out
            if (i > 0 and text[i - 1] not in _WS) or (i + 2 < n and text[i + 2] not in _WS):
                self.fail_at(i, "'$(' must be a token of its own (white space around it)")
            out.append((pos, i))
            j = i + 2
            while True:
                j = text.find("$)", j)
                if j < 0:
                    self.fail_at(i, "comment '$(' is never closed by '$)'")
                if text[j - 1] in _WS and (j + 2 >= n or text[j + 2] in _WS):
                    break
                self.fail_at(j, "'$)' inside a comment must be a token of its own")
            k = text.find("$(", i + 2, j)
            if k >= 0:
                self.fail_at(k, "'$(' inside a comment: comments do not nest")
            pos = j + 2

    def _split(self) -> list[str]:
        text = self.text
        toks: list[str] = []
        for a, b in self._chunks():
            toks.extend(text[a:b].split())
        return toks

    # ------------------------------------------------------------------ positions
    def offsets(self) -> list[int]:
        """Character offset of every token (computed on first use)."""
        if self._offsets is None:
            offs: list[int] = []
            for a, b in self._chunks():
                offs.extend(m.start() for m in _TOKEN.finditer(self.text, a, b))
            self._offsets = offs
        return self._offsets

    def position_of_offset(self, off: int) -> tuple[int, int]:
        if self._newlines is None:
            self._newlines = [m.start() for m in re.finditer("\n", self.text)]
        line = bisect.bisect_left(self._newlines, off)
        start = self._newlines[line - 1] + 1 if line > 0 else 0
        return line + 1, off - start + 1

    def position(self, tok: int) -> tuple[int, int]:
        """(line, column), both from 1, of token number ``tok`` (the end of the file past the last one)."""
        offs = self.offsets()
        off = offs[tok] if tok < len(offs) else len(self.text)
        return self.position_of_offset(off)

    def fail_at(self, off: int, message: str) -> NoReturn:
        line, col = self.position_of_offset(off)
        raise MetamathError(message, file=self.name, line=line, col=col)

    def fail(self, tok: int, message: str) -> NoReturn:
        line, col = self.position(tok)
        raise MetamathError(message, file=self.name, line=line, col=col)
