"""% proved against training compute: which runs make the curve, and the baseline on the same theorems."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ilya.core.runs import Run, _to_jsonable
from ilya.core.stats import wilson_interval
from ilya.prover.config import EvalConfig, TrainConfig
from ilya.prover.plots import compare_compute, compute_curve

LABELS = [f"thm{i}" for i in range(10)]


def _run(runs: Path, name: str, cfg: object, summary: dict | None = None, rows: list[dict] | None = None) -> None:
    path = runs / "prover" / name
    path.mkdir(parents=True)
    (path / "config.json").write_text(json.dumps(_to_jsonable(cfg)))
    if summary is not None:
        (path / "summary.json").write_text(json.dumps(summary))
    if rows is not None:
        (path / "results.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))


def _rows(labels: list[str], proved: set[str]) -> list[dict]:
    return [{"label": lab, "proved": lab in proved, "expansions": 3 if lab in proved else 128} for lab in labels]


def _model_eval(runs: Path, name: str, model: str, labels: list[str], proved: set[str], limit: int = 10) -> None:
    cfg = EvalConfig(run=name, runs_dir=runs, model=model, clean=True, limit=limit, e=32, d=128,
                     time_limit=float("inf"))
    _run(runs, name, cfg, rows=_rows(labels, proved))


@pytest.fixture
def runs(tmp_path: Path) -> Path:
    for name, steps, secs, loss in (("m-big", 1500, 1800.0, 2.1), ("m-small", 600, 675.0, 2.6)):
        _run(tmp_path, name, TrainConfig(run=name, runs_dir=tmp_path, steps=steps),
             summary={"steps": steps, "train_seconds": secs, "valid/loss": loss})
    _model_eval(tmp_path, "ev-small", "m-small", LABELS, set())
    _model_eval(tmp_path, "ev-big", "m-big", LABELS, {"thm1", "thm4", "thm7"})
    _model_eval(tmp_path, "ev-big-unfinished", "m-small", LABELS[:6], set(), limit=20)   # 6 of 20: left out
    freq = EvalConfig(run="freq-all", runs_dir=tmp_path, policy="frequency", limit=0, e=32, d=128)
    _run(tmp_path, "freq-all", freq, rows=_rows(LABELS + ["other1", "other2"], {"thm4", "other1", "other2"}))
    return tmp_path


def test_compute_curve_pairs_each_eval_with_its_training_and_counts_the_baseline_on_the_same_theorems(runs):
    curve = compute_curve(Run.all(runs))
    assert curve is not None
    assert curve.labels == sorted(LABELS) and (curve.e, curve.d) == (32, 128)
    assert [(p.model, p.steps, p.train_seconds, p.proved, p.attempted) for p in curve.points] == [
        ("m-small", 600, 675.0, 0, 10), ("m-big", 1500, 1800.0, 3, 10)]
    assert curve.points[1].train_hours == pytest.approx(0.5)
    lo, hi = wilson_interval(3, 10)
    assert curve.points[1].interval_pct == pytest.approx((100 * lo, 100 * hi))
    assert curve.points[0].interval_pct[0] == pytest.approx(0.0, abs=1e-9) and curve.points[0].interval_pct[1] > 20  # 0/10 is not "0%"
    # the baseline's whole-split run proves 3 theorems, but only thm4 is among the curve's 10
    assert curve.baseline == (1, 10) and curve.baseline_run == "freq-all"


def test_compute_curve_is_none_without_finished_clean_evals_and_the_figure_is_drawn(runs, tmp_path_factory):
    assert compute_curve([r for r in Run.all(runs) if not r.name.startswith("ev-")]) is None
    out = tmp_path_factory.mktemp("img")
    paths = compare_compute(Run.all(runs), out)
    assert [p.name for p in paths] == ["prover_proved_vs_compute.png"] and paths[0].stat().st_size > 10_000
