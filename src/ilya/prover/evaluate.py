"""Proving many theorems: policies from a spec, verified proofs, Ray workers, metamath-exe checks.

`prove` searches a list of theorem labels of a database and returns one row per theorem; a proof is
kept only if ``ilya.metamath`` accepts it (a refused one would be a kernel bug, and is counted).
`prove_distributed` spreads the labels over Ray workers (each loads the database and the policy once;
inference is batched across the searches a worker runs in lockstep).  `check_with_metamath_exe` checks
proofs with Debian's ``metamath`` binary, independently of our kernel.
"""

from __future__ import annotations

import json
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ilya.core.errors import IlyaError
from ilya.core.figures import draw_run
from ilya.core.progress import progress
from ilya.core.runs import Run
from ilya.metamath import Database, MetamathError, load
from ilya.prover.config import DEFAULT_DATA, EvalConfig, Split
from ilya.prover.dataset import load_database, pick_theorems, split_flags, split_labels
from ilya.prover.kernel import Kernel
from ilya.prover.policies import make_policy, model_dir, policy_spec
from ilya.prover.search import Policy, SearchConfig, SearchResult, search_many


def result_row(kernel: Kernel, r: SearchResult) -> dict[str, Any]:
    """One theorem's outcome; a found proof is assembled, verified by ilya.metamath and compressed."""
    row = r.summary()
    row["setmm_steps"] = None
    if r.proof is not None:
        labels = kernel.assemble(r.proof, r.theorem)
        try:
            kernel.verify(r.theorem, labels)
        except MetamathError as e:  # never expected: the kernel refused what it accepted step by step
            row.update(proved=False, verify_error=str(e))
            return row
        row["normal"] = labels
        row["tree"] = r.proof.to_json()
        row["proof"] = kernel.compress(r.theorem, labels)
        row["steps"] = r.proof.size()
        try:
            row["setmm_steps"] = len(kernel.db.proof_steps(r.theorem, only_provable=True))
        except Exception:
            row["setmm_steps"] = None
    return row


def prove(db: Database, policy: Policy, labels: list[str], cfg: SearchConfig, batch: int = 8,
          on_row: Callable[[dict[str, Any]], None] | None = None, forbidden: set[str] | None = None) -> list[dict[str, Any]]:
    """Search each label (its statement, database cut before it); rows in label order."""
    kernel = Kernel(db, forbidden)
    problems = [(lab, kernel.theorem(lab).goal) for lab in labels]
    rows: list[dict[str, Any]] = []

    def done(r: SearchResult) -> None:
        row = result_row(kernel, r)
        row["value_targets"] = [[" ".join(g), y] for g, y in r.value_targets]
        rows.append(row)
        if on_row is not None:
            on_row(row)

    search_many(problems, policy, kernel, cfg, batch=batch, on_result=done)
    order = {lab: i for i, lab in enumerate(labels)}
    return sorted(rows, key=lambda row: order[row["label"]])


def _shard(db_path: str, spec: dict[str, Any], labels: list[str], cfg: SearchConfig, batch: int,
           forbidden: list[str]) -> dict[str, Any]:
    """One Ray worker: load (timed apart), then search; ``{"rows", "load_seconds", "search_seconds"}``."""
    t0 = time.perf_counter()
    db = load(db_path)
    policy = make_policy(spec, db)
    t1 = time.perf_counter()
    rows = prove(db, policy, labels, cfg, batch, forbidden=set(forbidden))
    return {"rows": rows, "load_seconds": t1 - t0, "search_seconds": time.perf_counter() - t1}


