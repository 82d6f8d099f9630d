"""The seed-group figure: runs that differ only in the seed are one recipe; means and s.e. over seeds by stages."""

from __future__ import annotations

from pathlib import Path

import pytest

from ilya.core.runs import Run
from ilya.imitation.config import TrainConfig
from ilya.imitation.plots import draw_seed_means, seed_groups, seed_means


def _res(rates: dict[str, float]) -> dict[str, object]:
    return {"success": sum(rates.values()) / len(rates),
            "by_stages": {n: {"success": r, "lo": 0.0, "hi": 1.0, "n": 10} for n, r in rates.items()}}


def test_seed_groups_and_means(tmp_path: Path) -> None:
    runs = []
    for seed, two in ((0, 1.0), (1, 0.9), (2, 0.8)):
        cfg = TrainConfig(runs_dir=tmp_path, run=f"rec-seed{seed}", seed=seed, steps=10)
        with Run.open("imitation", cfg) as run:
            run.summary(algo="dagger", test=_res({"1": 1.0, "2": two}), train=_res({"1": 0.9, "2": 0.5}),
                        expert=_res({"1": 1.0, "2": 1.0}))
        runs.append(Run.load(f"rec-seed{seed}", tmp_path, system="imitation"))
    with Run.open("imitation", TrainConfig(runs_dir=tmp_path, run="other", seed=0, steps=20)) as run:
        run.summary(algo="dagger", test=_res({"1": 0.0, "2": 0.0}))
    runs.append(Run.load("other", tmp_path, system="imitation"))
    groups = seed_groups(runs)
    assert list(groups) == ["rec"] and [r.name for r in groups["rec"]] == ["rec-seed0", "rec-seed1", "rec-seed2"]
    pts = seed_means(groups["rec"], "DAGGER (demo, 1 demo)", "test")
    assert pts[2][0] == pytest.approx(90.0) and pts[2][1] == pytest.approx(10 / 3 ** 0.5)   # s.e. of 100, 90, 80
    assert pts[2][2] == [100.0, 90.0, 80.0]
    assert draw_seed_means(runs, tmp_path / "img") == tmp_path / "img" / "imitation_stages_seeds.png"
