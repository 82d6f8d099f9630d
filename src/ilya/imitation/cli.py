"""`ilya imitation collect | train | eval | expert | video` and the `ilya demo` step."""

from __future__ import annotations

from ilya.core.commands import Command
from ilya.imitation.config import CollectConfig, EvalConfig, ExpertConfig, TrainConfig, VideoConfig

_TINY = ("--max-blocks", "3", "--max-stages", "2", "--train-tasks", "3", "--test-tasks", "2")

COMMANDS = {
    "collect": Command(CollectConfig, "ilya.imitation.commands:collect_command", kind="other",
                       smoke=(*_TINY, "--demos-per-task", "2", "--test-demos-per-task", "1", "--json")),
    "train": Command(TrainConfig, "ilya.imitation.commands:train_command", kind="train",
                     smoke=(*_TINY, "--demos-per-task", "2", "--test-demos-per-task", "2", "--steps", "6",
                            "--ckpt-every", "1", "--log-every", "1", "--eval-trials", "1", "--dagger-rounds", "1",
                            "--dagger-episodes", "1", "--model.dim", "16", "--model.hidden", "32", "--batch", "8")),
    "eval": Command(EvalConfig, "ilya.imitation.evaluate:evaluate", kind="eval",
                    smoke=("{run}", "--trials", "1", "--json"), needs="train"),
    "expert": Command(ExpertConfig, "ilya.imitation.commands:expert_command", kind="eval",
                      smoke=(*_TINY, "--trials", "1", "--json")),
    "video": Command(VideoConfig, "ilya.imitation.video:video", kind="other"),
}
DEMO = "ilya.imitation.demo:demo"
