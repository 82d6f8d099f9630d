"""``ilya metarl train | eval | compare | world``: the command table (parsing and dispatch only)."""

from __future__ import annotations

from ilya.core.commands import Command
from ilya.metarl.config import CompareConfig, EvalConfig, TrainConfig, WorldConfig

_TINY = ("--env-steps", "120", "--train-worlds", "2", "--test-worlds", "2", "--meta-batch", "2",
         "--episodes-per-task", "2", "--eval-episodes", "2", "--trials", "4", "--eval-every", "1",
         "--krazy.size", "5", "--krazy.horizon", "8", "--hidden", "8", "--eval-adapts", "2", "--eval-trials", "2",
         "--floor-episodes", "8", "--quiet")

COMMANDS = {
    "train": Command(TrainConfig, "ilya.metarl.train:train_command", kind="train", smoke=_TINY),
    "eval": Command(EvalConfig, "ilya.metarl.evaluate:eval_command", kind="eval",
                    smoke=("{run}", "--json"), needs="train"),
    "compare": Command(CompareConfig, "ilya.metarl.compare:compare_command"),
    "world": Command(WorldConfig, "ilya.metarl.plots:world_command"),
}
DEMO = "ilya.metarl.demo:demo"
