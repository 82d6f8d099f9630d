"""Training, exact evaluation and sampling of byte/pixel-level Sparse Transformers (Child et al. 2019).

The loop reads top to bottom: load data, build the `ilya.nn.Transformer`, resume from the run's last
checkpoint, then AdamW steps with linear warm-up and cosine decay until ``max_iters`` or the wall-clock
``time_budget`` (whichever ends first; only training steps count against the budget, so models compare
at equal training time as in the paper's Table 2). Valid bits per byte/dim are logged on fixed batches;
at the end the valid split is scored exactly, a sample is written and the figures are drawn.
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ilya.core.device import resolve_device
from ilya.core.errors import IlyaError
from ilya.core.progress import progress
from ilya.core.runs import Run
from ilya.nn import Transformer, TransformerConfig
from ilya.sparse.data import IMAGE_BOS, TokenData, eval_windows, load_data, random_batch

LN2 = math.log(2.0)


def model_config(cfg: Any, data: TokenData) -> TransformerConfig:
    """The `TransformerConfig` a training config asks for (images: one image per sequence)."""
    block = data.seq_len if data.kind == "image" else cfg.block_size
    if block is None or block < 2:
        raise IlyaError(f"--block-size {cfg.block_size}: expected at least 2")
    pos = cfg.pos_emb if cfg.pos_emb != "auto" else ("factorized" if data.kind == "image" else "learned")
    if pos == "factorized" and data.image_shape is None:
        raise IlyaError("--pos-emb factorized needs image data (fashion-mnist or cifar10)")
    if cfg.stride < 0 or cfg.c < 0:
        raise IlyaError("--stride and --c must be positive (0 picks the default)")
    mcfg_l = cfg.stride or max(2, int(round(math.sqrt(block))))
    if cfg.attn == "fixed" and cfg.c > mcfg_l:
        raise IlyaError(f"--c {cfg.c}: must not exceed the block length l = {mcfg_l}")
    if cfg.n_embd % cfg.n_head:
        raise IlyaError(f"--n-embd {cfg.n_embd} is not divisible by --n-head {cfg.n_head}")
    return TransformerConfig(
        vocab_size=data.vocab_size, block_size=block, n_layer=cfg.n_layer, n_head=cfg.n_head,
        n_embd=cfg.n_embd, dropout=cfg.dropout, attn=cfg.attn, stride=cfg.stride or None, c=cfg.c or None,
        attn_mode=cfg.attn_mode, pos_emb=pos, image_shape=data.image_shape, recompute=cfg.recompute,
        precision=cfg.precision)


def lr_at(progress_frac: float, step: int, base_lr: float, warmup: int) -> float:
    """Linear warm-up over ``warmup`` steps, then cosine decay to 10 % at the end of the budget."""
    if step < warmup:
        return base_lr * (step + 1) / warmup
    p = min(max(progress_frac, 0.0), 1.0)
    return base_lr * (0.1 + 0.9 * 0.5 * (1.0 + math.cos(math.pi * p)))


@torch.no_grad()
def evaluate(model: Transformer, data: TokenData, split: str, batch_size: int = 16,
             device: torch.device | str = "cpu", stride: int | None = None, max_tokens: int = 0,
             show: bool = True) -> dict[str, Any]:
    """Bits per byte (text) or per dim (images) on ``split``: every token scored exactly once."""
    model.eval()
    block = model.cfg.block_size
    windows = eval_windows(data, split, block, stride, max_tokens)
    total_nats, total_tokens = 0.0, 0
    groups: dict[int, list] = {}
    for w in windows:
        groups.setdefault(len(w[0]), []).append(w)
    bar = progress(total=len(windows), desc=f"eval {split}") if show else None
    for length, ws in groups.items():
        for i in range(0, len(ws), batch_size):
            chunk = ws[i:i + batch_size]
            x = torch.as_tensor(np.stack([w[0] for w in chunk]).astype(np.int64), device=device)
            y = torch.as_tensor(np.stack([w[1] for w in chunk]).astype(np.int64), device=device)
            first = torch.as_tensor([w[2] for w in chunk], device=device)
            logits, _ = model(x)
            nll = torch.nn.functional.cross_entropy(logits.reshape(-1, logits.size(-1)), y.reshape(-1),
                                                    reduction="none").view(len(chunk), length)
            keep = torch.arange(length, device=device)[None, :] >= first[:, None]
            total_nats += float((nll * keep).sum())
            total_tokens += int(keep.sum())
            if bar is not None:
                bar.update(len(chunk))
    if bar is not None:
        bar.close()
    n_split = len(data.split(split)) - 1 if data.kind == "bytes" else data.split(split).size
    bits = total_nats / max(total_tokens, 1) / LN2
    unit = "bits_per_byte" if data.kind == "bytes" else "bits_per_dim"
    return {unit: bits, "bits": bits, "tokens": total_tokens, "exact": total_tokens == n_split, "split": split}


@torch.no_grad()
def quick_valid(model: Transformer, batches: list[tuple[torch.Tensor, torch.Tensor]]) -> float:
    """Mean bits/token over a fixed list of validation batches (for the curves)."""
    model.eval()
    losses = [model(x, y)[1].item() for x, y in batches]
    return float(np.mean(losses)) / LN2


@torch.no_grad()
def sample_tokens(model: Transformer, data: TokenData, n: int, length: int, temperature: float = 1.0,
                  top_p: float = 1.0, prompt: bytes = b"", seed: int = 0,
                  device: torch.device | str = "cpu") -> np.ndarray:
    """``n`` samples: byte strings of ``len(prompt) + length`` or whole images ``(n, H·W·C)``."""
    g = torch.Generator(device=device).manual_seed(seed)
    if data.kind == "image":
        start = torch.full((n, 1), IMAGE_BOS, dtype=torch.long, device=device)
        out = model.generate(start, data.seq_len, temperature, top_p, generator=g)[:, 1:]
        return out.clamp(0, 255).cpu().numpy().astype(np.uint8)
    p = prompt or b"\n"
    start = torch.tensor(list(p), dtype=torch.long, device=device)[None].repeat(n, 1)
    out = model.generate(start, length, temperature, top_p, generator=g)
    if not prompt:
        out = out[:, 1:]
    return out.cpu().numpy().astype(np.uint8)


def load_model(run: Run, device: torch.device | str = "cpu") -> tuple[Transformer, TokenData, dict[str, Any]]:
    """The run's model at its latest checkpoint, its data and the checkpoint state."""
    from ilya.sparse.cli import TrainConfig

    fields = set(TrainConfig.__dataclass_fields__)
    cfg = TrainConfig(**{k: v for k, v in run.config.items() if k in fields and k not in ("runs_dir", "data_dir")})
    data = load_data(cfg.data, Path(run.config["data_dir"]) if run.config.get("data_dir") else None)
    model = Transformer(model_config(cfg, data)).to(device)
    state = run.load_checkpoint(map_location=str(device))
    if state is None:
        raise IlyaError(f"run {run.system}/{run.name} has no checkpoint yet (train it first)", file=run.path)
    model.load_state_dict(state["model"])
    model.eval()
    return model, data, state