def prove_distributed(db_path: str, spec: dict[str, Any], labels: list[str], cfg: SearchConfig,
                      workers: int, batch: int = 8, address: str | None = None,
                      forbidden: set[str] | None = None, on_row: Callable[[dict[str, Any]], None] | None = None,
                      timing: dict[str, float] | None = None) -> list[dict[str, Any]]:
    """`prove` over Ray workers: a local Ray with ``workers`` CPUs, or the cluster at ``address``.

    ``timing`` (if given) receives ``ray_start_seconds``, ``load_seconds`` (the slowest worker's loading of
    the database and the policy) and ``search_seconds`` (the slowest worker's search).
    """
    import ray

    t0 = time.perf_counter()
    started = False
    if not ray.is_initialized():
        kw: dict[str, Any] = {"address": address} if address else {"num_cpus": workers}
        ray.init(include_dashboard=False, log_to_driver=False, ignore_reinit_error=True,
                 runtime_env={"env_vars": {"OMP_NUM_THREADS": "1"}}, **kw)
        started = True
    try:
        remote = ray.remote(num_cpus=1)(_shard)
        shards = [labels[i::workers] for i in range(workers)]
        ray_start = time.perf_counter() - t0
        refs = [remote.remote(db_path, spec, s, cfg, batch, sorted(forbidden or ())) for s in shards if s]
        rows: list[dict[str, Any]] = []
        loads, searches = [0.0], [0.0]
        pending = list(refs)
        while pending:
            ready, pending = ray.wait(pending, num_returns=1)
            for part in ray.get(ready):
                rows += part["rows"]
                loads.append(part["load_seconds"])
                searches.append(part["search_seconds"])
                if on_row is not None:
                    for row in part["rows"]:
                        on_row(row)
        if timing is not None:
            timing.update(ray_start_seconds=ray_start, load_seconds=max(loads), search_seconds=max(searches))
    finally:
        if started:
            ray.shutdown()
    order = {lab: i for i, lab in enumerate(labels)}
    return sorted(rows, key=lambda row: order[row["label"]])


def metamath_exe() -> str | None:
    return shutil.which("metamath")


def check_with_metamath_exe(db: Database, proofs: dict[str, str], timeout: float = 600.0) -> dict[str, bool]:
    """Write the database with ``proofs`` (label -> compressed proof) in place, ask metamath-exe to verify
    each of those labels; True where it reports no error."""
    exe = metamath_exe()
    if exe is None:
        raise IlyaError("metamath-exe not found: install the Debian package `metamath` (scripts/setup.sh)")
    if not proofs:
        return {}
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "checked.mm"
        db.write(path, replacements=dict(proofs))
        cmds = [f'read "{path}"'] + [f"verify proof {lab}" for lab in proofs] + ["exit"]
        script = Path(tmp) / "cmds"
        script.write_text("\n".join(["set width 9999", "set scroll continuous", *cmds]) + "\n")
        p = subprocess.run([exe, f'submit "{script}"', "exit"], capture_output=True, text=True,
                           timeout=timeout, cwd=tmp, env={**os.environ, "TERM": "dumb"})
        text = p.stdout + p.stderr
    if "?Error" in text.split("verify proof")[0] or "verify proof" not in text:
        raise IlyaError("metamath-exe could not read the database: " + text[-300:].strip())
    out: dict[str, bool] = {}
    chunks = text.split("MM> verify proof ")[1:]
    for chunk in chunks:
        lab = chunk.split()[0]
        out[lab] = not re.search(r"\?(Error|Warning)", chunk)
    for lab in proofs:
        out.setdefault(lab, False)
    return out


def verify_file_with_metamath_exe(path: Path, timeout: float = 1200.0) -> tuple[bool, str]:
    """metamath-exe reads ``path`` and verifies every proof in it (``verify proof *``): (no error, the
    last lines of its report)."""
    exe = metamath_exe()
    if exe is None:
        raise IlyaError("metamath-exe not found: install the Debian package `metamath` (scripts/setup.sh)")
    path = Path(path).resolve()
    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp) / "cmds"
        script.write_text("\n".join(["set width 9999", "set scroll continuous", f'read "{path}"',
                                     "verify proof *", "exit"]) + "\n")
        p = subprocess.run([exe, f'submit "{script}"', "exit"], capture_output=True, text=True, timeout=timeout,
                           cwd=tmp, env={**os.environ, "TERM": "dumb"})
    text = p.stdout + p.stderr
    ok = ("All proofs in the database were verified" in text) and not re.search(r"\?(Error|Warning)", text)
    return ok, "\n".join(text.strip().splitlines()[-3:])


