"""The metarl step of ``ilya demo``: RL² learning a bandit (real learning), then all four algorithms on Krazy
World at a budget that shows the pipeline, not a comparison."""

from __future__ import annotations

from pathlib import Path

from ilya.metarl.compare import compare, format_table
from ilya.metarl.config import CompareConfig, TrainConfig
from ilya.metarl.train import train

DEMO_BANDIT_STEPS = 300_000
DEMO_KRAZY_STEPS = 25_000


def demo(runs_dir: Path) -> None:
    """RL² on the 5-armed Bernoulli bandit (beats random, approaches Thompson sampling), then a one-seed
    comparison of MAML, E-MAML, RL² and E-RL² on the reference Krazy World with its figures."""
    runs_dir = Path(runs_dir)
    print(f"1. RL² on the Bernoulli bandit (5 arms redrawn per trial, 20 pulls, scored on pulls 4-20), "
          f"{DEMO_BANDIT_STEPS // 1000}k pulls of training ...", flush=True)
    s = train(TrainConfig(algo="rl2", env="bandit", n_episodes=20, n_explore=3, trials=128, eval_every=25,
                          train_worlds=100_000, env_steps=DEMO_BANDIT_STEPS, run="demo-bandit-rl2",
                          runs_dir=runs_dir, quiet=True))
    print(f"   reward per pull on 64 held-out bandits: RL² {s['test_return']:.3f} ± {s['test_return_se']:.3f}, "
          f"Thompson sampling {s['thompson_return']:.3f} ± {s['thompson_return_se']:.3f}, "
          f"random {s['random_return']:.3f} ± {s['random_return_se']:.3f}")
    print(f"   curve: {runs_dir / 'metarl' / 'demo-bandit-rl2' / 'plots' / 'learning_curve.png'}")
    cfg = CompareConfig(env="krazy", krazy_preset="reference", seeds=[0], env_steps=DEMO_KRAZY_STEPS,
                        eval_every=1, test_worlds=32, run="demo-compare-krazy", runs_dir=runs_dir)
    print(f"2. MAML, E-MAML, RL² and E-RL² on the reference Krazy World, {DEMO_KRAZY_STEPS // 1000}k environment "
          "steps each, one seed.  This shows the pipeline (training, held-out evaluation, figures), not a "
          "comparison: one seed at this budget settles nothing (MAML may already gain from its inner update; "
          "the RL² variants sit at the random floor); docs/metarl.md has the measured runs.", flush=True)
    result = compare(cfg)
    print(format_table(result))
    print(f"return vs environment steps: {result['figure']}")
    print(f"a test world with pre/post-update visit heat maps: "
          f"{runs_dir / 'metarl' / (result['runs'][1]) / 'plots' / 'exploration.png'}")
