"""The RNODE weight schedule: its values at given steps, and the factor ``train`` applies and logs."""

import math

import pytest

from ilya.core.runs import Run
from ilya.ffjord.config import TrainConfig
from ilya.ffjord.regularization import weight_scale
from ilya.ffjord.train import train


def test_constant_schedule_is_one_everywhere():
    assert [weight_scale(s, 10) for s in (0, 5, 9)] == [1.0, 1.0, 1.0]


def test_linear_schedule_holds_then_falls_to_the_final_factor():
    # 100 steps, decay from step 50 to step 99: 1 up to 50, then a straight line to 0.1 at the last step
    f = [weight_scale(s, 100, "linear", 0.5, 0.1) for s in (0, 49, 50, 99)]
    assert f == [1.0, 1.0, 1.0, pytest.approx(0.1)]
    assert weight_scale(50 + 49 // 2, 100, "linear", 0.5, 0.1) == pytest.approx(1 - 0.9 * 24 / 49)
    assert weight_scale(74, 100, "linear", 0.5, 0.0) == pytest.approx(1 - 24 / 49)


def test_cosine_schedule_is_half_way_at_the_middle_of_the_decay():
    # decay from step 20 to step 120 (iters 121): half a cosine, (1 + final) / 2 at step 70
    assert weight_scale(70, 121, "cosine", 20 / 121, 0.0) == pytest.approx(0.5)
    assert weight_scale(45, 121, "cosine", 20 / 121, 0.2) == pytest.approx(0.2 + 0.8 * (1 + math.cos(math.pi / 4)) / 2)
    assert weight_scale(120, 121, "cosine", 20 / 121, 0.2) == pytest.approx(0.2)


def test_decay_from_the_start_and_bad_names():
    assert weight_scale(0, 5, "linear", 0.0, 0.0) == 1.0 and weight_scale(4, 5, "linear", 0.0, 0.0) == 0.0
    assert weight_scale(3, 5, "linear", 1.0, 0.0) == 1.0  # decay_start 1: never decays
    with pytest.raises(ValueError, match="constant, linear or cosine"):
        weight_scale(0, 5, "step", 0.5, 0.0)  # type: ignore[arg-type]


def test_train_logs_the_factor_it_applies(tmp_path):
    cfg = TrainConfig(data="8gaussians", iters=6, batch_size=32, hidden="8", atol=1e-3, rtol=1e-3, n_test=100,
                      eval_every=6, kinetic=0.1, jacobian=0.1, reg_schedule="linear", reg_decay_start=0.5,
                      reg_final=0.0, runs_dir=tmp_path, run="s", device="cpu")
    final = train(cfg)
    steps, scale = Run.load("ffjord/s", tmp_path).series("train/reg_scale")
    assert steps == [1, 2, 3, 4, 5, 6] and scale == pytest.approx([1, 1, 1, 1, 0.5, 0])  # steps 0-3, then 4, 5
    assert final["cpu_s_per_iter"] > 0 and math.isfinite(final["test_nll"])
