"""``ilya metamath ...``: verify a database, show a proof, database statistics."""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

import tyro

from ilya.metamath.database import DEFAULT_DB, DEFAULT_DIR
from ilya.metamath.errors import MetamathError


@dataclass
class VerifyConfig:
    """Verify every proof of a Metamath file (exit 0: all verify, 1: some proof is wrong, 2: unreadable)."""

    file: Annotated[Path, tyro.conf.Positional] = DEFAULT_DB
    """the .mm file (default: Debian's set.mm)"""
    label: list[str] = field(default_factory=list)
    """verify only these $p labels"""
    jobs: int = 1
    """parallel worker processes"""
    backend: Literal["auto", "fast", "python"] = "auto"
    """auto (compiled core when built, else python), fast or python"""
    json: bool = False
    """print one JSON object instead of text"""


def verify_command(cfg: VerifyConfig) -> int | dict[str, Any]:
    from ilya.metamath.check import verify_file

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
    import json

    sys.stdout.write(json.dumps(out) + "\n")
    return 1 if report.failures else 0


@dataclass
class ShowConfig:
    """Show a statement, its frame and its proof (normal, compressed, or as GPT-f steps)."""

    label: Annotated[str, tyro.conf.Positional]
    """the statement's label"""
    db: Path = DEFAULT_DB
    """the .mm file"""
    format: Literal["steps", "tree", "normal", "compressed"] = "steps"
    """steps (GPT-f |- steps: goal, label, substitution), tree (all steps, syntax included), normal or
    compressed"""
    limit: int = 40
    """print at most this many steps"""
    json: bool = False
    """print one JSON object instead of text"""


def show_command(cfg: ShowConfig) -> dict[str, Any] | None:
    from ilya.metamath import load
    from ilya.metamath.gptf import format_step

    db = load(cfg.db)
    st = db[cfg.label]
    info: dict[str, Any] = {"label": st.label, "kind": st.kind, "expr": " ".join(st.expr),
                            "hyps": [f"{h} ${db[h].kind} {' '.join(db[h].expr)}" for h in st.hyps],
                            "dvs": [list(p) for p in sorted(st.dvs)]}
    if st.kind == "p":
        if cfg.format == "normal":
            info["proof"] = db.proof(st.label)
        elif cfg.format == "compressed":
            info["proof"] = db.compress(db.proof(st.label), st.label)
        elif cfg.format in ("steps", "tree"):
            steps = db.proof_steps(st.label, only_provable=cfg.format == "steps")
            info["proof"] = [format_step(s) for s in steps]
        else:
            raise MetamathError(f"--format {cfg.format}: expected steps, normal, compressed or tree")
    if cfg.json:
        return info
    print(f"{st.label} ${st.kind} {info['expr']}")
    for h in info["hyps"]:
        print(f"  hyp {h}")
    if info["dvs"]:
        print("  $d " + ", ".join(" ".join(p) for p in info["dvs"]))
    proof = info.get("proof")
    if isinstance(proof, str):
        print(proof)
    elif proof:
        for line in proof[:cfg.limit]:
            print(f"  {line}")
        if len(proof) > cfg.limit:
            print(f"  ... {len(proof) - cfg.limit} more")
    return None


@dataclass
class StatsConfig:
    """Statement counts, proof lengths and their distributions (plots written under --out)."""

    db: Path = DEFAULT_DB
    """the .mm file"""
    out: Path | None = None
    """folder for the PNG plots (default: no plots)"""
    json: bool = False
    """print one JSON object instead of text"""


def stats_command(cfg: StatsConfig) -> dict[str, Any] | None:
    from ilya.metamath import load
    from ilya.metamath.stats import database_stats, plot_stats

    db = load(cfg.db)
    stats = database_stats(db)
    plots = [str(p) for p in plot_stats(stats, cfg.out, title=cfg.db.name)] if cfg.out else []
    summary = {k: v for k, v in stats.items() if not isinstance(v, list)}
    summary["plots"] = plots
    if cfg.json:
        return summary
    for k, v in summary.items():
        if k != "plots":
            print(f"{k:>28}: {v:.1f}" if isinstance(v, float) else f"{k:>28}: {v}")
    for p in plots:
        print(p)
    return None


