"""Shorter proofs (paper §5.2): search set.mm theorems for proofs with fewer steps than set.mm's own.

The search keeps going after its first proof (``stop_at_first=False``) and extracts the proof with the
fewest steps from everything it found.  A proof is kept when it is shorter than set.mm's (counted the
same way: ``|-`` steps of the expanded proof), both our kernel and metamath-exe accept it in place, and it
uses no axiom that the original proof does not already depend on.  Statements and ``$d``s are untouched
(the search is cut at the theorem and checks ``$d`` against the theorem's own).  As for GPT-f's
contributions, theorems marked "(Proof modification is discouraged.)" are not tried and labels marked
"(New usage is discouraged.)" are not cited.  The result is written as
``shorter.patch``, a unified diff against the database, and ``shorter.jsonl``.

Theorems whose set.mm proof has at most one ``|-`` step cannot get shorter and are not searched;
``--min-setmm-steps`` / ``--max-setmm-steps`` leave out more (the budget goes where proofs are found).
``--offset`` continues over more of a split without redoing theorems, and ``--combine RUN ...`` merges
the kept proofs of several runs into one patch that metamath-exe verifies whole (`combine`).
"""

from __future__ import annotations

import json
import subprocess
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from ilya.core.errors import IlyaError
from ilya.core.progress import progress
from ilya.core.runs import Run
from ilya.metamath import Database, MetamathError, Statement, load
from ilya.prover.config import ShortenConfig
from ilya.prover.dataset import load_database, pick_theorems, setmm_step_counts, split_labels
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


def pick(cfg: ShortenConfig) -> list[str]:
    """The theorems a run tries: ``--labels``, else ``--limit`` of the split's fixed order after ``--offset``."""
    if cfg.labels:
        return list(cfg.labels)
    order = pick_theorems(split_labels(cfg.data, cfg.split), cfg.offset + cfg.limit if cfg.limit else 0)
    return order[cfg.offset:]


def _write_patch(folder: Path, db: Database, proofs: dict[str, str], verify: bool) -> dict[str, Any]:
    """``shorter.patch``: a unified diff of set.mm with ``proofs`` put in (empty when there are none);
    with ``verify``, metamath-exe checks every proof of the patched database and its verdict is returned."""
    patch, whole = folder / "shorter.patch", {}
    if not proofs:
        patch.write_text("")
        return whole
    new = folder / "set.shorter.mm"
    db.write(new, replacements=proofs)
    diff = subprocess.run(["diff", "-u", str(db.path), str(new)], capture_output=True, text=True)
    patch.write_text(diff.stdout)
    if verify:
        t0 = time.perf_counter()
        ok, tail = verify_file_with_metamath_exe(new)
        whole = {"patch_verified_by_metamath_exe": ok,
                 "patch_verify_seconds": round(time.perf_counter() - t0, 1), "patch_verify_report": tail}
    new.unlink()
    return whole


def shorten(cfg: ShortenConfig) -> dict[str, Any]:
    if cfg.combine is not None:
        return combine(cfg)
    db = load_database(cfg.db, cfg.data)
    assert db.path is not None
    no_modify, no_usage = discouraged_labels(db.path)
    labels = pick(cfg)
    skipped = [lab for lab in labels if lab in no_modify]
    labels = [lab for lab in labels if lab not in no_modify]
    theirs = setmm_step_counts(cfg.data)  # labels not in the dataset are always tried
    one_step = [lab for lab in labels if theirs.get(lab, 2) <= 1]  # nothing shorter than one step
    lo, hi = cfg.min_setmm_steps, cfg.max_setmm_steps or float("inf")
    out_of_range = [lab for lab in labels if lab in theirs and not lo <= theirs[lab] <= hi and lab not in one_step]
    labels = [lab for lab in labels if lab not in theirs or lo <= theirs[lab] <= hi]
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
        rejections += [{"label": lab, "reason": "already one step", "setmm_steps": theirs[lab]} for lab in one_step]
        rejections += [{"label": lab, "reason": "outside the step range", "setmm_steps": theirs[lab]}
                       for lab in out_of_range]
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
        whole = _write_patch(run.path, db, {r["label"]: r["proof"] for r in kept}, cfg.verify_patch)
        with open(run.path / "shorter.jsonl", "w") as f:
            for r in kept:
                f.write(json.dumps({"label": r["label"], "proof": r["proof"], "steps": r["steps"],
                                    "setmm_steps": r["setmm_steps"]}) + "\n")
        figures = {"attempted": len(rows), "skipped_modification_discouraged": len(skipped),
                   "skipped_one_step": len(one_step), "skipped_step_range": len(out_of_range),
                   "proved": len(proved), "shorter_found": len(shorter),
                   "shorter_verified": len(kept), "metamath_exe_accepted": sum(exe_ok.values()),
                   "rejected": dict(Counter(rej["reason"] for rej in rejections)),
                   "paper_shorter_proofs": 23, "e": cfg.e, "d": cfg.d, "policy": kind, **whole}
        run.summary(**figures)
    if not cfg.json:
        print(f"prover shorten: {len(proved)}/{len(rows)} proved, {len(shorter)} shorter than set.mm, "
              f"{len(kept)} kept (both verifiers, no new axioms); patch: {run.path / 'shorter.patch'}"
              + ("" if not whole else f" (the patched database: metamath-exe "
                 f"{'verified every proof' if whole['patch_verified_by_metamath_exe'] else 'found errors'})"))
        for r in kept:
            print(f"  {r['label']}: {r['steps']} steps (set.mm: {r['setmm_steps']})")
    return figures


