"""One-shot imitation learning (Duan et al. 2017) on a MuJoCo block-stacking world.

Public API (imported lazily so that ``ilya imitation --help`` stays light)::

    from ilya.imitation import BlockStackEnv, expert_action, parse_layout, make_task_set
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ilya.imitation.dataset import load_dataset
    from ilya.imitation.env import BlockStackEnv
    from ilya.imitation.expert import expert_action, run_expert
    from ilya.imitation.tasks import Task, make_task_set, parse_layout

_API = {
    "BlockStackEnv": "ilya.imitation.env",
    "expert_action": "ilya.imitation.expert",
    "run_expert": "ilya.imitation.expert",
    "parse_layout": "ilya.imitation.tasks",
    "make_task_set": "ilya.imitation.tasks",
    "Task": "ilya.imitation.tasks",
    "load_dataset": "ilya.imitation.dataset",
}
__all__ = ["BlockStackEnv", "Task", "expert_action", "load_dataset", "make_task_set", "parse_layout", "run_expert"]


def __getattr__(name: str) -> Any:
    if name in _API:
        return getattr(importlib.import_module(_API[name]), name)
    raise AttributeError(name)
