# pyright: strict
"""Database statistics: statement counts, proof lengths, their distributions (``ilya metamath stats``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from ilya.metamath.database import Database, Statement
from ilya.metamath.verify import SAVE, decode


def database_stats(db: Database) -> dict[str, Any]:
    """Counts and per-theorem proof figures (compressed steps, hypotheses, statement length)."""
    kinds = {"a": 0, "p": 0, "e": 0, "f": 0}
    for s in db.statements:
        kinds[s.kind] += 1
    steps: list[int] = []
    saves: list[int] = []
    lengths: list[int] = []
    nhyps: list[int] = []
    uses: dict[str, int] = {}
    axioms = sum(1 for s in db.statements if s.kind == "a" and s.expr[0] == "|-")
    for s in db.statements:
        if s.kind in ("a", "p"):
            lengths.append(len(s.expr))
            nhyps.append(sum(1 for h in s.hyps if db.labels[h].kind == "e"))
        if s.kind != "p":
            continue
        try:
            dec = decode(db, s)
        except Exception:
            continue
        steps.append(sum(1 for x in dec if x is not SAVE))
        saves.append(sum(1 for x in dec if x is SAVE))
        for x in dec:
            if isinstance(x, Statement) and x.kind in ("a", "p"):
                uses[x.label] = uses.get(x.label, 0) + 1
    arr = np.array(steps or [0])
    top = sorted(uses.items(), key=lambda kv: -kv[1])[:10]
    return {
        "statements": len(db.statements), "$a": kinds["a"], "$p": kinds["p"], "$e": kinds["e"],
        "$f": kinds["f"], "axioms (|- $a)": axioms, "syntax and definitions ($a, other)": kinds["a"] - axioms,
        "constants": len(db.constants), "variables": len(db.variables),
        "proof steps (total)": int(arr.sum()), "proof steps (mean)": float(arr.mean()),
        "proof steps (median)": float(np.median(arr)), "proof steps (max)": int(arr.max()),
        "most used": ", ".join(f"{k} ({v})" for k, v in top[:5]),
        "steps": steps, "saves": saves, "lengths": lengths, "nhyps": nhyps,
        "uses": sorted(uses.values(), reverse=True),
    }


def plot_stats(stats: dict[str, Any], out: Path, title: str = "") -> list[Path]:
    """Proof-length histogram, statement-length histogram, label-use rank plot."""
    from ilya.core.plotting import new_figure, save_figure

    out = Path(out)
    paths: list[Path] = []
    fig, ax = new_figure()
    steps = np.array(stats["steps"] or [1])
    ax.hist(steps, bins=np.logspace(0, np.log10(max(2, steps.max())), 40), color="C0")
    ax.set_xscale("log")
    ax.set_xlabel("proof steps (compressed proof, with shared subproofs counted once)")
    ax.set_ylabel("theorems")
    ax.set_title(f"{title}: proof lengths ({len(stats['steps'])} $p)")
    paths.append(save_figure(fig, out / "proof_lengths.png", curves=1))
    fig, ax = new_figure()
    ax.hist(stats["lengths"] or [0], bins=60, color="C1")
    ax.set_xlabel("symbols in the statement")
    ax.set_ylabel("assertions")
    ax.set_title(f"{title}: statement lengths")
    paths.append(save_figure(fig, out / "statement_lengths.png", curves=1))
    fig, ax = new_figure()
    uses = np.array(stats["uses"] or [1])
    ax.loglog(np.arange(1, len(uses) + 1), uses, color="C2")
    ax.set_xlabel("label rank")
    ax.set_ylabel("uses in proofs")
    ax.set_title(f"{title}: how often labels are used (Zipf plot)")
    paths.append(save_figure(fig, out / "label_uses.png"))
    return paths
