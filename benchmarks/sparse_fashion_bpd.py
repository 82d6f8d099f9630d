"""Bits per dim on Fashion-MNIST's test set: our pixel-level Sparse Transformer against PNG and a histogram.

    nice .venv/bin/python benchmarks/sparse_fashion_bpd.py --budget 240 --eval-images 1000

References anyone can compute on the same test images (Debian's dataset-fashion-mnist, 28x28x1, 8 bits):
* PNG: each test image saved losslessly by Pillow (compress_level 9, optimize); bits/dim = 8 * file size / 784,
  file headers included (what a user pays; about 70 of the bytes are PNG chunk overhead);
* histogram: an independent 256-bin distribution per pixel position, counted on the 55k training images with
  add-1/2 smoothing, scored on the test images (the best model that ignores every other pixel).
Ours: ``ilya sparse train --data fashion-mnist`` (strided attention, l = 28: a row and a column) for
``--budget`` CPU seconds, then the first ``--eval-images`` test images scored exactly; the figure goes to
docs/img/sparse_fashion_bpd.png and the run's sample grid to its plots/samples.png.
"""

from __future__ import annotations

import argparse
import io
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))


def png_bits_per_dim(images) -> float:  # (N, 784) uint8
    from PIL import Image

    total = 0
    for row in images:
        buf = io.BytesIO()
        Image.fromarray(row.reshape(28, 28)).save(buf, format="PNG", compress_level=9, optimize=True)
        total += len(buf.getvalue())
    return 8.0 * total / images.size


def histogram_bits_per_dim(train, test, alpha: float = 0.5) -> float:
    import numpy as np

    d = train.shape[1]
    counts = np.zeros((d, 256)) + alpha
    np.add.at(counts, (np.broadcast_to(np.arange(d), train.shape), train), 1.0)
    logp = np.log2(counts / counts.sum(1, keepdims=True))
    return float(-logp[np.arange(d)[None, :], test].mean())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--budget", type=float, default=240.0, help="training CPU seconds")
    ap.add_argument("--eval-images", type=int, default=1000, help="test images scored (0: all 10,000)")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--runs-dir", type=Path, default=ROOT / "runs")
    ap.add_argument("--plot", type=Path, default=ROOT / "docs" / "img" / "sparse_fashion_bpd.png")
    ap.add_argument("--json-out", type=Path, default=ROOT / "benchmarks" / "results" / "sparse_fashion_bpd.json")
    a = ap.parse_args()

    import torch

    from ilya.core.plotting import new_figure, save_figure
    from ilya.core.runs import Run
    from ilya.sparse.config import SparseOptim, TrainConfig
    from ilya.sparse.data import load_fashion_mnist
    from ilya.sparse.model import evaluate, load_model
    from ilya.sparse.train import train

    torch.set_num_threads(a.threads)
    data = load_fashion_mnist()
    test = data.test if a.eval_images <= 0 else data.test[:a.eval_images]
    png = png_bits_per_dim(test)
    hist = histogram_bits_per_dim(data.train, test)
    print(f"PNG {png:.3f} bits/dim, per-pixel histogram {hist:.3f} bits/dim on {len(test)} test images", flush=True)
    cfg = TrainConfig(run="fashion-bpd", fresh=True, runs_dir=a.runs_dir, data="fashion-mnist", attn="strided",
                      stride=28, n_layer=4, n_head=4, n_embd=128, batch_size=8, optim=SparseOptim(lr=2e-3, warmup=30),
                      max_iters=10**7, time_budget=a.budget, clock="cpu", eval_interval=20, eval_batches=2,
                      final_eval_tokens=20 * 784, threads=a.threads)
    s = train(cfg)
    run = Run.load("sparse/fashion-bpd", a.runs_dir)
    model, _, _ = load_model(run)
    res = evaluate(model, data, "test", 16, "cpu", max_tokens=test.size)
    ours = res["bits"]
    print(f"ours {ours:.3f} bits/dim ({s['iters']} iters, {s['train_seconds']:.0f} CPU s, "
          f"{s['params'] / 1e6:.2f}M params, {res['tokens']:,} dims)")
    rows = {"raw 8 bits": 8.0, "PNG (lossless)": png, "per-pixel histogram": hist, "Sparse Transformer (ours)": ours}
    fig, ax = new_figure(figsize=(6.4, 3.4))
    bars = ax.barh(list(rows), list(rows.values()), color=["0.7", "C1", "C2", "C0"])
    for b, v in zip(bars, rows.values(), strict=True):
        ax.text(v + 0.05, b.get_y() + b.get_height() / 2, f"{v:.3f}", va="center", fontsize=9)
    ax.set_xlabel("bits per dim on Fashion-MNIST test images (lower is better)")
    ax.set_xlim(0, 9)
    ax.set_title(f"{len(test)} test images; ours after {s['iters']} steps ({s['train_seconds']:.0f} CPU s, 1 thread)",
                 fontsize=9)
    print(save_figure(fig, a.plot, curves=len(rows)))
    a.json_out.parent.mkdir(parents=True, exist_ok=True)
    a.json_out.write_text(json.dumps({"rows": rows, "iters": s["iters"], "train_seconds": s["train_seconds"],
                                      "images": len(test), "dims": res["tokens"],
                                      "samples": str(run.plots_dir / "samples.png")}, indent=1) + "\n")


if __name__ == "__main__":
    main()
