"""Image sets for the multiscale CNF (FFJORD §5.2): integer pixels in [0, n_bins), shape (N, C, H, W).

- Fashion-MNIST from Debian's ``dataset-fashion-mnist`` (works offline; 28x28 grey, 256 levels);
- scikit-learn's digits (8x8 grey, 17 levels 0..16; ships inside scikit-learn);
- MNIST and CIFAR-10, downloaded on request from their usual mirrors.
"""

from __future__ import annotations

import gzip
import pickle
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ilya.core.errors import IlyaError
from ilya.ffjord.data.download import data_root, download, extract

FASHION_DIR = Path("/usr/share/datasets/fashion-mnist")
MNIST_URLS = ["https://ossci-datasets.s3.amazonaws.com/mnist/", "http://yann.lecun.com/exdb/mnist/"]
MNIST_FILES = {"train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
               "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")}
CIFAR10_URL = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
IMAGES = ("fashion-mnist", "digits", "mnist", "cifar10")


@dataclass
class Images:
    """Integer images in [0, n_bins) and their labels."""

    train: np.ndarray  # (N, C, H, W) uint8
    test: np.ndarray
    train_labels: np.ndarray
    test_labels: np.ndarray
    n_bins: int = 256

    @property
    def shape(self) -> tuple[int, int, int]:
        return tuple(self.train.shape[1:])  # type: ignore[return-value]


def read_idx(path: Path) -> np.ndarray:
    """An IDX file (the MNIST format), gzipped or not."""
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as f:
        data = f.read()
    if len(data) < 4 or data[0] != 0 or data[1] != 0:
        raise IlyaError("not an IDX file (bad magic number)", file=path)
    dtype_code, ndim = data[2], data[3]
    if dtype_code != 0x08:
        raise IlyaError(f"IDX type 0x{dtype_code:02x}: expected unsigned bytes (0x08)", file=path)
    dims = struct.unpack(f">{ndim}I", data[4:4 + 4 * ndim])
    body = np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim)
    if body.size != int(np.prod(dims)):
        raise IlyaError(f"IDX body has {body.size} bytes, header says {int(np.prod(dims))}", file=path)
    return body.reshape(dims).copy()  # writable, as torch.from_numpy wants


def _idx_pair(folder: Path) -> Images:
    parts = []
    for split in ("train", "test"):
        img, lab = (folder / f for f in MNIST_FILES[split])
        for p in (img, lab):
            if not p.exists():
                raise IlyaError("missing image file", file=p)
        parts += [read_idx(img)[:, None], read_idx(lab).astype(np.int64)]
    return Images(parts[0], parts[2], parts[1], parts[3])


def load_fashion_mnist(root: Path | None = None) -> Images:
    """Fashion-MNIST from Debian (``apt install dataset-fashion-mnist``) or ``root``."""
    folder = root or FASHION_DIR
    if not folder.is_dir():
        raise IlyaError("Fashion-MNIST not found: install Debian's dataset-fashion-mnist", file=folder)
    return _idx_pair(folder)


def load_mnist(root: Path | None = None, download_missing: bool = False) -> Images:
    folder = data_root(root) / "mnist"
    if download_missing:
        for img, lab in MNIST_FILES.values():
            for name in (img, lab):
                download([u + name for u in MNIST_URLS], folder / name)
    return _idx_pair(folder)


def load_cifar10(root: Path | None = None, download_missing: bool = False) -> Images:
    """CIFAR-10 (python pickles): 50k train / 10k test 32x32 RGB."""
    base = data_root(root) / "cifar10"
    folder = base / "cifar-10-batches-py"
    if not folder.is_dir():
        if not download_missing:
            raise IlyaError("CIFAR-10 not found; pass --download to fetch it", file=folder)
        extract(download(CIFAR10_URL, base / "cifar-10-python.tar.gz"), base)

    def batch(name: str) -> tuple[np.ndarray, np.ndarray]:
        with open(folder / name, "rb") as f:
            d = pickle.load(f, encoding="bytes")
        return np.asarray(d[b"data"], np.uint8).reshape(-1, 3, 32, 32), np.asarray(d[b"labels"], np.int64)

    tr = [batch(f"data_batch_{i}") for i in range(1, 6)]
    te_x, te_y = batch("test_batch")
    return Images(np.concatenate([a for a, _ in tr]), te_x, np.concatenate([b for _, b in tr]), te_y)


def load_digits() -> Images:
    """scikit-learn's 1797 8x8 digits (values 0..16 -> 17 levels); the last 297 are the test set."""
    from sklearn.datasets import load_digits as sk_digits

    d: Any = sk_digits()
    x = np.asarray(d.images).astype(np.uint8)[:, None]  # (1797, 1, 8, 8)
    y = np.asarray(d.target).astype(np.int64)
    return Images(x[:1500], x[1500:], y[:1500], y[1500:], n_bins=17)


def load_images(name: str, root: Path | None = None, download_missing: bool = False) -> Images:
    if name == "fashion-mnist":
        return load_fashion_mnist(root)
    if name == "digits":
        return load_digits()
    if name == "mnist":
        return load_mnist(root, download_missing)
    if name == "cifar10":
        return load_cifar10(root, download_missing)
    raise IlyaError(f"image set {name!r}: expected one of {', '.join(IMAGES)}")
