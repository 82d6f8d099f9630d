"""The flags of ``ilya sparse`` commands: dataclasses and Literal types only (``--help`` imports this)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Literal

import tyro

from ilya.core.config import DeviceName, OptimConfig, Precision, RunConfig, Schedule

DataName = Literal["setmm", "enwik8", "fashion-mnist", "cifar10"]
Pattern = Literal["dense", "strided", "fixed"]
AttnMode = Literal["merged", "interleaved", "multihead"]
PosEmb = Literal["auto", "learned", "factorized"]
Split = Literal["train", "valid", "test"]
Clock = Literal["wall", "cpu"]
Scoring = Literal["windows", "sliding"]
DynamicOptim = Literal["adam", "sgd"]


@dataclass
class SparseOptim(OptimConfig):
    """AdamW as the paper's training: betas (0.9, 0.95), warm-up, cosine decay to 10 %, norm clipping."""

    lr: float = 1e-3
    """peak learning rate"""
    weight_decay: float = 0.01
    """decoupled weight decay on matrices (biases, norms and embeddings are never decayed)"""
    beta2: float = 0.95
    """second-moment decay"""
    warmup: int = 50
    """linear warm-up steps"""
    schedule: Schedule = "cosine"
    """learning rate after warm-up: cosine or linear decay to min_lr_ratio * lr (over max_iters, or the
    time budget when that ends first), or constant"""
    grad_clip: float = 1.0
    """clip the global gradient norm to this (0: no clipping)"""
    precision: Precision = "fp32"
    """autocast dtype on CUDA: bf16 or fp16 (fp16 with a gradient scaler); the CPU always runs fp32"""


@dataclass
class TrainConfig(RunConfig):
    """Train a byte- or pixel-level Sparse Transformer; curves, checkpoints, a sample and figures go in the run."""

    data: DataName = "setmm"
    """dataset: setmm (local bytes of set.mm), enwik8 (downloaded), fashion-mnist (Debian), cifar10 (downloaded)"""
    attn: Pattern = "strided"
    """attention pattern (Child et al. §4.3)"""
    attn_mode: AttnMode = "merged"
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
    pos_emb: PosEmb = "auto"
    """positional embedding: learned per position, or row+column+channel (auto: factorized for images)"""
    batch_size: int = 16
    """sequences per step"""
    optim: SparseOptim = field(default_factory=SparseOptim)
    """optimizer, schedule and numerics (ilya.nn.training)"""
    max_iters: int = 2000
    """training steps (the schedule ends at max_iters or time_budget, whichever comes first)"""
    time_budget: float = 0.0
    """seconds of training steps (evaluation excluded); 0: no limit"""
    clock: Clock = "wall"
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
    sample_tokens: int = 400
    """bytes in the text sample written at the end"""
    threads: int = 0
    """torch CPU threads (0: torch's default)"""
    data_dir: Path | None = None
    """where downloaded datasets live (default $ILYA_DATA or ~/.cache/ilya/data)"""


@dataclass
class EvalConfig:
    """Bits per byte (text) or per dim (images) of a trained run on a split, every token scored once."""

    run: Annotated[str, tyro.conf.Positional]
    """the run: sparse/<name>, a bare name, or a run folder"""
    split: Split = "test"
    """which split to score"""
    scoring: Scoring = "windows"
    """text: non-overlapping windows of block_size (a byte has 1 to block_size bytes of context), or
    sliding windows that give every byte at least --min-context bytes of context (all but the split's first)"""
    min_context: int = 0
    """sliding scoring: bytes of context every scored byte has at least (0: block_size // 2; at most
    block_size); the window then moves by block_size - min_context + 1"""
    stride: int = 0
    """explicit window step in bytes (overrides --scoring/--min-context; 0: from them)"""
    max_tokens: int = 0
    """score only the first tokens of the split (0: all; then the figure is exact over the split)"""
    context: int = 0
    """text, static scoring: windows of this many bytes instead of block_size (the same model seeing less
    of the past; --min-context then counts within it; 0: block_size)"""
    batch_size: int = 16
    """windows per forward pass (static scoring; dynamic evaluation goes one window at a time)"""
    dynamic_lr: float = 0.0
    """text: dynamic evaluation at this learning rate (Krause et al. 2018): after each window's new bytes are
    scored, one gradient step on them, so every byte is scored before the model learns from it (0: static)"""
    dynamic_optim: DynamicOptim = "adam"
    """dynamic evaluation's optimizer"""
    dynamic_decay: float = 0.0
    """dynamic evaluation: after each step pull the weights this fraction back toward the trained ones"""
    device: DeviceName = "auto"
    """auto (CUDA if present, else CPU), cpu or cuda"""
    runs_dir: Path = Path("runs")
    """folder that holds runs/<system>/<name>/"""
    json: bool = False
    """print one JSON object"""


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
    device: DeviceName = "auto"
    """auto (CUDA if present, else CPU), cpu or cuda"""
    runs_dir: Path = Path("runs")
    """folder that holds runs/<system>/<name>/"""


@dataclass
class PatternsConfig:
    """Draw the paper's Fig. 3 (attention connectivity of dense, strided and fixed attention) as a PNG."""

    out: Path = Path("attention_patterns.png")
    """where to write the PNG"""
    l: int = 6  # noqa: E741
    """stride / block length drawn (the image is l x l)"""
    c: int = 2
    """summary positions per block of the fixed pattern"""
