"""Our byte-level Sparse Transformer against gzip, xz, zstd, PPMd and zpaq, on the same bytes.

    nice .venv/bin/python benchmarks/sparse_vs_compressors.py --budget 3600            # the recipe: one CPU-hour
    nice .venv/bin/python benchmarks/sparse_vs_compressors.py --budget 360 --eval-bytes 100000   # short version
    .venv/bin/python benchmarks/sparse_vs_compressors.py --recipe enwik8-paper --device cuda   # paper scale

The ``cpu-hour`` recipe trains on set.mm's train split (90 %) with a context that sparse attention makes
affordable on a CPU (fixed pattern, 4096 bytes, l = 64, c = 8, 4 layers x 128, batch 2, AdamW lr 3e-3,
cosine to the end of the budget), then scores set.mm's held-out test split (last 5 %) and bytes 1-3 MB of
iset.mm (never seen) with sliding windows: every byte after the first window has at least ``--min-context``
bytes of context; each byte is scored exactly once, statically and with dynamic evaluation (one Adam step
on each window's bytes after they are scored: ``--dynamic-lr``, 0 for static rows only).  The compressors of benchmarks/compressors.py compress
exactly the bytes we score (``--eval-bytes`` cuts both to the same prefix).  ``enwik8-paper`` is the
paper's enwik8 model (Child et al. §7.3: 30 layers, d = 512, 8 heads, fixed attention l = 128, c = 32,
12,288-byte context, dropout 0.4), trained on enwik8 (downloaded and MD5-checked by ilya.sparse.data).
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "benchmarks"))

RECIPES: dict[str, dict] = {
    "cpu-hour": dict(data="setmm", attn="fixed", stride=64, c=8, block_size=4096, n_layer=4, n_head=4,
                     n_embd=128, batch_size=2, lr=3e-3, warmup=50, dropout=0.0),
    "enwik8-paper": dict(data="enwik8", attn="fixed", stride=128, c=32, block_size=12288, n_layer=30,
                         n_head=8, n_embd=512, batch_size=8, lr=3.5e-4, warmup=1000, dropout=0.4),
}

# dynamic evaluation of the scoring (Krause et al. 2018), chosen by the pilot in docs/sparse.md
DYNAMIC: dict = dict(lr=1e-3, optim="adam", decay=0.0)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--recipe", choices=list(RECIPES), default="cpu-hour")
    ap.add_argument("--budget", type=float, default=3600.0, help="training seconds (see --clock)")
    ap.add_argument("--clock", choices=["wall", "cpu"], default="cpu")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--min-context", type=int, default=1024, help="bytes of context every scored byte has")
    ap.add_argument("--eval-bytes", type=int, default=0, help="score only this prefix of each corpus (0: all)")
    ap.add_argument("--runs-dir", type=Path, default=ROOT / "runs")
    ap.add_argument("--run", default="", help="reuse this trained run instead of training (sparse/<name>)")
    ap.add_argument("--name", default="", help="name of the run to train (default vs-compressors-RECIPE)")
    ap.add_argument("--train-only", action="store_true", help="train the recipe, score nothing")
    ap.add_argument("--dynamic-lr", type=float, default=DYNAMIC["lr"],
                    help="dynamic evaluation's learning rate (0: static rows only)")
    ap.add_argument("--dynamic-optim", choices=["adam", "sgd"], default=DYNAMIC["optim"])
    ap.add_argument("--dynamic-decay", type=float, default=DYNAMIC["decay"])
    ap.add_argument("--short-context", type=int, default=0,
                    help="also score statically with windows of only this many bytes (the long context's worth)")
    ap.add_argument("--no-static", action="store_true", help="skip the static scoring rows")
    ap.add_argument("--no-compressors", action="store_true", help="skip the compressor rows")
    ap.add_argument("--only-corpus", default="", help="score only the corpus whose name contains this")
    ap.add_argument("--json-out", type=Path, default=ROOT / "benchmarks" / "results" / "sparse_vs_compressors.json")
    a = ap.parse_args()

    import numpy as np
    import torch

    from compressors import COMPRESSORS, bits_per_byte, corpora
    from ilya.core.runs import Run
    from ilya.sparse.config import SparseOptim, TrainConfig
    from ilya.sparse.data import TokenData
    from ilya.sparse.model import dynamic_evaluate, eval_stride, evaluate, load_model
    from ilya.sparse.train import train

    if a.threads > 0:
        torch.set_num_threads(a.threads)
    r = RECIPES[a.recipe]
    name = a.run or a.name or f"vs-compressors-{a.recipe}"
    if not a.run:
        cfg = TrainConfig(run=name, fresh=True, runs_dir=a.runs_dir, data=r["data"], attn=r["attn"],
                          stride=r["stride"], c=r["c"], block_size=r["block_size"], n_layer=r["n_layer"],
                          n_head=r["n_head"], n_embd=r["n_embd"], dropout=r["dropout"], batch_size=r["batch_size"],
                          optim=SparseOptim(lr=r["lr"], warmup=r["warmup"]), max_iters=10**7, time_budget=a.budget,
                          clock=a.clock, eval_interval=25, eval_batches=2, final_eval_tokens=50_000,
                          threads=a.threads, sample_tokens=300, device=a.device)
        s = train(cfg)
        print(f"trained: {s['iters']} iters, {s['train_seconds']:.0f} {a.clock} s, {s['params'] / 1e6:.2f}M params")
        if a.train_only:
            return
    run = Run.load(name if "/" in name else f"sparse/{name}", a.runs_dir)
    model, _, state = load_model(run, a.device)
    step = eval_stride(model.cfg.block_size, "sliding", a.min_context)
    ours_static, ours_dyn = "ours, static", f"ours, dynamic eval ({a.dynamic_optim} lr {a.dynamic_lr:g})"
    rows: dict[str, dict[str, float]] = {}
    cost: dict[str, dict[str, float]] = {}          # CPU seconds per row and corpus
    sizes = {}
    for corpus, raw in corpora().items():
        if a.only_corpus and a.only_corpus not in corpus:
            continue
        if a.eval_bytes > 0:
            raw = raw[:a.eval_bytes + 1]
        sizes[corpus] = len(raw)
        arr = np.frombuffer(raw, dtype=np.uint8)
        data = TokenData(corpus, "bytes", arr[:0], arr[:0], arr)
        if not a.no_static:
            res = evaluate(model, data, "test", 8, a.device, step)
            rows.setdefault(ours_static, {})[corpus] = round(res["bits"], 4)
            cost.setdefault(ours_static, {})[corpus] = round(res["cpu_seconds"], 1)
            print(f"{ours_static} on {corpus}: {res['bits']:.4f} bits/byte over {res['tokens']:,} bytes "
                  f"(min context {res['min_context']}, {cost[ours_static][corpus]:.0f} CPU-s)", flush=True)
        if a.short_context > 0:             # the same model seeing less of the past: what long context is worth
            sname = f"ours, static, context {a.short_context} only"
            res = evaluate(model, data, "test", 8, a.device, eval_stride(a.short_context, "sliding"),
                           context=a.short_context)
            rows.setdefault(sname, {})[corpus] = round(res["bits"], 4)
            cost.setdefault(sname, {})[corpus] = round(res["cpu_seconds"], 1)
            print(f"{sname} on {corpus}: {res['bits']:.4f} bits/byte (min context {res['min_context']})",
                  flush=True)
        if a.dynamic_lr > 0:
            res = dynamic_evaluate(model, data, "test", a.dynamic_lr, a.dynamic_optim, a.dynamic_decay,
                                   a.device, step)
            rows.setdefault(ours_dyn, {})[corpus] = round(res["bits"], 4)
            cost.setdefault(ours_dyn, {})[corpus] = res["cpu_seconds"]
            print(f"{ours_dyn} on {corpus}: {res['bits']:.4f} bits/byte over {res['tokens']:,} bytes "
                  f"(min context {res['min_context']}, {res['cpu_seconds']:.0f} CPU-s)", flush=True)
        for cname, cmd in COMPRESSORS.items():
            if a.no_compressors or not shutil.which(cmd.split()[0]):
                continue
            bpb, _, cpu = bits_per_byte(raw, cmd)
            rows.setdefault(cname, {})[corpus] = round(bpb, 4)
            cost.setdefault(cname, {})[corpus] = round(cpu, 1)
    corp = list(sizes)
    rc = run.config
    print(f"\nsparse/{run.name}: {int(state['step'])} iters, {rc.get('time_budget', 0):.0f} {rc.get('clock')} s budget, "
          f"{rc.get('threads')} thread(s), context {rc.get('block_size')}; "
          "bits/byte on the same bytes (CPU-s of scoring / compressing in brackets)\n")
    print("| model | " + " | ".join(corp) + " |\n|---|" + "---|" * len(corp))
    for cname, row in rows.items():
        print(f"| {cname} | " + " | ".join(f"{row[c]:.3f} ({cost[cname][c]:.0f} s)" for c in corp) + " |")
    peers = {k: v for k, v in rows.items() if not k.startswith("ours")}
    for oname in (ours_static, ours_dyn):
        if oname not in rows or not peers:
            continue
        for c in corp:
            best_v, best_k = min((v[c], k) for k, v in peers.items())
            o = rows[oname][c]
            print(f"{c}: {oname} {o:.3f} vs best compressor {best_k} {best_v:.3f} "
                  f"(ratio {o / best_v:.3f}; {'ours wins' if o < best_v else 'compressor wins'})")
    print("bytes: " + ", ".join(f"{c} {n:,}" for c, n in sizes.items()))
    a.json_out.parent.mkdir(parents=True, exist_ok=True)
    a.json_out.write_text(json.dumps({"args": {k: str(v) for k, v in vars(a).items()}, "run": f"sparse/{run.name}",
                                      "iters": int(state["step"]), "bytes": sizes, "rows": rows,
                                      "cpu_seconds": cost}, indent=1) + "\n")


if __name__ == "__main__":
    main()
