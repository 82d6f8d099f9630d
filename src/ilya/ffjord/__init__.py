"""FFJORD: free-form continuous dynamics for scalable reversible generative models.

Grathwohl, Chen, Bettencourt, Sutskever & Duvenaud 2018 (arXiv:1810.01367).

The names below are loaded on first use, so ``import ilya.ffjord.cli`` (``ilya ffjord --help``) imports
no torch.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the names for type checkers; at run time they load on first use (below)
    from ilya.ffjord.cnf import (
        CNF,
        FlowConfig,
        SequentialFlow,
        SolverOptions,
        build_flow,
        standard_normal_logprob,
    )
    from ilya.ffjord.divergence import divergence_exact, divergence_hutchinson, sample_noise
    from ilya.ffjord.layers import ODEnet
    from ilya.ffjord.odefunc import ODEFunc

_WHERE = {
    "CNF": "ilya.ffjord.cnf", "FlowConfig": "ilya.ffjord.cnf", "SequentialFlow": "ilya.ffjord.cnf",
    "SolverOptions": "ilya.ffjord.cnf", "build_flow": "ilya.ffjord.cnf",
    "standard_normal_logprob": "ilya.ffjord.cnf",
    "divergence_exact": "ilya.ffjord.divergence", "divergence_hutchinson": "ilya.ffjord.divergence",
    "sample_noise": "ilya.ffjord.divergence", "ODEnet": "ilya.ffjord.layers", "ODEFunc": "ilya.ffjord.odefunc",
}
__all__ = ["CNF", "FlowConfig", "ODEFunc", "ODEnet", "SequentialFlow", "SolverOptions", "build_flow",
           "divergence_exact", "divergence_hutchinson", "sample_noise", "standard_normal_logprob"]


def __getattr__(name: str) -> Any:  # PEP 562: torch is imported when a name is first used
    if name in _WHERE:
        return getattr(importlib.import_module(_WHERE[name]), name)
    raise AttributeError(f"module 'ilya.ffjord' has no attribute {name!r}")
