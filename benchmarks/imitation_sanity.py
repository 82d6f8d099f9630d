"""Sanity checks that isolate the learning failure (docs/imitation.md, "Sanity checks").

    nice .venv/bin/python benchmarks/imitation_sanity.py [steps] [layouts...]

1. The expert's actions executed through the policy's own rollout code (`run_episodes`, beta = 1): must
   succeed 100 %, or the rollout / success check is broken.
2. BC with train = test on the given layouts (default: one 1-stage task "ab" in a 3-block scene): the
   demonstration is irrelevant for one task, so this is pure overfitting of a state -> action map.
   Prints the held-out move error, grip accuracy and the policy's success from fresh initial states.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import numpy as np
import torch

from ilya.imitation.config import ModelConfig
from ilya.imitation.dataset import Dataset, collect_task
from ilya.imitation.policy import OneShotPolicy, bc_loss
from ilya.imitation.rollout import condition, run_episodes
from ilya.imitation.train import Pools

DAGGER_ROUNDS = int(__import__('os').environ.get('DAGGER_ROUNDS', '0'))
TRACE = bool(__import__('os').environ.get('TRACE'))
if __import__('os').environ.get('GRIP_W'):
    import ilya.imitation.policy as _p
    _p.GRIP_SWITCH_WEIGHT = float(__import__('os').environ['GRIP_W'])


def main() -> None:
    torch.set_num_threads(1)
    steps = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    layouts = sys.argv[2:] or ["ab"]
    max_blocks = 3
    shards = [collect_task(lay, max_blocks, "hybrid", list(range(100 * i, 100 * i + 24)))
              for i, lay in enumerate(layouts)]
    manifest = {"max_blocks": max_blocks, "train": layouts, "test": layouts, "physics": "hybrid"}
    data = Dataset(Path("."), manifest, shards, shards)
    trials = 10
    lay_ep = [lay for lay in layouts for _ in range(trials)]
    seeds = [10_000 + k for k in range(len(lay_ep))]
    demos = [[condition(shards[i]["obs"][0], int(shards[i]["lengths"][0]), "demo", 0.95)]
             for i in range(len(layouts)) for _ in range(trials)]
    cfg = ModelConfig()
    torch.manual_seed(0)
    model = OneShotPolicy(cfg)
    replay = run_episodes(model.eval(), lay_ep, max_blocks, "hybrid", seeds, demos, beta=1.0)
    print("expert through run_episodes:", float(replay["success"].mean()))
    pools = Pools(data)
    opt = torch.optim.Adamax(model.parameters(), lr=1e-3)
    t0 = time.time()
    model.train()
    rounds = DAGGER_ROUNDS
    starts = [steps // 2 + r * (steps // 2) // rounds for r in range(rounds)] if rounds else []
    for step in range(steps):
        if step in starts:
            r = starts.index(step)
            model.eval()
            got = run_episodes(model, lay_ep, max_blocks, "hybrid", [20_000 + 100 * r + k for k in range(len(lay_ep))],
                               demos, beta=0.5 * 0.5 ** r, label=True, rng_seed=r)
            model.train()
            for i in range(len(layouts)):
                sel = (got["episode"] // trials) == i
                pools.add(i, got["obs"][sel], got["actions"][sel])
            print("dagger round", r, "mixed success", float(got["success"].mean()), flush=True)
        demo, mask, x, y = pools.batch(np.random.default_rng([0, step]), 32, 0.95, "demo")
        loss, parts = bc_loss(model(demo, mask, x), y, x)
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        if step % 200 == 0:
            print(step, round(loss.item(), 3), {k: round(v, 3) for k, v in parts.items()}, flush=True)
    model.eval()
    res = run_episodes(model, lay_ep, max_blocks, "hybrid", seeds, demos)
    if TRACE:
        trace(model, layouts[0], demos[0][0], seeds[0])
    print(json.dumps({"layouts": layouts, "steps": steps, "train_s": round(time.time() - t0, 1),
                      "bc_success": float(res["success"].mean()), "stages": float(res["stages"].mean())}))



def trace(model: OneShotPolicy, layout: str, demo: np.ndarray, seed: int, max_blocks: int = 3) -> None:
    """Print where a policy episode gets stuck (hand, blocks, grip, policy against expert action)."""
    from ilya.imitation.env import BlockStackEnv
    from ilya.imitation.expert import expert_action
    from ilya.imitation.policy import pack_demos, to_action

    env = BlockStackEnv(layout, n_blocks=max_blocks, max_blocks=max_blocks)
    obs, _ = env.reset(seed=seed)
    d, m = pack_demos([demo])
    with torch.no_grad():
        emb = model.encode_demo(d, m)
        for t in range(env.horizon):
            a = to_action(model.act_from(emb, m, torch.from_numpy(obs[None].astype(np.float32))))[0]
            e = expert_action(env)
            if t % 10 == 0 or t > env.horizon - 4:
                print(t, "hand", np.round(env.hand, 3), "b-hand", np.round(env.block_pos()[1] - env.hand, 3),
                      "held", env.held(), "pol", np.round(a, 2), "exp", np.round(e, 2))
            obs, _, term, trunc, _ = env.step(a)
            if term or trunc:
                break


if __name__ == "__main__":
    main()
