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


def test_larger_task_sets_get_their_own_figure_and_stay_out_of_the_default_ones(tmp_path: Path) -> None:
    from ilya.imitation.plots import (
        DEFAULT_TASK_SET,
        draw_stages,
        headline_rows,
        stages_task_sets_figure,
        task_set_of,
        variants,
    )

    big = dict(max_blocks=10, max_stages=8, train_tasks=140, test_tasks=43)
    for algo in ("dagger", "bc"):
        cfg = TrainConfig(runs_dir=tmp_path, run=f"paper-{algo}", algo=algo, steps=10, **big)   # type: ignore[arg-type]
        with Run.open("imitation", cfg) as run:
            run.summary(algo=algo, steps=10, wall_s=60.0, cpu_s=120.0,
                        test=_res({str(n): 1 - n / 10 for n in range(1, 9)}),
                        train=_res({str(n): 1 - n / 20 for n in range(1, 9)}), expert=_res({"1": 1.0, "8": 1.0}))
    with Run.open("imitation", TrainConfig(runs_dir=tmp_path, run="small", steps=10)) as run:
        run.summary(algo="dagger", steps=10, test=_res({"1": 1.0, "2": 0.5}))
    runs = [Run.load(n, tmp_path, system="imitation") for n in ("paper-dagger", "paper-bc", "small")]
    assert task_set_of(runs[2]) == DEFAULT_TASK_SET and task_set_of(runs[0]) == (10, 8, 140, 43, 0, "hybrid")
    paths = stages_task_sets_figure(runs, tmp_path / "img")
    assert [p.name for p in paths] == ["imitation_stages_10blocks_8stages.png"]
    from PIL import Image

    # ours DAgger and BC on both panels (4), the expert, the paper's two lines
    assert Image.open(paths[0]).info["ilya:curves"] == "7"
    # the default-set figure holds only the default-set run (its one variant) and the paper's two lines
    assert set(variants(runs[2])) == {"DAGGER (demo, 1 demo)"}
    p = draw_stages(runs, tmp_path / "img2")
    assert p is not None and Image.open(p).info["ilya:curves"] == "3"
    rows = {r.run: r for r in headline_rows(runs)}
    assert rows["imitation/paper-bc"].command.endswith(
        "--max-blocks 10 --max-stages 8 --train-tasks 140 --test-tasks 43")
    assert rows["imitation/paper-bc"].budget == "10 steps, 1 min wall-clock, 2 CPU-min"
    assert rows["imitation/small"].command == "ilya imitation train --algo dagger --steps 10"
