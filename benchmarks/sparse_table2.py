"""The paper's Table 2 on our corpus: dense vs strided vs fixed, same model, same wall-clock budget.

    .venv/bin/python benchmarks/sparse_table2.py --budget 240        # seconds of training per model

Each model trains on the bytes of set.mm (90/5/5 split) for the same number of seconds of training steps
(evaluation excluded; by default process CPU seconds of a single-threaded run, the analogue of wall-clock
on a dedicated core, since the development machine is shared), then the whole valid split is scored exactly (bits per byte). Seconds per iteration
are training seconds over steps. Paper (Child et al. 2019, Table 2, enwik8, 12,288-byte context, GPUs):
dense 1.00 bpb at 1.31 s/iter, fixed 0.99 at 0.55, strided 1.13 at 0.35.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PAPER = {"dense": (1.00, 1.31), "fixed": (0.99, 0.55), "strided": (1.13, 0.35)}


def run_one(attn: str, a: argparse.Namespace) -> dict:
    sys.path.insert(0, str(ROOT / "src"))
    from ilya.sparse.config import SparseOptim, TrainConfig
    from ilya.sparse.train import train

    cfg = TrainConfig(run=f"table2-{attn}", fresh=True, runs_dir=a.runs_dir, data="setmm", attn=attn,
                      stride=a.stride, c=a.c, block_size=a.block_size, n_layer=a.n_layer, n_head=4,
                      n_embd=a.n_embd, batch_size=a.batch_size, optim=SparseOptim(lr=a.lr, warmup=30), max_iters=10**7,
                      time_budget=a.budget, eval_interval=10, eval_batches=2,
                      final_eval_tokens=a.final_eval_tokens, threads=a.threads, sample_tokens=300,
                      clock=a.clock)
    s = train(cfg)
    return {"attn": attn, "valid_bpb": s["valid_bpb"], "exact": s["valid_exact"], "valid_tokens": s["valid_tokens"],
            "sec_per_iter": s["sec_per_iter"], "iters": s["iters"], "train_seconds": s["train_seconds"],
            "params": s["params"], "paper_bpb": PAPER[attn][0], "paper_sec_per_iter": PAPER[attn][1]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--budget", type=float, default=240.0, help="training seconds per model")
    ap.add_argument("--attns", nargs="+", default=["dense", "strided", "fixed"])
    ap.add_argument("--block-size", type=int, default=2048)
    ap.add_argument("--stride", type=int, default=32)
    ap.add_argument("--c", type=int, default=4)
    ap.add_argument("--n-layer", type=int, default=4)
    ap.add_argument("--n-embd", type=int, default=128)
    ap.add_argument("--batch-size", type=int, default=2)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--plot-only", action="store_true", help="redraw from --json-out and the runs, no training")
    ap.add_argument("--parallel", action=argparse.BooleanOptionalAction, default=True,
                    help="train the models at the same time, one process each")
    ap.add_argument("--clock", choices=["wall", "cpu"], default="cpu",
                    help="budget in wall-clock or process CPU seconds (cpu: fair when the machine is shared)")
    ap.add_argument("--final-eval-tokens", type=int, default=250_000, help="valid bytes scored at the end (0: the whole split, exact)")
    ap.add_argument("--runs-dir", type=Path, default=ROOT / "runs")
    ap.add_argument("--json-out", type=Path, default=ROOT / "benchmarks" / "results" / "sparse_table2.json")
    ap.add_argument("--plot", type=Path, default=ROOT / "docs" / "img" / "sparse_table2_curves.png")
    a = ap.parse_args()
    sys.path.insert(0, str(ROOT / "src"))
    from ilya.core.plotting import new_figure, save_figure
    from ilya.core.runs import Run
    if a.plot_only:  # redraw the table and figure from --json-out and the runs
        rows = json.loads(a.json_out.read_text())["rows"]
    elif a.parallel:   # one process per model, all at once: each sees the same machine load
        import multiprocessing as mp
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(len(a.attns), mp_context=mp.get_context("spawn")) as ex:
            rows = list(ex.map(run_one, a.attns, [a] * len(a.attns)))
    else:
        rows = [run_one(attn, a) for attn in a.attns]
    print(f"\nset.mm bytes, block {a.block_size}, {a.n_layer} layers x {a.n_embd}, batch {a.batch_size}, "
          f"l={a.stride}, c={a.c}, {a.budget:.0f} {a.clock} s of training each, {a.threads} thread(s)\n")
    print("| attention | valid bits/byte (ours) | s/iter (ours) | iters | paper bpb (enwik8) | paper s/iter |")
    print("|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['attn']} | {r['valid_bpb']:.3f}{'' if r['exact'] else '*'} | {r['sec_per_iter']:.3f} | "
              f"{r['iters']} | {r['paper_bpb']:.2f} | {r['paper_sec_per_iter']:.2f} |")
    a.json_out.parent.mkdir(parents=True, exist_ok=True)
    if not a.plot_only:
        a.json_out.write_text(json.dumps({"args": {k: str(v) for k, v in vars(a).items()}, "rows": rows}, indent=1))
    fig, ax = new_figure()
    for r in rows:
        run = Run.load(f"sparse/table2-{r['attn']}", a.runs_dir)
        steps, vals = run.series("valid/bpb")
        secs = dict(zip(*run.series("train_seconds"), strict=True))
        ax.plot([secs[s] for s in steps], vals, label=f"{r['attn']} ({r['sec_per_iter']:.2f} s/iter)")
    ax.set_xlabel(f"training seconds ({a.clock} clock)")
    ax.set_ylabel("valid bits per byte")
    ax.set_ylim(top=min(6.0, ax.get_ylim()[1]))
    ax.set_title(f"set.mm bytes: equal training budget ({a.budget:.0f} {a.clock} s each)")
    ax.legend()
    print(a.json_out, save_figure(fig, a.plot), sep="\n")


if __name__ == "__main__":
    main()
