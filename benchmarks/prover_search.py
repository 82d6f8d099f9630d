"""Search speed of the GPT-f prover: expansions/s and theorems/min with 1 and 2 workers, kernel vs model time.

    .venv/bin/python benchmarks/prover_search.py --model default --limit 16 --e 8 --d 16

Runs the same test theorems with the frequency baseline and (with --model) the trained model, in-process
(1 worker) and over 2 local Ray workers, and prints one table plus a JSON line.  Throughput is over
search time only; loading (set.mm, the assertion index, the model or the baseline's frequency table) is
reported apart as ``load_s``.  Goal (issue 6): the
kernel takes at most 10% of search time.  Say in any report whether other work shared the CPU; the in-process rows also give expansions per CPU
second of this process (``expansions_per_cpu_s``), which other load on the machine does not inflate.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default=None, help="prover train run (or model folder); omit for baseline only")
    ap.add_argument("--data", type=Path, default=Path("data/prover/set.mm"))
    ap.add_argument("--runs-dir", type=Path, default=Path("runs"))
    ap.add_argument("--limit", type=int, default=16)
    ap.add_argument("--e", type=int, default=8)
    ap.add_argument("--d", type=int, default=16)
    ap.add_argument("--time-limit", type=float, default=60.0)
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    args = ap.parse_args()

    from ilya.prover.dataset import load_database, pick_theorems, split_labels
    from ilya.prover.evaluate import prove, prove_distributed
    from ilya.prover.policies import make_policy, model_dir
    from ilya.prover.search import SearchConfig

    db = load_database(None, args.data)
    labels = pick_theorems(split_labels(args.data, "test"), args.limit)
    cfg = SearchConfig(e=args.e, d=args.d, time_limit=args.time_limit)
    specs = {"frequency": {"kind": "frequency", "data": str(args.data)}}
    if args.model:
        specs["model"] = {"kind": "model", "path": str(model_dir(args.model, args.runs_dir).resolve()),
                          "threads": 1}
    rows = []
    for name, spec in specs.items():
        for w in args.workers:
            match_s, cpu, load_s = None, None, None
            if w == 1:
                from ilya.prover.matching import matcher

                t_load = time.perf_counter()
                policy = make_policy(spec, db)  # loading (model, index, the baseline's table) is not search
                load_s = time.perf_counter() - t_load
                m0 = matcher(db).match_seconds
                t0, c0 = time.perf_counter(), time.process_time()
                res = prove(db, policy, labels, cfg, batch=8)
                cpu = time.process_time() - c0
                match_s = matcher(db).match_seconds - m0
            else:
                import ray

                ray.init(num_cpus=w, include_dashboard=False, log_to_driver=False,
                         runtime_env={"env_vars": {"OMP_NUM_THREADS": "1"}})
                t0 = time.perf_counter()
                timing: dict[str, float] = {}
                res = prove_distributed(str(db.path), spec, labels, cfg, workers=w, batch=8, timing=timing)
                ray.shutdown()
                load_s = timing["load_seconds"]  # the slowest worker's loading of set.mm and the policy
            wall = time.perf_counter() - t0
            search_s = wall if w == 1 else timing["search_seconds"]  # the slowest worker's search
            exp = sum(r["expansions"] for r in res)
            kt, mt = sum(r["kernel_time"] for r in res), sum(r["model_time"] for r in res)
            rows.append({"policy": name, "workers": w, "theorems": len(res), "proved": sum(r["proved"] for r in res),
                         "load_s": None if load_s is None else round(load_s, 1),
                         "search_s": round(search_s, 1), "wall_s": round(wall, 1), "expansions": exp,
                         "expansions_per_s": round(exp / search_s, 2),
                         "theorems_per_min": round(60 * len(res) / search_s, 2),
                         "expansions_per_cpu_s": None if cpu is None else round(exp / cpu, 2),
                         "kernel_ms_per_expansion": round(1000 * kt / max(exp, 1), 2),
                         "model_ms_per_expansion": round(1000 * mt / max(exp, 1), 2),
                         "of_which_matching_ms": None if match_s is None else round(1000 * match_s / max(exp, 1), 2),
                         "kernel_fraction": round(kt / max(kt + mt, 1e-9), 3)})
            print(json.dumps(rows[-1]), flush=True)
    cols = list(rows[0])
    print("\n| " + " | ".join(cols) + " |")
    print("|" + "---|" * len(cols))
    for r in rows:
        print("| " + " | ".join(str(r[c]) for c in cols) + " |")
    print(f"\n(e={args.e}, d={args.d}, {args.limit} test theorems of {args.data}; ", end="")
    print("kernel_fraction = kernel time / (kernel + model time), summed over searches; model time includes "
          "finding the assertions that match each goal (of_which_matching_ms, in-process rows); "
          "expansions/s and theorems/min are over search time: loading set.mm, the assertion index, the model "
          "or the baseline's frequency table is load_s, reported apart; Ray rows: the slowest worker's)")


if __name__ == "__main__":
    main()
