"""`ilya five train | eval | rate | replay | bench` and the `ilya demo` step (parsing and dispatch only)."""

from __future__ import annotations

from ilya.core.commands import Command
from ilya.five.config import BenchConfig, EvalConfig, RateConfig, ReplayConfig, TrainConfig

_SMOKE = ("--iterations", "3", "--num-games", "2", "--rollout-len", "8", "--game.max-steps", "40",
          "--eval-every", "0", "--eval-games", "2", "--ckpt-every", "1", "--pool-every", "1",
          "--model.hidden", "16", "--model.embed", "16")

COMMANDS = {
    "train": Command(TrainConfig, "ilya.five.train:train_command", kind="train", smoke=_SMOKE),
    "eval": Command(EvalConfig, "ilya.five.evaluate:evaluate", kind="eval",
                    smoke=("{run}", "--games", "2", "--json"), needs="train"),
    "rate": Command(RateConfig, "ilya.five.evaluate:rate", kind="eval",
                    smoke=("{run}", "--games", "2", "--json"), needs="train"),
    "replay": Command(ReplayConfig, "ilya.five.evaluate:replay"),
    "bench": Command(BenchConfig, "ilya.five.evaluate:bench", kind="other"),
}
DEMO = "ilya.five.demo:demo"
