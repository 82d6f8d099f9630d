"""`ilya gamepad eval RUN`: accuracy of a trained model on every split, beside the paper's SVM."""

from __future__ import annotations

from typing import Any

from ilya.core.errors import IlyaError
from ilya.core.runs import Run
from ilya.gamepad.config import EvalConfig, TrainConfig
from ilya.gamepad.dataset import load_dataset, resolve_data
from ilya.gamepad.predict import accuracy, class_names, confusion, load_predictor
from ilya.gamepad.train import EVAL_CAP, PAPER_SVM, _subset, split_examples


def evaluate(cfg: EvalConfig) -> dict[str, Any]:
    run = Run.load(cfg.run, cfg.runs_dir, system="gamepad")
    if "task" not in run.config or "model" not in run.config:
        raise IlyaError(f"run {run.system}/{run.name} is not a gamepad training run", file=run.path / "config.json")
    tcfg = run.config_as(TrainConfig)
    store = load_dataset(resolve_data(tcfg.data))
    model = load_predictor(run, store)
    splits = split_examples(store, tcfg)
    acc = {k: accuracy(model, store, _subset(v, EVAL_CAP, 1), tcfg.task) for k, v in splits.items()}
    out: dict[str, Any] = {
        "run": run.name, "task": tcfg.task, "model": tcfg.model, "data": tcfg.data,
        "accuracy": acc, "paper_svm": {k: v / 100 for k, v in PAPER_SVM[tcfg.task].items()},
        "classes": list(class_names(tcfg.task)), "confusion_test": confusion(model, store, splits["test"], tcfg.task),
        "n": {k: len(v) for k, v in splits.items()},
    }
    if not cfg.json:
        print(f"{tcfg.task} / {tcfg.model}: train {acc['train']:.3f}  valid {acc['valid']:.3f}  test {acc['test']:.3f}"
              f"   (paper's SVM on Feit-Thompson: valid {PAPER_SVM[tcfg.task]['valid']:.2f}%, "
              f"test {PAPER_SVM[tcfg.task]['test']:.2f}%)")
    return out
