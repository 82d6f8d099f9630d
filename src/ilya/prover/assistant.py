"""The proof assistant (paper §5.3): suggest next steps for a goal, prove one statement."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from ilya.core.errors import IlyaError
from ilya.metamath import Database, load
from ilya.prover.config import ProveConfig, SuggestConfig
from ilya.prover.dataset import load_database
from ilya.prover.evaluate import result_row
from ilya.prover.format import ProofStep, step_text
from ilya.prover.kernel import Kernel
from ilya.prover.policies import make_policy, policy_spec
from ilya.prover.search import Policy, SearchConfig, StepRejected, search


def _policy(cfg: SuggestConfig | ProveConfig, db: Database) -> Policy:
    """The trained model of ``--model``, else the frequency baseline of ``--data``."""
    spec = policy_spec("model" if cfg.model else "frequency", cfg.model, cfg.data, cfg.runs_dir, threads=0,
                       seed=cfg.seed)
    return make_policy(spec, db)


def _target(db: Database, kernel: Kernel, target: str) -> tuple[str, tuple[str, ...]]:
    """A theorem label, or a goal expression (proved with the whole database available)."""
    if target in db:
        st = db[target]
        if st.kind not in ("p", "a", "e"):
            raise IlyaError(f"{target} is a ${st.kind} statement, not a theorem")
        return target, tuple(st.expr)
    goal = tuple(target.split())
    if len(goal) < 2 or goal[0] in ("wff", "class", "setvar") or goal[0] not in db.constants:
        raise IlyaError(f"{target!r}: expected a theorem label or a goal such as '|- ( ph -> ph )'")
    if not db.parses(goal):
        raise IlyaError(f"{target!r} does not parse with the database's syntax")
    label = "<goal>"
    kernel.add_statement(label, goal, {}, len(db.statements))
    return label, goal


def suggest(cfg: SuggestConfig) -> dict[str, Any]:
    """`ilya prover suggest`: the ``k`` most probable next steps, each tried by the kernel."""
    db = load_database(cfg.db, cfg.data)
    kernel = Kernel(db)
    label, goal = _target(db, kernel, cfg.target)
    policy = _policy(cfg, db)
    cands = policy.propose([goal], cfg.e, [label])[0]
    best: dict[ProofStep, float] = {}
    malformed = 0
    for step, lp in cands:
        if step is None:
            malformed += 1
        elif lp > best.get(step, -math.inf):
            best[step] = lp
    rows = []
    for step, lp in sorted(best.items(), key=lambda x: -x[1])[:cfg.k]:
        try:
            subgoals = [" ".join(g) for g in kernel.expand(label, goal, step)]
            status = "ok"
        except StepRejected as r:
            subgoals, status = [], f"rejected ({r.reason}: {r.detail})" if r.detail else f"rejected ({r.reason})"
        rows.append({"step": step_text(step), "logprob": round(lp, 3), "status": status, "subgoals": subgoals})
    if not cfg.json:
        print(f"goal: {' '.join(goal)}")
        for i, r in enumerate(rows, 1):
            print(f"{i:2}. [{r['logprob']:7.2f}] {r['step']}   {r['status']}")
            for g in r["subgoals"]:
                print(f"        -> {g}" + ("   (hypothesis)" if kernel.hypothesis(label, tuple(g.split())) else ""))
        if malformed:
            print(f"({malformed} of {cfg.e} samples were not well-formed steps)")
    return {"goal": " ".join(goal), "suggestions": rows, "malformed": malformed}


def prove_one(cfg: ProveConfig) -> dict[str, Any] | int:
    """Prove a database theorem, or the last ``$p`` of a .mm file (its proof may be ``?``)."""
    if cfg.target.endswith(".mm"):
        path = Path(cfg.target)
        if not path.is_file():
            raise IlyaError("no such file", file=path)
        db = load(path)
        thms = db.theorems()
        if not thms:
            raise IlyaError("no $p statement to prove in this file", file=path)
        label = thms[-1].label
    else:
        db = load_database(cfg.db, cfg.data)
        label = cfg.target
        if label not in db or db[label].kind != "p":
            raise IlyaError(f"{label} is not a $p theorem of {db.path}")
    kernel = Kernel(db)
    policy = _policy(cfg, db)
    r = search(label, kernel.theorem(label).goal, policy, kernel,
               SearchConfig(e=cfg.e, d=cfg.d, time_limit=cfg.time_limit, priority=cfg.priority))
    row = result_row(kernel, r)
    if not cfg.json:
        if row["proved"]:
            print(f"{label} proved in {r.expansions} expansions ({r.wall:.1f} s), {row['steps']} steps"
                  + (f" (set.mm: {row['setmm_steps']})" if row.get("setmm_steps") else "") + "; verified.")
            print(f"    {label} $p {' '.join(db[label].expr)} $=")
            print(row["proof"])
        else:
            print(f"{label}: no proof found ({r.stopped}, {r.expansions} expansions, {r.wall:.1f} s)")
    out = {k: v for k, v in row.items() if k != "normal"}
    return out if row["proved"] or cfg.json else 1
