"""Where the Coq developments are: Debian's mathcomp and stdlib sources, the Feit-Thompson archive, a folder.

* ``mathcomp``: the .v files Debian's ``libcoq-mathcomp`` installs beside its .vo files
  (``/usr/lib/ocaml/coq/user-contrib/mathcomp``); ``ILYA_MATHCOMP_DIR`` overrides.
* ``stdlib``: Coq's own theories (``/usr/lib/ocaml/coq/theories``).
* ``odd-order``: the Feit-Thompson development (math-comp/odd-order), fetched from a pinned archive and
  checked against its sha256 before it is unpacked (`fetch_archive`); needs a network, or a local copy.
* any folder: its .v files, compiled with ``-R <folder> <name>`` so they can ``Require`` each other
  (their dependencies must be compiled to .vo first).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tarfile
import tempfile
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from ilya.core.errors import IlyaError

COQ_LIB = Path("/usr/lib/ocaml/coq")
MATHCOMP_DIR = COQ_LIB / "user-contrib" / "mathcomp"
STDLIB_DIR = COQ_LIB / "theories"
# mathcomp's files in dependency order of its packages (extraction order, so the progress bar is steady)
MATHCOMP_PACKAGES = ("ssreflect", "fingroup", "algebra", "solvable", "field", "character")

# The Feit-Thompson release that builds against mathcomp 1.15 (Debian's): 34 files, 1,602 Qed.
ODD_ORDER_URL = ("https://github.com/math-comp/odd-order/archive/refs/tags/"
                 "mathcomp-odd-order.1.14.0.tar.gz")
ODD_ORDER_SHA256: str | None = None
"""sha256 of the archive at `ODD_ORDER_URL`; not recorded yet (this machine has no network): pass it with
``--sha256`` or ``ILYA_ODD_ORDER_SHA256`` so the download is verified, or unpack a local copy and pass
its folder as the corpus."""


@dataclass
class Corpus:
    """A set of .v files and the coqtop flags that load them."""

    name: str
    root: Path
    files: list[Path]
    coq_args: list[str] = field(default_factory=list)

    def rel(self, path: Path) -> str:
        try:
            return str(path.relative_to(self.root))
        except ValueError:
            return str(path)


def _v_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*.v") if p.is_file())


def mathcomp_dir() -> Path:
    return Path(os.environ.get("ILYA_MATHCOMP_DIR", MATHCOMP_DIR))


def load_corpus(spec: str, cache_dir: Path = Path("data/gamepad"), sha256: str | None = None) -> Corpus:
    """``mathcomp`` | ``stdlib`` | ``odd-order`` | a folder of .v files (or one .v file)."""
    if spec == "mathcomp":
        root = mathcomp_dir()
        if not root.is_dir():
            raise IlyaError("mathcomp sources not found (install them: apt-get install coq libcoq-mathcomp)",
                            file=root)
        files: list[Path] = []
        for pkg in MATHCOMP_PACKAGES:
            files += [p for p in _v_files(root / pkg) if not p.name.startswith("all_")]
        files += [p for p in _v_files(root) if p.parent.name not in MATHCOMP_PACKAGES
                  and not p.name.startswith("all")]
        if not files:
            raise IlyaError("no .v sources under the mathcomp folder (apt-get install libcoq-mathcomp)",
                            file=root)
        return Corpus("mathcomp", root, files)
    if spec == "stdlib":
        if not STDLIB_DIR.is_dir():
            raise IlyaError("Coq's standard library not found (apt-get install coq)", file=STDLIB_DIR)
        return Corpus("stdlib", STDLIB_DIR, _v_files(STDLIB_DIR))
    if spec == "odd-order":
        root = fetch_odd_order(cache_dir, sha256)
        theories = root / "theories" if (root / "theories").is_dir() else root
        return Corpus("odd-order", theories, _v_files(theories), ["-R", str(theories), "odd_order"])
    path = Path(spec)
    if path.is_file() and path.suffix == ".v":
        return Corpus(path.stem, path.parent, [path], ["-R", str(path.parent), path.parent.name or "Top"])
    if not path.is_dir():
        raise IlyaError("expected --corpus mathcomp, stdlib, odd-order, a folder of .v files or a .v file",
                        file=path)
    files = _v_files(path)
    if not files:
        raise IlyaError("no .v files in this folder", file=path)
    return Corpus(path.name, path, files, ["-R", str(path), path.name.replace("-", "_") or "Top"])


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def fetch_archive(url: str, sha256: str, dest: Path) -> Path:
    """Download ``url`` (http(s) or file://), check its sha256, unpack it into ``dest``; returns the folder.

    A folder already unpacked (with its ``.sha256`` stamp equal to ``sha256``) is reused.  A wrong
    checksum removes the download and is an error; nothing unverified is ever unpacked.
    """
    dest.mkdir(parents=True, exist_ok=True)
    stamp = dest / ".sha256"
    if stamp.is_file() and stamp.read_text().strip() == sha256:
        return _archive_root(dest)
    with tempfile.TemporaryDirectory(dir=dest) as tmp:
        archive = Path(tmp) / "archive.tar.gz"
        try:
            with urllib.request.urlopen(url, timeout=60) as r, archive.open("wb") as f:  # noqa: S310
                shutil.copyfileobj(r, f)
        except OSError as e:
            raise IlyaError(f"cannot download {url}: {e} (no network? unpack a local copy and pass its "
                            "folder as --corpus)") from e
        got = sha256_file(archive)
        if got != sha256:
            raise IlyaError(f"sha256 mismatch for {url}: expected {sha256}, got {got}; archive discarded")
        unpack = dest / "src"
        if unpack.exists():
            shutil.rmtree(unpack)
        with tarfile.open(archive) as tar:
            tar.extractall(unpack, filter="data")
    stamp.write_text(sha256 + "\n")
    return _archive_root(dest)


def _archive_root(dest: Path) -> Path:
    src = dest / "src"
    kids = [p for p in src.iterdir() if p.is_dir()] if src.is_dir() else []
    return kids[0] if len(kids) == 1 else src


def fetch_odd_order(cache_dir: Path, sha256: str | None = None, url: str | None = None) -> Path:
    """The unpacked Feit-Thompson sources (download-and-verify of the pinned archive)."""
    sha = sha256 or os.environ.get("ILYA_ODD_ORDER_SHA256") or ODD_ORDER_SHA256
    url = url or os.environ.get("ILYA_ODD_ORDER_URL") or ODD_ORDER_URL
    if sha is None:
        raise IlyaError("the odd-order archive's sha256 is not pinned in this build: pass --sha256 (or set "
                        f"ILYA_ODD_ORDER_SHA256) for {url}, or unpack a copy and pass its folder as --corpus")
    return fetch_archive(url, sha, cache_dir / "odd-order")
