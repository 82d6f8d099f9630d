"""Proving many theorems: policies from a spec, verified proofs, Ray workers, metamath-exe checks.

`prove` searches a list of theorem labels of a database and returns one row per theorem; a proof is
kept only if ``ilya.metamath`` accepts it (a refused one would be a kernel bug, and is counted).
`prove_distributed` spreads the labels over Ray workers (each loads the database and the policy once;
inference is batched across the searches a worker runs in lockstep).  `check_with_metamath_exe` checks
proofs with Debian's ``metamath`` binary, independently of our kernel.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from ilya.core.errors import IlyaError
from ilya.prover.kernel import Kernel
from ilya.prover.search import SearchConfig, SearchResult, search_many


def make_policy(spec: dict[str, Any], db: Any) -> Any:
    """A policy from its spec; the database's assertion index is built here (part of loading, not search)."""
    from ilya.prover.matching import matcher

    matcher(db)
    return _make_policy(spec, db)


def _make_policy(spec: dict[str, Any], db: Any) -> Any:
    """``{"kind": "model", "path": run/model, "device", "temperature", "decode"}`` or
    ``{"kind": "frequency", "data"}``."""
    if spec["kind"] == "model":
        import torch

        from ilya.prover.model import LMPolicy, load_model

        torch.set_num_threads(int(spec.get("threads", 1)) or 1)
        model, tok, _ = load_model(Path(spec["path"]), spec.get("device", "cpu"))
        decode = spec.get("decode", "constrained")
        pol = LMPolicy(model, tok, spec.get("device", "cpu"), temperature=spec.get("temperature", 1.0),
                       max_new_tokens=spec.get("max_new_tokens", 96), decode=decode, db=db)
        pol.seed(int(spec.get("seed", 0)))
        return pol
    if spec["kind"] == "frequency":
        from ilya.prover.baselines import FrequencyPolicy

        return FrequencyPolicy.from_data(db, Path(spec["data"]))
    raise IlyaError(f"unknown policy kind {spec['kind']!r}: expected model or frequency")


def result_row(kernel: Kernel, r: SearchResult) -> dict[str, Any]:
    """One theorem's outcome; a found proof is assembled, verified by ilya.metamath and compressed."""
    row = r.summary()
    row["setmm_steps"] = None
    if r.proof is not None:
        from ilya.metamath import MetamathError

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


def prove(db: Any, policy: Any, labels: list[str], cfg: SearchConfig, batch: int = 8,
          on_row: Any = None, forbidden: set[str] | None = None) -> list[dict[str, Any]]:
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
           forbidden: list[str]) -> list[dict[str, Any]]:
    from ilya.metamath import load

    db = load(db_path)
    return prove(db, make_policy(spec, db), labels, cfg, batch, forbidden=set(forbidden))


def prove_distributed(db_path: str, spec: dict[str, Any], labels: list[str], cfg: SearchConfig,
                      workers: int, batch: int = 8, address: str | None = None,
                      forbidden: set[str] | None = None, on_row: Any = None) -> list[dict[str, Any]]:
    """`prove` over Ray workers: a local Ray with ``workers`` CPUs, or the cluster at ``address``."""
    import ray

    started = False
    if not ray.is_initialized():
        kw: dict[str, Any] = {"address": address} if address else {"num_cpus": workers}
        ray.init(include_dashboard=False, log_to_driver=False, ignore_reinit_error=True,
                 runtime_env={"env_vars": {"OMP_NUM_THREADS": "1"}}, **kw)
        started = True
    try:
        remote = ray.remote(num_cpus=1)(_shard)
        shards = [labels[i::workers] for i in range(workers)]
        refs = [remote.remote(db_path, spec, s, cfg, batch, sorted(forbidden or ())) for s in shards if s]
        rows: list[dict[str, Any]] = []
        pending = list(refs)
        while pending:
            ready, pending = ray.wait(pending, num_returns=1)
            for part in ray.get(ready):
                rows += part
                if on_row is not None:
                    for row in part:
                        on_row(row)
    finally:
        if started:
            ray.shutdown()
    order = {lab: i for i, lab in enumerate(labels)}
    return sorted(rows, key=lambda row: order[row["label"]])


def metamath_exe() -> str | None:
    return shutil.which("metamath")


def check_with_metamath_exe(db: Any, proofs: dict[str, str], timeout: float = 600.0) -> dict[str, bool]:
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


def timed(fn: Any, *a: Any, **kw: Any) -> tuple[Any, float]:
    t = time.perf_counter()
    r = fn(*a, **kw)
    return r, time.perf_counter() - t


# ---------------------------------------------------------------------------- the eval command
def load_database(db: Path | None, data: Path | None = None) -> Any:
    """The database given, else the one the dataset was built from, else set.mm."""
    from ilya.metamath import load
    from ilya.prover.dataset import load_stats

    if db is None and data is not None:
        p = load_stats(data).get("database")
        db = Path(p) if p else None
    return load(db or Path("/usr/share/metamath/databases/set.mm"))


