"""Fetching a file once into the data folder (atomic: a killed download leaves no half file behind)."""

from __future__ import annotations

import os
import shutil
import tempfile
import urllib.request
from pathlib import Path

from ilya.core.errors import IlyaError
from ilya.core.progress import progress


def data_root(root: str | os.PathLike[str] | None = None) -> Path:
    """``root``, else ``$ILYA_DATA``, else ``~/.cache/ilya``."""
    if root is not None:
        return Path(root)
    return Path(os.environ.get("ILYA_DATA", Path.home() / ".cache" / "ilya"))


def download(urls: str | list[str], dest: Path) -> Path:
    """Download the first URL that answers into ``dest`` (skipped when ``dest`` exists)."""
    if dest.exists():
        return dest
    dest.parent.mkdir(parents=True, exist_ok=True)
    errors = []
    for url in [urls] if isinstance(urls, str) else urls:
        fd, tmp = tempfile.mkstemp(prefix=f".{dest.name}.", dir=dest.parent)
        try:
            with urllib.request.urlopen(url, timeout=60) as r, os.fdopen(fd, "wb") as f:
                total = int(r.headers.get("Content-Length") or 0) or None
                bar = progress(total=total, desc=f"download {dest.name}", unit="B", unit_scale=True)
                while chunk := r.read(1 << 20):
                    f.write(chunk)
                    bar.update(len(chunk))
                bar.close()
            os.replace(tmp, dest)
            return dest
        except OSError as e:  # URLError is an OSError
            errors.append(f"{url}: {e}")
            Path(tmp).unlink(missing_ok=True)
    raise IlyaError("could not download (" + "; ".join(errors) + "); fetch it by hand into this path",
                    file=dest)


def extract(archive: Path, into: Path) -> None:
    """Unpack a .tar.gz / .zip next to where it will be read."""
    into.mkdir(parents=True, exist_ok=True)
    shutil.unpack_archive(str(archive), str(into))
