"""benchmarks/ffjord_rnode.py: its variants, its paired figures, and that it reports what ``train`` trained."""

import importlib.util
import json
import math
import sys
from pathlib import Path
from typing import Any

import pytest

from ilya.ffjord.config import TrainConfig

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "ffjord_rnode.py"


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("ffjord_rnode_bench", SCRIPT)
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod  # dataclasses look their module up
    spec.loader.exec_module(mod)
    return mod


SMALL: dict[str, Any] = dict(hidden="16-16", atol=1e-3, rtol=1e-3, n_test=300, batch_size=64)


def test_variants_parse_and_name(bench):
    v = bench.parse_variant("0.01:0.02:1")
    assert (v.kinetic, v.jacobian, v.T) == (0.01, 0.02, 1.0) and v.name == "rnode k=0.01 j=0.02 T=1 fixed"
    assert bench.parse_variant("0.01:0.01").T is None and bench.parse_variant("0:0:train").name == "plain"
    s = bench.parse_variant("0.01:0.01:train:cosine/0.6/0.1")
    assert (s.T, s.schedule, s.decay_start, s.final) == (None, "cosine", 0.6, 0.1)
    assert s.name == "rnode k=0.01 j=0.01 T trained cosine 0.6->0.1"
    assert s.slug == "k0.01-j0.01-Ttrain-cosine0.6to0.1" and bench.parse_variant("0:0").slug == "plain"
    cfg = s.config("2spirals", 100, 3)
    assert isinstance(cfg, TrainConfig) and (cfg.reg_schedule, cfg.reg_decay_start, cfg.reg_final) == ("cosine", 0.6, 0.1)
    assert cfg.train_T and cfg.T == 0.5 and cfg.seed == 3 and cfg.kinetic == 0.01
    for bad in ("0.01", "0.01:0.01:1:step/0.5/0", "0.01:0.01:1:linear/x/0"):
        with pytest.raises(Exception, match="K:J|SCHEDULE|START"):
            bench.parse_variant(bad)


def test_paired_figures_are_per_seed_ratios_and_costs(bench):
    base = [{"test_nfe": 120.0, "test_nll": 2.90, "cpu_s": 100.0}, {"test_nfe": 100.0, "test_nll": 3.00, "cpu_s": 90.0}]
    reg = [{"test_nfe": 60.0, "test_nll": 2.93, "cpu_s": 50.0}, {"test_nfe": 40.0, "test_nll": 3.05, "cpu_s": 45.0}]
    p = bench.paired(base, reg)
    assert p["nfe_ratio"] == [2.0, 2.5] and p["nfe_ratio_mean"] == pytest.approx(2.25)
    assert p["nll_cost"] == pytest.approx([0.03, 0.05]) and p["nll_cost_mean"] == pytest.approx(0.04)
    assert p["nll_cost_se"] == pytest.approx(0.01)  # sd 0.01414 / sqrt(2)
    assert p["nfe_ratio_se"] == pytest.approx(0.25) and p["cpu_speedup_mean"] == pytest.approx(2.0)
    assert p["target_met"]
    assert not bench.paired(base[:1], [{"test_nfe": 70.0, "test_nll": 2.91, "cpu_s": 1.0}])["target_met"]


def test_benchmark_reports_the_run_train_made(bench, tmp_path):
    """train_one is `train` on a run folder: its figures are the run's summary, its curve the run's metrics,
    and a second call re-scores the finished run instead of training it again."""
    v = bench.parse_variant("0.05:0.05:1")
    ours = bench.train_one("2spirals", 12, 3, v, tmp_path, eval_every=6, check_atol=1e-5, check_n=100, **SMALL)
    run = Path(ours["run"])
    assert run == tmp_path / "ffjord" / "rnode-2spirals-12-s3-k0.05-j0.05-T1"
    summary = json.loads((run / "summary.json").read_text())
    assert ours["test_nll"] == summary["test_nll"] and ours["test_nfe"] == summary["test_nfe"]
    assert [c["step"] for c in ours["curve"]] == [6, 12] and all(c["valid_nfe"] > 0 for c in ours["curve"])
    assert math.isfinite(ours["cpu_s_per_iter"]) and ours["cpu_s_per_iter"] > 0
    assert ours["cpu_s"] == pytest.approx(12 * ours["cpu_s_per_iter"])
    assert ours["end_times"] == [pytest.approx(1.0)]  # a fixed end time stays put
    c = ours["check"]  # at a tighter tolerance the solver takes more steps; the NLL barely moves
    assert c["n"] == 100 and c["train_atol"] == 1e-3 and c["nfe_tight"] > c["nfe_train_tol"]
    assert abs(c["nll_tight"] - c["nll_train_tol"]) < 0.05
    again = bench.train_one("2spirals", 12, 3, v, tmp_path, eval_every=6, **SMALL)
    assert again["test_nll"] == pytest.approx(ours["test_nll"], abs=1e-6)
    assert again["cpu_s_per_iter"] == ours["cpu_s_per_iter"]  # from the checkpoint: no step was retrained
