"""Data loaders, run on small files the tests make (no network)."""

import gzip
import pickle
import struct

import numpy as np
import pytest

from ilya.core.errors import IlyaError
from ilya.ffjord.data import TOY, load_images, load_tabular, sample_toy
from ilya.ffjord.data.download import download
from ilya.ffjord.data.images import read_idx
from ilya.ffjord.data.tabular import maf_dir


@pytest.mark.parametrize("name", sorted(TOY))
def test_toy_sets_are_2d_bounded_and_seeded(name):
    x = sample_toy(name, 1001, seed=0)
    assert x.shape == (1001, 2) and x.dtype == np.float32 and np.isfinite(x).all()
    assert np.abs(x).max() < 6.5
    assert np.array_equal(x, sample_toy(name, 1001, seed=0))
    assert not np.array_equal(x, sample_toy(name, 1001, seed=1))


def test_checkerboard_lies_on_black_squares():
    x = sample_toy("checkerboard", 5000, seed=0) / 2  # unit squares in [-2, 2]^2
    parity = (np.floor(x[:, 0]) + np.floor(x[:, 1])) % 2
    assert np.all(parity == 0)
    assert np.abs(x).max() <= 2


def test_eight_gaussians_has_eight_modes():
    x = sample_toy("8gaussians", 8000, seed=0)
    angles = np.round((np.arctan2(x[:, 1], x[:, 0]) % (2 * np.pi)) / (np.pi / 4)) % 8
    counts = np.bincount(angles.astype(int), minlength=8)
    assert counts.min() > 800


def _maf(tmp_path):
    root = tmp_path / "maf" / "data"
    rng = np.random.default_rng(0)
    (root / "power").mkdir(parents=True)
    np.save(root / "power" / "data.npy", rng.normal(size=(1000, 8)) * [1, 2, 3, 4, 5, 6, 7, 8] + 10)
    (root / "miniboone").mkdir()
    np.save(root / "miniboone" / "data.npy", rng.normal(size=(500, 43)) * 3 + 1)
    return tmp_path


def test_power_and_miniboone_follow_maf_preprocessing(tmp_path):
    root = _maf(tmp_path)
    assert maf_dir(root).name == "data"
    p = load_tabular("power", root)
    # MAF's power/data.npy has 8 columns; columns 3 and 1 are deleted
    assert p.dim == 6
    assert (len(p.train), len(p.valid), len(p.test)) == (810, 90, 100)
    both = np.vstack([p.train, p.valid])
    assert np.allclose(both.mean(0), 0, atol=1e-5) and np.allclose(both.std(0), 1, atol=1e-4)
    m = load_tabular("miniboone", root)
    assert m.dim == 43 and (len(m.train), len(m.valid), len(m.test)) == (405, 45, 50)


def test_gas_drops_correlated_columns(tmp_path):
    pd = pytest.importorskip("pandas")
    rng = np.random.default_rng(0)
    a = rng.normal(size=500)
    df = pd.DataFrame({"Time": np.arange(500.0), "Meth": rng.normal(size=500), "Eth": rng.normal(size=500),
                       "s1": a, "s2": a * 2 + 0.001 * rng.normal(size=500), "s3": rng.normal(size=500)})
    (tmp_path / "maf" / "gas").mkdir(parents=True)
    df.to_pickle(tmp_path / "maf" / "gas" / "ethylene_CO.pickle")
    g = load_tabular("gas", tmp_path)
    assert g.dim == 2  # s1 and s2 are 0.98-correlated: one goes
    assert (len(g.train), len(g.valid), len(g.test)) == (405, 45, 50)


def test_hepmass_keeps_signal_and_drops_repeated_features(tmp_path):
    pd = pytest.importorskip("pandas")
    rng = np.random.default_rng(0)
    n = 400
    label = (np.arange(n) % 2).astype(float)
    cols = {"# label": label, "f0": rng.normal(size=n), "f1": rng.normal(size=n),
            "mass": np.where(rng.random(n) < 0.3, -5.0, rng.normal(size=n))}  # smallest value repeats -> dropped
    (tmp_path / "maf" / "hepmass").mkdir(parents=True)
    pd.DataFrame(cols).to_csv(tmp_path / "maf" / "hepmass" / "1000_train.csv", index=False)
    test_cols = {"# label": label[:100], "f0": rng.normal(size=100), "f1": rng.normal(size=100),
                 "mass": rng.normal(size=100), "extra": np.zeros(100)}
    # MAF's test file selects on the train frame's *new* first column ("f0"): make f0 == 1 for some rows
    test_cols["f0"][:30] = 1.0
    pd.DataFrame(test_cols).to_csv(tmp_path / "maf" / "hepmass" / "1000_test.csv", index=False)
    h = load_tabular("hepmass", tmp_path)
    assert h.dim == 2
    assert len(h.train) + len(h.valid) == 200 and len(h.valid) == 20
    assert len(h.test) == 30


