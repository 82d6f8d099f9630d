# pyright: strict
"""Verifying a file end to end, with the compiled core when it is built, else the Python reference."""

from __future__ import annotations

import time
import warnings
from pathlib import Path

from ilya.metamath.batch import VerifyReport
from ilya.metamath.config import Backend
from ilya.metamath.database import load, locate
from ilya.metamath.errors import MetamathError

BACKENDS: tuple[Backend, ...] = ("auto", "fast", "python")


def fast_available() -> bool:
    """Whether the compiled core (``ilya.metamath._fast``, built by ``pip install``) imports and is not
    older than its source (an edited ``_fast.pyx`` that was not rebuilt falls back to Python)."""
    try:
        from ilya.metamath import _fast  # pyright: ignore[reportAttributeAccessIssue, reportUnknownVariableType]
    except ImportError:
        return False
    so = Path(str(_fast.__file__))  # pyright: ignore[reportUnknownMemberType, reportUnknownArgumentType]
    pyx = Path(__file__).with_name("_fast.pyx")
    if so.suffix != ".pyx" and pyx.exists() and pyx.stat().st_mtime > so.stat().st_mtime + 1:
        warnings.warn("ilya.metamath: _fast.pyx is newer than the compiled core; using the Python verifier "
                      "(rebuild with: pip install -e .)", stacklevel=2)
        return False
    return True


def verify_file(path: str | Path, labels: list[str] | None = None, jobs: int = 1,
                backend: Backend = "auto") -> VerifyReport:
    """Parse and verify ``path``; raise `MetamathError` if it does not parse, report bad proofs."""
    if backend not in BACKENDS:
        raise MetamathError(f"--backend {backend}: expected one of {', '.join(BACKENDS)}")
    if backend == "fast" and not fast_available():
        raise MetamathError("--backend fast: the compiled core is not built (pip install -e . builds it)")
    t0 = time.perf_counter()
    path = locate(path)
    if backend != "python" and fast_available():
        from ilya.metamath.fastcheck import verify_file_fast

        report = verify_file_fast(path, labels=labels, jobs=jobs)
    else:
        report = load(path).verify_all(jobs=jobs, labels=labels)
        report.backend = "python"
    report.seconds = time.perf_counter() - t0
    return report
