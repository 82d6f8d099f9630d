"""What a larger task set costs on this CPU: expert demonstrations/s, training steps/s and policy env steps/s
at a given number of blocks, all per CPU-second of this process (time.process_time), and the CPU-minutes a
DAgger recipe would take on the whole task set, so the largest set that fits a budget can be picked.

    nice .venv/bin/python benchmarks/imitation_scale_cost.py [--blocks 10] [--stages 8] [--train-tasks 140]
        [--test-tasks 43] [--steps 16000] [--rounds 8] [--select-every 800]

Measures on a sample (one training task per number of stages, 3 demonstrations each): the expert's env steps
per CPU-s and the demonstration length by stages; 60 BC steps of the default network (batch 32, one torch
thread); lock-step policy episodes (the untrained policy, which runs to the horizon: the slowest case) in
env steps per CPU-s.  Prints the estimate of the recipe's parts: collection, gradient steps, DAgger rollouts
(episodes as long as the expert's, the fastest case, to the horizon, the slowest), validation checks and the
final evaluation.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import torch

from ilya.imitation.config import ModelConfig
from ilya.imitation.dataset import Dataset, collect_task, demo_seed
from ilya.imitation.env import BlockStackEnv
from ilya.imitation.env import default_horizon as horizon
from ilya.imitation.policy import OneShotPolicy
from ilya.imitation.rollout import condition, run_episodes
from ilya.imitation.tasks import make_task_set
from ilya.imitation.train import Pools


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--blocks", type=int, default=10)
    ap.add_argument("--stages", type=int, default=8)
    ap.add_argument("--train-tasks", type=int, default=140)
    ap.add_argument("--test-tasks", type=int, default=43)
    ap.add_argument("--demos", type=int, default=24)
    ap.add_argument("--test-demos", type=int, default=10)
    ap.add_argument("--steps", type=int, default=16000)
    ap.add_argument("--rounds", type=int, default=8)
    ap.add_argument("--dagger-start", type=float, default=0.3)
    ap.add_argument("--select-every", type=int, default=800)
    ap.add_argument("--eval-trials", type=int, default=10)
    ap.add_argument("--train-steps", type=int, default=60, help="BC steps timed")
    args = ap.parse_args()
    torch.set_num_threads(1)
    ts = make_task_set(args.blocks, args.stages, args.train_tasks, args.test_tasks)
    sample = {}
    for i, t in enumerate(ts.train):
        sample.setdefault(t.n_stages, (i, t))
    shards, lengths, cpu, env_steps = [], {}, 0.0, 0
    for n in sorted(sample):
        i, t = sample[n]
        c0 = time.process_time()
        d = collect_task(t.layout, args.blocks, "hybrid", [demo_seed(0, "train", i, j) for j in range(3)])
        cpu += time.process_time() - c0
        env_steps += int(d["lengths"].sum())
        lengths[n] = float(d["lengths"].mean())
        assert d["success"].all(), t.layout
        shards.append(d)
    expert_rate = env_steps / cpu
    tasks_sample = [sample[n][1] for n in sorted(sample)]
    manifest = {"max_blocks": args.blocks, "train": [t.layout for t in tasks_sample],
                "test": [t.layout for t in tasks_sample], "physics": "hybrid"}
    data = Dataset(Path("."), manifest, shards, shards)
    mcfg = ModelConfig(max_blocks=args.blocks)
    model = OneShotPolicy(mcfg)
    opt = torch.optim.Adamax(model.parameters(), lr=1e-3)
    pools = Pools(data, True)
    c0 = time.process_time()
    from ilya.imitation.policy import aux_loss, bc_loss
    for s in range(args.train_steps):
        rng = np.random.default_rng([0, s])
        demo, mask, x, y, lab = pools.labelled_batch(rng, 32, 0.95, "demo")
        out, logits = model.outputs(demo, mask, x)
        loss = bc_loss(out, y, x)[0] + aux_loss(logits, lab)[0]
        opt.zero_grad()
        loss.backward()
        opt.step()
    steps_per_s = args.train_steps / (time.process_time() - c0)
    # policy episodes: 8 in lock-step on the longest sampled task, to the horizon (untrained policy)
    n_max = max(sample)
    d = shards[-1]
    demos = [[condition(d["obs"][0], int(d["lengths"][0]), "demo", 0.95)] for _ in range(8)]
    model.eval()
    c0 = time.process_time()
    res = run_episodes(model, [sample[n_max][1].layout] * 8, args.blocks, "hybrid", list(range(8)), demos)
    pol_cpu = time.process_time() - c0
    pol_rate = 8 * horizon(n_max) / pol_cpu
    assert not res["success"].any()
    env = BlockStackEnv("ab", n_blocks=args.blocks, max_blocks=args.blocks)
    env.close()

    def mean_len(tasks: list, fn) -> float:   # type: ignore[type-arg]
        return float(np.mean([fn(t.n_stages) for t in tasks]))

    exp_len = lambda n: lengths.get(n, lengths[max(lengths)] * n / max(lengths))  # noqa: E731
    n_tr, n_te = len(ts.train), len(ts.test)
    collect_min = (n_tr * args.demos * mean_len(ts.train, exp_len)
                   + n_te * args.test_demos * mean_len(ts.test, exp_len)) / expert_rate / 60
    grad_min = args.steps / steps_per_s / 60
    dag_fast = args.rounds * n_tr * 2 * mean_len(ts.train, exp_len) / pol_rate / 60
    dag_slow = args.rounds * n_tr * 2 * mean_len(ts.train, horizon) / pol_rate / 60
    checks = len(range(int(args.steps * args.dagger_start) + args.select_every, args.steps + 1, args.select_every))
    checks += 0 if args.steps % args.select_every == 0 else 1
    val_fast = checks * n_tr * mean_len(ts.train, exp_len) / pol_rate / 60 if args.select_every else 0.0
    val_slow = checks * n_tr * mean_len(ts.train, horizon) / pol_rate / 60 if args.select_every else 0.0
    ev_fast = args.eval_trials * (n_tr * mean_len(ts.train, exp_len) + n_te * mean_len(ts.test, exp_len)) / pol_rate / 60
    ev_slow = args.eval_trials * (n_tr * mean_len(ts.train, horizon) + n_te * mean_len(ts.test, horizon)) / pol_rate / 60
    print(f"task set: {args.blocks} blocks, 1-{args.stages} stages, {n_tr} train / {n_te} test tasks")
    print("expert demonstration length by stages: "
          + ", ".join(f"{n}: {v:.0f}" for n, v in sorted(lengths.items())))
    print(f"expert env steps / CPU-s {expert_rate:,.0f} ({cpu:.1f} CPU-s for {env_steps} steps); "
          f"demonstrations / CPU-s at {n_max} stages {expert_rate / lengths[n_max]:.1f}")
    print(f"BC steps / CPU-s {steps_per_s:.1f} (batch 32, {sum(p.numel() for p in model.parameters())} parameters)")
    print(f"policy env steps / CPU-s {pol_rate:,.0f} (8 lock-step episodes of {horizon(n_max)} steps)")
    print(f"estimate, CPU-minutes: collect {collect_min:.1f}; {args.steps} gradient steps {grad_min:.1f}; "
          f"{args.rounds} DAgger rounds {dag_fast:.1f}-{dag_slow:.1f}; {checks} validation checks "
          f"{val_fast:.1f}-{val_slow:.1f}; final eval ({args.eval_trials} per task) {ev_fast:.1f}-{ev_slow:.1f}; "
          f"total {collect_min + grad_min + dag_fast + val_fast + ev_fast:.0f}-"
          f"{collect_min + grad_min + dag_slow + val_slow + ev_slow:.0f}")


if __name__ == "__main__":
    main()
