"""``ilya ffjord train|eval|sample|vae``: FFJORD's experiments from the command line.

Heavy imports (torch, torchdiffeq) happen inside the command functions so ``ilya --help`` stays fast.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from ilya.core.errors import IlyaError

SYSTEM = "ffjord"


def _train_config():
    from ilya.ffjord.train import TrainConfig

    return TrainConfig


def _vae_config():
    from ilya.ffjord.train import VAEConfig

    return VAEConfig


def train_command(cfg) -> dict[str, Any] | None:
    from ilya.ffjord.train import train

    final = train(cfg)
    unit = "bpd" if "test_bpd" in final else "nll"
    print(f"ffjord {final['data']}: test {unit} {final[f'test_{unit}']:.4f} ({final['trace']} trace), "
          f"mean test NFE {final['test_nfe']:.0f}, {final['s_per_iter']:.3f} s/iter")
    return None


@dataclass
class EvalConfig:
    """Evaluate a trained run on its test set: NLL in nats (bits/dim for images) and mean NFE."""

    run: str
    """the run to evaluate: its name under runs/ffjord/, system/name, or its folder"""
    exact: bool | None = None
    """exact trace (default: yes up to 64 dims, Hutchinson above)"""
    atol: float | None = None
    """solver tolerance for evaluation, absolute and relative (default: the run's)"""
    n_test: int | None = None
    """test examples (default: the run's --n-test)"""
    batch_size: int = 1000
    """examples per evaluation batch"""
    device: Literal["auto", "cpu", "cuda"] = "auto"
    """auto, cpu or cuda"""
    runs_dir: Path = Path("runs")
    """folder that holds runs/<system>/<name>/"""
    json: bool = False
    """print one JSON object"""


def eval_command(cfg: EvalConfig) -> dict[str, Any]:
    from ilya.core.device import resolve_device
    from ilya.core.runs import Run
    from ilya.ffjord.train import evaluate, load_run_model

    run = Run.load(cfg.run, cfg.runs_dir, system=SYSTEM)
    if "posterior" in run.config:
        summary = run.read_summary()
        if not cfg.json:
            print(summary)
        return summary
    device = resolve_device(cfg.device)
    model, tcfg, data = load_run_model(run, device)
    x = data.test if cfg.n_test is None else data.test[: cfg.n_test]
    exact = cfg.exact if cfg.exact is not None else (data.n_dims <= 64 and data.kind != "image")
    t0 = time.time()
    res = evaluate(model, data, x, device, exact=exact, batch_size=cfg.batch_size, atol=cfg.atol, rtol=cfg.atol)
    unit = "bpd" if data.kind == "image" else "nll"
    out = {"run": f"{run.system}/{run.name}", "data": tcfg.data, f"test_{unit}": res[unit],
           "nfe": res["nfe"], "trace": "exact" if exact else "hutchinson", "n": int(len(x)),
           "seconds": round(time.time() - t0, 2)}
    if not cfg.json:
        print(f"{out['run']} ({tcfg.data}): test {unit} {res[unit]:.4f} over {len(x)} examples, "
              f"{out['trace']} trace, mean NFE {res['nfe']:.1f}")
    return out


@dataclass
class SampleConfig:
    """Draw samples from a trained run: a .npy file and a figure (density panel for 2D, grid for images)."""

    run: str
    """the run to sample from: its name under runs/ffjord/, system/name, or its folder"""
    n: int = 64
    """number of samples"""
    out: Path | None = None
    """where to write the .npy (default: <run>/samples.npy; the figure goes next to it as .png)"""
    seed: int = 0
    """sampling seed"""
    device: Literal["auto", "cpu", "cuda"] = "auto"
    """auto, cpu or cuda"""
    runs_dir: Path = Path("runs")
    """folder that holds runs/<system>/<name>/"""


def sample_command(cfg: SampleConfig) -> None:
    import numpy as np
    import torch

    from ilya.core.device import resolve_device
    from ilya.core.plotting import new_figure, save_figure
    from ilya.core.runs import Run
    from ilya.ffjord.plots import image_grid_figure
    from ilya.ffjord.train import load_run_model

    if cfg.n <= 0:
        raise IlyaError("--n must be positive")
    run = Run.load(cfg.run, cfg.runs_dir, system=SYSTEM)
    if "posterior" in run.config:
        raise IlyaError(f"run {run.name} is a VAE run; sample works on density runs", file=run.path)
    device = resolve_device(cfg.device)
    model, _, data = load_run_model(run, device)
    model.eval()
    torch.manual_seed(cfg.seed)
    if data.kind == "image":
        x = model.sample(cfg.n, device=device).cpu().numpy()
    else:
        x = model.sample(cfg.n, data.shape, device=device).cpu().numpy()
    out = cfg.out or run.path / "samples.npy"
    out.parent.mkdir(parents=True, exist_ok=True)
    np.save(out, x)
    png = out.with_suffix(".png")
    if data.kind == "image":
        image_grid_figure(x, png, title="samples")
    else:
        fig, ax = new_figure()
        ax.scatter(x[:, 0], x[:, 1], s=2, alpha=0.5)
        ax.set_title(f"{cfg.n} samples" + ("" if x.shape[1] == 2 else " (first two dims)"))
        save_figure(fig, png, curves=0)
    print(f"{cfg.n} samples -> {out} and {png}")


def vae_command(cfg) -> dict[str, Any]:
    from ilya.ffjord.train import train_vae

    final = train_vae(cfg)
    if not cfg.json:
        for k, v in final.items():
            print(f"{k}: {v:.4f}" if isinstance(v, float) else f"{k}: {v}")
    return final


def _commands() -> dict[str, tuple[type, Any]]:
    return {"train": (_train_config(), train_command), "eval": (EvalConfig, eval_command),
            "sample": (SampleConfig, sample_command), "vae": (_vae_config(), vae_command)}


def __getattr__(name: str) -> Any:  # COMMANDS is built lazily (PEP 562)
    if name == "COMMANDS":
        return _commands()
    raise AttributeError(name)


def demo(runs_dir: Path) -> None:
    """A short FFJORD training on the 2D checkerboard, with the paper's Fig. 2 (data / density / samples)."""
    from ilya.ffjord.train import TrainConfig, train

    print("Training a CNF on the checkerboard: 400 iterations, dopri5 at atol = rtol = 1e-4, Hutchinson trace, "
          "Adam 5e-3 (a faster recipe than the 1500-iteration, 1e-5 default of `ilya ffjord train`)...", flush=True)
    cfg = TrainConfig(data="checkerboard", iters=400, lr=5e-3, atol=1e-4, rtol=1e-4, run="demo-checkerboard",
                      fresh=True, runs_dir=runs_dir, eval_every=200, n_test=2000, device="cpu")
    final = train(cfg)
    plots = runs_dir / SYSTEM / "demo-checkerboard" / "plots"
    print(f"test NLL {final['test_nll']:.3f} nats (exact trace; the true density's entropy is log 32 = 3.466, "
          f"the best Gaussian fit 4.51), mean NFE {final['test_nfe']:.0f}")
    print(f"figures: {plots / 'density.png'} (data | learned density | samples), "
          f"{plots / 'flow_over_time.png'}, {plots / 'nfe_and_loss.png'}")


def replot(run) -> list[Path]:
    """Redraw the paper figures of a density run from its latest checkpoint."""
    if "posterior" in run.config or not run.checkpoints():
        return []
    from ilya.ffjord.plots import draw_all
    from ilya.ffjord.train import load_run_model

    model, cfg, data = load_run_model(run)
    return draw_all(run, model, data, cfg)
