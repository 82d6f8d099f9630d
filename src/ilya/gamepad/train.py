"""`ilya gamepad train`: fit a position-evaluation or tactic-prediction model on an extracted dataset.

``constant`` and ``svm`` fit in one go (the SVM also draws its learning curve: valid accuracy against
the number of training states); ``gru`` and ``treelstm`` train with `ilya.nn.training.Trainer`,
batches of proof states drawn by a seeded generator per step (so a resumed run draws the same ones),
the valid accuracy logged every ``eval_every`` steps.  Every run ends with accuracy per split, the test
confusion matrix and states/s in summary.json.
"""

from __future__ import annotations

import sys
import time
from typing import Any

import numpy as np

from ilya.core.figures import draw_run
from ilya.core.runs import Run
from ilya.gamepad.config import TrainConfig
from ilya.gamepad.dataset import Example, Store, class_counts, load_dataset, resolve_data
from ilya.gamepad.predict import (
    ConstantModel,
    NeuralModel,
    Predictor,
    SvmModel,
    accuracy,
    class_names,
    confusion,
    n_classes,
)

PAPER_SVM = {"position": {"valid": 57.37, "test": 57.52}, "tactic": {"valid": 48.94, "test": 49.45}}
EVAL_CAP = 3000


def _subset(examples: list[Example], n: int | None, seed: int) -> list[Example]:
    if n is None or n >= len(examples):
        return examples
    idx = np.random.default_rng(seed).permutation(len(examples))[:n]
    return [examples[i] for i in sorted(idx)]


def split_examples(store: Store, cfg: TrainConfig) -> dict[str, list[Example]]:
    return {"train": _subset(store.split("train"), cfg.max_train, cfg.seed),
            "valid": store.split("valid"), "test": store.split("test")}


def final_report(run: Run, model: Predictor, store: Store, splits: dict[str, list[Example]],
                 cfg: TrainConfig, extra: dict[str, Any]) -> dict[str, Any]:
    acc = {name: accuracy(model, store, _subset(ex, EVAL_CAP, 1), cfg.task) for name, ex in splits.items()}
    majority = ConstantModel(class_counts(splits["train"], cfg.task))
    extra = {**extra, "majority_valid": accuracy(majority, store, _subset(splits["valid"], EVAL_CAP, 1), cfg.task),
             "majority_test": accuracy(majority, store, _subset(splits["test"], EVAL_CAP, 1), cfg.task)}
    conf = confusion(model, store, splits["test"], cfg.task)
    out = {"task": cfg.task, "model": cfg.model, "acc_train": acc["train"], "acc_valid": acc["valid"],
           "acc_test": acc["test"], "paper_svm_valid": PAPER_SVM[cfg.task]["valid"] / 100,
           "paper_svm_test": PAPER_SVM[cfg.task]["test"] / 100, "classes": list(class_names(cfg.task)),
           "confusion_test": conf, "n_train": len(splits["train"]), "n_valid": len(splits["valid"]),
           "n_test": len(splits["test"]), "data": cfg.data, **extra}
    run.summary(**out)
    return out


def train(cfg: TrainConfig) -> dict[str, Any]:
    import torch

    torch.set_num_threads(max(1, cfg.threads))
    store = load_dataset(resolve_data(cfg.data))
    splits = split_examples(store, cfg)
    if not splits["train"]:
        from ilya.core.errors import IlyaError

        raise IlyaError(f"no training examples in {cfg.data}")
    with Run.open("gamepad", cfg) as run:
        if cfg.model in ("constant", "svm"):
            model, extra = _fit_classic(run, store, splits, cfg)
        else:
            model, extra = _fit_neural(run, store, splits, cfg)
        out = final_report(run, model, store, splits, cfg, extra)
        out["run"] = str(run.path)
    draw_run(run)
    print(f"{cfg.task}/{cfg.model}: accuracy train {out['acc_train']:.3f}, valid {out['acc_valid']:.3f}, "
          f"test {out['acc_test']:.3f} (paper's SVM on Feit-Thompson: test {out['paper_svm_test']:.3f}) -> "
          f"{run.path}", file=sys.stderr)
    return out