COMMANDS = {
    "verify": (VerifyConfig, verify_command),
    "show": (ShowConfig, show_command),
    "stats": (StatsConfig, stats_command),
}


def demo(runs_dir: Path) -> None:
    """Verify real databases, show a set.mm proof as GPT-f steps, write statistics plots to a run."""
    from ilya.core.runs import Run
    from ilya.metamath import load
    from ilya.metamath.check import verify_file
    from ilya.metamath.gptf import format_step
    from ilya.metamath.stats import database_stats, plot_stats

    @dataclass
    class DemoRun:
        runs_dir: Path = Path("runs")
        run: str = "demo"
        fresh: bool = True
        seed: int = 0

    with Run.open("metamath", DemoRun(runs_dir=runs_dir), name="demo", seed=False) as run:
        figures: dict[str, Any] = {}
        for name in ("iset.mm", "set.mm"):
            path = DEFAULT_DIR / name
            if not path.exists():
                print(f"{path} missing (apt install metamath-databases)")
                continue
            t0 = time.perf_counter()
            rep = verify_file(path)
            wall = time.perf_counter() - t0
            print(f"{name}: verified {rep.checked - len(rep.failures)} proofs in {wall:.1f} s "
                  f"({rep.backend} backend), {len(rep.failures)} wrong")
            figures[f"{name}/verified"] = rep.checked - len(rep.failures)
            figures[f"{name}/seconds"] = round(wall, 2)
        db = load(DEFAULT_DB)
        thm = "id" if "id" in db else db.theorems()[0].label
        print(f"\n{thm}: {' '.join(db[thm].expr)}; its proof as GPT-f training steps:")
        for s in db.proof_steps(thm, only_provable=True):
            print("  " + format_step(s))
        step = db.proof_steps(thm, only_provable=True)[0]
        subgoals = db.apply(step.goal, step.label, step.subst, before=thm)
        print(f"\napply({step.label}) to '{' '.join(step.goal)}' gives {len(subgoals)} subgoals:")
        for g in subgoals:
            print("  " + " ".join(g))
        # write set.mm back with this proof recompressed; check the file with both verifiers
        db.with_proof(thm, db.proof(thm))
        out = db.write(run.path / "set_rewritten.mm")
        rep = verify_file(out)
        print(f"\nwrote {out} ({thm}'s proof replaced): ilya verified {rep.checked - len(rep.failures)} "
              f"proofs, {len(rep.failures)} wrong")
        figures["rewritten/ok"] = rep.ok
        import shutil
        import subprocess

        if shutil.which("metamath"):
            res = subprocess.run(["metamath", f'read "{out.name}"', "verify proof *", "exit"], cwd=out.parent,
                                 capture_output=True, text=True)
            ok = "?Error" not in res.stdout and "All proofs in the database were verified" in res.stdout
            print(f"metamath-exe on the rewritten file: {'all proofs verified' if ok else 'ERRORS'}")
            figures["rewritten/metamath_exe_ok"] = ok
        out.unlink()
        stats = database_stats(db)
        import json

        (run.path / "stats.json").write_text(json.dumps(stats))
        for p in plot_stats(stats, run.plots_dir, title="set.mm"):
            print(f"plot: {p}")
        figures.update({k: v for k, v in stats.items() if not isinstance(v, list)})
        run.summary(**figures)


def replot(run) -> list[Path]:
    """Redraw the statistics plots of a run that saved ``stats.json`` (the demo does)."""
    import json

    from ilya.metamath.stats import plot_stats

    path = run.path / "stats.json"
    if not path.exists():
        return []
    return plot_stats(json.loads(path.read_text()), run.plots_dir, title="set.mm")
