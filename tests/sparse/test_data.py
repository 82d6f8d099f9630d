"""Datasets as tokens: splits, downloads with checksums (from local file:// URLs), image round trips."""

from __future__ import annotations

import gzip
import hashlib
import io
import pickle
import struct
import tarfile
import zipfile

import numpy as np
import pytest

from ilya.core.errors import IlyaError
from ilya.sparse import data as D


def _md5(b: bytes) -> str:
    return hashlib.md5(b).hexdigest()


def test_setmm_split_is_90_5_5_and_in_order():
    d = D.load_setmm()
    raw = D.SETMM_PATH.read_bytes()
    n = len(raw)
    assert len(d.train) == int(n * 0.9) and len(d.train) + len(d.valid) == int(n * 0.95)
    assert len(d.train) + len(d.valid) + len(d.test) == n
    assert bytes(d.valid[:50]) == raw[int(n * 0.9):int(n * 0.9) + 50]
    assert d.vocab_size == 256 and d.kind == "bytes"


def test_enwik8_downloads_unzips_checks_and_splits(tmp_path):
    payload = bytes(range(256)) * 40                          # 10240 bytes stand in for 10^8
    src = tmp_path / "src"
    src.mkdir()
    with zipfile.ZipFile(src / "enwik8.zip", "w") as z:
        z.writestr("enwik8", payload)
    url = (src / "enwik8.zip").as_uri()
    d = D.load_enwik8(tmp_path / "data", url=url, md5=_md5(payload), sizes=(9000, 640, 600))
    assert (len(d.train), len(d.valid), len(d.test)) == (9000, 640, 600)
    assert bytes(d.valid[:3]) == payload[9000:9003]
    assert (tmp_path / "data" / "enwik8" / "enwik8").stat().st_size == len(payload)
    with pytest.raises(IlyaError, match="checksum"):
        D.load_enwik8(tmp_path / "data", url=url, md5="0" * 32, sizes=(9000, 640, 600))
    with pytest.raises(IlyaError, match="fewer than"):
        D.load_enwik8(tmp_path / "data", url=url, md5=None, sizes=(9000, 1000, 1000))


def test_enwik8_real_constants():
    assert D.ENWIK8_URL == "http://mattmahoney.net/dc/enwik8.zip"
    assert D.ENWIK8_SPLIT == (90_000_000, 5_000_000, 5_000_000)
    assert len(D.ENWIK8_MD5) == 32 and len(D.CIFAR10_MD5) == 32


def test_unreachable_download_is_a_clear_error(tmp_path):
    with pytest.raises(IlyaError, match="cannot download"):
        D.fetch((tmp_path / "missing.zip").as_uri(), tmp_path / "out.zip")


def _cifar_archive(path, n_per_batch=4):
    rng = np.random.default_rng(0)
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as t:
        names = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]
        images = {}
        for name in names:
            x = rng.integers(0, 256, size=(n_per_batch, 3, 32, 32), dtype=np.uint8)
            images[name] = x
            blob = pickle.dumps({b"data": x.reshape(n_per_batch, 3072), b"labels": [0] * n_per_batch})
            info = tarfile.TarInfo(f"cifar-10-batches-py/{name}")
            info.size = len(blob)
            t.addfile(info, io.BytesIO(blob))
    path.write_bytes(buf.getvalue())
    return images


def test_cifar10_download_extract_and_raster_order(tmp_path):
    arch = tmp_path / "cifar.tar.gz"
    images = _cifar_archive(arch)
    d = D.load_cifar10(tmp_path / "data", url=arch.as_uri(), md5=_md5(arch.read_bytes()), n_valid=4)
    assert d.train.shape == (16, 3072) and d.valid.shape == (4, 3072) and d.test.shape == (4, 3072)
    assert d.image_shape == (32, 32, 3) and d.vocab_size == 257
    # raster order: token (r * 32 + c) * 3 + ch is pixel (r, c) of channel ch
    x = images["test_batch"][1]
    r, c, ch = 5, 17, 2
    assert d.test[1][(r * 32 + c) * 3 + ch] == x[ch, r, c]
    back = D.tokens_to_images(d.test, d.image_shape)
    assert np.array_equal(back, images["test_batch"].transpose(0, 2, 3, 1))
    with pytest.raises(IlyaError, match="checksum"):
        D.load_cifar10(tmp_path / "other", url=arch.as_uri(), md5="f" * 32)


def _idx(path, arr):
    head = bytes([0, 0, 8, arr.ndim]) + struct.pack(">" + "I" * arr.ndim, *arr.shape)
    with gzip.open(path, "wb") as f:
        f.write(head + arr.astype(np.uint8).tobytes())


def test_fashion_mnist_from_idx_files(tmp_path):
    rng = np.random.default_rng(1)
    train = rng.integers(0, 256, size=(12, 28, 28), dtype=np.uint8)
    test = rng.integers(0, 256, size=(3, 28, 28), dtype=np.uint8)
    _idx(tmp_path / "train-images-idx3-ubyte.gz", train)
    _idx(tmp_path / "t10k-images-idx3-ubyte.gz", test)
    d = D.load_fashion_mnist(tmp_path, n_valid=2)
    assert d.train.shape == (10, 784) and d.valid.shape == (2, 784) and d.test.shape == (3, 784)
    assert np.array_equal(D.tokens_to_images(d.test, d.image_shape)[..., 0], test)
    (tmp_path / "bad-images-idx3-ubyte.gz").write_bytes(gzip.compress(b"\x00\x00\x09\x01abcd"))
    with pytest.raises(IlyaError, match="IDX"):
        D.read_idx(tmp_path / "bad-images-idx3-ubyte.gz")


@pytest.mark.skipif(not D.FASHION_MNIST_DIR.is_dir(), reason="Debian dataset-fashion-mnist not installed")
def test_debian_fashion_mnist():
    d = D.load_fashion_mnist()
    assert d.train.shape == (55000, 784) and d.valid.shape == (5000, 784) and d.test.shape == (10000, 784)
    assert d.image_shape == (28, 28, 1) and 60 < d.test.mean() < 90


@pytest.mark.parametrize("stride", [None, 7, 16])
def test_eval_windows_score_every_byte_exactly_once(stride):
    arr = np.arange(101, dtype=np.uint8)
    d = D.TokenData("t", "bytes", arr, arr, arr)
    scored = []
    for x, y, first in D.eval_windows(d, "valid", 16, stride):
        assert len(x) == len(y) <= 16
        assert np.array_equal(y, x + 1)                     # y is x shifted by one
        scored += y[first:].tolist()
    assert scored == list(range(1, 101))


def test_image_batches_put_a_start_token_in_front():
    rows = np.arange(24, dtype=np.uint8).reshape(2, 12)
    d = D.TokenData("img", "image", rows, rows, rows, image_shape=(2, 2, 3))
    x, y = D.random_batch(d, "train", 3, 12, np.random.default_rng(0))
    assert x.shape == y.shape == (3, 12)
    assert (x[:, 0] == D.IMAGE_BOS).all() and np.array_equal(x[:, 1:], y[:, :-1])