def _fit_classic(run: Run, store: Store, splits: dict[str, list[Example]], cfg: TrainConfig
                 ) -> tuple[Predictor, dict[str, Any]]:
    state = run.load_checkpoint()
    if state is not None:
        from ilya.gamepad.predict import load_predictor

        return load_predictor(run, store), {}
    t0 = time.time()
    tr = splits["train"]
    if cfg.model == "constant":
        model: Any = ConstantModel(class_counts(tr, cfg.task))
        run.log(len(tr), **{"valid/acc": accuracy(model, store, splits["valid"], cfg.task)})
    else:
        # learning curve: valid accuracy against the number of training states
        va = _subset(splits["valid"], EVAL_CAP, 1)
        for frac in (0.05, 0.1, 0.25, 0.5, 1.0):
            sub = _subset(tr, max(20, int(frac * len(tr))), cfg.seed)
            m = SvmModel.fit(store, sub, cfg.task, cfg.max_nodes, cfg.seed)
            run.log(len(sub), **{"valid/acc": accuracy(m, store, va, cfg.task),
                                 "train/acc": accuracy(m, store, _subset(sub, EVAL_CAP, 1), cfg.task)})
        model = m
    run.save_checkpoint(len(tr), {"predictor": model.state()})
    return model, {"fit_seconds": round(time.time() - t0, 2)}


def _fit_neural(run: Run, store: Store, splits: dict[str, list[Example]], cfg: TrainConfig
                ) -> tuple[Predictor, dict[str, Any]]:
    import torch
    import torch.nn.functional as F

    from ilya.gamepad.models import StateClassifier, Vocab, make_batch
    from ilya.nn.training import Trainer

    tr = splits["train"]
    vocab = Vocab.build(store, tr, cfg.max_nodes)
    net = StateClassifier(cfg.model, len(vocab), cfg.dim, n_classes(cfg.task))
    trainer = Trainer(net, cfg.optim, total_steps=cfg.steps, device="cpu")
    start = trainer.resume(run)
    if start and trainer.extra.get("vocab"):
        vocab.itos = list(trainer.extra["vocab"])
        vocab.stoi = {w: i for i, w in enumerate(vocab.itos)}
    model = NeuralModel(net, vocab, cfg.max_nodes, cfg.sharing)
    va = _subset(splits["valid"], 500, 2)
    states = 0
    t_train = 0.0
    for step in trainer.steps(run, start, cfg.steps, desc=f"train {cfg.model}"):
        rng = np.random.default_rng([cfg.seed, step])
        batch_ex = [tr[i] for i in rng.integers(0, len(tr), size=cfg.batch_size)]
        t0 = time.perf_counter()
        batch = make_batch(store, batch_ex, vocab, cfg.max_nodes, cfg.sharing)
        logits = net(batch)
        y = torch.tensor([e.label(cfg.task) for e in batch_ex])
        loss = F.cross_entropy(logits, y)
        stats = trainer.step(loss)
        t_train += time.perf_counter() - t0
        states += len(batch_ex)
        if trainer.due(step, cfg.log_every):
            run.log(step + 1, **{"train/loss": loss.item(), "train/acc": (logits.argmax(1) == y).float().mean().item(),
                                 "lr": stats["lr"], "states_per_s": states / max(t_train, 1e-9)})
        if trainer.due(step, cfg.eval_every):
            run.log(step + 1, **{"valid/acc": accuracy(model, store, va, cfg.task)})
        if trainer.due(step, cfg.ckpt_every):
            trainer.save(run, step + 1, vocab=vocab.itos)
    trainer.save(run, cfg.steps, vocab=vocab.itos)
    return model, {"states_per_s": states / t_train if t_train else None, "vocab": len(vocab)}
