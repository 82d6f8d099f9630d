"""The Sparse Transformer of a training config, exact bits per byte/dim, sampling, and reopening a run.

The model is `ilya.nn.Transformer` with factorized attention; this module maps `TrainConfig` onto its
`TransformerConfig`, scores a split with every token predicted exactly once (`evaluate`), samples bytes
or whole images (`sample_tokens`) and rebuilds a run's model from its config and latest checkpoint.
"""

from __future__ import annotations

import copy
import math
import time
from typing import Any

import numpy as np
import torch

from ilya.core.errors import IlyaError
from ilya.core.progress import progress
from ilya.core.runs import Run
from ilya.nn import Transformer, TransformerConfig
from ilya.sparse.config import Split, TrainConfig
from ilya.sparse.data import IMAGE_BOS, TokenData, eval_windows, load_data

LN2 = math.log(2.0)


def model_config(cfg: TrainConfig, data: TokenData) -> TransformerConfig:
    """The `TransformerConfig` a training config asks for (images: one image per sequence)."""
    block = data.seq_len if data.seq_len is not None else cfg.block_size
    if block < 2:
        raise IlyaError(f"--block-size {cfg.block_size}: expected at least 2")
    pos = cfg.pos_emb if cfg.pos_emb != "auto" else ("factorized" if data.kind == "image" else "learned")
    if pos == "factorized" and data.image_shape is None:
        raise IlyaError("--pos-emb factorized needs image data (fashion-mnist or cifar10)")
    if cfg.stride < 0 or cfg.c < 0:
        raise IlyaError("--stride and --c must be positive (0 picks the default)")
    l = cfg.stride or max(2, int(round(math.sqrt(block))))  # noqa: E741
    if cfg.attn == "fixed" and cfg.c > l:
        raise IlyaError(f"--c {cfg.c}: must not exceed the block length l = {l}")
    if cfg.n_embd % cfg.n_head:
        raise IlyaError(f"--n-embd {cfg.n_embd} is not divisible by --n-head {cfg.n_head}")
    return TransformerConfig(
        vocab_size=data.vocab_size, block_size=block, n_layer=cfg.n_layer, n_head=cfg.n_head,
        n_embd=cfg.n_embd, dropout=cfg.dropout, attn=cfg.attn, stride=cfg.stride or None, c=cfg.c or None,
        attn_mode=cfg.attn_mode, pos_emb=pos, image_shape=data.image_shape, recompute=cfg.recompute,
        precision=cfg.optim.precision)


def eval_stride(block_size: int, scoring: str = "windows", min_context: int = 0, stride: int = 0) -> int:
    """The window step of a scoring: ``block_size`` (non-overlapping) or ``block_size - min_context + 1``.

    A window of ``block_size`` inputs that scores its last ``step`` targets gives each of them at least
    ``block_size - step + 1`` bytes of context (non-overlapping windows: 1; step 1: all ``block_size``).
    """
    if stride < 0 or min_context < 0:
        raise IlyaError("--stride and --min-context must not be negative")
    if stride:
        if stride > block_size:
            raise IlyaError(f"--stride {stride}: must not exceed the block size {block_size}")
        return stride
    if scoring == "windows":
        if min_context:
            raise IlyaError("--min-context applies to --scoring sliding")
        return block_size
    ctx = min_context or block_size // 2
    if ctx > block_size:
        raise IlyaError(f"--min-context {ctx}: must not exceed the block size {block_size}")
    return block_size - ctx + 1


def _window_fields(block: int, stride: int | None) -> dict[str, Any]:
    """How bytes were scored: windows of ``block`` bytes moved by ``stride`` (None: by ``block``)."""
    step = stride or block
    return {"scoring": "windows" if step >= block else "sliding", "window_step": step, "context": block,
            "min_context": block - step + 1}


@torch.no_grad()
def evaluate(model: Transformer, data: TokenData, split: Split, batch_size: int = 16,
             device: torch.device | str = "cpu", stride: int | None = None, max_tokens: int = 0,
             show: bool = True, context: int = 0) -> dict[str, Any]:
    """Bits per byte (text) or per dim (images) on ``split``: every token scored exactly once (with the
    CPU seconds the scoring took).

    ``context`` > 0 (text) scores with windows of that many bytes instead of ``block_size``: the same model
    seeing less of the past, which measures what its long context is worth.
    """
    t0 = time.process_time()
    model.eval()
    block = model.cfg.block_size if context <= 0 or data.kind != "bytes" else min(context, model.cfg.block_size)
    if stride is not None and stride > block:
        raise IlyaError(f"window step {stride} exceeds the scoring context {block}")
    windows = eval_windows(data, split, block, stride, max_tokens)
    total_nats, total_tokens = 0.0, 0
    groups: dict[int, list[tuple[np.ndarray, np.ndarray, int]]] = {}
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
    out: dict[str, Any] = {unit: bits, "bits": bits, "tokens": total_tokens, "exact": total_tokens == n_split,
                           "split": split}
    if data.kind == "bytes":
        out.update(_window_fields(block, stride))
    out["cpu_seconds"] = round(time.process_time() - t0, 2)
    return out


