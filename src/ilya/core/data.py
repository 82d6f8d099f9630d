"""Where Debian's data packages put their files: the one locator every system uses.

``metamath_database("set.mm")`` -> ``/usr/share/metamath/databases/set.mm`` (package metamath-databases);
``ILYA_METAMATH_DIR`` overrides the folder.  A missing file is a one-line `IlyaError` naming the package.
"""

from __future__ import annotations

import os
from pathlib import Path

from ilya.core.errors import IlyaError

METAMATH_DIR = Path("/usr/share/metamath/databases")


def metamath_dir() -> Path:
    """The folder of Debian's Metamath databases (``ILYA_METAMATH_DIR`` overrides it)."""
    return Path(os.environ.get("ILYA_METAMATH_DIR", METAMATH_DIR))


def metamath_database(name: str = "set.mm", *, must_exist: bool = True) -> Path:
    """The path of a Metamath database by name (``set.mm``, ``iset.mm``, ``demo0.mm``...) or path."""
    p = Path(name)
    if p.suffix == ".mm" and (p.is_absolute() or p.parent != Path(".") or p.exists()):
        path = p
    else:
        path = metamath_dir() / (name if name.endswith(".mm") else name + ".mm")
    if must_exist and not path.is_file():
        raise IlyaError(f"{path.name} not found (install the Debian package metamath-databases: "
                        "apt-get install metamath-databases)", file=path)
    return path

