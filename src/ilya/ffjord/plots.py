"""The figures a reader of the FFJORD paper recognises.

- ``density.png``: data / learned density / samples side by side (paper Fig. 2), and the paper figure
  ``ffjord_fig2.png``: one such row per 2D toy set, from the best run of each;
- ``flow_over_time.png``: base samples carried from t = T back to the data at t = 0 (paper Fig. 3 style);
- ``nfe_and_loss.png``: forward and backward NFE and the loss over training (paper Fig. 6-7 style);
- ``samples.png``: an image grid of samples (paper Fig. 4 style).

All are registered with `ilya.core.figures` (run figures drawn at the end of training and by `ilya plot`,
the headline rows of the report: test NLL / bits/dim / -ELBO beside the paper's Table 2 and §5.3).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from ilya.core.figures import HeadlineRow, headline, paper_figure, run_figure
from ilya.core.plotting import new_figure, save_figure
from ilya.core.runs import Run
from ilya.ffjord.cnf import SequentialFlow
from ilya.ffjord.config import TOY_NAMES, TrainConfig
from ilya.ffjord.data import sample_toy
from ilya.ffjord.model import Data, Flow, load_run_model

LIM = 4.0
# FFJORD's Table 2 (test NLL in nats; images in bits/dim) and §5.3 (VAE -ELBO on MNIST, nats)
PAPER_NLL = {"power": -0.46, "gas": -8.59, "hepmass": 14.92, "miniboone": 10.43, "bsds300": -157.40}
PAPER_BPD = {"mnist": 0.99, "cifar10": 3.40}
PAPER_VAE_MNIST = (86.55, 82.82)  # no flow, FFJORD posterior


def grid_log_density(model: SequentialFlow, lim: float = LIM, n: int = 100, batch: int = 2500) -> tuple[np.ndarray, float]:
    """log p on an n x n grid over [-lim, lim]^2 with the exact trace, and the cell area."""
    xs = np.linspace(-lim, lim, n, dtype=np.float32)
    xx, yy = np.meshgrid(xs, xs)
    pts = torch.from_numpy(np.stack([xx.ravel(), yy.ravel()], 1))
    old = [(f, f.divergence) for f in model.odefuncs()]
    model.set_divergence("exact")
    out = []
    try:
        with torch.no_grad():
            for i in range(0, len(pts), batch):
                out.append(model.log_prob(pts[i:i + batch]).cpu().numpy())
    finally:
        for f, d in old:
            f.divergence = d
    step = xs[1] - xs[0]
    return np.concatenate(out).reshape(n, n), float(step * step)


FIG2_GRID = 300  # density evaluated on a 300 x 300 grid (90,000 points, exact trace)
FIG2_SAMPLES = 200_000  # data and model samples histogrammed in 200 x 200 bins
FIG2_BINS = 200


def fig2_panels(model: SequentialFlow, data: np.ndarray, n_grid: int = FIG2_GRID,
                n_samples: int = FIG2_SAMPLES) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The three panels of the paper's Fig. 2 as images: data histogram, exp(log p) on a grid, sample histogram."""
    logp, _ = grid_log_density(model, n=n_grid)
    samples = np.concatenate([model.sample(min(50_000, n_samples - i), (2,)).cpu().numpy()
                              for i in range(0, n_samples, 50_000)])
    bins = np.linspace(-LIM, LIM, FIG2_BINS + 1)
    h_data = np.histogram2d(data[:, 1], data[:, 0], bins=[bins, bins])[0]  # rows are y, as imshow draws them
    h_model = np.histogram2d(samples[:, 1], samples[:, 0], bins=[bins, bins])[0]
    return h_data, np.exp(logp), h_model


def _show(ax, img: np.ndarray, title: str = "") -> None:
    ax.imshow(img, origin="lower", extent=(-LIM, LIM, -LIM, LIM), cmap="viridis", interpolation="nearest",
              vmin=0.0, vmax=float(np.quantile(img, 0.999)) or None)
    ax.set_xticks([])
    ax.set_yticks([])
    ax.grid(False)
    ax.set_aspect("equal")
    for side in ax.spines.values():
        side.set_visible(False)
    if title:
        ax.set_title(title)


def density_figure(model: SequentialFlow, data: np.ndarray, path: Path, title: str = "",
                   n_grid: int = FIG2_GRID, n_samples: int = FIG2_SAMPLES) -> Path:
    """Paper Fig. 2 for one data set: histogram of the data, exp(log p) on a grid, histogram of model samples."""
    panels = fig2_panels(model, data, n_grid, n_samples)
    fig, axes = new_figure(1, 3, figsize=(10.5, 3.6))
    for ax, img, name in zip(axes, panels, ("data", "FFJORD density", "FFJORD samples"), strict=True):
        _show(ax, img, name)
    if title:
        fig.suptitle(title)
    return save_figure(fig, path, curves=0)


