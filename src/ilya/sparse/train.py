"""Training of byte/pixel-level Sparse Transformers (Child et al. 2019) on `ilya.nn.training.Trainer`.

The loop reads top to bottom: load data, build the `ilya.nn.Transformer`, resume from the run's last
checkpoint, then AdamW steps (the Trainer's parameter groups, warm-up and cosine schedule, clipping,
mixed precision) until ``max_iters`` or the ``time_budget`` (whichever ends first; only training steps
count against the budget, so models compare at equal training time as in the paper's Table 2, and the
cosine schedule ends where the budget does).  Valid bits per byte/dim are logged on fixed batches; at the
end the valid split is scored exactly, a sample is written and the run's figures are drawn.
"""

from __future__ import annotations

import time
from dataclasses import asdict
from typing import Any

import numpy as np
import torch

from ilya.core.device import resolve_device
from ilya.core.figures import draw_run
from ilya.core.progress import progress
from ilya.core.runs import Run
from ilya.nn import Transformer
from ilya.nn.training import Trainer
from ilya.sparse.config import TrainConfig
from ilya.sparse.data import TokenData, load_data, random_batch
from ilya.sparse.model import LN2, evaluate, model_config, quick_valid, sample_tokens


def planned_steps(cfg: TrainConfig, step: int, train_seconds: float) -> int:
    """The step the schedule ends at: ``max_iters``, or sooner when the time budget runs out first."""
    if cfg.time_budget <= 0 or train_seconds <= 0 or step == 0:
        return cfg.max_iters
    projected = int(step * cfg.time_budget / train_seconds)
    return max(step + 1, min(cfg.max_iters, projected))


def train_batch(data: TokenData, cfg: TrainConfig, step: int, block_size: int,
                device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    """The batch of ``step``: drawn from a generator seeded by (seed, step), so a resumed run sees the same."""
    rng = np.random.default_rng([cfg.seed, step])
    x, y = random_batch(data, "train", cfg.batch_size, block_size, rng)
    return torch.as_tensor(x, device=device), torch.as_tensor(y, device=device)


def train(cfg: TrainConfig) -> dict[str, Any]:
    """Train per ``cfg`` and return the run's summary figures."""
    device = resolve_device(cfg.device)
    if cfg.threads > 0:
        torch.set_num_threads(cfg.threads)
    data = load_data(cfg.data, cfg.data_dir)
    mcfg = model_config(cfg, data)             # bad flags fail here, before a run folder exists
    with Run.open("sparse", cfg) as run:
        model = Transformer(mcfg).to(device)
        trainer = Trainer(model, cfg.optim, total_steps=cfg.max_iters, device=device)
        step = trainer.resume(run)
        train_seconds = float(trainer.extra.get("train_seconds", 0.0))
        vrng = np.random.default_rng(12345)
        valid_batches: list[tuple[torch.Tensor, torch.Tensor]] = []
        for _ in range(cfg.eval_batches):
            vx, vy = random_batch(data, "valid", cfg.batch_size, mcfg.block_size, vrng)
            valid_batches.append((torch.as_tensor(vx, device=device), torch.as_tensor(vy, device=device)))
        unit = "bpb" if data.kind == "bytes" else "bpd"
        print(f"sparse: {data.name} ({data.kind}), {cfg.attn}/{cfg.attn_mode} attention, "
              f"l={mcfg.resolved_stride()}, {model.num_params() / 1e6:.2f}M params, block {mcfg.block_size}, "
              f"run {run.path}", flush=True)

        clock = time.process_time if cfg.clock == "cpu" else time.perf_counter
        bar = progress(total=cfg.max_iters, initial=step, desc="train")
        train_bits: list[float] = []
        while step < cfg.max_iters and not (cfg.time_budget > 0 and train_seconds >= cfg.time_budget):
            model.train()
            t0 = clock()
            trainer.total_steps = planned_steps(cfg, step, train_seconds)
            x, y = train_batch(data, cfg, step, mcfg.block_size, device)
            with trainer.autocast():
                _, loss = trainer.forward(x, y)
            stats = trainer.step(loss)
            if device.type == "cuda":
                torch.cuda.synchronize()
            train_seconds += clock() - t0
            step += 1
            bar.update(1)
            train_bits.append(loss.item() / LN2)
            last = step >= cfg.max_iters or (cfg.time_budget > 0 and train_seconds >= cfg.time_budget)
            if step % cfg.eval_interval == 0 or last:
                vb = quick_valid(model, valid_batches)
                run.log(step, **{f"train/{unit}": float(np.mean(train_bits)), f"valid/{unit}": vb}, **stats)
                bar.set_postfix(train=f"{np.mean(train_bits):.3f}", valid=f"{vb:.3f}")
                train_bits = []
                trainer.save(run, step, train_seconds=train_seconds)
        bar.close()
        final = evaluate(model, data, "valid", cfg.batch_size, device, max_tokens=cfg.final_eval_tokens)
        if data.kind == "bytes":
            sample = sample_tokens(model, data, 1, cfg.sample_tokens, temperature=1.0, top_p=0.95,
                                   seed=cfg.seed, device=device)
            (run.path / "sample.txt").write_bytes(bytes(sample[0].tolist()))
        summary = run.summary(**{
            f"valid_{unit}": final["bits"], "valid_exact": final["exact"], "valid_tokens": final["tokens"],
            "iters": step, "train_seconds": round(train_seconds, 2),
            "sec_per_iter": round(train_seconds / max(step, 1), 4), "params": model.num_params(),
            "attn": cfg.attn, "attn_mode": cfg.attn_mode, "stride": mcfg.resolved_stride(),
            "block_size": mcfg.block_size, "data": data.name, "device": str(device),
            "model": asdict(mcfg) | {"image_shape": list(mcfg.image_shape) if mcfg.image_shape else None},
        })
        draw_run(run)
        print(f"sparse: {step} iters, {summary['sec_per_iter']:.3f} s/iter, valid {final['bits']:.4f} "
              f"bits/{'byte' if unit == 'bpb' else 'dim'} ({'exact, ' if final['exact'] else ''}"
              f"{final['tokens']} tokens)", flush=True)
    return summary