def dynamic_scores(model: Transformer, arr: np.ndarray, stride: int | None = None, lr: float = 1e-4,
                   optim: str = "adam", decay: float = 0.0, grad_clip: float = 1.0, max_tokens: int = 0,
                   device: torch.device | str = "cpu", show: bool = True) -> np.ndarray:
    """Nats of every byte ``arr[1:]`` under dynamic evaluation (Krause et al. 2018): score, then learn.

    The windows are those of `evaluate` (``stride`` bytes scored per window, in order). Each window's new
    bytes are scored with the current weights first; only then does one gradient step on those same bytes
    (their mean cross-entropy; ``optim`` "sgd" or "adam" at ``lr``, global norm clipped to ``grad_clip``)
    move the weights, and ``decay`` > 0 pulls them back toward the trained weights by that fraction after
    each step. So byte ``i`` is predicted only from bytes before it and from weights fitted to bytes before
    it: a decoder that replays the same steps decodes the stream, as with any adaptive compressor. The
    model passed in is left untouched (a copy adapts). Returns float64 nats, ``out[k]`` for ``arr[k + 1]``.
    """
    if optim not in ("sgd", "adam"):
        raise IlyaError(f"dynamic optimizer {optim!r}: expected sgd or adam")
    if lr <= 0 or not 0.0 <= decay < 1.0:
        raise IlyaError(f"dynamic evaluation needs lr > 0 and 0 <= decay < 1 (got {lr}, {decay})")
    block = model.cfg.block_size
    data = TokenData("stream", "bytes", arr[:0], arr[:0], arr)
    windows = eval_windows(data, "test", block, stride, max_tokens)
    dyn = copy.deepcopy(model).to(device)
    dyn.eval()                                   # no dropout: the scores are deterministic
    params = [p for p in dyn.parameters() if p.requires_grad]
    anchor = [p.detach().clone() for p in params]
    opt: torch.optim.Optimizer = (torch.optim.Adam(params, lr=lr, betas=(0.9, 0.999)) if optim == "adam"
                                  else torch.optim.SGD(params, lr=lr))
    n_scored = sum(len(w[1]) - w[2] for w in windows)
    out = np.zeros(n_scored, dtype=np.float64)
    pos = 0
    bar = progress(total=len(windows), desc="dynamic eval") if show else None
    for x_np, y_np, first in windows:
        x = torch.as_tensor(x_np.astype(np.int64), device=device)[None]
        y = torch.as_tensor(y_np[first:].astype(np.int64), device=device)
        logits, _ = dyn(x)
        nll = torch.nn.functional.cross_entropy(logits[0, first:], y, reduction="none")
        out[pos:pos + len(y)] = nll.detach().double().cpu().numpy()      # scored before any update on them
        pos += len(y)
        opt.zero_grad(set_to_none=True)
        nll.mean().backward()
        if grad_clip > 0:
            torch.nn.utils.clip_grad_norm_(params, grad_clip)
        opt.step()
        if decay > 0:
            with torch.no_grad():
                for p, p0 in zip(params, anchor, strict=True):
                    p.lerp_(p0, decay)
        if bar is not None:
            bar.update(1)
    if bar is not None:
        bar.close()
    return out


def dynamic_evaluate(model: Transformer, data: TokenData, split: Split, lr: float, optim: str = "adam",
                     decay: float = 0.0, device: torch.device | str = "cpu", stride: int | None = None,
                     max_tokens: int = 0, grad_clip: float = 1.0, show: bool = True) -> dict[str, Any]:
    """`evaluate`'s figures under dynamic evaluation (`dynamic_scores`), plus the CPU seconds it took."""
    if data.kind != "bytes":
        raise IlyaError("dynamic evaluation applies to text (byte) data only")
    t0 = time.process_time()
    nats = dynamic_scores(model, data.split(split), stride, lr, optim, decay, grad_clip, max_tokens, device,
                          show)
    bits = float(nats.sum()) / max(len(nats), 1) / LN2
    return {"bits_per_byte": bits, "bits": bits, "tokens": len(nats),
            "exact": len(nats) == len(data.split(split)) - 1, "split": split,
            **_window_fields(model.cfg.block_size, stride),
            "dynamic": {"lr": lr, "optim": optim, "decay": decay, "grad_clip": grad_clip},
            "cpu_seconds": round(time.process_time() - t0, 2)}


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
    if data.seq_len is not None:
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
    cfg = run.config_as(TrainConfig)
    data = load_data(cfg.data, cfg.data_dir)
    model = Transformer(model_config(cfg, data)).to(device)
    state = run.load_checkpoint(map_location=str(device))
    if state is None:
        raise IlyaError(f"run {run.system}/{run.name} has no checkpoint yet (train it first)", file=run.path)
    model.load_state_dict(state["model"])
    model.eval()
    return model, data, state