def flow_over_time_figure(model: SequentialFlow, path: Path, n: int = 3000, n_times: int = 5) -> Path:
    """Base samples pushed backwards through each block, shown at evenly spaced times."""
    z = torch.randn(n, 2)
    snaps: list[tuple[str, np.ndarray]] = [("base z ~ N(0, I)", z.numpy())]
    with torch.no_grad():
        for k, block in reversed(list(enumerate(model.cnf_blocks))):
            T = float(block.end_time)
            times = torch.linspace(T, 0.0, n_times)
            traj, _ = block(z, reverse=False, times=times)  # integrate from T down to 0
            for j in range(1, n_times):
                snaps.append((f"block {k + 1}, t = {float(times[j]):.2f}", traj[j].numpy()))
            z = traj[-1]
    fig, axes = new_figure(1, len(snaps), figsize=(2.4 * len(snaps), 2.6))
    for ax, (label, pts) in zip(np.atleast_1d(axes), snaps, strict=True):
        ax.scatter(pts[:, 0], pts[:, 1], s=1, alpha=0.4)
        ax.set_xlim(-LIM, LIM)
        ax.set_ylim(-LIM, LIM)
        ax.set_title(label, fontsize=8)
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_aspect("equal")
    return save_figure(fig, path, curves=0)


def nfe_figure(run: Run, path: Path) -> Path | None:
    """Forward / backward NFE and the training loss over iterations (the paper's NFE curves)."""
    unit = "bpd" if run.series("train/bpd")[0] else "nll"
    s_loss, loss = run.series(f"train/{unit}")
    if not s_loss:
        return None
    fig, (a, b) = new_figure(1, 2, figsize=(10, 3.6))
    for key, label in (("train/nfe_forward", "forward"), ("train/nfe_backward", "backward")):
        s, v = run.series(key)
        a.plot(s, v, label=label)
    a.set_xlabel("iteration")
    a.set_ylabel("NFE per iteration")
    a.set_title("function evaluations")
    a.legend()
    b.plot(s_loss, loss, label="train")
    sv, vv = run.series(f"valid/{unit}")
    if sv:
        b.plot(sv, vv, "--", marker="o", label="valid")
    b.set_xlabel("iteration")
    b.set_ylabel("bits/dim" if unit == "bpd" else "NLL (nats)")
    b.set_title("loss")
    b.legend()
    return save_figure(fig, path)


def image_grid_figure(images: np.ndarray, path: Path, title: str = "", ncols: int = 8) -> Path:
    """Images in [0, 1], (N, C, H, W), as one grid."""
    n, c, h, w = images.shape
    nrows = int(np.ceil(n / ncols))
    grid = np.ones((nrows * (h + 1) + 1, ncols * (w + 1) + 1, c), dtype=np.float32)
    for i in range(n):
        r, q = divmod(i, ncols)
        grid[1 + r * (h + 1): 1 + r * (h + 1) + h, 1 + q * (w + 1): 1 + q * (w + 1) + w] = images[i].transpose(1, 2, 0)
    fig, ax = new_figure(figsize=(ncols * 0.8, nrows * 0.8))
    ax.imshow(grid[..., 0] if c == 1 else grid, cmap="gray" if c == 1 else None, vmin=0, vmax=1)
    ax.axis("off")
    if title:
        ax.set_title(title)
    return save_figure(fig, path, curves=0)


def draw_all(run: Run, model: Flow, data: Data, cfg: TrainConfig) -> list[Path]:
    """The paper figures of a density run from ``model`` (density and flow for 2D, sample grids for images)."""
    model.eval()
    out: list[Path] = []
    torch.manual_seed(0)
    if isinstance(model, SequentialFlow):
        if data.kind == "toy":
            pts = sample_toy(cfg.data, FIG2_SAMPLES, seed=3)
            out.append(density_figure(model, pts, run.plots_dir / "density.png", title=cfg.data))
            out.append(flow_over_time_figure(model, run.plots_dir / "flow_over_time.png"))
    else:
        samples = model.sample(32).cpu().numpy()
        out.append(image_grid_figure(samples, run.plots_dir / "samples.png", title=f"{cfg.data} samples"))
        real = (data.test[:32].astype(np.float32) + 0.5) / data.n_bins
        out.append(image_grid_figure(real, run.plots_dir / "data.png", title=f"{cfg.data} data"))
    model.train()
    return out


