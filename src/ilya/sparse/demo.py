"""The sparse step of ``ilya demo``: a small strided-attention model on the bytes of set.mm."""

from __future__ import annotations

from pathlib import Path

from ilya.core.runs import Run
from ilya.sparse.config import SparseOptim, TrainConfig
from ilya.sparse.train import train


def demo(runs_dir: Path) -> None:
    """About 2-3 minutes: a small strided-attention model on the bytes of set.mm, with curves and a sample."""
    cfg = TrainConfig(run="demo-setmm-strided", fresh=True, runs_dir=runs_dir, data="setmm", attn="strided",
                      block_size=256, n_layer=3, n_head=4, n_embd=128, batch_size=16,
                      optim=SparseOptim(lr=2e-3, warmup=30), max_iters=100_000, time_budget=100.0,
                      eval_interval=40, final_eval_tokens=50_000, threads=1, sample_tokens=300)
    summary = train(cfg)
    run = Run.load(f"sparse/{cfg.run}", runs_dir)
    print(f"A 3-layer Sparse Transformer with strided attention (l={summary['stride']}) trained for "
          f"{summary['train_seconds']:.0f} s on the bytes of set.mm: {summary['iters']} steps, valid "
          f"{summary['valid_bpb']:.3f} bits/byte on the first 50k valid bytes (uniform: 8; gzip -9 on all of "
          "set.mm: 2.78).")
    print("Sample (temperature 1, top-p 0.95):")
    print((run.path / "sample.txt").read_bytes().decode("utf-8", errors="replace")[:300])
    print(f"Curves and the Fig. 3 attention-pattern figure: {run.plots_dir}")
