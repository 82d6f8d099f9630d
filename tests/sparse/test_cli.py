"""The `ilya sparse` commands end to end on tiny models (real set.mm bytes, real Fashion-MNIST)."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from ilya.cli import main
from ilya.core.plotting import png_text
from ilya.core.runs import Run
from ilya.sparse.data import FASHION_MNIST_DIR


@pytest.fixture(autouse=True)
def _one_torch_thread():
    """One intra-op thread: the suite runs under xdist on a shared CPU, where thread pools only contend."""
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


TINY = ["--block-size", "64", "--n-layer", "2", "--n-head", "2", "--n-embd", "32", "--batch-size", "8",
        "--optim.warmup", "5", "--optim.lr", "3e-3", "--eval-interval", "20", "--final-eval-tokens", "4000",
        "--sample-tokens", "40", "--threads", "1"]


def test_train_eval_sample_resume_on_setmm(tmp_path, capsys):
    rd = str(tmp_path)
    assert main(["sparse", "train", "--runs-dir", rd, "--run", "t", "--attn", "fixed", "--stride", "8",
                 "--c", "2", "--max-iters", "40", *TINY]) == 0
    run = Run.load("sparse/t", rd)
    s = run.read_summary()
    assert s["iters"] == 40 and s["attn"] == "fixed" and s["stride"] == 8
    _, valid = run.series("valid/bpb")
    assert valid[-1] < valid[0] < 8.5 and s["valid_bpb"] < 6.5     # it learns (uniform is 8 bits)
    assert (run.path / "sample.txt").stat().st_size == 40
    names = {p.name for p in run.plots()}
    assert {"bpb.png", "attention_patterns.png"} <= names
    assert png_text(run.plots_dir / "bpb.png")["ilya:curves"] == "2"        # train and valid
    from ilya.core.figures import headline_rows

    (row,) = headline_rows("sparse", [run])
    assert row.ours == f"{s['valid_bpb']:.3f} valid" and row.run == "sparse/t" and "bits/byte" in row.claim
    capsys.readouterr()

    assert main(["sparse", "eval", "t", "--runs-dir", rd, "--split", "test", "--max-tokens", "3000",
                 "--json"]) == 0
    res = json.loads(capsys.readouterr().out)
    assert res["tokens"] == 3000 and res["exact"] is False and 0 < res["bits_per_byte"] < 8
    assert res["step"] == 40
    assert main(["sparse", "eval", "t", "--runs-dir", rd, "--split", "test", "--max-tokens", "3000",
                 "--scoring", "sliding", "--min-context", "32", "--dynamic-lr", "1e-3", "--json"]) == 0
    dyn = json.loads(capsys.readouterr().out)
    assert dyn["tokens"] == 3000 and dyn["dynamic"]["lr"] == 1e-3 and dyn["min_context"] == 32
    assert 0 < dyn["bits_per_byte"] < 8 and dyn["cpu_seconds"] > 0
    assert "test_bits_dynamic" in Run.load("sparse/t", rd).read_summary()

    assert main(["sparse", "sample", "t", "--runs-dir", rd, "--length", "30", "--prompt", "|- ( ph ->",
                 "--temperature", "0"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("|- ( ph ->") and len(out.encode()) >= 30

    assert main(["plot", "sparse/t", "--runs-dir", rd]) == 0           # generic curves + our replot hook
    assert "attention_patterns.png" in capsys.readouterr().out

    # resuming with a larger budget continues from step 40 (same config except max_iters is refused)
    assert main(["sparse", "train", "--runs-dir", rd, "--run", "t", "--attn", "fixed", "--stride", "8",
                 "--c", "2", "--max-iters", "40", *TINY]) == 0
    assert Run.load("sparse/t", rd).read_summary()["iters"] == 40
    assert main(["sparse", "train", "--runs-dir", rd, "--run", "t", "--attn", "dense", "--max-iters", "40",
                 *TINY]) == 2
    assert "exists with another config" in capsys.readouterr().err


def test_bad_input_is_one_line_errors(tmp_path, capsys):
    assert main(["sparse", "eval", "nope", "--runs-dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("ilya: error:") and err.count("\n") == 1
    assert main(["sparse", "train", "--runs-dir", str(tmp_path), "--n-embd", "30", "--n-head", "4",
                 "--max-iters", "1"]) == 2
    assert "divisible" in capsys.readouterr().err
    assert main(["sparse", "train", "--runs-dir", str(tmp_path), "--attn", "fixed", "--stride", "4", "--c", "5",
                 "--max-iters", "1"]) == 2
    assert "--c 5" in capsys.readouterr().err
    assert not (tmp_path / "sparse").exists()              # no run folder is left behind by bad flags


@pytest.mark.skipif(not FASHION_MNIST_DIR.is_dir(), reason="Debian dataset-fashion-mnist not installed")
def test_fashion_mnist_training_and_sample_grid(tmp_path, capsys):
    rd = str(tmp_path)
    assert main(["sparse", "train", "--runs-dir", rd, "--run", "img", "--data", "fashion-mnist",
                 "--attn", "strided", "--stride", "28", "--n-layer", "1", "--n-head", "2", "--n-embd", "32",
                 "--batch-size", "4", "--max-iters", "15", "--eval-interval", "5", "--eval-batches", "1",
                 "--final-eval-tokens", "1568", "--threads", "1", "--optim.lr", "5e-3", "--optim.warmup", "2"]) == 0
    run = Run.load("sparse/img", rd)
    s = run.read_summary()
    assert s["block_size"] == 784 and s["model"]["pos_emb"] == "factorized"
    assert s["valid_tokens"] == 1568 and s["valid_bpd"] < 7.5
    assert png_text(run.plots_dir / "samples.png")["ilya:curves"] == "16"
    capsys.readouterr()
    assert main(["sparse", "sample", "img", "--runs-dir", rd, "--n", "2"]) == 0
    assert capsys.readouterr().out.strip().endswith("samples.png")


def test_time_budget_on_the_cpu_clock_stops_training(tmp_path):
    rd = str(tmp_path)
    assert main(["sparse", "train", "--runs-dir", rd, "--run", "b", "--max-iters", "100000", "--time-budget",
                 "1.0", "--clock", "cpu", *TINY]) == 0
    s = Run.load("sparse/b", rd).read_summary()
    assert s["train_seconds"] >= 1.0 and 1 <= s["iters"] < 100000
    assert s["sec_per_iter"] == pytest.approx(s["train_seconds"] / s["iters"], rel=0.01)


def _cells(top, colour) -> set[tuple[int, int]]:
    return {(int(r), int(c)) for r, c in zip(*np.nonzero(np.all(np.isclose(top, colour), axis=-1)), strict=True)}


def test_patterns_figure_draws_the_papers_fig3_cells(tmp_path, capsys):
    from ilya.sparse import plots as P

    panels = P.pattern_panels(6, 2, query=(4, 3))        # output i = 4*6 + 3 = 27 on a 6x6 image
    white = (1.0, 1.0, 1.0)
    # dense: every earlier pixel (rows 0-3, row 4 left of the query), as A1
    top = panels["dense"][0]
    assert _cells(top, P._C_A1) == {(r, c) for r in range(6) for c in range(6) if r * 6 + c < 27}
    # strided l=6: the previous l inputs (A1: j = 21..26) and the query's column above it (A2: j = 3, 9, 15);
    # j = 21 is in both
    top = panels["strided"][0]
    assert _cells(top, P._C_A1) == {(3, 4), (3, 5), (4, 0), (4, 1), (4, 2)}
    assert _cells(top, P._C_BOTH) == {(3, 3)}
    assert _cells(top, P._C_A2) == {(0, 3), (1, 3), (2, 3)}
    assert _cells(top, P._C_Q) == {(4, 3)}
    # fixed l=6, c=2: the query's own block (row 4 up to it) and the last c columns of every earlier block
    top = panels["fixed"][0]
    assert _cells(top, P._C_A1) == {(4, 0), (4, 1), (4, 2)}
    assert _cells(top, P._C_A2) == {(r, c) for r in range(4) for c in (4, 5)}
    assert len(_cells(top, white)) == 36 - 3 - 8 - 1
    # the connectivity panels are causal: nothing drawn above the diagonal
    for _, full in panels.values():
        assert np.all(np.isclose(full[np.triu_indices(36, 1)], white))

    out = tmp_path / "fig3.png"
    assert main(["sparse", "patterns", "--out", str(out), "--l", "6", "--c", "2"]) == 0
    assert capsys.readouterr().out.strip() == str(out)
    assert png_text(out)["ilya:curves"] == "3"


@pytest.mark.slow
def test_demo_runs_on_real_data(tmp_path, capsys):
    from ilya.sparse.demo import demo

    demo(tmp_path)
    run = Run.load("sparse/demo-setmm-strided", tmp_path)
    assert run.read_summary()["valid_bpb"] < 5.0          # uniform is 8 bits per byte
    assert "bits/byte" in capsys.readouterr().out