def split_labels(data: Path, split: str) -> list[str]:
    """Theorem labels of a split, read without parsing the records."""
    import json

    path = Path(data) / f"{split}.jsonl"
    if split not in ("train", "valid", "test"):
        raise IlyaError(f"--split {split}: expected train, valid or test")
    if not path.is_file():
        raise IlyaError(f"no {split} split here: run `ilya prover dataset --out {data}` first", file=path)
    out = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            m = re.match(r'\{"label": "([^"]+)"', line)
            out.append(m.group(1) if m else json.loads(line)["label"])
    return out


def summarize(rows: list[dict[str, Any]], cfg: Any) -> dict[str, Any]:
    """The figures of an evaluation (what `ilya prover eval --json` prints)."""
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
        "e": cfg.e, "d": cfg.d, "time_limit": cfg.time_limit, "priority": cfg.priority,
        "policy": getattr(cfg, "policy", "model"), "split": getattr(cfg, "split", None),
        "model_seconds": round(model_t, 2),
        "kernel_seconds": round(kernel_t, 2),
        "kernel_fraction": round(kernel_t / max(model_t + kernel_t, 1e-9), 4),
        "shorter_than_setmm": len(shorter),
        "verify_failures": sum(1 for r in rows if "verify_error" in r),
        **{k: int(v) for k, v in sorted(counts.items())},
    }
    return out


def run_eval(cfg: Any, spec: dict[str, Any]) -> dict[str, Any]:
    """`ilya prover eval`: search, verify, write ``proofs.jsonl``/``results.jsonl``, plots, summary."""
    import json

    from ilya.core.progress import progress
    from ilya.core.runs import Run
    from ilya.prover.cli import pick_theorems
    from ilya.prover.plots import eval_figures
    from ilya.prover.search import PRIORITIES, SearchConfig

    if cfg.priority not in PRIORITIES:
        raise IlyaError(f"--priority {cfg.priority}: expected one of {', '.join(PRIORITIES)}")
    if cfg.priority == "value" and spec["kind"] != "model":
        raise IlyaError("--priority value needs a trained model (the baseline has no value function)")
    db = load_database(cfg.db, cfg.data)
    labels = list(cfg.labels) if cfg.labels else pick_theorems(split_labels(cfg.data, cfg.split), cfg.limit)
    for lab in labels:
        if lab not in db or db[lab].kind != "p":
            raise IlyaError(f"{lab} is not a $p theorem of {db.path}")
    scfg = SearchConfig(e=cfg.e, d=cfg.d, time_limit=cfg.time_limit, priority=cfg.priority)
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
            with open(res_path, "a", encoding="utf-8") as f:
                f.write(json.dumps(slim) + "\n")
            if row["proved"]:
                with open(proofs_path, "a", encoding="utf-8") as f:
                    f.write(json.dumps({"label": row["label"], "proof": row["proof"], "steps": row["steps"],
                                        "setmm_steps": row["setmm_steps"]}) + "\n")
            rows.append(slim)
            bar.update(1)
            run.log(len(rows), **{"eval/proved_pct": 100.0 * sum(r["proved"] for r in rows) / len(rows)})

        t_eval = time.perf_counter()
        if todo:
            if cfg.workers > 1 or cfg.address:
                prove_distributed(str(db.path), spec, todo, scfg, cfg.workers, cfg.batch, cfg.address,
                                  on_row=on_row)
            else:
                prove(db, make_policy(spec, db), todo, scfg, cfg.batch, on_row=on_row)
        bar.close()
        rows = [r for r in rows if r["label"] in set(labels)]
        figures = summarize(rows, cfg)
        if todo:  # throughput of this invocation (lockstep searches overlap, so their walls do not add up)
            new = [r for r in rows if r["label"] in set(todo)]
            elapsed = time.perf_counter() - t_eval
            figures["eval_seconds"] = round(elapsed, 1)
            figures["expansions_per_s"] = round(sum(r["expansions"] for r in new) / max(elapsed, 1e-9), 2)
            figures["theorems_per_min"] = round(60 * len(new) / max(elapsed, 1e-9), 2)
        figures["workers"] = cfg.workers
        if cfg.metamath_exe:
            proofs = {r["label"]: r["proof"] for r in rows if r["proved"]}
            ok = check_with_metamath_exe(db, proofs)
            figures["metamath_exe_checked"] = len(ok)
            figures["metamath_exe_accepted"] = sum(ok.values())
        eval_figures(run, rows, cfg.d)
        summary = run.summary(**figures)
    if not cfg.json:
        print(f"prover eval ({figures['policy']}, {cfg.split}): proved {figures['proved']}/{figures['attempted']}"
              f" = {figures['proved_pct']}% with e={cfg.e}, d={cfg.d}, {cfg.time_limit:g} s/theorem; "
              f"kernel {100 * figures['kernel_fraction']:.1f}% of search time; proofs in {proofs_path}")
    return {k: summary[k] for k in figures}
