"""Training throughput of byte-level Sparse Transformer shapes: tokens per CPU-second at 1 thread.

    nice .venv/bin/python benchmarks/sparse_text_throughput.py

Each shape: 3 timed AdamW steps (after one warm-up step) on random bytes, process CPU time; prints
CPU-s per step and tokens (batch x context) per CPU-second, the figure that decides how much a CPU-hour
trains. Used to pick the `cpu-hour` recipe of benchmarks/sparse_vs_compressors.py.
"""

import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
from ilya.nn import Transformer, TransformerConfig  # noqa: E402

torch.set_num_threads(1)
shapes = [  # (block, l, c, layers, width, batch)
    (2048, 64, 8, 4, 128, 4),
    (4096, 64, 8, 4, 128, 2),
    (8192, 128, 16, 4, 128, 1),
    (2048, 64, 8, 2, 256, 4),
    (4096, 64, 8, 3, 192, 2),
    (2048, 64, 8, 6, 128, 4),
    (512, 0, 0, 4, 128, 16),
]
for T, l, c, L, D, B in shapes:  # noqa: E741
    attn = "fixed" if l else "dense"
    cfg = TransformerConfig(vocab_size=256, block_size=T, n_layer=L, n_head=4, n_embd=D, attn=attn,
                            stride=l or None, c=c or None)
    m = Transformer(cfg)
    opt = torch.optim.AdamW(m.parameters(), 1e-3)
    x, y = torch.randint(0, 256, (B, T)), torch.randint(0, 256, (B, T))
    t0 = 0.0
    for i in range(4):
        if i == 1:
            t0 = time.process_time()
        _, loss = m(x, y)
        opt.zero_grad()
        assert loss is not None
        loss.backward()
        opt.step()
    dt = (time.process_time() - t0) / 3
    print(f"context {T} {attn} l={l} c={c} {L} layers x {D}, batch {B}, {m.num_params() / 1e6:.2f}M params: "
          f"{dt:.2f} CPU-s/step, {B * T / dt:.0f} tokens/CPU-s", flush=True)
