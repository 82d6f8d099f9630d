"""Shorter proofs (paper §5.2): search set.mm theorems for proofs with fewer steps than set.mm's own.

The search keeps going after its first proof (``stop_at_first=False``) and extracts the proof with the
fewest steps from everything it found.  A proof is kept when it is shorter than set.mm's (counted the
same way: ``|-`` steps of the expanded proof), both our kernel and metamath-exe accept it in place, and it
uses no axiom that the original proof does not already depend on.  Statements and ``$d``s are untouched
(the search is cut at the theorem and checks ``$d`` against the theorem's own).  As for GPT-f's
contributions, theorems marked "(Proof modification is discouraged.)" are not tried and labels marked
"(New usage is discouraged.)" are not cited.  The result is written as
``shorter.patch``, a unified diff against the database, and ``shorter.jsonl``.
"""

from __future__ import annotations

import json
import subprocess
import time
from collections import Counter
from typing import Any

from ilya.core.progress import progress
from ilya.core.runs import Run
from ilya.metamath import Database, Statement
from ilya.prover.config import ShortenConfig
from ilya.prover.dataset import load_database, pick_theorems, split_labels
from ilya.prover.evaluate import check_with_metamath_exe, prove, verify_file_with_metamath_exe
from ilya.prover.policies import make_policy, policy_spec
from ilya.prover.search import SearchConfig
from ilya.prover.slicing import discouraged_labels


def referenced_labels(st: Statement) -> list[str]:
    """Labels a proof cites, read from its text (the parenthesised list of a compressed proof)."""
    toks = list(st.proof_text)
    if toks and toks[0] == "(":
        return toks[1:toks.index(")")]
    return [t for t in toks if t != "?"]


def axioms_of(db: Database, label: str, memo: dict[str, frozenset[str]]) -> frozenset[str]:
    """The ``|-`` axioms a statement depends on, transitively (iterative, memoized)."""
    stack = [label]
    while stack:
        lab = stack[-1]
        if lab in memo:
            stack.pop()
            continue
        st = db[lab]
        if st.kind != "p":
            memo[lab] = frozenset([lab]) if st.kind == "a" and st.expr[0] == "|-" else frozenset()
            stack.pop()
            continue
        deps = [r for r in referenced_labels(st) if r in db]
        todo = [r for r in deps if r not in memo]
        if todo:
            stack.extend(todo)
            continue
        acc: set[str] = set()
        for r in deps:
            acc |= memo[r]
        memo[lab] = frozenset(acc)
        stack.pop()
    return memo[label]


def shorten(cfg: ShortenConfig) -> dict[str, Any]:
    db = load_database(cfg.db, cfg.data)
    assert db.path is not None
    no_modify, no_usage = discouraged_labels(db.path)
    labels = list(cfg.labels) if cfg.labels else pick_theorems(split_labels(cfg.data, cfg.split), cfg.limit)
    skipped = [lab for lab in labels if lab in no_modify]
    labels = [lab for lab in labels if lab not in no_modify]
    kind = "model" if cfg.model else "frequency"
    policy = make_policy(policy_spec(kind, cfg.model, cfg.data, cfg.runs_dir, device=cfg.device, threads=0,
                                     seed=cfg.seed), db)
    scfg = SearchConfig(e=cfg.e, d=cfg.d, time_limit=cfg.time_limit, stop_at_first=False)
    with Run.open("prover", cfg) as run:
        bar = progress(total=len(labels), desc=f"shorten {cfg.split}")
        def tick(_row: dict[str, Any]) -> None:
            bar.update(1)

        rows = prove(db, policy, labels, scfg, cfg.batch, forbidden=no_usage, on_row=tick)
        bar.close()
        proved = [r for r in rows if r["proved"]]
        rejections: list[dict[str, Any]] = [{"label": lab, "reason": "modification discouraged"} for lab in skipped]
        for r in rows:
            if not r["proved"]:
                rejections.append({"label": r["label"], "reason": "not proved", "stopped": r.get("stopped")})
            elif not (r.get("setmm_steps") and r["steps"] < r["setmm_steps"]):
                rejections.append({"label": r["label"], "reason": "not shorter", "steps": r["steps"],
                                   "setmm_steps": r.get("setmm_steps")})
        shorter = [r for r in proved if r.get("setmm_steps") and r["steps"] < r["setmm_steps"]]
        memo: dict[str, frozenset[str]] = {}
        kept = []
        for r in shorter:
            new_ax: set[str] = set()
            for lab in set(r["normal"]):
                if lab in db and db[lab].kind in ("a", "p"):
                    new_ax |= axioms_of(db, lab, memo)
            extra = new_ax - axioms_of(db, r["label"], memo)
            if extra:
                r["rejected"] = f"uses new axioms {' '.join(sorted(extra))}"
                rejections.append({"label": r["label"], "reason": "new axiom", "axioms": sorted(extra),
                                   "steps": r["steps"], "setmm_steps": r["setmm_steps"]})
                continue
            kept.append(r)
        exe_ok = check_with_metamath_exe(db, {r["label"]: r["proof"] for r in kept}) if kept else {}
        rejections += [{"label": r["label"], "reason": "verifier", "detail": "metamath.exe refused the proof",
                        "steps": r["steps"], "setmm_steps": r["setmm_steps"]} for r in kept if not exe_ok.get(r["label"])]
        kept = [r for r in kept if exe_ok.get(r["label"])]
        # discouraged labels (usage) are forbidden to the kernel during search, so no found proof cites one
        with open(run.path / "rejections.jsonl", "w") as f:
            for rej in rejections:
                f.write(json.dumps(rej) + "\n")
        patch = run.path / "shorter.patch"
        whole: dict[str, Any] = {}
        if kept:
            new = run.path / "set.shorter.mm"
            db.write(new, replacements={r["label"]: r["proof"] for r in kept})
            diff = subprocess.run(["diff", "-u", str(db.path), str(new)], capture_output=True, text=True)
            patch.write_text(diff.stdout)
            if cfg.verify_patch:  # the patched database, every proof in it, by metamath-exe
                t0 = time.perf_counter()
                ok, tail = verify_file_with_metamath_exe(new)
                whole = {"patch_verified_by_metamath_exe": ok, "patch_verify_seconds": round(time.perf_counter() - t0, 1),
                         "patch_verify_report": tail}
            new.unlink()
        else:
            patch.write_text("")
        with open(run.path / "shorter.jsonl", "w") as f:
            for r in kept:
                f.write(json.dumps({"label": r["label"], "proof": r["proof"], "steps": r["steps"],
                                    "setmm_steps": r["setmm_steps"]}) + "\n")
        figures = {"attempted": len(rows), "skipped_modification_discouraged": len(skipped),
                   "proved": len(proved), "shorter_found": len(shorter),
                   "shorter_verified": len(kept), "metamath_exe_accepted": sum(exe_ok.values()),
                   "rejected": dict(Counter(rej["reason"] for rej in rejections)),
                   "paper_shorter_proofs": 23, "e": cfg.e, "d": cfg.d, "policy": kind, **whole}
        run.summary(**figures)
    if not cfg.json:
        print(f"prover shorten: {len(proved)}/{len(rows)} proved, {len(shorter)} shorter than set.mm, "
              f"{len(kept)} kept (both verifiers, no new axioms); patch: {patch}"
              + ("" if not whole else f" (the patched database: metamath-exe "
                 f"{'verified every proof' if whole['patch_verified_by_metamath_exe'] else 'found errors'})"))
        for r in kept:
            print(f"  {r['label']}: {r['steps']} steps (set.mm: {r['setmm_steps']})")
    return figures