def train(cfg: Any) -> dict[str, Any]:
    """Train per ``cfg`` (a `ilya.sparse.cli.TrainConfig`) and return the run's summary figures."""
    device = resolve_device(cfg.device)
    if cfg.threads > 0:
        torch.set_num_threads(cfg.threads)
    data = load_data(cfg.data, cfg.data_dir)
    mcfg = model_config(cfg, data)             # bad flags fail here, before a run folder exists
    with Run.open("sparse", cfg) as run:
        model = Transformer(mcfg).to(device)
        decay = [p for n, p in model.named_parameters() if p.dim() >= 2]
        no_decay = [p for n, p in model.named_parameters() if p.dim() < 2]
        opt = torch.optim.AdamW([{"params": decay, "weight_decay": cfg.weight_decay},
                                 {"params": no_decay, "weight_decay": 0.0}], lr=cfg.lr, betas=(0.9, 0.95))
        scaler = torch.amp.GradScaler("cuda", enabled=device.type == "cuda" and cfg.precision == "fp16")
        step, train_seconds = 0, 0.0
        state = run.load_checkpoint(map_location=str(device))
        if state is not None:
            model.load_state_dict(state["model"])
            opt.load_state_dict(state["optim"])
            step, train_seconds = int(state["step"]), float(state.get("train_seconds", 0.0))
        rng = np.random.default_rng(cfg.seed + step)
        vrng = np.random.default_rng(12345)
        valid_batches = [tuple(torch.as_tensor(a, device=device)
                               for a in random_batch(data, "valid", cfg.batch_size, mcfg.block_size, vrng))
                         for _ in range(cfg.eval_batches)]
        unit = "bpb" if data.kind == "bytes" else "bpd"
        print(f"sparse: {data.name} ({data.kind}), {cfg.attn}/{cfg.attn_mode} attention, "
              f"l={mcfg.resolved_stride()}, {model.num_params() / 1e6:.2f}M params, block {mcfg.block_size}, "
              f"run {run.path}", flush=True)

        def budget_frac() -> float:
            f = step / max(cfg.max_iters, 1)
            return max(f, train_seconds / cfg.time_budget) if cfg.time_budget > 0 else f

        clock = time.process_time if cfg.clock == "cpu" else time.perf_counter
        bar = progress(total=cfg.max_iters, initial=step, desc="train")
        train_bits: list[float] = []
        while step < cfg.max_iters and not (cfg.time_budget > 0 and train_seconds >= cfg.time_budget):
            model.train()
            t0 = clock()
            lr = lr_at(budget_frac(), step, cfg.lr, cfg.warmup)
            for grp in opt.param_groups:
                grp["lr"] = lr
            x, y = (torch.as_tensor(a, device=device)
                    for a in random_batch(data, "train", cfg.batch_size, mcfg.block_size, rng))
            _, loss = model(x, y)
            opt.zero_grad(set_to_none=True)
            scaler.scale(loss).backward()
            scaler.unscale_(opt)
            torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.grad_clip)
            scaler.step(opt)
            scaler.update()
            if device.type == "cuda":
                torch.cuda.synchronize()
            train_seconds += clock() - t0
            step += 1
            bar.update(1)
            train_bits.append(loss.item() / LN2)
            last = step >= cfg.max_iters or (cfg.time_budget > 0 and train_seconds >= cfg.time_budget)
            if step % cfg.eval_interval == 0 or last:
                vb = quick_valid(model, valid_batches)
                run.log(step, **{f"train/{unit}": float(np.mean(train_bits)), f"valid/{unit}": vb,
                                 "lr": lr, "train_seconds": train_seconds})
                bar.set_postfix(train=f"{np.mean(train_bits):.3f}", valid=f"{vb:.3f}")
                train_bits = []
                run.save_checkpoint(step, {"model": model.state_dict(), "optim": opt.state_dict(),
                                           "train_seconds": train_seconds})
        bar.close()
        if state is None or step > int(state["step"]):
            run.save_checkpoint(step, {"model": model.state_dict(), "optim": opt.state_dict(),
                                       "train_seconds": train_seconds})
        final = evaluate(model, data, "valid", cfg.batch_size, device, max_tokens=cfg.final_eval_tokens)
        from ilya.sparse.plots import plot_pattern_figure, save_sample

        sample = sample_tokens(model, data, 16 if data.kind == "image" else 1, cfg.sample_tokens,
                               temperature=1.0, top_p=0.95, seed=cfg.seed, device=device)
        save_sample(run, data, sample)
        plot_pattern_figure(run.plots_dir / "attention_patterns.png", l=mcfg.resolved_stride(),
                            c=mcfg.resolved_c(), highlight=cfg.attn)
        summary = run.summary(**{
            f"valid_{unit}": final["bits"], "valid_exact": final["exact"], "valid_tokens": final["tokens"],
            "iters": step, "train_seconds": round(train_seconds, 2),
            "sec_per_iter": round(train_seconds / max(step, 1), 4), "params": model.num_params(),
            "attn": cfg.attn, "attn_mode": cfg.attn_mode, "stride": mcfg.resolved_stride(),
            "block_size": mcfg.block_size, "data": data.name, "device": str(device),
            "model": asdict(mcfg) | {"image_shape": list(mcfg.image_shape) if mcfg.image_shape else None},
        })
        print(f"sparse: {step} iters, {summary['sec_per_iter']:.3f} s/iter, valid {final['bits']:.4f} "
              f"bits/{'byte' if unit == 'bpb' else 'dim'} ({'exact, ' if final['exact'] else ''}"
              f"{final['tokens']} tokens)", flush=True)
    return summary
