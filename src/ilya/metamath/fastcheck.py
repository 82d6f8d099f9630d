# pyright: strict
"""Verifying a file with the compiled core (`ilya.metamath._fast`), messages from the Python reference.

The core only decides: the file parses or not, each proof verifies, fails or is incomplete.  When it
rejects something, the Python parser/verifier is run on it to say where and why, so both backends print
the same messages.  ``jobs > 1`` forks workers after parsing (the parsed core is shared copy-on-write)
and gives each an interleaved share of the theorems.
"""

from __future__ import annotations

import multiprocessing
import os
from pathlib import Path

from ilya.metamath._fast import Core, FastParseError
from ilya.metamath.batch import VerifyReport, split_chunks
from ilya.metamath.errors import MetamathError

_core: Core | None = None


def _chunk(indices: list[int]) -> tuple[list[int], list[int]]:
    assert _core is not None
    return _core.verify(indices)


def parse_fast(path: Path) -> Core:
    core = Core()
    try:
        core.parse(str(path))
    except FastParseError as e:
        from ilya.metamath.database import load

        load(path)  # raises the reference error message
        raise MetamathError(f"compiled core rejects the file ({e.reason}) but the Python parser accepts "
                            "it; please report this", file=e.name) from None
    return core


def verify_file_fast(path: Path, labels: list[str] | None = None, jobs: int = 1) -> VerifyReport:
    global _core
    if not path.exists():
        raise MetamathError("no such file", file=str(path))
    core = parse_fast(path)
    if labels is None:
        todo = core.theorems()
    else:
        todo: list[int] = []
        for lab in labels:
            k = core.index_of(lab)
            if k < 0:
                raise MetamathError(f"--label {lab}: no such statement", file=str(path))
            if core.kind_of(k) != "p":
                raise MetamathError(f"--label {lab}: a ${core.kind_of(k)} statement, not a $p", file=str(path))
            todo.append(k)
    _core = core
    try:
        if jobs > 1 and len(todo) > 1 and "fork" in multiprocessing.get_all_start_methods():
            ctx = multiprocessing.get_context("fork")
            with ctx.Pool(min(jobs, os.cpu_count() or jobs)) as pool:
                results = pool.map(_chunk, split_chunks(todo, jobs))
        else:
            results = [core.verify(todo)]
    finally:
        _core = None
    fails = sorted(k for r in results for k in r[0])
    incomplete = sorted(k for r in results for k in r[1])
    report = VerifyReport(checked=len(todo), backend="fast")
    report.warnings = [f"{core.label_of(k)}: proof is incomplete ('?' steps)" for k in incomplete]
    if fails:
        from ilya.metamath.database import load

        db = load(path)
        for k in fails:
            lab = core.label_of(k)
            try:
                db.verify(lab)
                msg = f"{lab}: compiled core rejects this proof but the Python verifier accepts it"
            except MetamathError as e:
                msg = str(e)
            report.failures.append((lab, msg))
    return report
