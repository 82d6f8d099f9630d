"""Device choice: ``--device auto|cpu|cuda``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ilya.core.config import DeviceName
from ilya.core.errors import IlyaError

__all__ = ["DeviceName", "resolve_device"]

if TYPE_CHECKING:
    import torch



def resolve_device(name: str = "auto") -> torch.device:
    """``auto`` picks CUDA when present, else the CPU; asking for CUDA without it is a user error."""
    import torch

    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise IlyaError(f"--device {name}: CUDA is not available on this machine (use cpu or auto)")
    if name != "cpu" and not name.startswith("cuda"):
        raise IlyaError(f"--device {name}: expected auto, cpu or cuda")
    return torch.device(name)