def combine(cfg: ShortenConfig) -> dict[str, Any]:
    """One patch from the kept proofs of several shorten runs (``--combine RUN ...``).

    A label kept by more than one run keeps its proof with the fewest steps.  Every merged proof is
    checked again in the patched database, by our kernel and by metamath-exe (a refused one is dropped,
    with the reason "verifier"), and then metamath-exe verifies every proof of the patched database.
    The rejection tallies of the runs are summed.
    """
    assert cfg.combine is not None
    db = load_database(cfg.db, cfg.data)
    assert db.path is not None
    best: dict[str, dict[str, Any]] = {}
    tallies: Counter[str] = Counter()
    attempted = 0
    sources: list[str] = []
    for ref in cfg.combine:
        src = Run.load(ref, cfg.runs_dir, system="prover")
        kept = src.path / "shorter.jsonl"
        theirs_db = src.config.get("db")
        if (Path(theirs_db).resolve() if theirs_db else None) != (Path(cfg.db).resolve() if cfg.db else None):
            raise IlyaError(f"run {ref!r} searched --db {theirs_db}, not {cfg.db}: its proofs belong to that database",
                            file=src.path / "config.json")
        if not kept.is_file():
            raise IlyaError(f"run {ref!r} has no shorter.jsonl: not a finished `ilya prover shorten` run", file=kept)
        for i, line in enumerate(kept.read_text(encoding="utf-8").splitlines(), 1):
            try:
                r = json.loads(line)
                lab, steps = str(r["label"]), int(r["steps"])
                str(r["proof"])
            except (ValueError, KeyError, TypeError) as e:
                raise IlyaError(f"not a kept-proof record ({e})", file=kept, line=i) from None
            if lab not in db or db[lab].kind != "p":
                raise IlyaError(f"{lab}: not a $p theorem of {db.path}", file=kept, line=i)
            if lab not in best or steps < best[lab]["steps"]:
                best[lab] = {**r, "run": src.name}
        summary = src.path / "summary.json"
        if summary.is_file():
            figs = json.loads(summary.read_text())
            tallies.update({str(k): int(v) for k, v in figs.get("rejected", {}).items()})
            attempted += int(figs.get("attempted", 0))
        sources.append(src.name)
    rows = sorted(best.values(), key=lambda r: db[r["label"]].index)
    proofs = {r["label"]: r["proof"] for r in rows}
    with Run.open("prover", cfg) as run:
        with tempfile.TemporaryDirectory() as tmp:  # our kernel, in the patched database
            merged = Path(tmp) / "merged.mm"
            db.write(merged, replacements=proofs)
            ours = load(merged)
            ok_ours: dict[str, bool] = {}
            for lab in proofs:
                try:
                    ours.verify(lab)
                    ok_ours[lab] = True
                except MetamathError:
                    ok_ours[lab] = False
        exe_ok = check_with_metamath_exe(db, proofs) if proofs else {}
        refused = [r for r in rows if not (ok_ours[r["label"]] and exe_ok.get(r["label"]))]
        rows = [r for r in rows if ok_ours[r["label"]] and exe_ok.get(r["label"])]
        with open(run.path / "rejections.jsonl", "w") as f:
            for r in refused:
                f.write(json.dumps({"label": r["label"], "reason": "verifier", "run": r["run"],
                                    "ours": ok_ours[r["label"]], "metamath_exe": exe_ok.get(r["label"], False)}) + "\n")
        whole = _write_patch(run.path, db, {r["label"]: r["proof"] for r in rows}, cfg.verify_patch)
        with open(run.path / "shorter.jsonl", "w") as f:
            for r in rows:
                f.write(json.dumps({"label": r["label"], "proof": r["proof"], "steps": r["steps"],
                                    "setmm_steps": r["setmm_steps"], "run": r["run"]}) + "\n")
        tallies.update({"verifier": len(refused)})
        figures = {"combined_runs": sources, "attempted": attempted, "shorter_verified": len(rows),
                   "refused_on_recheck": len(refused), "rejected": dict(+tallies),
                   "paper_shorter_proofs": 23, **whole}
        run.summary(**figures)
    if not cfg.json:
        print(f"prover shorten --combine: {len(rows)} shorter proofs from {len(sources)} runs; patch: {run.path / 'shorter.patch'}"
              + ("" if not whole else f" (the patched database: metamath-exe "
                 f"{'verified every proof' if whole['patch_verified_by_metamath_exe'] else 'found errors'})"))
        for r in rows:
            print(f"  {r['label']}: {r['steps']} steps (set.mm: {r['setmm_steps']}) [{r['run']}]")
    return figures
