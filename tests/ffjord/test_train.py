"""Training end to end: a short 8gaussians run, its density, the CLI commands, the VAE."""

import json
import math

import numpy as np
import pytest

from ilya.cli import main
from ilya.core.plotting import png_text
from ilya.core.runs import Run
from ilya.ffjord.config import FfjordOptim, TrainConfig
from ilya.ffjord.model import load_run_model
from ilya.ffjord.plots import grid_log_density
from ilya.ffjord.train import train

# The best single Gaussian fit to 8gaussians (per-axis variance 2.83^2 / 2 + 0.354^2 = 4.13) has NLL
# log(2 pi e) + log 4.13 = 4.25 nats; the true density's entropy is log 8 + log(2 pi e 0.354^2) = 2.84.
# A flow below 3.6 nats has learned the modes, which no Gaussian (and no unimodal fit) can do.
NLL_BOUND = 3.6


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    runs = tmp_path_factory.mktemp("runs")
    cfg = TrainConfig(data="8gaussians", iters=250, batch_size=256, hidden="32-32", atol=1e-4, rtol=1e-4,
                      optim=FfjordOptim(lr=5e-3), eval_every=100, n_test=2000, run="g8", runs_dir=runs, device="cpu")
    final = train(cfg)
    return runs, final


def test_short_training_beats_any_gaussian(trained):
    runs, final = trained
    assert final["trace"] == "exact"
    assert final["test_nll"] < NLL_BOUND, final
    run = Run.load("ffjord/g8", runs)
    steps, nll = run.series("train/nll")
    assert len(steps) == 250 and np.mean(nll[-20:]) < np.mean(nll[:20]) - 0.5
    for key in ("train/nfe_forward", "train/nfe_backward", "valid/nll", "train/end_time"):
        assert run.series(key)[0], key
    assert run.status() == "finished"


def test_trained_density_integrates_to_one(trained):
    runs, _ = trained
    model, _, _ = load_run_model(Run.load("ffjord/g8", runs))
    logp, cell = grid_log_density(model, lim=6.0, n=120)
    assert abs(np.exp(logp).sum() * cell - 1.0) < 0.02


def test_figures_are_drawn(trained):
    runs, _ = trained
    plots = runs / "ffjord" / "g8" / "plots"
    for name in ("density.png", "flow_over_time.png", "nfe_and_loss.png"):
        assert (plots / name).stat().st_size > 5000, name
    assert png_text(plots / "nfe_and_loss.png")["ilya:curves"] == "4"  # fwd + bwd NFE, train + valid loss


