"""`ilya gamepad extract | train | eval | rewrite | search` and the `ilya demo` step (dispatch only)."""

from __future__ import annotations

from ilya.core.commands import Command
from ilya.gamepad.config import EvalConfig, ExtractConfig, RewriteConfig, SearchConfig, TrainConfig

COMMANDS = {
    "extract": Command(ExtractConfig, "ilya.gamepad.extract:extract_command"),
    "train": Command(TrainConfig, "ilya.gamepad.train:train", kind="train",
                     smoke=("--data", "tiny", "--model", "gru", "--steps", "6", "--ckpt-every", "2",
                            "--log-every", "2", "--eval-every", "3", "--dim", "16", "--threads", "1")),
    "eval": Command(EvalConfig, "ilya.gamepad.evaluate:evaluate", kind="eval",
                    smoke=("{run}", "--json"), needs="train"),
    "rewrite": Command(RewriteConfig, "ilya.gamepad.rewrite:rewrite_command"),
    "search": Command(SearchConfig, "ilya.gamepad.search:search_command"),
}
DEMO = "ilya.gamepad.demo:demo"
