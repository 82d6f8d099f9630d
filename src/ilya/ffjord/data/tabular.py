"""The tabular density-estimation sets of FFJORD Table 2, with the preprocessing of Papamakarios et al. 2017.

POWER, GAS, HEPMASS, MINIBOONE and BSDS300 come from the MAF authors' archive on Zenodo
(https://zenodo.org/record/1161203/files/data.tar.gz, ~0.8 GB).  The splits and normalisation below
follow the MAF repository (``datasets/*.py``) step by step, including its quirks, so numbers are
comparable with the paper's Table 2.  ``synthetic6`` is an offline stand-in of POWER's shape
(6 dims, a few hundred thousand rows possible) for machines without that archive.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ilya.core.errors import IlyaError
from ilya.ffjord.data.download import data_root, download, extract

MAF_URL = "https://zenodo.org/record/1161203/files/data.tar.gz"
TABULAR = ("power", "gas", "hepmass", "miniboone", "bsds300")


@dataclass
class Splits:
    """Train / validation / test arrays, float32, shape (N, D)."""

    train: np.ndarray
    valid: np.ndarray
    test: np.ndarray

    @property
    def dim(self) -> int:
        return int(self.train.shape[1])


def _f32(*arrays: np.ndarray) -> Splits:
    return Splits(*(np.ascontiguousarray(a, dtype=np.float32) for a in arrays))


def _split_tail(data: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Last 10% test, then the last 10% of the rest validation (MAF's split)."""
    n_test = int(0.1 * data.shape[0])
    test, data = data[-n_test:], data[:-n_test]
    n_valid = int(0.1 * data.shape[0])
    return data[:-n_valid], data[-n_valid:], test


def _normalise_on_train_valid(train: np.ndarray, valid: np.ndarray, test: np.ndarray) -> Splits:
    data = np.vstack([train, valid])
    mu, s = data.mean(0), data.std(0)
    return _f32((train - mu) / s, (valid - mu) / s, (test - mu) / s)


FOLDERS = {"power": "power", "gas": "gas", "hepmass": "hepmass", "miniboone": "miniboone", "bsds300": "BSDS300"}


def maf_dir(root: str | Path | None = None, download_missing: bool = False, name: str | None = None) -> Path:
    """The folder holding power/, gas/, hepmass/, miniboone/, BSDS300/ (downloaded on request)."""
    base = data_root(root) / "maf"
    wanted = [FOLDERS[name]] if name else list(FOLDERS.values())
    for cand in (base / "data", base):
        if any((cand / w).is_dir() for w in wanted):
            return cand
    if not download_missing:
        raise IlyaError(f"the MAF tabular data is not under {base}; pass --download (fetches {MAF_URL}, "
                        "~0.8 GB) or unpack data.tar.gz there", file=base)
    archive = download(MAF_URL, base / "data.tar.gz")
    extract(archive, base)
    return base / "data"


def load_power(path: Path) -> Splits:
    """POWER: household electric power, 6 dims after MAF's column deletions and uniform noise."""
    rng = np.random.RandomState(42)
    data = np.load(path / "power" / "data.npy")
    if data.ndim != 2 or data.shape[1] != 8:
        raise IlyaError(f"expected an (N, 8) array, found {data.shape}", file=path / "power" / "data.npy")
    rng.shuffle(data)
    n = data.shape[0]
    data = np.delete(data, 3, axis=1)
    data = np.delete(data, 1, axis=1)
    # dequantisation noise on the discrete columns (gap, voltage, sub-metering); time gets none
    noise = np.hstack([0.001 * rng.rand(n, 1), 0.01 * rng.rand(n, 1), rng.rand(n, 3), np.zeros((n, 1))])
    data = data + noise
    return _normalise_on_train_valid(*_split_tail(data))


