"""Sanity check of the recurrent learners: RL² and E-RL² on the Bernoulli bandit vs Thompson sampling.

The RL² paper's multi-armed bandit (Duan et al. 2016, sec. 3.1): 5 arms with success probabilities drawn
uniformly per task, a trial of 20 one-pull episodes; the first 3 pulls are exploratory (E-RL² is not paid
for them) and every method is scored per pull on pulls 4-20, on 64 held-out bandits x 48 trials.
Thompson sampling (Beta(1, 1) priors) and the uniform random policy are scored on the same pulls of the
same bandits.  Prints ours, Thompson, random, and our gap to Thompson per pull.  Run:

    .venv/bin/python benchmarks/metarl_bandit.py [--algos rl2 erl2] [--seeds 0 1 2] [--env-steps 600000]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from ilya.core.runs import Run
from ilya.core.stats import summarize
from ilya.metarl.config import TrainConfig
from ilya.metarl.train import train

BANDIT = dict(env="bandit", n_episodes=20, n_explore=3, trials=128, lr=3e-3, eval_every=25, train_worlds=100_000,
              test_worlds=64, eval_trials=48, quiet=True)


def bandit_config(algo: str, seed: int, env_steps: int, runs_dir: Path, **over: object) -> TrainConfig:
    kw = {**BANDIT, **over}
    return TrainConfig(algo=algo, seed=seed, env_steps=env_steps, runs_dir=runs_dir,  # type: ignore[arg-type]
                       run=f"bandit-{algo}-s{seed}-{env_steps}", **kw)  # type: ignore[arg-type]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--algos", nargs="+", default=["rl2", "erl2"])
    ap.add_argument("--seeds", type=int, nargs="+", default=[0])
    ap.add_argument("--env-steps", type=int, default=600_000)
    ap.add_argument("--runs-dir", type=Path, default=Path("runs/bench"))
    ap.add_argument("--figure", type=Path, default=None, help="draw the curves (mean ± s.e. over seeds) here")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    rows: dict[str, dict[str, object]] = {}
    runs: dict[str, list[dict[str, object]]] = {}
    for algo in args.algos:
        res = runs[algo] = []
        for seed in args.seeds:
            t0 = time.time()
            s = train(bandit_config(algo, seed, args.env_steps, args.runs_dir))
            s["wall_s"] = round(time.time() - t0, 1)
            res.append(s)
            print(f"{algo} seed {seed}: {s['test_return']:.3f} ± {s['test_return_se']:.3f} per pull "
                  f"(Thompson {s['thompson_return']:.3f} ± {s['thompson_return_se']:.3f}, random "
                  f"{s['random_return']:.3f}), {s['env_steps']} steps, {s['wall_s']} s", flush=True)
        st = summarize([float(s["test_return"]) for s in res])
        th = float(res[0]["thompson_return"])
        rows[algo] = {"mean": st.mean, "se_over_seeds": st.se, "per_seed": [s["test_return"] for s in res],
                      "per_seed_se": [s["test_return_se"] for s in res], "thompson": th,
                      "thompson_se": res[0]["thompson_return_se"], "random": res[0]["random_return"],
                      "gap_to_thompson": st.mean - th, "env_steps": res[0]["env_steps"],
                      "wall_s": [s["wall_s"] for s in res]}
    if args.figure:
        from ilya.metarl.plots import compare_figure

        curves = {algo: [Run.load(s["run"]).series("test/return") for s in rs] for algo, rs in runs.items()}
        first = next(iter(rows.values()))
        print(compare_figure(curves, float(first["random"]), args.figure,  # type: ignore[arg-type]
                             f"5-armed bandit, pulls 4-20 ({len(args.seeds)} seeds, ± s.e.)",
                             lines={"Thompson sampling": float(first["thompson"])}))  # type: ignore[arg-type]
    if args.json:
        print(json.dumps(rows))
        return
    print(f"{'':8} {'ours per pull':>16} {'Thompson':>9} {'random':>7} {'ours - Thompson':>16}")
    for algo, r in rows.items():
        print(f"{algo:8} {r['mean']:.3f} ± {r['se_over_seeds']:.3f}    {r['thompson']:.3f}   {r['random']:.3f}"
              f"   {r['gap_to_thompson']:+.3f}")


if __name__ == "__main__":
    main()
