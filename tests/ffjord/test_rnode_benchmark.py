"""benchmarks/ffjord_rnode.py: it trains exactly what ``ilya ffjord train`` trains, and its paired figures."""

import importlib.util
import math
import sys
from pathlib import Path
from typing import Any

import pytest

from ilya.ffjord.config import TrainConfig
from ilya.ffjord.train import train

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
    with pytest.raises(Exception, match="K:J"):
        bench.parse_variant("0.01")


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


@pytest.mark.parametrize("variant", ["0:0", "0.05:0.05:1"])
def test_benchmark_trains_what_the_train_command_trains(bench, tmp_path, variant):
    v = bench.parse_variant(variant)
    ours = bench.train_one("2spirals", 12, 3, v, **SMALL)
    cli = train(TrainConfig(data="2spirals", iters=12, seed=3, kinetic=v.kinetic, jacobian=v.jacobian,
                            T=0.5 if v.T is None else v.T, train_T=v.T is None, runs_dir=tmp_path, run="r",
                            device="cpu", eval_every=12, **SMALL))
    assert ours["test_nll"] == pytest.approx(cli["test_nll"], abs=1e-6)
    assert ours["test_nfe"] == cli["test_nfe"] and ours["end_times"] == pytest.approx(cli["end_times"])
    assert math.isfinite(ours["cpu_s_per_iter"]) and ours["cpu_s_per_iter"] > 0
    if v.T is not None:
        assert ours["end_times"] == [pytest.approx(1.0)]  # fixed end time stays put
