"""The one user-facing error type.

Every mistake a user can make (a bad file, a bad flag value, an unknown run) raises `IlyaError`;
the CLI prints it as one line, ``ilya: error: <file>:<line>:<col>: <what was expected>``, and exits
non-zero.  Anything else escaping is a bug and keeps its traceback.
"""

from __future__ import annotations

from os import PathLike


class IlyaError(Exception):
    """A user-facing error, optionally located in a file."""

    def __init__(
        self,
        message: str,
        *,
        file: str | PathLike[str] | None = None,
        line: int | None = None,
        col: int | None = None,
        exit_code: int = 2,
    ) -> None:
        self.message = message
        self.file = None if file is None else str(file)
        self.line = line
        self.col = col
        self.exit_code = exit_code
        super().__init__(str(self))

    def __str__(self) -> str:
        where = ""
        if self.file is not None:
            where = self.file
            if self.line is not None:
                where += f":{self.line}"
                if self.col is not None:
                    where += f":{self.col}"
            where += ": "
        return where + self.message