# ---------------------------------------------------------------------------- the eval command
def summarize(rows: list[dict[str, Any]], cfg: EvalConfig, flags: dict[str, list[str]] | None = None
              ) -> dict[str, Any]:
    """The figures of an evaluation (what `ilya prover eval --json` prints).

    ``proved_pct`` is over every theorem attempted (the paper's split); with ``flags`` (label -> why it is
    not clean, `ilya.prover.dataset.split_flags`) ``clean_proved_pct`` is over the clean ones among them.
    """
    from collections import Counter

    n = len(rows)
    proved = [r for r in rows if r["proved"]]
    counts: Counter = Counter()
    for r in rows:
        for k, v in r.items():
            if k.startswith("rejected:") or k in ("sampled", "unique", "accepted"):
                counts[k] += v
    model_t = sum(r["model_time"] for r in rows)
    kernel_t = sum(r["kernel_time"] for r in rows)
    shorter = [r for r in proved if r.get("setmm_steps") and r["steps"] < r["setmm_steps"]]
    out = {
        "attempted": n, "proved": len(proved), "proved_pct": round(100.0 * len(proved) / max(n, 1), 2),
        "expansions": sum(r["expansions"] for r in rows),
        "mean_expansions": round(sum(r["expansions"] for r in rows) / max(n, 1), 2),
        "e": cfg.e, "d": cfg.d, "time_limit": cfg.time_limit if math.isfinite(cfg.time_limit) else None,
        "priority": cfg.priority,
        "policy": getattr(cfg, "policy", "model"), "split": getattr(cfg, "split", None),
        "model_seconds": round(model_t, 2),
        "kernel_seconds": round(kernel_t, 2),
        "kernel_fraction": round(kernel_t / max(model_t + kernel_t, 1e-9), 4),
        "shorter_than_setmm": len(shorter),
        "verify_failures": sum(1 for r in rows if "verify_error" in r),
        "stopped": dict(sorted(Counter(r.get("stopped", "") for r in rows).items())),
        **{k: int(v) for k, v in sorted(counts.items())},
    }
    judged = [r for r in rows if r["label"] in flags] if flags is not None else []
    if flags is not None and judged:
        clean = [r for r in judged if not flags[r["label"]]]
        out.update(clean_attempted=len(clean), clean_proved=sum(r["proved"] for r in clean),
                   clean_proved_pct=round(100.0 * sum(r["proved"] for r in clean) / max(len(clean), 1), 2),
                   flagged_attempted=len(judged) - len(clean),
                   flagged_proved=sum(r["proved"] for r in judged if flags[r["label"]]))
    return out


def _flags(data: Path, cfg: EvalConfig) -> dict[str, list[str]] | None:
    """Clean flags of the split evaluated (of valid and test with ``--labels``); None when not flagged."""
    out: dict[str, list[str]] = {}
    splits: list[Split] = [cfg.split] if not cfg.labels else ["valid", "test"]
    for split in splits:
        if split == "train":
            continue
        try:
            out.update(split_flags(data, split))
        except IlyaError:
            if cfg.clean:
                raise
            print(f"warning: {data}: the {split} split has no clean flags (`ilya prover dataset --clean-only`); "
                  "% proved is on the paper's split only", file=sys.stderr)
    return out or None


def eval_data(cfg: EvalConfig) -> Path:
    """``--data``, else the dataset the model was trained on, else data/prover/set.mm."""
    if cfg.data is not None:
        return cfg.data
    if cfg.policy == "model" and cfg.model:
        meta_path = model_dir(cfg.model, cfg.runs_dir) / "model.json"
        try:
            data = json.loads(meta_path.read_text()).get("data")
        except (OSError, json.JSONDecodeError):
            data = None  # load_model reports a broken model.json
        if data:
            return Path(data)
    return DEFAULT_DATA


def eval_command(cfg: EvalConfig) -> dict[str, Any]:
    """`ilya prover eval`: the policy the flags name, then `run_eval`."""
    data = eval_data(cfg)
    spec = policy_spec(cfg.policy, cfg.model, data, cfg.runs_dir, device=cfg.device,
                       temperature=cfg.temperature, decode=cfg.decode, threads=cfg.threads, seed=cfg.seed)
    return run_eval(cfg, spec, data)


