"""Ray rollout workers: staleness is measured, and a worker that dies is replaced while the learner goes on."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from ilya.five.config import GameConfig, ModelConfig, TrainConfig
from ilya.five.policy import FivePolicy
from ilya.five.rollout import to_numpy
from ilya.five.selfplay import OpponentPool
from ilya.five.train import policy_shape

pytestmark = pytest.mark.slow


@pytest.mark.procs
def test_dead_worker_is_restarted_and_staleness_measured() -> None:
    ray = pytest.importorskip("ray")
    from ilya.five.workers import RayRollouts

    torch.set_num_threads(1)
    cfg = TrainConfig(num_games=2, workers=2, game=GameConfig(max_steps=30), model=ModelConfig(hidden=16, embed=16))
    ro = RayRollouts(cfg)
    try:
        pool = OpponentPool()
        w = to_numpy(FivePolicy(policy_shape(cfg)))
        versions = []
        for v in range(4):
            out = ro.collect(w, v, 0.3, pool, 8)
            versions.append(v - out["version"])
        assert max(versions) >= 1  # overlapping rollouts and learning: data a version behind or more
        ray.kill(ro.actors[0])
        for v in range(4, 10):
            out = ro.collect(w, v, 0.3, pool, 8)
            assert out["batch"]["obs"].shape[1] == 20
        assert ro.restarts >= 1
        assert np.isfinite(out["batch"]["rewards"]).all()
    finally:
        ro.close()
        ray.shutdown()
