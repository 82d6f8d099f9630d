"""The `ilya metarl` commands end to end on tiny budgets: runs, JSON, figures, resume, bad input."""

import json

import numpy as np
import pytest

from ilya.cli import main
from ilya.core.plotting import png_text
from ilya.core.runs import Run

TINY = ["--env-steps", "1500", "--train-worlds", "4", "--test-worlds", "4", "--meta-batch", "4",
        "--episodes-per-task", "2", "--eval-episodes", "2", "--trials", "8", "--eval-every", "1",
        "--krazy.size", "6", "--krazy.horizon", "10", "--hidden", "16", "--eval-adapts", "3", "--eval-trials", "4",
        "--floor-episodes", "16", "--quiet"]


@pytest.mark.parametrize("algo", ["emaml", "erl2"])
def test_train_eval_and_resume(tmp_path, capsys, algo):
    args = ["metarl", "train", "--algo", algo, "--run", "t", "--runs-dir", str(tmp_path), *TINY]
    assert main(args) == 0
    run = Run.load("metarl/t", tmp_path)
    summary = run.read_summary()
    assert 1000 < summary["env_steps"] <= 1600 and summary["test_worlds"] == 4  # stops within the budget
    steps, values = run.series("test/return")
    assert steps[0] == 0 and steps[-1] == summary["env_steps"] and len(values) >= 2
    assert png_text(run.plots_dir / "learning_curve.png")["ilya:curves"] == "2"  # return + random floor
    assert (run.plots_dir / "exploration.png").is_file()
    capsys.readouterr()
    assert main(["metarl", "eval", "t", "--runs-dir", str(tmp_path), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["algo"] == algo and out["test_worlds"] == 4 and out["env_steps"] == summary["env_steps"]
    # the random floor is the one training measured (same worlds, same seed); the test return is the mean
    # over the 4 held-out worlds and the same --seed gives the same figure
    assert out["random_return"] == pytest.approx(summary["random_return"], abs=1e-12)
    assert out["random_return_se"] == pytest.approx(summary["random_return_se"], abs=1e-12)
    # by default eval uses the run's evaluation seed: it reproduces the summary (and the curve's last point)
    assert out["test_return"] == pytest.approx(summary["test_return"], abs=1e-12) == values[-1]
    assert out["eval_seed"] == summary["eval_seed"]
    assert main(["metarl", "eval", "t", "--runs-dir", str(tmp_path), "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == out
    assert main(["metarl", "eval", "t", "--runs-dir", str(tmp_path), "--json", "--test-worlds", "6"]) == 0
    six = json.loads(capsys.readouterr().out)
    assert six["test_worlds"] == 6 and six["random_return"] != out["random_return"]
    if algo == "erl2":  # --trials: RL²'s trials per test world (the run's --eval-trials 4 by default)
        assert main(["metarl", "eval", "t", "--runs-dir", str(tmp_path), "--json", "--trials", "12"]) == 0
        twelve = json.loads(capsys.readouterr().out)
        assert twelve["test_return"] != out["test_return"] and twelve["random_return"] == out["random_return"]
        assert main(["metarl", "eval", "t", "--runs-dir", str(tmp_path), "--trials", "0"]) == 2
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
    # the table is the mean and sample standard deviation over seeds of the training runs' test returns
    for algo, row in out["algos"].items():
        per_seed = [Run.load(f"metarl/compare-krazy-{algo}-s{s}", tmp_path).read_summary()["test_return"]
                    for s in (0, 1)]
        assert row["per_seed"] == [round(x, 4) for x in per_seed]
        assert row["test_return"]["mean"] == pytest.approx(np.mean(per_seed))
        assert row["test_return"]["std"] == pytest.approx(np.std(per_seed, ddof=1))
        assert row["test_return"]["se"] == pytest.approx(np.std(per_seed, ddof=1) / np.sqrt(2))
        # and whether it is clearly above random is decided on these seeds against the table's floor
        vs = row["versus_random"]
        assert vs["ci95"][0] <= row["test_return"]["mean"] <= vs["ci95"][1]
        assert vs["above"] == (vs["ci95"][0] > vs["floor_ci95"][1])
        assert np.mean(vs["floor_ci95"]) == pytest.approx(out["random_return"])
    assert png_text(out["figure"])["ilya:curves"] == "2"
    # `ilya plot` redraws the comparison figure (the registered compare_return run figure)
    assert main(["plot", "metarl/compare-krazy", "--runs-dir", str(tmp_path)]) == 0
    assert "compare_return.png" in capsys.readouterr().out
    from ilya.core.figures import headline_rows

    rows = headline_rows("metarl", [Run.load("metarl/compare-krazy", tmp_path)])
    assert [r.claim.split()[0] for r in rows] == ["MAML", "RL²"] and "human ≈ 2.7" in rows[0].paper


def test_world_picture(tmp_path, capsys):
    out = tmp_path / "w.png"
    assert main(["metarl", "world", "--task-seeds", "0", "1", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert png_text(out)["ilya:curves"] == "0"
    # the printed boards are the worlds' boards, tile by tile, with their action maps
    from ilya.metarl.envs import KrazyConfig, make_task

    chars = ".G~X#LKTE"
    for seed in (0, 1):
        task = make_task(seed, KrazyConfig())
        header = f"world {seed} (action map {task.action_perm.tolist()}, agent at {task.start.tolist()}):"
        lines = text.splitlines()
        i = lines.index(header)
        assert lines[i + 1:i + 11] == ["  " + " ".join(chars[t] for t in row) for row in task.board]
    assert text.splitlines()[-2].startswith("legend: .=normal, G=goal")


@pytest.mark.parametrize("bad", [["--n-explore", "5"], ["--krazy.size", "2"], ["--env-steps", "0"],
                                 ["--algo", "dqn"]])
def test_bad_input_is_one_line_error(tmp_path, capsys, bad):
    assert main(["metarl", "train", "--runs-dir", str(tmp_path), *bad]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("ilya: error:")


def test_eval_unknown_run(tmp_path, capsys):
    assert main(["metarl", "eval", "nope", "--runs-dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("ilya: error: unknown run 'nope'")
    # a run folder that is not a metarl training run (a comparison) is refused by name
    (tmp_path / "metarl" / "c").mkdir(parents=True)
    (tmp_path / "metarl" / "c" / "config.json").write_text('{"algos": ["maml"], "env": "krazy"}')
    assert main(["metarl", "eval", "metarl/c", "--runs-dir", str(tmp_path)]) == 2
    assert "is not a metarl training run" in capsys.readouterr().err


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
