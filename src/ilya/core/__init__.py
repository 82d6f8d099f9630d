"""What several systems share: runs, metrics, checkpoints, seeding, device, progress, plots, report, errors."""

from ilya.core.checkpoint import load_state, save_state
from ilya.core.errors import IlyaError
from ilya.core.progress import progress
from ilya.core.runs import Run, RunConfig
from ilya.core.seeding import seed_everything

__all__ = ["IlyaError", "Run", "RunConfig", "load_state", "progress", "save_state", "seed_everything"]
