"""Real (short) trainings: run by `pytest -m slow` and the benchmark scripts, not by default."""

from pathlib import Path

import pytest

from ilya.metarl.config import TrainConfig
from ilya.metarl.envs import KrazyConfig
from ilya.metarl.train import train

pytestmark = pytest.mark.slow
BANDIT_STEPS = 1_000_000  # about 70 s per run on one core


def test_emaml_beats_the_random_floor_on_krazy_world(tmp_path: Path):
    s = train(TrainConfig(algo="emaml", env_steps=60_000, runs_dir=tmp_path, run="em", quiet=True))
    assert s["test_return"] > s["random_return"] + 2 * s["test_return_se"]
    assert s["test_return"] > s["test_before"]  # the inner update helps on held-out worlds


def test_erl2_learns_to_explore_then_exploit(tmp_path: Path):
    easy = KrazyConfig(size=5, horizon=15, randomize_actions=False, randomize_palette=False,
                       shuffle_features=False, death=0.0, energy=0, ice=0.0, locks=0.0, teleporters=False)
    s = train(TrainConfig(algo="erl2", env_steps=80_000, krazy=easy, runs_dir=tmp_path, run="er", quiet=True))
    assert s["test_return"] > s["random_return"] + 0.2
    # later episodes of a trial are better than the first: the memory carries what was found
    eps = s["test_episode_returns"]
    assert eps[-1] > eps[0]


def test_demo_runs(tmp_path: Path, capsys):
    from ilya.core.plotting import png_text
    from ilya.core.runs import Run
    from ilya.metarl.demo import demo

    demo(tmp_path)
    out = capsys.readouterr().out
    compare = Run.load("metarl/demo-compare-krazy", tmp_path)
    s = compare.read_summary()
    assert sorted(s["algos"]) == ["emaml", "erl2", "maml", "rl2"]
    assert png_text(compare.plots_dir / "compare_return.png")["ilya:curves"] == "4"
    for algo, row in s["algos"].items():
        child = Run.load(f"metarl/demo-compare-krazy-{algo}-s0", tmp_path).read_summary()
        assert child["env_steps"] <= 27_000 and row["per_seed"] == [round(child["test_return"], 4)]
        assert f"{row['test_return']['mean']:+.3f}" in out            # the printed table holds the figures
    assert f"random    {s['random_return']:+.3f}" in out


@pytest.mark.parametrize("algo", ["rl2", "erl2"])
def test_rl2_on_the_bandit_beats_random_and_nears_thompson(tmp_path: Path, algo: str):
    """The RL² paper's sanity check: 5 Bernoulli arms redrawn per trial, 20 pulls, scored on pulls 4-20."""
    s = train(TrainConfig(algo=algo, env="bandit", n_episodes=20, n_explore=3, trials=128, eval_every=50,
                          train_worlds=100_000, env_steps=BANDIT_STEPS, runs_dir=tmp_path, run=algo, quiet=True))
    assert s["test_return"] > s["random_return"] + 0.05 + 3 * s["test_return_se"]
    assert s["test_return"] > s["thompson_return"] - 0.05
