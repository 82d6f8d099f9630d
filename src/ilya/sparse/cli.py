"""``ilya sparse train|eval|sample|patterns``: Sparse Transformers on bytes and images."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

import tyro

from ilya.core.errors import IlyaError
from ilya.core.runs import Run, RunConfig


@dataclass
class TrainConfig(RunConfig):
    """Train a byte- or pixel-level Sparse Transformer; curves, checkpoints, a sample and figures go in the run."""

    data: Literal["setmm", "enwik8", "fashion-mnist", "cifar10"] = "setmm"
    """dataset: setmm (local bytes of set.mm), enwik8 (downloaded), fashion-mnist (Debian), cifar10 (downloaded)"""
    attn: Literal["dense", "strided", "fixed"] = "strided"
    """attention pattern (Child et al. §4.3)"""
    attn_mode: Literal["merged", "interleaved", "multihead"] = "merged"
    """how the two halves of a sparse pattern are combined: one head sees both, alternate layers, or split heads"""
    stride: int = 0
    """stride / block length l (0: about sqrt(block_size))"""
    c: int = 0
    """fixed pattern: summary positions per block (0: l // 8, at least 1)"""
    block_size: int = 256
    """context length in bytes (images always use one whole image)"""
    n_layer: int = 4
    """transformer blocks"""
    n_head: int = 4
    """attention heads"""
    n_embd: int = 128
    """model width"""
    dropout: float = 0.0
    """dropout on attention output, MLP output and embeddings"""
    pos_emb: Literal["auto", "learned", "factorized"] = "auto"
    """positional embedding: learned per position, or row+column+channel (auto: factorized for images)"""
    batch_size: int = 16
    """sequences per step"""
    lr: float = 1e-3
    """peak learning rate (AdamW)"""
    weight_decay: float = 0.01
    """AdamW weight decay on matrices"""
    warmup: int = 50
    """linear warm-up steps"""
    grad_clip: float = 1.0
    """gradient-norm clip"""
    max_iters: int = 2000
    """training steps (the schedule ends at max_iters or time_budget, whichever comes first)"""
    time_budget: float = 0.0
    """seconds of training steps (evaluation excluded); 0: no limit"""
    clock: Literal["wall", "cpu"] = "wall"
    """what time_budget and s/iter count: wall-clock seconds, or this process's CPU seconds (fair on a shared
    machine when --threads 1)"""
    eval_interval: int = 50
    """steps between validation estimates and checkpoints"""
    eval_batches: int = 4
    """fixed validation batches per estimate"""
    final_eval_tokens: int = 0
    """tokens of the valid split scored at the end (0: the whole split, exact)"""
    recompute: bool = False
    """recompute each block's activations in the backward pass (§5.4)"""
    precision: Literal["fp32", "bf16", "fp16"] = "fp32"
    """autocast precision on CUDA (the CPU always runs fp32)"""
    sample_tokens: int = 400
    """bytes in the text sample written at the end"""
    threads: int = 0
    """torch CPU threads (0: torch's default)"""
    data_dir: Path | None = None
    """where downloaded datasets live (default $ILYA_DATA or ~/.cache/ilya/data)"""


def train_command(cfg: TrainConfig) -> dict[str, Any]:
    from ilya.sparse.train import train

    return train(cfg)


@dataclass
class EvalConfig:
    """Bits per byte (text) or per dim (images) of a trained run on a split, every token scored once."""

    run: Annotated[str, tyro.conf.Positional]
    """the run: sparse/<name>, a bare name, or a run folder"""
    split: Literal["train", "valid", "test"] = "test"
    """which split to score"""
    stride: int = 0
    """window step in bytes (0: block_size; smaller gives every byte more context, same exactness)"""
    max_tokens: int = 0
    """score only the first tokens of the split (0: all; then the figure is exact over the split)"""
    batch_size: int = 16
    """windows per forward pass"""
    device: Literal["auto", "cpu", "cuda"] = "auto"
    """auto (CUDA if present, else CPU), cpu or cuda"""
    runs_dir: Path = Path("runs")
    """folder that holds runs/<system>/<name>/"""
    json: bool = False
    """print one JSON object"""


def eval_command(cfg: EvalConfig) -> dict[str, Any]:
    from ilya.core.device import resolve_device
    from ilya.sparse.train import evaluate, load_model

    device = resolve_device(cfg.device)
    run = Run.load(cfg.run, cfg.runs_dir, system="sparse")
    model, data, state = load_model(run, device)
    res = evaluate(model, data, cfg.split, cfg.batch_size, device, cfg.stride or None, cfg.max_tokens)
    res.update(run=f"{run.system}/{run.name}", data=data.name, step=int(state["step"]),
               attn=run.config.get("attn"))
    run.summary(**{f"{cfg.split}_bits": res["bits"], f"{cfg.split}_exact": res["exact"]})
    if not cfg.json:
        unit = "bits/byte" if data.kind == "bytes" else "bits/dim"
        print(f"{run.system}/{run.name} {cfg.split}: {res['bits']:.4f} {unit} over {res['tokens']} tokens"
              f"{' (exact, whole split)' if res['exact'] else ''}")
    return res


@dataclass
class SampleConfig:
    """Sample from a trained run: text to stdout, images as a PNG grid in the run's plots/."""

    run: Annotated[str, tyro.conf.Positional]
    """the run: sparse/<name>, a bare name, or a run folder"""
    n: int = 1
    """number of samples (images: grid cells)"""
    length: int = 500
    """bytes to generate per text sample"""
    prompt: str = ""
    """text to continue (bytes data only)"""
    temperature: float = 1.0
    """softmax temperature (0: greedy)"""
    top_p: float = 0.95
    """nucleus sampling mass"""
    seed: int = 0
    """sampling seed"""
    out: Path | None = None
    """image grid path (default: <run>/plots/samples.png)"""
    device: Literal["auto", "cpu", "cuda"] = "auto"
    """auto (CUDA if present, else CPU), cpu or cuda"""
    runs_dir: Path = Path("runs")
    """folder that holds runs/<system>/<name>/"""


def sample_command(cfg: SampleConfig) -> None:
    from ilya.core.device import resolve_device
    from ilya.sparse.data import tokens_to_images
    from ilya.sparse.plots import image_grid
    from ilya.sparse.train import load_model, sample_tokens

    if cfg.n < 1 or cfg.length < 1:
        raise IlyaError("--n and --length must be at least 1")
    device = resolve_device(cfg.device)
    run = Run.load(cfg.run, cfg.runs_dir, system="sparse")
    model, data, _ = load_model(run, device)
    prompt = cfg.prompt.encode("utf-8")
    if data.kind == "image" and prompt:
        raise IlyaError("--prompt applies to text data only")
    out = sample_tokens(model, data, cfg.n, cfg.length, cfg.temperature, cfg.top_p, prompt, cfg.seed, device)
    if data.kind == "image":
        assert data.image_shape is not None
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


@dataclass
class PatternsConfig:
    """Draw the paper's Fig. 3 (attention connectivity of dense, strided and fixed attention) as a PNG."""

    out: Path = Path("attention_patterns.png")
    """where to write the PNG"""
    l: int = 6  # noqa: E741
    """stride / block length drawn (the image is l x l)"""
    c: int = 2
    """summary positions per block of the fixed pattern"""


def patterns_command(cfg: PatternsConfig) -> None:
    from ilya.sparse.plots import plot_pattern_figure

    print(plot_pattern_figure(cfg.out, cfg.l, cfg.c))


COMMANDS = {
    "train": (TrainConfig, train_command),
    "eval": (EvalConfig, eval_command),
    "sample": (SampleConfig, sample_command),
    "patterns": (PatternsConfig, patterns_command),
}


def replot(run: Run) -> list[Path]:
    """Redraw the run's Fig. 3 pattern figure (its attention highlighted)."""
    from ilya.sparse.plots import plot_pattern_figure

    cfg = run.config
    return [plot_pattern_figure(run.plots_dir / "attention_patterns.png", highlight=cfg.get("attn"))]


def demo(runs_dir: Path) -> None:
    """About 2-3 minutes: a small strided-attention model on the bytes of set.mm, with curves and a sample."""
    from ilya.sparse.train import train

    cfg = TrainConfig(run="demo-setmm-strided", fresh=True, runs_dir=runs_dir, data="setmm", attn="strided",
                      block_size=256, n_layer=3, n_head=4, n_embd=128, batch_size=16, lr=2e-3, warmup=30,
                      max_iters=100_000, time_budget=100.0, eval_interval=40, final_eval_tokens=50_000, threads=1,
                      sample_tokens=300)
    summary = train(cfg)
    run = Run.load(cfg.run, runs_dir, system="sparse")
    print(f"A 3-layer Sparse Transformer with strided attention (l={summary['stride']}) trained for "
          f"{summary['train_seconds']:.0f} s on the bytes of set.mm: {summary['iters']} steps, valid "
          f"{summary['valid_bpb']:.3f} bits/byte on the first 50k valid bytes (uniform: 8; gzip -9 on all of set.mm: 2.78).")
    print("Sample (temperature 1, top-p 0.95):")
    print((run.path / "sample.txt").read_bytes().decode("utf-8", errors="replace")[:300])
    print(f"Curves and the Fig. 3 attention-pattern figure: {run.plots_dir}")
