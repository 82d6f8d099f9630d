"""The command registry: what a system's ``cli.py`` declares and the ``ilya`` command dispatches.

A system's ``cli.py`` holds only parsing and dispatch::

    from ilya.core.commands import Command
    from ilya.sparse.config import EvalConfig, TrainConfig

    COMMANDS = {
        "train": Command(TrainConfig, "ilya.sparse.train:train", kind="train",
                         smoke=("--max-iters", "4", "--n-layer", "1")),
        "eval": Command(EvalConfig, "ilya.sparse.evaluate:evaluate_command", kind="eval",
                        smoke=("{run}", "--json"), needs="train"),
    }
    DEMO = "ilya.sparse.demo:demo"          # its step of `ilya demo` (optional)

The config class comes from the torch-free ``config.py``; the function is named by a string and imported
only when the command runs, so ``ilya SYSTEM --help`` and ``ilya SYSTEM COMMAND --help`` never import
torch, ray or matplotlib.  ``kind`` and ``smoke`` let the contract tests (tests/test_contracts.py) hold
every command, present and future, to the same rules without a test of its own:

* every command: ``--help`` works and is fast;
* ``kind="train"``: takes ``--seed --device --runs-dir --run``, writes the run folder, resumes after a
  SIGKILL and is deterministic for a seed on the CPU; ``smoke`` are the flags of a run of seconds;
* ``kind="eval"``: with ``--json`` prints exactly one JSON object; ``needs`` names the training command
  whose smoke run it evaluates (``{run}`` in ``smoke`` is replaced by that run's folder).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

CommandKind = Literal["train", "eval", "other"]


@dataclass(frozen=True)
class Command:
    """One ``ilya SYSTEM NAME`` command."""

    config: type
    """the config dataclass (from the system's config.py); tyro turns it into flags"""
    target: str
    """``module:function`` taking the parsed config; imported when the command runs"""
    kind: CommandKind = "other"
    """train (writes a run), eval (reads one; --json) or other"""
    smoke: tuple[str, ...] = ()
    """flags of a seconds-long invocation for the contract tests (empty: the contract tests skip it)"""
    needs: str | None = None
    """for eval commands: the training command whose smoke run this command reads"""
    slow: bool = False
    """the smoke invocation takes more than a few seconds (its contract tests are marked slow)"""

    @property
    def summary(self) -> str:
        doc = (self.config.__doc__ or "").strip()
        return doc.splitlines()[0] if doc else ""

    def load(self) -> Callable[[Any], Any]:
        """The command's function (this is where torch and friends get imported)."""
        return load_callable(self.target)

    def __call__(self, cfg: Any) -> Any:
        return self.load()(cfg)


def load_callable(target: str) -> Callable[..., Any]:
    """``module:function`` -> the function."""
    module, _, name = target.partition(":")
    return getattr(importlib.import_module(module), name)