def test_cli_eval_json_and_sample(trained, capsys):
    runs, final = trained
    assert main(["ffjord", "eval", "--run", "g8", "--runs-dir", str(runs), "--json", "--n-test", "500"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["trace"] == "exact" and out["n"] == 500 and out["nfe"] > 0
    assert out["test_nll"] == pytest.approx(final["test_nll"], abs=0.15)
    npy = runs / "s.npy"
    assert main(["ffjord", "sample", "--run", "g8", "--runs-dir", str(runs), "--n", "300", "--out", str(npy)]) == 0
    x = np.load(npy)
    assert x.shape == (300, 2)
    radius = np.linalg.norm(x, axis=1)  # samples sit on the ring of modes (radius 2.83), not at the origin
    assert np.median(radius) > 2.0


def test_resume_continues_from_the_checkpoint(tmp_path):
    import shutil

    kw = dict(data="moons", batch_size=64, hidden="16", atol=1e-3, rtol=1e-3, eval_every=5, n_test=200,
              runs_dir=tmp_path, device="cpu", iters=10)
    whole = train(TrainConfig(run="a", **kw))
    # an interrupted copy of the same run: the checkpoint of step 5 and the metric rows up to it
    a, b = tmp_path / "ffjord" / "a", tmp_path / "ffjord" / "b"
    shutil.copytree(a, b)
    for p in (b / "checkpoints").iterdir():
        if not p.name.endswith("000000005.safetensors"):
            p.unlink()
    rows = (a / "metrics.jsonl").read_text().splitlines()
    (b / "metrics.jsonl").write_text("\n".join(rows[:5]) + "\n")
    (b / "summary.json").unlink()
    resumed = train(TrainConfig(run="b", **kw))
    # steps 6-10 are the same steps with the same values (batches, noise and optimizer state all restored)
    def values(run: str) -> list[dict]:
        return [{k: v for k, v in json.loads(line).items() if k != "wall"}
                for line in (tmp_path / "ffjord" / run / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in values("b")] == list(range(1, 11))
    assert values("b") == values("a")
    assert resumed["test_nll"] == whole["test_nll"] and resumed["end_times"] == whole["end_times"]
    # a changed config is refused rather than resumed
    with pytest.raises(Exception, match="another config"):
        train(TrainConfig(run="a", **{**kw, "iters": 15}))
    assert Run.load("ffjord/a", tmp_path).load_checkpoint()["step"] == 10


def test_bad_input_is_one_line(tmp_path, capsys):
    assert main(["ffjord", "train", "--data", "nope", "--runs-dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("ilya: error:") and "checkerboard" in err and "\n" not in err
    assert main(["ffjord", "train", "--data", "moons", "--hidden", "a-b", "--runs-dir", str(tmp_path)]) == 2
    assert main(["ffjord", "eval", "--run", "missing", "--runs-dir", str(tmp_path)]) == 2


def test_vae_with_ffjord_posterior(tmp_path, capsys):
    code = main(["ffjord", "vae", "--data", "digits", "--iters", "120", "--batch-size", "64", "--d-z", "4",
                 "--hidden", "64", "--flow-hidden", "16", "--atol", "1e-3", "--eval-every", "60",
                 "--n-test", "200", "--run", "v", "--runs-dir", str(tmp_path), "--device", "cpu", "--json"])
    assert code == 0
    out = json.loads(capsys.readouterr().out)
    for post in ("gaussian", "ffjord"):
        assert math.isfinite(out[f"test_neg_elbo_{post}"])
        # 64 binary pixels: an untrained decoder scores ~64 log 2 = 44 nats; training must beat that clearly
        assert out[f"test_neg_elbo_{post}"] < 35
    run = Run.load("ffjord/v", tmp_path)
    _, nfe = run.series("train/nfe_ffjord")
    assert min(nfe) > 0


def test_replot_redraws_the_paper_figures(trained):
    runs, _ = trained
    density = runs / "ffjord" / "g8" / "plots" / "density.png"
    density.unlink()
    assert main(["plot", "ffjord/g8", "--runs-dir", str(runs)]) == 0
    assert density.stat().st_size > 5000


def test_fig2_rows_show_the_learnt_density(trained, tmp_path):
    """The paper's Fig. 2 from our runs: one row per toy set; the model's panels match the data's."""
    from ilya.ffjord.data import sample_toy
    from ilya.ffjord.plots import FIG2_BINS, fig2_panels, paper_fig2

    runs, _ = trained
    run = Run.load("ffjord/g8", runs)
    model, _, _ = load_run_model(run)
    h_data, density, h_model = fig2_panels(model, sample_toy("8gaussians", 50_000, seed=3), n_grid=120,
                                           n_samples=50_000)
    assert h_data.shape == h_model.shape == (FIG2_BINS, FIG2_BINS) and density.shape == (120, 120)
    assert h_model.sum() > 0.95 * 50_000  # the samples land inside the plotted square
    # total-variation distance between data and sample histograms (on 20 x 20 cells): a trained 8-mode
    # fit is close; an untrained flow (a single blob) is at 0.89
    coarse = lambda h: h.reshape(20, 10, 20, 10).sum((1, 3)) / h.sum()  # noqa: E731
    assert 0.5 * np.abs(coarse(h_data) - coarse(h_model)).sum() < 0.35
    (png,) = paper_fig2([run], tmp_path)
    assert png.name == "ffjord_fig2.png" and png.stat().st_size > 20_000


def test_tabular_and_image_runs_go_end_to_end(tmp_path, capsys):
    final = train(TrainConfig(data="synthetic6", iters=30, batch_size=128, hidden="32-32", num_blocks=1,
                              atol=1e-3, eval_every=15, n_test=300, optim=FfjordOptim(lr=5e-3), run="t", runs_dir=tmp_path,
                              device="cpu"))
    nll = Run.load("ffjord/t", tmp_path).series("train/nll")[1]
    assert final["trace"] == "exact" and final["test_nll"] < nll[0] - 0.3, (final, nll[:3])
    img = train(TrainConfig(data="digits", iters=4, batch_size=16, hidden="8", atol=1e-2, eval_every=2,
                            n_test=32, run="i", runs_dir=tmp_path, device="cpu"))
    # bits/dim of the 8x8 digits (17 grey levels): the training curve starts near its first value and the
    # final figure is the mean over the 32 test images, which eval reproduces within Hutchinson noise
    _, bpd = Run.load("ffjord/i", tmp_path).series("train/bpd")
    assert img["trace"] == "hutchinson" and len(bpd) == 4 and img["iters"] == 4
    assert abs(img["test_bpd"] - np.mean(bpd)) < 0.5, (img, bpd)
    assert (tmp_path / "ffjord" / "i" / "plots" / "samples.png").exists()
    assert main(["ffjord", "eval", "--run", "i", "--runs-dir", str(tmp_path), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["trace"] == "hutchinson" and out["n"] == 32
    assert out["test_bpd"] == pytest.approx(img["test_bpd"], abs=0.05)
    assert main(["ffjord", "sample", "--run", "i", "--runs-dir", str(tmp_path), "--n", "8"]) == 0
    assert np.load(tmp_path / "ffjord" / "i" / "samples.npy").shape == (8, 1, 8, 8)


@pytest.mark.slow
def test_demo_learns_the_checkerboard(tmp_path, capsys):
    from ilya.core.figures import headline_rows
    from ilya.ffjord.demo import demo

    demo(tmp_path)
    run = Run.load("ffjord/demo-checkerboard", tmp_path)
    s = run.read_summary()
    # the best Gaussian fit of the checkerboard has NLL 4.51 nats, the true density's entropy is log 32 = 3.466
    assert s["trace"] == "exact" and 3.466 - 0.05 < s["test_nll"] < 4.2
    assert f"test NLL {s['test_nll']:.3f}" in capsys.readouterr().out
    for name in ("density.png", "flow_over_time.png", "nfe_and_loss.png"):
        assert (run.plots_dir / name).stat().st_size > 5000
    (row,) = headline_rows("ffjord", [run])
    assert row.ours == f"{s['test_nll']:.3f}" and row.claim == "test NLL (nats), checkerboard"
