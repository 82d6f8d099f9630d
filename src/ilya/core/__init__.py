"""What every system shares: config, commands, runs, checkpoints, figures, stats, data, progress, errors.

The names below load on first use, so ``from ilya.core.commands import Command`` (what every ``--help``
needs) imports neither numpy nor tqdm.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ilya.core.checkpoint import load_state as load_state
    from ilya.core.checkpoint import save_state as save_state
    from ilya.core.config import OptimConfig as OptimConfig
    from ilya.core.config import RunConfig as RunConfig
    from ilya.core.errors import IlyaError as IlyaError
    from ilya.core.progress import progress as progress
    from ilya.core.runs import Run as Run
    from ilya.core.seeding import seed_everything as seed_everything

_WHERE = {
    "IlyaError": "ilya.core.errors",
    "OptimConfig": "ilya.core.config",
    "Run": "ilya.core.runs",
    "RunConfig": "ilya.core.config",
    "load_state": "ilya.core.checkpoint",
    "progress": "ilya.core.progress",
    "save_state": "ilya.core.checkpoint",
    "seed_everything": "ilya.core.seeding",
}
__all__ = ["IlyaError", "OptimConfig", "Run", "RunConfig", "load_state", "progress", "save_state",
           "seed_everything"]


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        return getattr(importlib.import_module(_WHERE[name]), name)
    raise AttributeError(f"module 'ilya.core' has no attribute {name!r}")
