"""RL² and E-RL² on the reference Krazy World at millions of steps: several seeds of one setting, then the table.

Each (algorithm, seed) is one `ilya metarl train` run on the reference Krazy World (`--krazy-preset
reference`, 10 x 10, local observations, 40-step episodes, both permutations on, trials of 5 episodes
scored on 4-5), with fresh training worlds (`--train-worlds 100000`: every trial is a new world) and the
setting named by ``--setting`` (see SETTINGS: the batch of trials per PPO update, minibatches, learning
rate, GRU width).  Runs are named ``<name>-<algo>-s<seed>`` and trained one at a time, interleaved by seed
(RL² s0, E-RL² s0, RL² s1, ...), so a stop leaves both algorithms with the same seeds; a run that exists
resumes.  Per run it prints the held-out return ± Monte Carlo s.e. on the 64 test worlds, the random floor,
the margin and the process CPU seconds, and appends one JSON line to ``--out``.  The table (95% intervals
against the floor, E-RL² − RL²) and the figure come from `benchmarks/metarl_compare_table.py --algos rl2
erl2 --name <name>`.  No iterate is selected: every figure is a run's last evaluation.  Run:

    .venv/bin/python benchmarks/metarl_rl2_long.py --setting t1024 --seeds 0 1 2 --env-steps 3000000

The curve and the summary use 512 held-out worlds (seeds 500000-500511, 8 trials each; the first 64 are the
standard test set, which every run is also scored on at the end, 48 trials each).  Why 512: every seed is
scored on the same test worlds, so which 64 worlds were drawn is an error common to all seeds that no
number of seeds averages out.  ``--blocks RUN`` measures it: the run's last checkpoint on 512 worlds, the
policy's margin over the random policy in each of the 8 disjoint blocks of 64 worlds.  ``--replay`` prints
what a simple in-trial strategy scores: explore with 3 uniformly random episodes, then replay the action
sequence of the best of them in episodes 4-5 (Krazy World is deterministic given the actions, so a replay
earns exactly that episode's return: the score is E[max of 3 random episode returns]).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

from ilya.metarl.config import TrainConfig

FRESH = 100_000  # more training worlds than a run ever draws: every trial is a new world
SETTINGS: dict[str, dict[str, Any]] = {
    # 1024 trials (~70k steps) per PPO update, 8 minibatches of 128 trials, 4 epochs, lr 1e-3, GRU 64
    "t1024": {"trials": 1024, "minibatches": 8, "lr": 1e-3},
}


def setting_config(setting: str, algo: str, seed: int, env_steps: int, runs_dir: Path, name: str,
                   eval_every: int, test_worlds: int, eval_trials: int) -> TrainConfig:
    return TrainConfig(algo=algo, seed=seed, env_steps=env_steps, krazy_preset="reference",  # type: ignore[arg-type]
                       train_worlds=FRESH, test_worlds=test_worlds, eval_trials=eval_trials, eval_every=eval_every,
                       quiet=True, runs_dir=runs_dir, run=f"{name}-{algo}-s{seed}", **SETTINGS[setting])


def blocks(refs: list[str], runs_dir: Path, worlds: int = 512, block: int = 64, trials: int = 16,
           adapts: int = 4) -> None:
    """The margin over random (policy - random policy, mean over a block's worlds) in each block of
    ``block`` consecutive test worlds, from each run's last checkpoint on ``worlds`` test worlds (RL²:
    ``trials`` trials per world; MAML / E-MAML: ``adapts`` adaptations per world, 8 scored episodes each)."""
    import dataclasses

    import numpy as np
    import torch

    from ilya.core.runs import Run
    from ilya.core.stats import summarize
    from ilya.metarl.train import eval_seed, make_learner, random_floor, world_seeds

    torch.set_num_threads(1)
    for ref in refs:
        run = Run.load(ref, runs_dir, system="metarl")
        cfg = dataclasses.replace(run.config_as(TrainConfig), test_worlds=worlds, eval_trials=trials,
                                  eval_adapts=adapts)
        state = run.load_checkpoint()
        assert state is not None, f"{ref} has no checkpoint"
        learner = make_learner(cfg)
        learner.load_state_dict(state["learner"])
        _, seeds = world_seeds(cfg)
        score = learner.evaluate(seeds, seed=eval_seed(cfg))["score"].mean(1)  # (worlds,)
        floor = random_floor(cfg, seeds).mean(1)
        diff = (score - floor).reshape(-1, block).mean(1)
        reps = f"{adapts} adaptations" if cfg.algo in ("maml", "emaml") else f"{trials} trials"
        print(f"{run.name} at {int(state['env_steps'])} steps, {worlds} test worlds x {reps}: "
              f"{score.mean():+.3f} against random {floor.mean():+.3f} (margin {score.mean() - floor.mean():+.3f})")
        for i, d in enumerate(diff):
            lo, hi = i * block, (i + 1) * block
            print(f"  worlds {500_000 + lo}-{500_000 + hi - 1}: margin {d:+.3f}  "
                  f"(policy {score[lo:hi].mean():+.3f}, random {floor[lo:hi].mean():+.3f})")
        st = summarize(list(diff))
        print(f"margin per block of {block}: mean {st.mean:+.3f}, s.d. {st.se * np.sqrt(st.n):.3f} between blocks",
              flush=True)


def replay_reference(trials: int = 64) -> None:
    """Random policy vs 'replay the best of 3 random exploratory episodes' on the 64 and 512 test worlds."""
    from ilya.metarl.sampling import rollout_random
    from ilya.metarl.train import env_spec, world_seeds

    for worlds in (64, 512):
        cfg = TrainConfig(krazy_preset="reference", test_worlds=worlds)
        _, seeds = world_seeds(cfg)
        r = rollout_random(env_spec(cfg), seeds, 3 * trials, seed=5).reshape(worlds, trials, 3)
        print(f"{worlds} test worlds x {trials} trials: random {r.mean():+.3f}, an episode scores > 0 in "
              f"{(r > 0).mean():.1%}, replaying the best of 3 random episodes {r.max(-1).mean():+.3f}")


def table(out: Path, name: str, seeds: list[int]) -> None:
    """Per algorithm, over the finished seeds in ``out``: the final held-out return on the 512 worlds and on
    the standard 64 (mean ± s.e. over seeds, 95% t-interval, above the floor's 95% interval or not),
    episodes 1-3 against 4-5, CPU seconds; then E-RL² - RL²."""
    import math

    from ilya.core.stats import summarize
    from ilya.metarl.compare import versus_floor

    rows = [json.loads(line) for line in out.read_text().splitlines() if line.strip()]
    rows = [r for r in rows if r["name"] == name and r["seed"] in seeds]
    last = {(r["algo"], r["seed"]): r for r in rows}  # a rerun of a finished run repeats its line
    stats = {}
    for algo in ("rl2", "erl2"):
        rs = [last[(algo, s)] for s in seeds if (algo, s) in last]
        if not rs:
            continue
        for key, floor, floor_se, label in (("test", "random", "random_se", f"{rs[0]['test_worlds']} worlds"),
                                            ("test64", "random64", "random64_se", "64 standard worlds")):
            xs = [r[key] for r in rs]
            st, vs = summarize(xs), versus_floor(xs, rs[0][floor], rs[0][floor_se])
            stats[(algo, key)] = st
            print(f"{algo:5} n={st.n} {label:<19} {st.mean:+.3f} ± {st.se:.3f}  95% CI [{vs['ci95'][0]:+.3f}, "
                  f"{vs['ci95'][1]:+.3f}] {'above' if vs['above'] else 'NOT above'} random {rs[0][floor]:+.3f} ± "
                  f"{rs[0][floor_se]:.3f}  per seed " + " ".join(f"{x:+.3f}" for x in xs))
        for key, floor, label in (("test", "random", f"{rs[0]['test_worlds']} worlds"),
                                  ("test64", "random64", "64 standard worlds")):
            m = summarize([r[key] - r[floor] for r in rs])  # each run against its own floor (its eval seed)
            print(f"{algo:5} margin over random, {label:<19} {m.mean:+.3f} ± {m.se:.3f}  95% CI [{m.lo:+.3f}, "
                  f"{m.hi:+.3f}]  per seed " + " ".join(f"{r[key] - r[floor]:+.3f}" for r in rs))
        before = summarize([r["before"] for r in rs])
        cpu = [r["cpu_s"] for r in rs]
        print(f"{algo:5} episodes 1-3 {before.mean:+.3f} ± {before.se:.3f} (episodes 4-5 above); "
              f"CPU-s per run {min(cpu):.0f}-{max(cpu):.0f}, {sum(cpu) / 60:.1f} CPU-min in all")
    for key in ("test", "test64"):
        if ("rl2", key) in stats and ("erl2", key) in stats:
            a, b = stats[("erl2", key)], stats[("rl2", key)]
            print(f"E-RL² - RL² ({key}): {a.mean - b.mean:+.3f} ± {math.hypot(a.se, b.se):.3f}")


def speed(batches: tuple[int, ...] = (64, 256, 1024)) -> None:
    """Environment steps per CPU-second of one RL² iteration (fresh trials sampled, then PPO), by batch size."""
    import numpy as np
    import torch

    from ilya.metarl.train import make_learner, world_seeds

    torch.set_num_threads(1)
    for trials in batches:
        cfg = TrainConfig(algo="rl2", krazy_preset="reference", train_worlds=FRESH, trials=trials, lr=1e-3,
                          minibatches=8 if trials >= 1024 else 4)
        learner = make_learner(cfg)
        train_seeds, _ = world_seeds(cfg)
        learner.iteration(0, np.random.default_rng(0), train_seeds)  # warm-up
        c0 = time.process_time()
        _, n = learner.iteration(1, np.random.default_rng(1), train_seeds)
        dt = time.process_time() - c0
        print(f"{trials:5d} trials per update: {n} steps in {dt:.2f} CPU-s, {n / dt:,.0f} steps per CPU-second")


def main() -> None:
    ap = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    ap.add_argument("--setting", default="t1024", choices=sorted(SETTINGS))
    ap.add_argument("--algos", nargs="+", default=["rl2", "erl2"], choices=["rl2", "erl2"])
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--env-steps", type=int, default=3_000_000)
    ap.add_argument("--eval-every", type=int, default=5, help="iterations between evaluations")
    ap.add_argument("--test-worlds", type=int, default=512,
                    help="held-out worlds of the curve and the summary (the first 64 are the standard test set)")
    ap.add_argument("--eval-trials", type=int, default=8, help="trials per held-out world at each evaluation")
    ap.add_argument("--name", default=None, help="runs are <name>-<algo>-s<seed> (default: rl2long-<setting>-<steps>)")
    ap.add_argument("--runs-dir", type=Path, default=Path("runs/bench"))
    ap.add_argument("--out", type=Path, default=Path("benchmarks/results/metarl_rl2_long.jsonl"))
    ap.add_argument("--blocks", nargs="+", default=None,
                    help="only: each run's margin over random per block of 64 test worlds")
    ap.add_argument("--replay", action="store_true", help="only: the explore-randomly-then-replay-the-best reference")
    ap.add_argument("--table", action="store_true", help="only: the table of the finished runs in --out")
    ap.add_argument("--speed", action="store_true", help="only: steps per CPU-second of one RL² update by batch size")
    args = ap.parse_args()
    if args.blocks:
        blocks(args.blocks, args.runs_dir)
        return
    if args.replay:
        replay_reference()
        return
    if args.speed:
        speed()
        return
    if args.table:
        table(args.out, args.name or f"rl2long-{args.setting}-{args.env_steps}", args.seeds)
        return
    import torch

    from ilya.metarl.config import EvalConfig
    from ilya.metarl.evaluate import eval_command
    from ilya.metarl.train import train

    torch.set_num_threads(1)  # one core per job on the shared machine
    name = args.name or f"rl2long-{args.setting}-{args.env_steps}"
    for seed in args.seeds:
        for algo in args.algos:
            cfg = setting_config(args.setting, algo, seed, args.env_steps, args.runs_dir, name, args.eval_every,
                                 args.test_worlds, args.eval_trials)
            t0, c0 = time.time(), time.process_time()
            s = train(cfg)
            cpu_train = time.process_time() - c0
            # the last checkpoint on the standard 64 test worlds, 48 trials each (the earlier tables' protocol)
            std = eval_command(EvalConfig(run=s["run"], test_worlds=64, trials=48, runs_dir=args.runs_dir, json=True))
            row = {"name": name, "setting": args.setting, "algo": algo, "seed": seed, "test": s["test_return"],
                   "se": s["test_return_se"], "random": s["random_return"], "random_se": s["random_return_se"],
                   "margin": s["test_return"] - s["random_return"], "env_steps": s["env_steps"],
                   "before": s["test_before"], "episodes": s["test_episode_returns"], "test_worlds": s["test_worlds"],
                   "test64": std["test_return"], "test64_se": std["test_return_se"], "random64": std["random_return"],
                   "random64_se": std["random_return_se"], "cpu_s_train": round(cpu_train, 1),
                   "cpu_s": round(time.process_time() - c0, 1), "wall_s": round(time.time() - t0, 1)}
            print(f"{algo:5} s{seed}  held-out ({row['test_worlds']} worlds) {row['test']:+.3f} ± {row['se']:.3f}  "
                  f"random {row['random']:+.3f} ± {row['random_se']:.3f}  margin {row['margin']:+.3f}  "
                  f"(64 standard worlds: {row['test64']:+.3f} ± {row['test64_se']:.3f}, random {row['random64']:+.3f})"
                  f"  episodes "
                  + " ".join(f"{e:+.2f}" for e in row["episodes"])
                  + f"  {row['env_steps']} steps  {row['cpu_s']} CPU-s ({row['wall_s']} s wall)", flush=True)
            with args.out.open("a") as f:
                f.write(json.dumps(row) + "\n")


if __name__ == "__main__":
    main()
