"""Seed every random number generator a run touches."""

from __future__ import annotations

import os
import random

import numpy as np


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and (if installed) torch, so a run is repeatable on one machine."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    os.environ.setdefault("PYTHONHASHSEED", str(seed))
    try:
        import torch
    except ImportError:  # the metamath kernel alone does not need torch
        return
    torch.manual_seed(seed)  # pyright: ignore[reportUnknownMemberType]
