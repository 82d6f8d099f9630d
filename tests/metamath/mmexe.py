"""Driving the reference verifier, Debian's metamath-exe, non-interactively (the differential oracle)."""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

MMEXE = shutil.which("metamath")
_LABEL = re.compile(r'label\s+"([^"]+)"')


@dataclass
class Verdict:
    """What metamath-exe said about a file: any error at all, and the labels its errors name."""

    ok: bool
    read_errors: int = 0
    bad_labels: set[str] = field(default_factory=set)
    output: str = ""


def mmexe_verdict(path: str | Path, timeout: float = 300) -> Verdict:
    path = Path(path)
    out = subprocess.run([MMEXE, f'read "{path.name}"', "verify proof *", "exit"], cwd=path.parent,
                         capture_output=True, text=True, timeout=timeout, errors="replace").stdout
    read_part, _, verify_part = out.partition("MM> verify proof *")
    m = re.search(r"(\d+|One) errors? (was|were) found", read_part)
    read_errors = 0 if m is None else (1 if m.group(1) == "One" else int(m.group(1)))
    bad = set()
    blocks = re.split(r"\n(?=\?Error)", out)
    for b in blocks:
        if b.startswith("?Error"):
            lm = _LABEL.search(b[:300])
            if lm:
                bad.add(lm.group(1))
    ok = read_errors == 0 and "?Error" not in out and "?Source was not read" not in out
    return Verdict(ok=ok, read_errors=read_errors, bad_labels=bad, output=out)
