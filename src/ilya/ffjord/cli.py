"""``ilya ffjord train|eval|sample|vae``: FFJORD's experiments, the command table (parsing and dispatch only)."""

from __future__ import annotations

from ilya.core.commands import Command
from ilya.ffjord.config import EvalConfig, SampleConfig, TrainConfig, VAEConfig

COMMANDS = {
    "train": Command(TrainConfig, "ilya.ffjord.train:train_command", kind="train",
                     smoke=("--data", "8gaussians", "--iters", "3", "--batch-size", "32", "--hidden", "8",
                            "--atol", "1e-2", "--eval-every", "1", "--n-test", "100")),
    "eval": Command(EvalConfig, "ilya.ffjord.evaluate:eval_command", kind="eval",
                    smoke=("--run", "{run}", "--n-test", "100", "--json"), needs="train"),
    "sample": Command(SampleConfig, "ilya.ffjord.evaluate:sample_command"),
    "vae": Command(VAEConfig, "ilya.ffjord.train:vae_command", kind="train",
                   smoke=("--data", "digits", "--iters", "2", "--batch-size", "16", "--d-z", "2", "--hidden", "16",
                          "--flow-hidden", "8", "--atol", "1e-2", "--eval-every", "1", "--n-test", "50",
                          "--max-train", "1100")),
}
DEMO = "ilya.ffjord.demo:demo"
