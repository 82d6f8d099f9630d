"""Training the proof-step model (paper §3.3) and, with value targets, the value objective (§4.1).

Read top to bottom: sample train theorems, fit the tokenizer (first run only), tokenize, then train on
the PROOFSTEP tokens only with the shared plumbing (`ilya.nn.training.Trainer`: AdamW, linear warm-up
and cosine decay, gradient clipping, AMP on CUDA); every ``eval_interval`` steps the valid loss is logged
and a checkpoint is written (model, optimizer and the batch sampler's state: a rerun with the same
``--run`` resumes exactly).  Value targets (``GOAL g VALUE PROVABLE|UNPROVABLE``, from the prover's own
searches) are mixed into batches.  ``--slice N`` trains on a dataset of set.mm's first N theorems built
in the run folder (seconds; the smoke runs use it).

Under ``torchrun --nproc-per-node N`` the training is data-parallel (`ilya.nn.distributed`): every rank
draws the same global batch from the same seeded sampler and trains on its `distributed.shard`; each
rank's loss is its summed token loss over the *global* number of loss tokens (times N, since DDP averages
gradients), so the gradient, the logged loss and the loss curve equal those of one process on the whole
batch (`tests/prover/test_ddp.py`).  Rank 0 fits the tokenizer and writes the run folder.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ilya.core.data import metamath_database
from ilya.core.device import resolve_device
from ilya.core.errors import IlyaError
from ilya.core.figures import draw_run
from ilya.core.runs import Run
from ilya.metamath import load
from ilya.nn import Transformer, TransformerConfig, distributed
from ilya.nn.training import Trainer
from ilya.prover.config import TrainConfig
from ilya.prover.dataset import build_dataset, examples, load_database, load_stats, sample_records
from ilya.prover.format import ProofStep, prompt
from ilya.prover.model import PackedExamples, collate, encode_example, encode_value, load_model, save_model
from ilya.prover.slicing import slice_database
from ilya.prover.tokenizer import Tokenizer, fit_tokenizer, load_tokenizer


def _free_only(data: Path, recs: list[Any]) -> list[Any]:
    """Drop from each step the variables its assertion's conclusion contains (unification recovers them)."""
    db = load_database(None, data if load_stats(data) else None)
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
def _loss(model: Transformer, batches: list[tuple[torch.Tensor, ...]]) -> float:
    model.eval()
    tot = 0.0
    for idx, tgt, mask in batches:
        tot += float(model(idx, tgt, mask)[1])
    model.train()
    return tot / max(len(batches), 1)


