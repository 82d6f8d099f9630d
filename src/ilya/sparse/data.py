"""Datasets as 8-bit tokens: bytes of text (set.mm, enwik8) and raster-order images (Fashion-MNIST, CIFAR-10).

Text is modelled byte by byte (vocabulary 256). An image of shape (H, W, C) becomes H·W·C tokens in raster
order (row, then column, then channel), as in Child et al. §7; image sequences are fed with a start token
(id 256) in front, so every pixel value is predicted and bits per dim are exact.

* ``setmm``: the bytes of Debian's ``set.mm`` (package metamath-databases), split 90 / 5 / 5 % in order;
* ``enwik8``: the Hutter-prize file (first 10⁸ bytes of an English Wikipedia dump), downloaded from
  ``http://mattmahoney.net/dc/enwik8.zip`` and checked (size and MD5), split 90M / 5M / 5M;
* ``fashion-mnist``: Debian's ``dataset-fashion-mnist`` IDX files (28×28×1); 55k train / 5k valid / 10k test;
* ``cifar10``: the CIFAR-10 python archive from ``https://www.cs.toronto.edu/~kriz/``, checked (MD5),
  32×32×3; 45k train / 5k valid / 10k test.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import pickle
import shutil
import struct
import tarfile
import urllib.request
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ilya.core.errors import IlyaError

SETMM_PATH = Path("/usr/share/metamath/databases/set.mm")
FASHION_MNIST_DIR = Path("/usr/share/datasets/fashion-mnist")

ENWIK8_URL = "http://mattmahoney.net/dc/enwik8.zip"
ENWIK8_BYTES = 100_000_000
ENWIK8_MD5 = "a1fa5ffddb56f4953e226637dabbb36a"        # of the unzipped file
ENWIK8_SPLIT = (90_000_000, 5_000_000, 5_000_000)

CIFAR10_URL = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
CIFAR10_MD5 = "c58f30108f718f92721af3b95e74349a"       # of the .tar.gz
CIFAR10_FOLDER = "cifar-10-batches-py"

IMAGE_BOS = 256  # start token in front of every image sequence


def default_data_dir() -> Path:
    """Where downloads go: ``$ILYA_DATA`` or ``~/.cache/ilya/data``."""
    return Path(os.environ.get("ILYA_DATA", Path.home() / ".cache" / "ilya" / "data"))


@dataclass
class TokenData:
    """Splits of a dataset as uint8 arrays: 1-D byte streams, or ``(N, H·W·C)`` image rows."""

    name: str
    kind: str                                   # "bytes" or "image"
    train: np.ndarray
    valid: np.ndarray
    test: np.ndarray
    image_shape: tuple[int, int, int] | None = None

    @property
    def vocab_size(self) -> int:
        return 256 if self.kind == "bytes" else 257

    @property
    def seq_len(self) -> int | None:
        """Tokens per example for images (None for byte streams)."""
        return None if self.image_shape is None else int(np.prod(self.image_shape))

    def split(self, name: str) -> np.ndarray:
        if name not in ("train", "valid", "test"):
            raise IlyaError(f"split {name!r}: expected train, valid or test")
        return getattr(self, name)


# ----------------------------------------------------------------------------- downloads
def md5sum(path: Path, chunk: int = 1 << 20) -> str:
    h = hashlib.md5()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


def fetch(url: str, dest: Path, md5: str | None = None) -> Path:
    """Download ``url`` to ``dest`` (atomically) unless it is there, then check its MD5."""
    dest = Path(dest)
    if not dest.exists():
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp = dest.with_suffix(dest.suffix + ".part")
        try:
            with urllib.request.urlopen(url, timeout=60) as r, open(tmp, "wb") as f:
                shutil.copyfileobj(r, f, 1 << 20)
        except OSError as e:
            tmp.unlink(missing_ok=True)
            raise IlyaError(f"cannot download {url} ({e}); download it by hand to {dest}") from None
        tmp.replace(dest)
    if md5 is not None and (got := md5sum(dest)) != md5:
        raise IlyaError(f"checksum mismatch: MD5 {got}, expected {md5} (delete the file to download again)",
                        file=dest)
    return dest


# ----------------------------------------------------------------------------- byte corpora
def split_bytes(data: np.ndarray, sizes: tuple[int, int, int] | None = None) -> tuple[np.ndarray, ...]:
    """Contiguous train/valid/test: ``sizes`` in bytes, or 90 / 5 / 5 % of ``data``."""
    n = len(data)
    if sizes is None:
        a, b = int(n * 0.90), int(n * 0.95)
    else:
        if sum(sizes) > n:
            raise IlyaError(f"corpus has {n} bytes, fewer than the {sum(sizes)} of the standard split")
        a, b = sizes[0], sizes[0] + sizes[1]
        n = b + sizes[2]
    return data[:a], data[a:b], data[b:n]


def load_setmm(path: Path | None = None) -> TokenData:
    path = Path(path or SETMM_PATH)
    if not path.is_file():
        raise IlyaError("set.mm not found (install the Debian package metamath-databases)", file=path)
    data = np.frombuffer(path.read_bytes(), dtype=np.uint8)
    tr, va, te = split_bytes(data)
    return TokenData("setmm", "bytes", tr, va, te)


def load_enwik8(data_dir: Path | None = None, url: str = ENWIK8_URL, md5: str | None = ENWIK8_MD5,
                sizes: tuple[int, int, int] = ENWIK8_SPLIT) -> TokenData:
    """enwik8, downloaded once into ``data_dir/enwik8/``; the standard 90M / 5M / 5M split."""
    root = Path(data_dir or default_data_dir()) / "enwik8"
    raw = root / "enwik8"
    if not raw.exists():
        archive = fetch(url, root / "enwik8.zip")
        with zipfile.ZipFile(archive) as z:
            if "enwik8" not in z.namelist():
                raise IlyaError("archive holds no file named enwik8", file=archive)
            z.extract("enwik8", root)
    if md5 is not None and (got := md5sum(raw)) != md5:
        raise IlyaError(f"checksum mismatch: MD5 {got}, expected {md5}", file=raw)
    data = np.fromfile(raw, dtype=np.uint8)
    tr, va, te = split_bytes(data, sizes)
    return TokenData("enwik8", "bytes", tr, va, te)


# ----------------------------------------------------------------------------- images
def read_idx(path: Path) -> np.ndarray:
    """An IDX file (the MNIST format; gzip or not) as a uint8 array."""
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "rb") as f:
        raw = f.read()
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] != 0x08:
        raise IlyaError("not an unsigned-byte IDX file", file=path)
    ndim = raw[3]
    dims = struct.unpack(">" + "I" * ndim, raw[4:4 + 4 * ndim])
    body = np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim)
    if body.size != int(np.prod(dims)):
        raise IlyaError(f"IDX header says {dims} but holds {body.size} bytes", file=path)
    return body.reshape(dims)


def images_to_tokens(images: np.ndarray) -> np.ndarray:
    """``(N, H, W, C)`` uint8 images -> ``(N, H·W·C)`` raster-order tokens (row, column, channel)."""
    return np.ascontiguousarray(images.reshape(images.shape[0], -1))


def tokens_to_images(tokens: np.ndarray, shape: tuple[int, int, int]) -> np.ndarray:
    """Inverse of `images_to_tokens`."""
    return np.asarray(tokens, dtype=np.uint8).reshape(-1, *shape)


def load_fashion_mnist(root: Path | None = None, n_valid: int = 5000) -> TokenData:
    root = Path(root or FASHION_MNIST_DIR)
    files = {k: root / f"{k}-images-idx3-ubyte.gz" for k in ("train", "t10k")}
    for p in files.values():
        if not p.is_file():
            raise IlyaError("Fashion-MNIST not found (install the Debian package dataset-fashion-mnist)", file=p)
    train = read_idx(files["train"])[..., None]     # (N, 28, 28, 1)
    test = read_idx(files["t10k"])[..., None]
    tr = images_to_tokens(train)
    return TokenData("fashion-mnist", "image", tr[:-n_valid], tr[-n_valid:], images_to_tokens(test),
                     image_shape=train.shape[1:])


def load_cifar10(data_dir: Path | None = None, url: str = CIFAR10_URL, md5: str | None = CIFAR10_MD5,
                 n_valid: int = 5000) -> TokenData:
    """CIFAR-10 (python pickles), downloaded once into ``data_dir/cifar10/``."""
    root = Path(data_dir or default_data_dir()) / "cifar10"
    folder = root / CIFAR10_FOLDER
    if not folder.is_dir():
        archive = fetch(url, root / "cifar-10-python.tar.gz", md5)
        with tarfile.open(archive, "r:gz") as t:
            t.extractall(root, filter="data")

    def batch(name: str) -> np.ndarray:
        p = folder / name
        if not p.is_file():
            raise IlyaError("CIFAR-10 batch missing", file=p)
        with open(p, "rb") as f:
            d = pickle.load(f, encoding="bytes")
        x = np.asarray(d[b"data"], dtype=np.uint8).reshape(-1, 3, 32, 32)  # channel-major rows
        return x.transpose(0, 2, 3, 1)                                      # (N, 32, 32, 3)

    train = np.concatenate([batch(f"data_batch_{i}") for i in range(1, 6)])
    tr = images_to_tokens(train)
    return TokenData("cifar10", "image", tr[:-n_valid], tr[-n_valid:], images_to_tokens(batch("test_batch")),
                     image_shape=(32, 32, 3))


LOADERS: dict[str, Callable[..., TokenData]] = {
    "setmm": lambda data_dir=None: load_setmm(),
    "enwik8": lambda data_dir=None: load_enwik8(data_dir),
    "fashion-mnist": lambda data_dir=None: load_fashion_mnist(),
    "cifar10": lambda data_dir=None: load_cifar10(data_dir),
}


def load_data(name: str, data_dir: Path | None = None) -> TokenData:
    if name not in LOADERS:
        raise IlyaError(f"--data {name}: expected one of {', '.join(LOADERS)}")
    return LOADERS[name](data_dir)


# ----------------------------------------------------------------------------- batches
def random_batch(data: TokenData, split: str, batch_size: int, block_size: int,
                 rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """``(x, y)`` int64 arrays ``(B, T)``: random byte windows, or random images behind a start token."""
    arr = data.split(split)
    if data.kind == "bytes":
        if len(arr) <= block_size:
            raise IlyaError(f"{data.name}/{split} has {len(arr)} bytes, not more than block_size {block_size}")
        starts = rng.integers(0, len(arr) - block_size, size=batch_size)
        win = np.stack([arr[s:s + block_size + 1] for s in starts]).astype(np.int64)
        return win[:, :-1], win[:, 1:]
    rows = arr[rng.integers(0, len(arr), size=batch_size)].astype(np.int64)
    x = np.concatenate([np.full((batch_size, 1), IMAGE_BOS), rows[:, :-1]], axis=1)
    return x, rows


def eval_windows(data: TokenData, split: str, block_size: int, stride: int | None = None,
                 max_tokens: int = 0) -> list[tuple[np.ndarray, np.ndarray, int]]:
    """Windows ``(x, y, first_scored)`` that score every token of the split exactly once.

    Bytes: windows of ``block_size`` moved by ``stride`` (default block_size); window ``w`` scores only its
    last ``stride`` targets (the first window scores all), so byte 1..N-1 is each predicted once with at
    least ``block_size - stride`` bytes of context. Images: one window per image. ``max_tokens`` > 0 cuts
    the split short (then the figure is no longer exact over the split).
    """
    arr = data.split(split)
    out = []
    if data.kind == "bytes":
        stride = stride or block_size
        n = len(arr) if max_tokens <= 0 else min(len(arr), max_tokens + 1)
        if n < 2:
            raise IlyaError(f"{data.name}/{split} has fewer than 2 bytes to score")
        end = min(block_size, n - 1)                     # targets scored so far: arr[1:end+1]
        out.append((arr[:end], arr[1:end + 1], 0))
        while end < n - 1:
            new_end = min(end + stride, n - 1)
            s = max(0, new_end - block_size)
            x, y = arr[s:new_end], arr[s + 1:new_end + 1]
            out.append((x, y, len(y) - (new_end - end)))
            end = new_end
        return out
    rows = arr if max_tokens <= 0 else arr[:max(1, max_tokens // arr.shape[1])]
    for r in rows:
        out.append((np.concatenate([[IMAGE_BOS], r[:-1]]), r, 0))
    return out
