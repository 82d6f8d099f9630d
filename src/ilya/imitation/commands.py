"""The functions behind `ilya imitation` commands (printing around the library calls)."""

from __future__ import annotations

import sys
from typing import Any

from ilya.imitation.config import CollectConfig, ExpertConfig, TrainConfig


def collect_command(cfg: CollectConfig) -> dict[str, Any]:
    from ilya.imitation.dataset import collect

    res = collect(cfg)
    if not cfg.json:
        rate = f", {res['demos_per_s']:.1f} demonstrations/s" if res["demos_per_s"] else ""
        print(f"{res['dataset']}: {res['demos']} demonstrations of {res['tasks']} tasks "
              f"({res['collected_tasks']} tasks collected now{rate}); expert success "
              f"{100 * res['expert_success']:.1f}%, mean length {res['mean_length']:.0f} steps")
    return res


def train_command(cfg: TrainConfig) -> dict[str, Any]:
    import torch

    from ilya.imitation.train import train

    if cfg.threads <= 0:
        torch.set_num_threads(1)
    res = train(cfg)
    if "test" in res:
        print(f"{cfg.algo}: test success {100 * res['test']['success']:.1f}% (expert "
              f"{100 * res['expert']['success']:.1f}%); figures in {res['run']}/plots", file=sys.stderr)
    return res


def expert_command(cfg: ExpertConfig) -> dict[str, Any]:
    from ilya.imitation.evaluate import expert_rates, format_rates
    from ilya.imitation.tasks import task_set_from_config

    ts = task_set_from_config(cfg)
    out: dict[str, Any] = {"physics": cfg.physics}
    for split, tasks in (("train", ts.train), ("test", ts.test)):
        out[split] = expert_rates(tasks, cfg.physics, cfg.trials, cfg.seed, cfg.workers, cfg.address, split)
        if not cfg.json:
            print(format_rates(f"expert, {split} tasks ({cfg.physics})", out[split]))
    return out
