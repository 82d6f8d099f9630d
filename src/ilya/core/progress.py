"""Progress bars for every loop that can take more than a few seconds.

Bars go to stderr (stdout stays clean for ``--json``) and are silent when stderr is not a terminal,
so logs and CI output are not flooded.  ``ILYA_PROGRESS=1`` forces them on, ``0`` off.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable
from typing import Any, TypeVar

from tqdm.auto import tqdm

T = TypeVar("T")


def progress_enabled() -> bool:
    forced = os.environ.get("ILYA_PROGRESS")
    if forced is not None:
        return forced not in ("0", "", "false")
    return sys.stderr.isatty()


def progress(iterable: Iterable[T] | None = None, *, total: int | None = None, desc: str | None = None,
             **kwargs: Any) -> tqdm[Any]:
    """A tqdm bar on stderr, disabled when not interactive. Use as an iterator or with ``update()``."""
    return tqdm(iterable, total=total, desc=desc, file=sys.stderr, disable=not progress_enabled(),
                dynamic_ncols=True, leave=False, **kwargs)
