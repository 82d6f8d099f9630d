"""Rollout throughput (game steps/s of self-play with the LSTM policy) in-process and with 1 and 2 Ray workers.

    nice .venv/bin/python benchmarks/five_ray_throughput.py [--chunks 12] [--num-games 32]

The learner only collects here (no PPO update), so the figure is the rollout side's throughput; with
Ray each worker keeps a chunk in flight.  Prints ours per setting and the ratio to in-process.  On the
2-core machine two workers and the driver share two cores.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("ILYA_PROGRESS", "0")

import tyro  # noqa: E402


@dataclass
class Args:
    chunks: int = 12
    """chunks to collect per setting (after one warm-up chunk per worker)"""
    num_games: int = 32
    """games per worker"""
    rollout_len: int = 32
    """steps per chunk"""


def main(a: Args) -> None:
    import torch

    from ilya.five.config import TrainConfig
    from ilya.five.policy import FivePolicy
    from ilya.five.rollout import to_numpy
    from ilya.five.selfplay import OpponentPool
    from ilya.five.train import LocalRollouts, policy_shape

    torch.set_num_threads(1)
    import ray

    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)  # room for both workers' actors
    rates = {}
    for workers in (0, 1, 2):
        cfg = TrainConfig(num_games=a.num_games, workers=workers)
        weights = to_numpy(FivePolicy(policy_shape(cfg)))
        pool = OpponentPool()
        if workers == 0:
            ro = LocalRollouts(cfg)
        else:
            from ilya.five.workers import RayRollouts

            ro = RayRollouts(cfg)
        for _ in range(max(workers, 1)):
            ro.collect(weights, 0, 0.3, pool, a.rollout_len)
        t0 = time.perf_counter()
        steps = 0
        for _ in range(a.chunks):
            steps += ro.collect(weights, 0, 0.3, pool, a.rollout_len)["steps"]
        rates[workers] = steps / (time.perf_counter() - t0)
        ro.close()
        label = "in-process" if workers == 0 else f"{workers} Ray worker{'s' if workers > 1 else ''}"
        print(f"{label:>15}: {rates[workers]:,.0f} game steps/s ({rates[workers] * 10:,.0f} hero-steps/s), "
              f"ratio to in-process {rates[workers] / rates[0]:.2f}", flush=True)


if __name__ == "__main__":
    main(tyro.cli(Args))