def slice_data(out: Path, n_theorems: int) -> Path:
    """A dataset of set.mm's first ``n_theorems`` theorems in ``out`` (built once; same files every time)."""
    if not (out / "stats.json").is_file():
        db_path = slice_database(metamath_database("set.mm"), out / "slice.mm", n_theorems=n_theorems)
        n_test = max(2, n_theorems // 10)
        build_dataset(load(db_path), out, valid=n_test, test=n_test)
    return out


def train(cfg: TrainConfig) -> dict[str, Any]:
    """Fit the model on the dataset's train split; returns the run's summary."""
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    device = distributed.device_for(resolve_device(cfg.device))
    me = distributed.init(device)
    if me.enabled and cfg.batch_size % me.world_size:
        raise IlyaError(f"--batch-size {cfg.batch_size} does not split over {me.world_size} processes")
    with Run.open("prover", cfg) as run:
        distributed.barrier()  # rank 0 has created the run folder
        # ---------------------------------------------------------------- data and tokenizer
        t0 = time.time()
        data = slice_data(run.path / "data", cfg.slice) if cfg.slice else cfg.data
        train_recs = sample_records(data, "train", cfg.max_examples or 10**12, cfg.seed, cfg.steps_per_theorem)
        valid_recs = sample_records(data, "valid", 20_000, cfg.seed)
        if cfg.subst == "free":
            train_recs, valid_recs = _free_only(data, train_recs), _free_only(data, valid_recs)
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
        init_model: Transformer | None = None
        tok: Tokenizer
        if cfg.init is not None:
            init_model, tok, _ = load_model(cfg.init)
            block_size = init_model.cfg.block_size
        elif tok_path.is_file():
            tok = load_tokenizer(tok_path)
        elif me.is_main:
            texts = [p + c for p, c in train_pairs[:100_000]]
            tok = fit_tokenizer(cfg.tokenizer, texts, cfg.vocab_size)
        if me.is_main:
            tok.save(tok_path)
        distributed.barrier()
        if not me.is_main and cfg.init is None:
            tok = load_tokenizer(tok_path)  # the one rank 0 fitted
        train_ex, dropped = _encode_all(tok, train_pairs, block_size)
        valid_ex, _ = _encode_all(tok, valid_pairs, block_size)
        value_ex = _value_examples(cfg.value_data, tok, block_size) if cfg.value_data else []
        mean_tokens = float(np.diff(train_ex.offsets).mean())
        print(f"prover train: {len(train_ex)} train examples from {len(train_recs)} theorems "
              f"({dropped} longer than {block_size} tokens dropped), {len(valid_ex)} valid, "
              f"{len(value_ex)} value targets; {tok.kind} tokenizer, {tok.vocab_size} tokens, "
              f"{mean_tokens:.1f} tokens/example ({time.time() - t0:.0f} s)", flush=True)

        # ---------------------------------------------------------------- model and optimizer
        if init_model is not None:
            model = init_model.to(device)
        else:
            tcfg = TransformerConfig(vocab_size=tok.vocab_size, block_size=cfg.block_size,
                                     n_layer=cfg.n_layer, n_head=cfg.n_head, n_embd=cfg.n_embd,
                                     dropout=cfg.dropout)
            model = Transformer(tcfg).to(device)
        model.train()
        trainer = Trainer(model, cfg.optim, total_steps=cfg.steps, device=device)
        start = trainer.resume(run)
        rng = np.random.default_rng(cfg.seed)
        if start:
            rng.bit_generator.state = trainer.extra["rng"]
            print(f"prover train: resumed at step {start}", flush=True)
        vrng = np.random.default_rng(cfg.seed + 10**6)
        valid_batches = [tuple(t.to(device) for t in collate(valid_ex.batch(vrng, cfg.batch_size), tok.pad_id))
                         for _ in range(8)]
        n_value = int(round(cfg.batch_size * cfg.value_fraction)) if value_ex else 0
        t_start, tokens = time.time(), 0
        loss_acc, n_acc = 0.0, 0
        stats: dict[str, float] = {}
        rows = distributed.shard(cfg.batch_size)
        for step in trainer.steps(run, start, cfg.steps, desc="train"):
            seqs = train_ex.batch(rng, cfg.batch_size - n_value)
            if n_value:
                seqs += [value_ex[int(i)] for i in rng.integers(0, len(value_ex), n_value)]
            n_global = sum(len(s) - p for s, p in seqs)          # loss tokens of the global batch
            mine = seqs[rows]
            idx, tgt, mask = (t.to(device) for t in collate(mine, tok.pad_id))
            with trainer.autocast():
                _, loss = trainer.forward(idx, tgt, mask)
            if me.enabled:  # this rank's share of the global token mean (DDP averages over the ranks)
                loss = loss * (sum(len(s) - p for s, p in mine) * me.world_size / n_global)
            stats = trainer.step(loss)
            tokens += int(idx.numel())
            loss_acc, n_acc = loss_acc + trainer.mean(loss.detach()), n_acc + 1
            last = step + 1 == cfg.steps
            if trainer.due(step, cfg.log_every) or last:
                run.log(step + 1, **{"train/loss": loss_acc / n_acc, "lr": stats["lr"],
                                     "grad_norm": stats["grad_norm"]})
                loss_acc, n_acc = 0.0, 0
            if trainer.due(step, cfg.eval_interval) or last:
                run.log(step + 1, **{"valid/loss": _loss(model, valid_batches)})
                trainer.save(run, step + 1, rng=rng.bit_generator.state)
        if me.is_main:
            save_model(run.path / "model", model, tok, {"tokenizer": tok.kind, "data": str(Path(data).resolve()),
                                                         "subst": cfg.subst})
        vl = _loss(model, valid_batches)
        summary = run.summary(**{"valid/loss": vl, "params": model.num_params(), "steps": cfg.steps,
                                 "train_examples": len(train_ex), "dropped_long": dropped,
                                 "tokens_per_example": round(mean_tokens, 1), "tokenizer": tok.kind,
                                 "vocab_size": tok.vocab_size, "train_seconds": round(run.wall(), 1),
                                 "tokens_per_s": round(me.world_size * tokens / max(time.time() - t_start, 1e-9), 1),
                                 "processes": me.world_size})
        if me.is_main:
            draw_run(run)
        distributed.barrier()
        return summary


def train_command(cfg: TrainConfig) -> dict[str, Any]:
    """`ilya prover train`: `train`, then one line (or, with --json, the summary)."""
    out = train(cfg)
    print(f"prover train: valid loss {out['valid/loss']:.3f} after {out['steps']} steps "
          f"({out['params']:,} parameters, {out['train_seconds']:.0f} s)")
    return out
