# pyright: strict
"""The functions behind ``ilya metamath verify|show|stats`` (their configs are in `ilya.metamath.config`)."""

from __future__ import annotations

import json
import sys
from typing import Any

from ilya.metamath.check import verify_file
from ilya.metamath.config import ShowConfig, StatsConfig, VerifyConfig
from ilya.metamath.database import load
from ilya.metamath.errors import MetamathError
from ilya.metamath.gptf import format_step


def verify_command(cfg: VerifyConfig) -> int:
    """Exit 0 when every proof verifies, 1 when some proof is wrong (a file that does not parse: 2)."""
    if cfg.jobs < 1:
        raise MetamathError(f"--jobs {cfg.jobs}: expected at least 1")
    report = verify_file(cfg.file, labels=cfg.label or None, jobs=cfg.jobs, backend=cfg.backend)
    if not cfg.json:
        for w in report.warnings:
            print(f"warning: {w}", file=sys.stderr)
        for _, msg in report.failures:
            print(f"error: {msg}")
        print(f"verified {report.checked - len(report.failures)} proofs in {report.seconds:.2f} s"
              + (f"; {len(report.failures)} wrong" if report.failures else ""))
        return 1 if report.failures else 0
    out = {"file": str(cfg.file), "checked": report.checked, "verified": report.checked - len(report.failures),
           "failures": [{"label": lab, "error": msg} for lab, msg in report.failures],
           "warnings": report.warnings, "seconds": report.seconds, "backend": report.backend}
    sys.stdout.write(json.dumps(out) + "\n")  # printed here: the exit code still says whether all verify
    return 1 if report.failures else 0


def show_command(cfg: ShowConfig) -> dict[str, Any] | None:
    db = load(cfg.db)
    st = db[cfg.label]
    info: dict[str, Any] = {"label": st.label, "kind": st.kind, "expr": " ".join(st.expr),
                            "hyps": [f"{h} ${db[h].kind} {' '.join(db[h].expr)}" for h in st.hyps],
                            "dvs": [list(p) for p in sorted(st.dvs)]}
    proof: str | list[str] | None = None
    if st.kind == "p":
        if cfg.format == "normal":
            proof = db.proof(st.label)
        elif cfg.format == "compressed":
            proof = db.compress(db.proof(st.label), st.label)
        else:
            steps = db.proof_steps(st.label, only_provable=cfg.format == "steps")
            proof = [format_step(s) for s in steps]
        info["proof"] = proof
    if cfg.json:
        return info
    print(f"{st.label} ${st.kind} {info['expr']}")
    for h in info["hyps"]:
        print(f"  hyp {h}")
    if st.dvs:
        print("  $d " + ", ".join(" ".join(p) for p in sorted(st.dvs)))
    if isinstance(proof, str):
        print(proof)
    elif proof:
        for line in proof[:cfg.limit]:
            print(f"  {line}")
        if len(proof) > cfg.limit:
            print(f"  ... {len(proof) - cfg.limit} more")
    return None


def stats_command(cfg: StatsConfig) -> dict[str, Any] | None:
    from ilya.metamath.stats import database_stats, plot_stats

    db = load(cfg.db)
    stats = database_stats(db)
    plots = [str(p) for p in plot_stats(stats, cfg.out, title=cfg.db.name)] if cfg.out else []
    summary: dict[str, Any] = {k: v for k, v in stats.items() if not isinstance(v, list)}
    summary["plots"] = plots
    if cfg.json:
        return summary
    for k, v in summary.items():
        if k != "plots":
            print(f"{k:>28}: {v:.1f}" if isinstance(v, float) else f"{k:>28}: {v}")
    for p in plots:
        print(p)
    return None
