# pyright: strict
"""Verifying many proofs of one parsed database in pure Python, in forked worker processes."""

from __future__ import annotations

import multiprocessing
import os
import time
from dataclasses import dataclass, field
from typing import TypeVar

from ilya.metamath.errors import MetamathError
from ilya.metamath.parse import ParsedDatabase
from ilya.metamath.verify import verify_statement

T = TypeVar("T")


@dataclass
class VerifyReport:
    """The outcome of verifying many proofs."""

    checked: int = 0
    failures: list[tuple[str, str]] = field(default_factory=lambda: [])  # (label, full message)
    warnings: list[str] = field(default_factory=lambda: [])
    seconds: float = 0.0
    backend: str = "python"

    @property
    def ok(self) -> bool:
        return not self.failures


_pool_db: ParsedDatabase | None = None


def _verify_chunk(labels: list[str]) -> tuple[int, list[tuple[str, str]], list[str]]:
    db = _pool_db
    assert db is not None
    fails: list[tuple[str, str]] = []
    warns: list[str] = []
    for lab in labels:
        try:
            warns += verify_statement(db, db.labels[lab])
        except MetamathError as e:
            fails.append((lab, str(e)))
    return len(labels), fails, warns


def split_chunks(items: list[T], jobs: int, per_job: int = 8) -> list[list[T]]:
    """Interleave work into ``jobs * per_job`` chunks of similar size (proof sizes vary along a file)."""
    n = max(1, min(len(items), jobs * per_job))
    return [items[i::n] for i in range(n)]


def verify_database(db: ParsedDatabase, jobs: int = 1, labels: list[str] | None = None) -> VerifyReport:
    """Verify every ``$p`` (or those named) in pure Python, in ``jobs`` forked processes."""
    global _pool_db
    t0 = time.perf_counter()
    todo = [s.label for s in db.statements if s.kind == "p"] if labels is None else list(labels)
    for lab in todo:
        if db[lab].kind != "p":
            raise MetamathError(f"--label {lab}: a ${db[lab].kind} statement, not a $p")
    report = VerifyReport()
    _pool_db = db
    try:
        if jobs > 1 and len(todo) > 1 and "fork" in multiprocessing.get_all_start_methods():
            ctx = multiprocessing.get_context("fork")
            with ctx.Pool(min(jobs, os.cpu_count() or jobs)) as pool:
                results = pool.map(_verify_chunk, split_chunks(todo, jobs))
        else:
            results = [_verify_chunk(todo)]
    finally:
        _pool_db = None
    order = {lab: i for i, lab in enumerate(todo)}
    for n, fails, warns in results:
        report.checked += n
        report.failures += fails
        report.warnings += warns
    report.failures.sort(key=lambda f: order[f[0]])
    report.seconds = time.perf_counter() - t0
    return report
