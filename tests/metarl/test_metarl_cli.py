"""The `ilya metarl` commands end to end on tiny budgets: runs, JSON, figures, resume, bad input."""

import json

import pytest

from ilya.cli import main
from ilya.core.plotting import png_text
from ilya.core.runs import Run

TINY = ["--env-steps", "1500", "--train-worlds", "4", "--test-worlds", "4", "--meta-batch", "4",
        "--episodes-per-task", "2", "--eval-episodes", "2", "--trials", "8", "--eval-every", "1",
        "--krazy.size", "6", "--krazy.horizon", "10", "--hidden", "16", "--quiet"]


@pytest.mark.parametrize("algo", ["emaml", "erl2"])
def test_train_eval_and_resume(tmp_path, capsys, algo):
    args = ["metarl", "train", "--algo", algo, "--run", "t", "--runs-dir", str(tmp_path), *TINY]
    assert main(args) == 0
    run = Run.load("metarl/t", tmp_path)
    summary = run.read_summary()
    assert summary["env_steps"] >= 1500 and summary["test_worlds"] == 4
    steps, values = run.series("test/return")
    assert steps[0] == 0 and steps[-1] >= 1500 and len(values) >= 2
    assert png_text(run.plots_dir / "learning_curve.png")["ilya:curves"] == "2"  # return + random floor
    assert (run.plots_dir / "exploration.png").is_file()
    capsys.readouterr()
    assert main(["metarl", "eval", "t", "--runs-dir", str(tmp_path), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["algo"] == algo and out["test_worlds"] == 4 and "test_return_se" in out
    assert -2.0 <= out["test_return"] <= 3.0
    # resuming a finished run trains no further
    n_ckpt = len(run.checkpoints())
    assert main(args) == 0
    assert Run.load("metarl/t", tmp_path).series("test/return")[0][-1] == steps[-1]
    assert len(run.checkpoints()) == n_ckpt


def test_compare_draws_one_curve_per_algorithm(tmp_path, capsys):
    args = ["metarl", "compare", "--algos", "maml", "rl2", "--seeds", "0", "1", "--jobs", "1", "--json",
            "--runs-dir", str(tmp_path), "--env-steps", "800", "--train-worlds", "4", "--test-worlds", "4",
            "--krazy.size", "6", "--krazy.horizon", "8", "--eval-every", "1"]
    assert main(args) == 0
    out = json.loads(capsys.readouterr().out)
    assert set(out["algos"]) == {"maml", "rl2"} and len(out["runs"]) == 4
    assert out["algos"]["rl2"]["seeds"] == [0, 1]
    assert png_text(out["figure"])["ilya:curves"] == "2"
    # `ilya plot` redraws the comparison figure through the replot hook
    assert main(["plot", "metarl/compare-krazy", "--runs-dir", str(tmp_path)]) == 0
    assert "compare_return.png" in capsys.readouterr().out


def test_world_picture(tmp_path, capsys):
    out = tmp_path / "w.png"
    assert main(["metarl", "world", "--task-seeds", "0", "1", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "legend" in text and out.is_file()


@pytest.mark.parametrize("bad", [["--n-explore", "5"], ["--krazy.size", "2"], ["--env-steps", "0"],
                                 ["--algo", "dqn"]])
def test_bad_input_is_one_line_error(tmp_path, capsys, bad):
    assert main(["metarl", "train", "--runs-dir", str(tmp_path), *bad]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("ilya: error:")


def test_eval_unknown_run(tmp_path, capsys):
    assert main(["metarl", "eval", "nope", "--runs-dir", str(tmp_path)]) == 2


@pytest.mark.parametrize("algo", ["maml", "rl2"])
def test_training_is_deterministic_per_seed(tmp_path, algo):
    from ilya.metarl.config import TrainConfig
    from ilya.metarl.envs import KrazyConfig
    from ilya.metarl.train import train

    def run(name: str, seed: int) -> tuple[list[float], list[float]]:
        cfg = TrainConfig(algo=algo, seed=seed, run=name, runs_dir=tmp_path, env_steps=600, train_worlds=3,
                          test_worlds=3, meta_batch=3, episodes_per_task=2, eval_episodes=2, trials=6,
                          eval_every=1, krazy=KrazyConfig(size=5, horizon=8), hidden=8, quiet=True)
        train(cfg)
        r = Run.load(f"metarl/{name}", tmp_path)
        return r.series("test/return")[1], r.series("train/approx_kl")[1]  # the KL is a continuous value

    a, b, c = run("a", 0), run("b", 0), run("c", 1)
    assert a == b and a != c
