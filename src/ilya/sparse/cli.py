"""``ilya sparse train|eval|sample|patterns``: Sparse Transformers on bytes and images."""

from __future__ import annotations

from ilya.core.commands import Command
from ilya.sparse.config import EvalConfig, PatternsConfig, SampleConfig, TrainConfig

_TINY = ("--max-iters", "3", "--n-layer", "1", "--n-head", "2", "--n-embd", "16", "--block-size", "32",
         "--batch-size", "2", "--eval-interval", "1", "--eval-batches", "1", "--final-eval-tokens", "200",
         "--sample-tokens", "8", "--threads", "1", "--optim.warmup", "1")

COMMANDS = {
    "train": Command(TrainConfig, "ilya.sparse.train:train", kind="train", smoke=_TINY),
    "eval": Command(EvalConfig, "ilya.sparse.evaluate:eval_command", kind="eval",
                    smoke=("{run}", "--split", "valid", "--max-tokens", "200", "--json"), needs="train"),
    "sample": Command(SampleConfig, "ilya.sparse.evaluate:sample_command"),
    "patterns": Command(PatternsConfig, "ilya.sparse.plots:patterns_command"),
}
DEMO = "ilya.sparse.demo:demo"
