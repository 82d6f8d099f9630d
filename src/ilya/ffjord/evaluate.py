"""``ilya ffjord eval`` and ``ilya ffjord sample``: test NLL of a trained run, and samples from it."""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import torch

from ilya.core.device import resolve_device
from ilya.core.errors import IlyaError
from ilya.core.plotting import new_figure, save_figure
from ilya.core.runs import Run
from ilya.ffjord.config import EvalConfig, SampleConfig
from ilya.ffjord.model import SYSTEM, evaluate, load_run_model
from ilya.ffjord.multiscale import MultiscaleCNF
from ilya.ffjord.plots import image_grid_figure, is_vae_run


def eval_command(cfg: EvalConfig) -> dict[str, Any]:
    """Test NLL (nats; bits/dim for images) and mean NFE of a density run; a VAE run's summary."""
    run = Run.load(cfg.run, cfg.runs_dir, system=SYSTEM)
    if is_vae_run(run):
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


def sample_command(cfg: SampleConfig) -> None:
    """Samples into a .npy and a figure next to it."""
    if cfg.n <= 0:
        raise IlyaError("--n must be positive")
    run = Run.load(cfg.run, cfg.runs_dir, system=SYSTEM)
    if is_vae_run(run):
        raise IlyaError(f"run {run.name} is a VAE run; sample works on density runs", file=run.path)
    device = resolve_device(cfg.device)
    model, _, data = load_run_model(run, device)
    model.eval()
    torch.manual_seed(cfg.seed)
    if isinstance(model, MultiscaleCNF):
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
