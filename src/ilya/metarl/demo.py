"""The metarl step of ``ilya demo``: all four algorithms on Krazy World, one seed, a short budget."""

from __future__ import annotations

from pathlib import Path

from ilya.metarl.compare import compare, format_table
from ilya.metarl.config import CompareConfig


def demo(runs_dir: Path) -> None:
    """A small comparison of all four algorithms on Krazy World (one seed, a short budget), with figures."""
    cfg = CompareConfig(env="krazy", seeds=[0], env_steps=25_000, eval_every=1, test_worlds=32,
                        run="demo-compare-krazy", runs_dir=Path(runs_dir))
    print("Meta-training MAML, E-MAML, RL² and E-RL² on Krazy World for 25k environment steps each "
          "(far below the paper's budget: this shows the pipeline, not final numbers) ...", flush=True)
    result = compare(cfg)
    print(format_table(result))
    print(f"return vs environment steps: {result['figure']}")
    print(f"a test world with pre/post-update visit heat maps: "
          f"{Path(runs_dir) / 'metarl' / (result['runs'][1]) / 'plots' / 'exploration.png'}")