def is_vae_run(run: Run) -> bool:
    """A VAE run (its config is a `VAEConfig`: it names the posterior)."""
    return "posterior" in run.config


# ----------------------------------------------------------------------------- registered figures
@run_figure("ffjord", "density")
def run_density(run: Run) -> list[Path]:
    """Fig. 2 (data | density | samples) and the flow over time for 2D runs, sample grids for image runs."""
    if is_vae_run(run) or not run.checkpoints():
        return []
    model, cfg, data = load_run_model(run)
    return draw_all(run, model, data, cfg)


@run_figure("ffjord", "nfe_and_loss")
def run_nfe(run: Run) -> list[Path]:
    """Forward/backward NFE and the loss over training (density runs)."""
    if is_vae_run(run):
        return []
    p = nfe_figure(run, run.plots_dir / "nfe_and_loss.png")
    return [p] if p is not None else []


@paper_figure("ffjord", "fig2", title="Fig. 2: data, FFJORD density and FFJORD samples for each 2D toy set")
def paper_fig2(runs: list[Run], out_dir: Path) -> list[Path]:
    """One row per 2D toy set with a finished run (the run with the lowest test NLL): data | density | samples."""
    best: dict[str, tuple[float, Run]] = {}
    for run in runs:
        s, data = run.read_summary(), str(run.config.get("data", ""))
        if is_vae_run(run) or data not in TOY_NAMES or "test_nll" not in s or not run.checkpoints():
            continue
        if data not in best or float(s["test_nll"]) < best[data][0]:
            best[data] = (float(s["test_nll"]), run)
    if not best:
        return []
    names = [n for n in TOY_NAMES if n in best]
    fig, axes = new_figure(len(names), 3, figsize=(9.0, 3.0 * len(names)), squeeze=False)
    for i, name in enumerate(names):
        row, (nll, run) = axes[i], best[name]
        model, _, _ = load_run_model(run)
        assert isinstance(model, SequentialFlow)  # a 2D toy run
        model.eval()
        torch.manual_seed(0)
        panels = fig2_panels(model, sample_toy(name, FIG2_SAMPLES, seed=3))
        for j, (ax, img) in enumerate(zip(row, panels, strict=True)):
            _show(ax, img, ("data", "FFJORD density", "FFJORD samples")[j] if i == 0 else "")
        row[0].set_ylabel(f"{name}\n{nll:.3f} nats ({run.name})", fontsize=9)
    return [save_figure(fig, out_dir / "ffjord_fig2.png", curves=0)]


@headline("ffjord")
def headline_rows(runs: list[Run]) -> list[HeadlineRow]:
    """Per finished run: test NLL (nats), bits/dim or -ELBO beside the paper's figure for that data set."""
    rows: list[HeadlineRow] = []
    for run in runs:
        s = run.read_summary()
        data = str(run.config.get("data", ""))
        ref = f"ffjord/{run.name}"
        if is_vae_run(run):
            for post in ("gaussian", "ffjord"):
                if f"test_neg_elbo_{post}" in s:
                    paper = PAPER_VAE_MNIST[post == "ffjord"]
                    rows.append(HeadlineRow(
                        claim=f"VAE -ELBO (nats), {post} posterior, binarised {data}",
                        paper=f"{paper} (MNIST)" if data == "mnist" else f"{paper} on MNIST (not this data set)",
                        ours=f"{s[f'test_neg_elbo_{post}']:.2f}", protocol=f"{run.config.get('n_test')} test images",
                        budget=f"{s.get('iters')} iterations", run=ref,
                        command=f"ilya ffjord vae --data {data} --run {run.name}"))
            continue
        for unit, paper_table, name in (("nll", PAPER_NLL, "test NLL (nats)"), ("bpd", PAPER_BPD, "test bits/dim")):
            if f"test_{unit}" not in s:
                continue
            paper = paper_table.get(data)
            rows.append(HeadlineRow(
                claim=f"{name}, {data}", paper="" if paper is None else f"{paper}",
                ours=f"{s[f'test_{unit}']:.3f}",
                protocol=f"{s.get('trace')} trace, mean test NFE {s.get('test_nfe', 0):.0f}",
                budget=f"{s.get('iters')} iterations, {s.get('s_per_iter', 0):.3f} s/iter", run=ref,
                command=f"ilya ffjord train --data {data} --run {run.name}"))
    return rows