def load_gas(path: Path) -> Splits:
    """GAS: ethylene + CO sensor array, 8 dims after dropping labels, time and correlated columns."""
    import pandas as pd

    data = pd.read_pickle(path / "gas" / "ethylene_CO.pickle")
    data = data.drop(columns=["Meth", "Eth", "Time"])

    def n_correlated(d):  # how many columns each column is > 0.98 correlated with (itself included)
        return (d.corr() > 0.98).values.sum(axis=1)

    b = n_correlated(data)
    while np.any(b > 1):
        data = data.drop(columns=data.columns[np.where(b > 1)[0][0]])
        b = n_correlated(data)
    arr = np.asarray(((data - data.mean()) / data.std()).values)  # GAS normalises on the whole set, then splits
    return _f32(*_split_tail(arr))


def load_hepmass(path: Path) -> Splits:
    """HEPMASS: signal events only, 21 dims after dropping the label and features with repeated values."""
    import pandas as pd

    train = pd.read_csv(path / "hepmass" / "1000_train.csv", index_col=False)
    test = pd.read_csv(path / "hepmass" / "1000_test.csv", index_col=False)
    train = train[train[train.columns[0]] == 1]
    train = train.drop(columns=train.columns[0])
    # MAF's code selects test rows with the *train* frame's new first column name, then drops the test
    # frame's first and last columns ("because the data set is messed up"); kept as is for comparability.
    test = test[test[train.columns[0]] == 1]
    test = test.drop(columns=test.columns[0])
    test = test.drop(columns=test.columns[-1])
    mu, s = train.mean(), train.std()
    train, test = np.asarray(((train - mu) / s).values), np.asarray(((test - mu) / s).values)
    # drop features whose smallest value occurs more than 5 times (MAF's "max_count" is that count)
    keep = [i for i, col in enumerate(train.T) if sorted(Counter(col).items())[0][1] <= 5]
    train, test = train[:, keep], test[:, keep]
    n_valid = int(0.1 * train.shape[0])
    return _f32(train[:-n_valid], train[-n_valid:], test)


def load_miniboone(path: Path) -> Splits:
    """MINIBOONE: particle identification, 43 dims."""
    data = np.load(path / "miniboone" / "data.npy")
    return _normalise_on_train_valid(*_split_tail(data))


def load_bsds300(path: Path) -> Splits:
    """BSDS300: 8x8 natural-image patches, 63 dims (already split and preprocessed in the HDF5 file)."""
    import h5py

    with h5py.File(path / "BSDS300" / "BSDS300.hdf5", "r") as f:
        return _f32(*(np.asarray(f[k][()]) for k in ("train", "validation", "test")))  # type: ignore[index]


def synthetic6(n: int = 60000, seed: int = 0) -> Splits:
    """An offline 6-dim stand-in of POWER's shape: a warped, correlated mixture with heavy-ish tails."""
    rng = np.random.default_rng(seed)
    k = 6
    means = rng.normal(0, 2.0, (k, 6))
    mixes = rng.normal(0, 0.6, (k, 6, 6))
    comp = rng.integers(0, k, n)
    eps = rng.standard_normal((n, 6))
    x = means[comp] + np.einsum("nij,nj->ni", mixes[comp], eps)
    x[:, 1] = x[:, 1] + 0.5 * np.sin(2 * x[:, 0])  # non-linear dependencies
    x[:, 3] = np.sinh(0.5 * x[:, 3])
    x[:, 5] = x[:, 5] + 0.3 * x[:, 2] ** 2
    return _normalise_on_train_valid(*_split_tail(x))


LOADERS = {"power": load_power, "gas": load_gas, "hepmass": load_hepmass, "miniboone": load_miniboone,
           "bsds300": load_bsds300}


def load_tabular(name: str, root: str | Path | None = None, download_missing: bool = False) -> Splits:
    if name == "synthetic6":
        return synthetic6()
    if name not in LOADERS:
        raise IlyaError(f"tabular set {name!r}: expected one of {', '.join([*TABULAR, 'synthetic6'])}")
    return LOADERS[name](maf_dir(root, download_missing, name))
