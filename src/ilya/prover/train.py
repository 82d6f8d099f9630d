"""Training the proof-step model (paper §3.3) and, with value targets, the value objective (§4.1).

Read top to bottom: sample train theorems, fit the tokenizer (first run only), tokenize, then AdamW with
linear warm-up and cosine decay on the PROOFSTEP tokens only; every ``eval_interval`` steps the valid
loss is logged and a checkpoint is written (a rerun with the same ``--run`` resumes from it).  Value
targets (``GOAL g VALUE PROVABLE|UNPROVABLE``, from the prover's own searches) are mixed into batches.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ilya.core.errors import IlyaError
from ilya.core.progress import progress
from ilya.core.runs import Run, RunConfig
from ilya.prover.dataset import examples, sample_records
from ilya.prover.format import prompt
from ilya.prover.model import PackedExamples, collate, encode_example, encode_value, save_model
from ilya.prover.tokenizer import fit_tokenizer, load_tokenizer

DEFAULT_DATA = Path("data/prover/set.mm")


@dataclass
class TrainConfig(RunConfig):
    """Train the GPT-f proof-step language model (loss on the PROOFSTEP part only)."""

    data: Path = DEFAULT_DATA
    """dataset folder written by `ilya prover dataset`"""
    tokenizer: str = "bpe"
    """bpe (Hugging Face tokenizers, fitted on train) or char"""
    subst: str = "free"
    """free (only the variables the goal does not determine: the kernel fills in the rest by unification;
    the default, measured better at small budgets: docs/prover.md) or full (the paper: a term for every
    variable of the applied assertion)"""
    vocab_size: int = 1024
    """BPE vocabulary size"""
    n_layer: int = 4
    """transformer layers (12 for the GPT-3 Small shape that GPT-f's models follow)"""
    n_head: int = 4
    """attention heads (12 for the GPT-3 Small shape)"""
    n_embd: int = 128
    """model width (768 for the GPT-3 Small shape)"""
    block_size: int = 256
    """context length in tokens; longer examples are dropped and counted (GPT-3: 2048)"""
    dropout: float = 0.0
    """dropout"""
    steps: int = 4000
    """optimizer steps (4,000 x 32 examples: ~20 minutes on 2 cores, 35 on one)"""
    batch_size: int = 32
    """examples per step"""
    lr: float = 2e-3
    """peak learning rate (AdamW, linear warm-up then cosine decay to 10%)"""
    warmup: int = 200
    """warm-up steps"""
    weight_decay: float = 0.1
    """AdamW weight decay"""
    max_examples: int = 200_000
    """train steps read from the split (theorems in a seeded random order); 0 = all"""
    steps_per_theorem: int = 8
    """at most this many distinct steps of each theorem: the examples cover more of set.mm (0 = all)"""
    value_data: Path | None = None
    """JSON lines {"goal", "provable"} of value targets (written by `ilya prover iterate`)"""
    extra_data: Path | None = None
    """JSON lines {"goal", "step", "hyps"} of proof steps found by search, added to the train examples (iterate)"""
    value_fraction: float = 0.25
    """share of each batch given to value examples when value_data is set"""
    init: Path | None = None
    """start from this model folder (a run's model/) instead of random weights"""
    eval_interval: int = 500
    """steps between valid-loss evaluations and checkpoints"""
    threads: int = 0
    """torch CPU threads (0 = all cores: 1.75x faster than 1 on this 2-core machine; use 1 on a busy CPU)"""


def _free_only(data: Path, recs: list[Any]) -> list[Any]:
    """Drop from each step the variables its assertion's conclusion contains (unification recovers them)."""
    from ilya.prover.dataset import load_stats
    from ilya.prover.evaluate import load_database
    from ilya.prover.format import ProofStep

    db = load_database(None, data) if load_stats(data) else load_database(None)
    concl: dict[str, set[str]] = {}
    for rec in recs:
        steps = []
        for g, st in rec.steps:
            if st.label not in concl:
                a = db[st.label]
                concl[st.label] = {x for x in a.expr if x in set(a.vars)}
            steps.append((g, ProofStep(st.label, tuple((v, t) for v, t in st.subst if v not in concl[st.label]))))
        rec.steps = steps
    return recs


def _value_examples(path: Path, tok: Any, block_size: int) -> list[tuple[list[int], int]]:
    out = []
    if not Path(path).is_file():
        raise IlyaError("value data not found", file=path)
    for i, line in enumerate(Path(path).read_text().splitlines(), 1):
        try:
            d = json.loads(line)
            ex = encode_value(tok, tuple(d["goal"].split()), bool(d["provable"]))
        except (json.JSONDecodeError, KeyError) as e:
            raise IlyaError(f"not a value target ({e})", file=path, line=i) from None
        if len(ex[0]) <= block_size + 1:
            out.append(ex)
    return out


def _encode_all(tok: Any, pairs: list[tuple[str, str]], block_size: int) -> tuple[PackedExamples, int]:
    seqs, dropped = [], 0
    for p, c in pairs:
        ex = encode_example(tok, p, c)
        if len(ex[0]) > block_size + 1:
            dropped += 1
            continue
        seqs.append(ex)
    if not seqs:
        raise IlyaError("no training example fits --block-size; raise it")
    return PackedExamples(seqs), dropped


@torch.no_grad()
def _loss(model: Any, batches: list[tuple[torch.Tensor, ...]]) -> float:
    model.eval()
    tot = 0.0
    for idx, tgt, mask in batches:
        tot += float(model(idx, tgt, mask)[1])
    model.train()
    return tot / max(len(batches), 1)


def train(cfg: TrainConfig) -> dict[str, Any]:
    from ilya.core.device import resolve_device
    from ilya.nn import Transformer, TransformerConfig
    from ilya.prover.model import load_model

    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    device = resolve_device(cfg.device)
    with Run.open("prover", cfg) as run:
        # ---------------------------------------------------------------- data and tokenizer
        t0 = time.time()
        train_recs = sample_records(cfg.data, "train", cfg.max_examples or 10**12, cfg.seed,
                                   cfg.steps_per_theorem)
        valid_recs = sample_records(cfg.data, "valid", 20_000, cfg.seed)
        if cfg.subst not in ("full", "free"):
            raise IlyaError(f"--subst {cfg.subst}: expected full or free")
        if cfg.subst == "free":
            train_recs, valid_recs = _free_only(cfg.data, train_recs), _free_only(cfg.data, valid_recs)
        train_pairs, valid_pairs = list(examples(train_recs)), list(examples(valid_recs))
        if cfg.extra_data is not None and Path(cfg.extra_data).is_file():
            for i, line in enumerate(Path(cfg.extra_data).read_text().splitlines(), 1):
                try:
                    d = json.loads(line)
                    hyps = [tuple(h.split()) for h in d.get("hyps", [])]
                    train_pairs.append((prompt(tuple(d["goal"].split()), hyps), " " + d["step"]))
                except (json.JSONDecodeError, KeyError) as e:
                    raise IlyaError(f"not a proof step ({e})", file=cfg.extra_data, line=i) from None
        tok_path = run.path / "tokenizer.json"
        block_size = cfg.block_size
        if cfg.init is not None:
            init_model, tok, _ = load_model(cfg.init)
            block_size = init_model.cfg.block_size
        elif tok_path.is_file():
            tok = load_tokenizer(tok_path)
        else:
            texts = [p + c for p, c in train_pairs[:100_000]]
            tok = fit_tokenizer(cfg.tokenizer, texts, cfg.vocab_size)
        tok.save(tok_path)
        train_ex, dropped = _encode_all(tok, train_pairs, block_size)
        valid_ex, _ = _encode_all(tok, valid_pairs, block_size)
        value_ex = _value_examples(cfg.value_data, tok, block_size) if cfg.value_data else []
        mean_tokens = float(np.diff(train_ex.offsets).mean())
        print(f"prover train: {len(train_ex)} train examples from {len(train_recs)} theorems "
              f"({dropped} longer than {block_size} tokens dropped), {len(valid_ex)} valid, "
              f"{len(value_ex)} value targets; {tok.kind} tokenizer, {tok.vocab_size} tokens, "
              f"{mean_tokens:.1f} tokens/example ({time.time() - t0:.0f} s)", flush=True)

        # ---------------------------------------------------------------- model and optimizer
        if cfg.init is not None:
            model = init_model.to(device)
            model.train()
        else:
            tcfg = TransformerConfig(vocab_size=tok.vocab_size, block_size=cfg.block_size,
                                     n_layer=cfg.n_layer, n_head=cfg.n_head, n_embd=cfg.n_embd,
                                     dropout=cfg.dropout)
            model = Transformer(tcfg).to(device)
        decay = [p for n, p in model.named_parameters() if p.dim() >= 2]
        no_decay = [p for n, p in model.named_parameters() if p.dim() < 2]
        opt = torch.optim.AdamW([{"params": decay, "weight_decay": cfg.weight_decay},
                                 {"params": no_decay, "weight_decay": 0.0}], lr=cfg.lr, betas=(0.9, 0.95))
        step = 0
        ckpt = run.load_checkpoint()
        if ckpt is not None:
            model.load_state_dict(ckpt["model"])
            opt.load_state_dict(ckpt["optim"])
            step = int(ckpt["step"])
            print(f"prover train: resumed at step {step}", flush=True)

        def lr_at(s: int) -> float:
            if s < cfg.warmup:
                return cfg.lr * (s + 1) / cfg.warmup
            frac = (s - cfg.warmup) / max(1, cfg.steps - cfg.warmup)
            return cfg.lr * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * min(frac, 1.0))))

        rng = np.random.default_rng(cfg.seed + step)
        vrng = np.random.default_rng(cfg.seed + 10**6)
        valid_batches = [tuple(t.to(device) for t in collate(valid_ex.batch(vrng, cfg.batch_size), tok.pad_id))
                         for _ in range(8)]
        n_value = int(round(cfg.batch_size * cfg.value_fraction)) if value_ex else 0
        t_start, tokens = time.time(), 0
        model.train()
        bar = progress(total=cfg.steps, initial=step, desc="train")
        loss_acc, n_acc = 0.0, 0
        while step < cfg.steps:
            seqs = train_ex.batch(rng, cfg.batch_size - n_value)
            if n_value:
                seqs += [value_ex[int(i)] for i in rng.integers(0, len(value_ex), n_value)]
            idx, tgt, mask = (t.to(device) for t in collate(seqs, tok.pad_id))
            for g in opt.param_groups:
                g["lr"] = lr_at(step)
            _, loss = model(idx, tgt, mask)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            step += 1
            tokens += int(idx.numel())
            loss_acc, n_acc = loss_acc + loss.item(), n_acc + 1
            bar.update(1)
            if step % 25 == 0 or step == cfg.steps:
                run.log(step, **{"train/loss": loss_acc / n_acc, "lr": lr_at(step),
                                 "tokens_per_s": tokens / max(time.time() - t_start, 1e-9)})
                loss_acc, n_acc = 0.0, 0
            if step % cfg.eval_interval == 0 or step == cfg.steps:
                vl = _loss(model, valid_batches)
                run.log(step, **{"valid/loss": vl})
                run.save_checkpoint(step, {"model": model.state_dict(), "optim": opt.state_dict()})
        bar.close()
        save_model(run.path / "model", model, tok, {"tokenizer": tok.kind, "data": str(cfg.data),
                                                     "subst": cfg.subst})
        vl = _loss(model, valid_batches)
        return run.summary(**{"valid/loss": vl, "params": model.num_params(), "steps": step,
                              "train_examples": len(train_ex), "dropped_long": dropped,
                              "tokens_per_example": round(mean_tokens, 1), "tokenizer": tok.kind,
                              "vocab_size": tok.vocab_size, "train_seconds": round(run.wall(), 1)})
