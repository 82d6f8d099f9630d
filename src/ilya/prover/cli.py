"""``ilya prover ...``: dataset, train, eval, suggest, prove, iterate, shorten (GPT-f, Polu & Sutskever 2020).

Parsing and dispatch only: the configs are in `ilya.prover.config`, the functions are imported when a
command runs.
"""

from __future__ import annotations

from ilya.core.commands import Command
from ilya.prover.config import (
    DatasetConfig,
    EvalConfig,
    IterateConfig,
    ProveConfig,
    ServeConfig,
    ShortenConfig,
    SuggestConfig,
    TrainConfig,
)

_TINY = ("--slice", "40", "--steps", "4", "--batch-size", "4", "--n-layer", "1", "--n-head", "2", "--n-embd",
         "32", "--block-size", "160", "--vocab-size", "200", "--eval-interval", "1", "--log-every", "1",
         "--threads", "1", "--optim.warmup", "1")

COMMANDS = {
    "dataset": Command(DatasetConfig, "ilya.prover.dataset:dataset_command"),
    "train": Command(TrainConfig, "ilya.prover.train:train_command", kind="train", smoke=_TINY),
    "eval": Command(EvalConfig, "ilya.prover.evaluate:eval_command", kind="eval", needs="train",
                    smoke=("--model", "{run}", "--limit", "2", "--e", "2", "--d", "2", "--time-limit", "5",
                           "--json")),
    "suggest": Command(SuggestConfig, "ilya.prover.assistant:suggest"),
    "prove": Command(ProveConfig, "ilya.prover.assistant:prove_one"),
    "iterate": Command(IterateConfig, "ilya.prover.iterate:iterate"),
    "shorten": Command(ShortenConfig, "ilya.prover.shorten:shorten"),
    "serve": Command(ServeConfig, "ilya.prover.server:serve"),
}
DEMO = "ilya.prover.demo:demo"
