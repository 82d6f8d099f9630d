# pyright: strict
"""The metamath step of ``ilya demo``: verify real databases, show a set.mm proof as GPT-f steps, rewrite
set.mm and check it with metamath-exe, write the statistics and their plots to a run."""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

from ilya.core.data import metamath_database
from ilya.core.figures import draw_run
from ilya.core.runs import Run
from ilya.metamath.check import verify_file
from ilya.metamath.config import DemoConfig
from ilya.metamath.database import load
from ilya.metamath.gptf import format_step
from ilya.metamath.stats import database_stats


def demo(runs_dir: Path) -> None:
    """Verify iset.mm and set.mm, show ``id``'s proof as GPT-f steps, rewrite set.mm, draw statistics."""
    with Run.open("metamath", DemoConfig(runs_dir=runs_dir), name="demo", seed=False) as run:
        figures: dict[str, Any] = {}
        for name in ("iset.mm", "set.mm"):
            path = metamath_database(name, must_exist=False)
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
        db = load(metamath_database("set.mm"))
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
        if shutil.which("metamath"):
            res = subprocess.run(["metamath", f'read "{out.name}"', "verify proof *", "exit"], cwd=out.parent,
                                 capture_output=True, text=True)
            ok = "?Error" not in res.stdout and "All proofs in the database were verified" in res.stdout
            print(f"metamath-exe on the rewritten file: {'all proofs verified' if ok else 'ERRORS'}")
            figures["rewritten/metamath_exe_ok"] = ok
        out.unlink()
        stats = database_stats(db)
        (run.path / "stats.json").write_text(json.dumps(stats))
        figures.update({k: v for k, v in stats.items() if not isinstance(v, list)})
        run.summary(**figures)
        for p in draw_run(run):  # the statistics plots: ilya.metamath.plots
            print(f"plot: {p}")
