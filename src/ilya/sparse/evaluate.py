"""``ilya sparse eval`` and ``ilya sparse sample``: exact bits of a trained run, and samples from it."""

from __future__ import annotations

import sys
from typing import Any

from ilya.core.device import resolve_device
from ilya.core.errors import IlyaError
from ilya.core.runs import Run
from ilya.sparse.config import EvalConfig, SampleConfig
from ilya.sparse.data import tokens_to_images
from ilya.sparse.model import dynamic_evaluate, eval_stride, evaluate, load_model, sample_tokens
from ilya.sparse.plots import image_grid


def eval_command(cfg: EvalConfig) -> dict[str, Any]:
    """Bits per byte/dim of the run on ``cfg.split`` (also merged into its summary.json)."""
    device = resolve_device(cfg.device)
    run = Run.load(cfg.run, cfg.runs_dir, system="sparse")
    model, data, state = load_model(run, device)
    stride = None
    if cfg.context < 0 or (cfg.context and cfg.dynamic_lr):
        raise IlyaError("--context must be positive and applies to static scoring (no --dynamic-lr)")
    if data.kind == "bytes":
        ctx = min(cfg.context, model.cfg.block_size) if cfg.context else model.cfg.block_size
        stride = eval_stride(ctx, cfg.scoring, cfg.min_context, cfg.stride)
    if cfg.dynamic_lr < 0:
        raise IlyaError(f"--dynamic-lr {cfg.dynamic_lr}: must not be negative (0: static scoring)")
    if cfg.dynamic_lr > 0:
        res = dynamic_evaluate(model, data, cfg.split, cfg.dynamic_lr, cfg.dynamic_optim, cfg.dynamic_decay,
                               device, stride, cfg.max_tokens)
    else:
        res = evaluate(model, data, cfg.split, cfg.batch_size, device, stride, cfg.max_tokens,
                       context=cfg.context)
    res.update(run=f"{run.system}/{run.name}", data=data.name, step=int(state["step"]),
               attn=run.config.get("attn"))
    key = f"{cfg.split}_bits" + ("_dynamic" if cfg.dynamic_lr > 0 else "")
    run.summary(**{key: res["bits"], f"{cfg.split}_exact": res["exact"]})
    if not cfg.json:
        unit = "bits/byte" if data.kind == "bytes" else "bits/dim"
        print(f"{run.system}/{run.name} {cfg.split}: {res['bits']:.4f} {unit} over {res['tokens']} tokens"
              + (f", dynamic evaluation ({cfg.dynamic_optim}, lr {cfg.dynamic_lr:g})" if cfg.dynamic_lr > 0
                 else "")
              + f"{' (exact, whole split)' if res['exact'] else ''}"
              + (f", {res['scoring']} windows, every byte after the first window with at least "
                 f"{res['min_context']} bytes of context" if data.kind == "bytes" else ""))
    return res


def sample_command(cfg: SampleConfig) -> None:
    """Text samples to stdout, or an image grid PNG (its path printed)."""
    if cfg.n < 1 or cfg.length < 1:
        raise IlyaError("--n and --length must be at least 1")
    device = resolve_device(cfg.device)
    run = Run.load(cfg.run, cfg.runs_dir, system="sparse")
    model, data, _ = load_model(run, device)
    prompt = cfg.prompt.encode("utf-8")
    if data.image_shape is not None and prompt:
        raise IlyaError("--prompt applies to text data only")
    out = sample_tokens(model, data, cfg.n, cfg.length, cfg.temperature, cfg.top_p, prompt, cfg.seed, device)
    if data.image_shape is not None:
        path = image_grid(tokens_to_images(out, data.image_shape), cfg.out or run.plots_dir / "samples.png",
                          f"samples ({data.name}, T={cfg.temperature})")
        print(path)
        return None
    for k, row in enumerate(out):
        if k:
            sys.stdout.write("\n" + "-" * 40 + "\n")
        sys.stdout.write(bytes(row.tolist()).decode("utf-8", errors="replace"))
    sys.stdout.write("\n")
    return None