def run_eval(cfg: EvalConfig, spec: dict[str, Any], data: Path | None = None) -> dict[str, Any]:
    """Search, verify, write ``proofs.jsonl``/``results.jsonl``, plots, summary."""
    data = data if data is not None else (cfg.data or DEFAULT_DATA)
    if cfg.priority == "value" and spec["kind"] != "model":
        raise IlyaError("--priority value needs a trained model (the baseline has no value function)")
    t_load = time.perf_counter()
    db = load_database(cfg.db, data)
    flags = _flags(data, cfg)
    if cfg.labels:
        labels = list(cfg.labels)
    else:
        labels = pick_theorems(split_labels(data, cfg.split, clean=cfg.clean), cfg.limit)
    for lab in labels:
        if lab not in db or db[lab].kind != "p":
            raise IlyaError(f"{lab} is not a $p theorem of {db.path}")
    scfg = SearchConfig(e=cfg.e, d=cfg.d, time_limit=cfg.time_limit, priority=cfg.priority)
    load_s = time.perf_counter() - t_load
    with Run.open("prover", cfg) as run:
        res_path, proofs_path = run.path / "results.jsonl", run.path / "proofs.jsonl"
        rows: list[dict[str, Any]] = []
        if res_path.is_file():  # resume: theorems already searched are kept
            rows = [json.loads(x) for x in res_path.read_text().splitlines() if x.strip()]
        done = {r["label"] for r in rows}
        todo = [lab for lab in labels if lab not in done]
        bar = progress(total=len(labels), initial=len(done), desc=f"prove {cfg.split}")

        def on_row(row: dict[str, Any]) -> None:
            slim = {k: v for k, v in row.items() if k != "normal"}
            if flags is not None and row["label"] in flags:
                slim["clean"] = not flags[row["label"]]
            with open(res_path, "a", encoding="utf-8") as f:
                f.write(json.dumps(slim) + "\n")
            if row["proved"]:
                with open(proofs_path, "a", encoding="utf-8") as f:
                    f.write(json.dumps({"label": row["label"], "proof": row["proof"], "steps": row["steps"],
                                        "setmm_steps": row["setmm_steps"]}) + "\n")
            rows.append(slim)
            bar.update(1)
            run.log(len(rows), **{"eval/proved_pct": 100.0 * sum(r["proved"] for r in rows) / len(rows)})

        timing: dict[str, float] = {}
        if todo:
            if cfg.workers > 1 or cfg.address:
                prove_distributed(str(db.path), spec, todo, scfg, cfg.workers, cfg.batch, cfg.address,
                                  on_row=on_row, timing=timing)
                timing["load_seconds"] += load_s
            else:
                t0 = time.perf_counter()
                policy = make_policy(spec, db)  # the model, the assertion index, the baseline's table
                t1 = time.perf_counter()
                prove(db, policy, todo, scfg, cfg.batch, on_row=on_row)
                timing.update(load_seconds=load_s + t1 - t0, search_seconds=time.perf_counter() - t1)
        bar.close()
        rows = [r for r in rows if r["label"] in set(labels)]
        figures = summarize(rows, cfg, flags)
        figures["database"] = str(db.path)
        figures["clean_only"] = cfg.clean
        if todo:  # search throughput of this invocation, loading apart (lockstep searches overlap: walls don't add)
            new = [r for r in rows if r["label"] in set(todo)]
            search_s = max(timing["search_seconds"], 1e-9)
            figures.update({k: round(v, 3) for k, v in timing.items()})
            figures["expansions_per_s"] = round(sum(r["expansions"] for r in new) / search_s, 2)
            figures["theorems_per_min"] = round(60 * len(new) / search_s, 2)
        figures["workers"] = cfg.workers
        if cfg.metamath_exe:
            proofs = {r["label"]: r["proof"] for r in rows if r["proved"]}
            ok = check_with_metamath_exe(db, proofs)
            figures["metamath_exe_checked"] = len(ok)
            figures["metamath_exe_accepted"] = sum(ok.values())
        summary = run.summary(**figures)
        draw_run(run)  # % proved vs budget, proof lengths: ilya.prover.plots
    if not cfg.json:
        clean = (f" (clean: {figures['clean_proved']}/{figures['clean_attempted']} = {figures['clean_proved_pct']}%)"
                 if "clean_attempted" in figures else "")
        print(f"prover eval ({figures['policy']}, {cfg.split}): proved {figures['proved']}/{figures['attempted']}"
              f" = {figures['proved_pct']}%{clean} with e={cfg.e}, d={cfg.d}, {cfg.time_limit:g} s/theorem; "
              f"kernel {100 * figures['kernel_fraction']:.1f}% of search time; proofs in {proofs_path}")
    return {k: summary[k] for k in figures}