def test_bsds300_reads_hdf5(tmp_path):
    h5py = pytest.importorskip("h5py")
    (tmp_path / "maf" / "BSDS300").mkdir(parents=True)
    with h5py.File(tmp_path / "maf" / "BSDS300" / "BSDS300.hdf5", "w") as f:
        for k, n in (("train", 50), ("validation", 10), ("test", 20)):
            f[k] = np.random.default_rng(0).normal(size=(n, 63))
    b = load_tabular("bsds300", tmp_path)
    assert b.dim == 63 and (len(b.train), len(b.valid), len(b.test)) == (50, 10, 20)


def test_missing_tabular_data_is_a_user_error(tmp_path):
    with pytest.raises(IlyaError, match="--download"):
        load_tabular("power", tmp_path)
    with pytest.raises(IlyaError):
        load_tabular("nope", tmp_path)
    root = _maf(tmp_path)
    np.save(root / "maf" / "data" / "power" / "data.npy", np.zeros((100, 3)))
    with pytest.raises(IlyaError, match="expected an"):
        load_tabular("power", root)
    s = load_tabular("synthetic6")
    assert s.dim == 6 and np.isfinite(s.train).all()


def _write_idx(path, arr):
    header = struct.pack(">BBBB", 0, 0, 8, arr.ndim) + struct.pack(f">{arr.ndim}I", *arr.shape)
    with gzip.open(path, "wb") as f:
        f.write(header + arr.astype(np.uint8).tobytes())


def _mnist_folder(folder, n=12):
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    _write_idx(folder / "train-images-idx3-ubyte.gz", rng.integers(0, 256, (n, 28, 28)))
    _write_idx(folder / "train-labels-idx1-ubyte.gz", rng.integers(0, 10, n))
    _write_idx(folder / "t10k-images-idx3-ubyte.gz", rng.integers(0, 256, (5, 28, 28)))
    _write_idx(folder / "t10k-labels-idx1-ubyte.gz", rng.integers(0, 10, 5))


def test_idx_loaders_for_fashion_mnist_and_mnist(tmp_path):
    _mnist_folder(tmp_path / "fashion")
    im = load_images("fashion-mnist", tmp_path / "fashion")
    assert im.train.shape == (12, 1, 28, 28) and im.test.shape == (5, 1, 28, 28) and im.n_bins == 256
    _mnist_folder(tmp_path / "mnist")
    assert load_images("mnist", tmp_path).train_labels.shape == (12,)
    bad = tmp_path / "bad.gz"
    with gzip.open(bad, "wb") as f:
        f.write(b"\x01\x02\x08\x01\x00\x00\x00\x01\x00")
    with pytest.raises(IlyaError, match="magic"):
        read_idx(bad)


def test_mnist_download_code_path(tmp_path):
    src = tmp_path / "mirror"
    _mnist_folder(src)
    from ilya.ffjord.data import images

    old = images.MNIST_URLS
    images.MNIST_URLS = ["file:///nonexistent/", src.as_uri() + "/"]  # the first mirror fails
    try:
        im = load_images("mnist", tmp_path / "cache", download_missing=True)
    finally:
        images.MNIST_URLS = old
    assert im.train.shape == (12, 1, 28, 28)
    assert (tmp_path / "cache" / "mnist" / "t10k-labels-idx1-ubyte.gz").exists()


def test_download_failure_is_a_user_error(tmp_path):
    with pytest.raises(IlyaError, match="could not download"):
        download(["file:///nonexistent/file", "file:///nonexistent/mirror"], tmp_path / "x")
    assert list(tmp_path.iterdir()) == []                 # no file, no half-written temporary left behind
    # the first mirror that answers is used, byte for byte, and a present file is not fetched again
    src = tmp_path / "src.bin"
    src.write_bytes(bytes(range(256)) * 5000)
    got = download(["file:///nonexistent/file", src.as_uri()], tmp_path / "dl" / "y.bin")
    assert got == tmp_path / "dl" / "y.bin" and got.read_bytes() == src.read_bytes()
    assert sorted(p.name for p in got.parent.iterdir()) == ["y.bin"]
    src.unlink()
    assert download(src.as_uri(), got).read_bytes() == bytes(range(256)) * 5000


def test_cifar10_reads_python_pickles(tmp_path):
    folder = tmp_path / "cifar10" / "cifar-10-batches-py"
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        with open(folder / name, "wb") as f:
            pickle.dump({b"data": rng.integers(0, 256, (4, 3072), dtype=np.uint8), b"labels": [1, 2, 3, 4]}, f)
    im = load_images("cifar10", tmp_path)
    assert im.train.shape == (20, 3, 32, 32) and im.test.shape == (4, 3, 32, 32)
    with pytest.raises(IlyaError, match="--download"):
        load_images("cifar10", tmp_path / "elsewhere")


def test_digits_and_real_fashion_mnist():
    d = load_images("digits")
    assert d.train.shape == (1500, 1, 8, 8) and d.n_bins == 17 and d.train.max() == 16
    from ilya.ffjord.data.images import FASHION_DIR

    if not FASHION_DIR.is_dir():
        pytest.skip("dataset-fashion-mnist not installed")
    f = load_images("fashion-mnist")
    assert f.train.shape == (60000, 1, 28, 28) and f.test.shape == (10000, 1, 28, 28)
