"""Layouts, stages, task sets and the dataset folder."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from ilya.core.errors import IlyaError
from ilya.imitation.config import CollectConfig
from ilya.imitation.dataset import collect, load_dataset
from ilya.imitation.tasks import make_task_set, parse_layout


def test_stages_of_a_layout() -> None:
    t = parse_layout("ab cde")
    assert t.n_blocks == 5 and t.n_stages == 3
    assert t.stages == [(1, 0), (3, 2), (4, 3)]          # b on a, d on c, e on d
    assert parse_layout("cde ab").canonical == t.canonical


@pytest.mark.parametrize("bad,msg", [("ab cz", "unknown block label 'z'"), ("aba", "appears twice"),
                                     ("", "expected towers"), ("a-b", "unknown block label '-'")])
def test_bad_layouts(bad: str, msg: str) -> None:
    with pytest.raises(IlyaError, match=msg):
        parse_layout(bad)


def test_label_outside_the_scene() -> None:
    with pytest.raises(IlyaError, match="outside the scene of 4 blocks"):
        parse_layout("ab ef", n_blocks=4)


def test_task_sets_are_disjoint_and_sized() -> None:
    for args, n_train, n_test in [((6, 5, 40, 12), 40, 12), ((10, 8, 140, 43), 140, 43)]:
        ts = make_task_set(*args)
        assert (len(ts.train), len(ts.test)) == (n_train, n_test)
        assert not {t.canonical for t in ts.train} & {t.canonical for t in ts.test}
        assert {t.n_stages for t in ts.test} == set(range(1, args[1] + 1))
        assert max(t.n_blocks for t in ts.train) == args[0]
    assert make_task_set(seed=1).fingerprint() != make_task_set(seed=0).fingerprint()


def _cfg(tmp: Path, **kw: object) -> CollectConfig:
    base = {"max_blocks": 3, "max_stages": 2, "train_tasks": 3, "test_tasks": 2, "demos_per_task": 2,
            "test_demos_per_task": 1, "out": tmp / "ds"}
    base.update(kw)
    return CollectConfig(**base)  # type: ignore[arg-type]


def test_collect_resumes_and_refuses_another_task_set(tmp_path: Path) -> None:
    cfg = _cfg(tmp_path)
    first = collect(cfg)
    assert first["collected_tasks"] == 5 and first["demos"] == 3 * 2 + 2 * 1 and first["expert_success"] == 1.0
    (tmp_path / "ds" / "train_001.npz").unlink()            # an interrupted collection
    again = collect(cfg)
    assert again["collected_tasks"] == 1
    ds = load_dataset(tmp_path / "ds")
    manifest = json.loads((tmp_path / "ds" / "manifest.json").read_text())
    assert [t.layout for t in ds.tasks("train")] == manifest["train"]
    d = ds.train[0]
    n, t1, dim = d["obs"].shape
    assert (n, dim) == (2, 4 + 4 * 3) and d["actions"].shape == (2, t1 - 1, 4)
    assert np.all(d["lengths"] <= t1 - 1) and d["success"].all()
    with pytest.raises(IlyaError, match="another task set"):
        collect(_cfg(tmp_path, task_seed=7))
    with pytest.raises(IlyaError, match="not a demonstration dataset"):
        load_dataset(tmp_path)
