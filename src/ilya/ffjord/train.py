"""Training loops for density estimation (2D toys, tabular sets, images) and the VAE, on `ilya.nn.training`.

The loss is the negative log-likelihood (nats for 2D/tabular, bits/dim for images, as FFJORD reports
them) plus the RNODE terms weighted by ``--kinetic`` and ``--jacobian``.  Every step logs the loss, the
forward and backward NFE and the end times; the optimizer (Adam, as the paper's code), schedule, clipping
and checkpoints are the shared `ilya.nn.training.Trainer`'s.  Each step's batch comes from (seed, step),
so a resumed run continues exactly as an unbroken one.
"""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ilya.core.device import resolve_device
from ilya.core.errors import IlyaError
from ilya.core.figures import draw_run
from ilya.core.progress import progress
from ilya.core.runs import Run
from ilya.ffjord.cnf import SolverOptions
from ilya.ffjord.config import TrainConfig, VAEConfig
from ilya.ffjord.data import load_images
from ilya.ffjord.model import (
    SYSTEM,
    Data,
    Flow,
    batch_loss,
    build_model,
    data_kind,
    end_times,
    evaluate,
    load_data,
    need,
    parse_hidden,
    resolve,
    train_batch,
)
from ilya.ffjord.regularization import weight_scale
from ilya.ffjord.vae import VAE
from ilya.nn.training import Trainer


def step_seed(seed: int, step: int, model: int = 0) -> int:
    """The torch seed of one training step: a resumed run draws the noise an unbroken one would."""
    return (seed * 1_000_003 + model * 100_003 + step) % (2**63)


def train(cfg: TrainConfig) -> dict[str, Any]:
    """The training loop; returns the final figures (also written to the run's summary.json)."""
    cfg = resolve(cfg)
    device = resolve_device(cfg.device)
    threads = cfg.threads or (1 if data_kind(cfg.data) != "image" else None)
    if threads:
        torch.set_num_threads(threads)
    data = load_data(cfg)
    iters, eval_every = need(cfg.iters, "iters"), need(cfg.eval_every, "eval_every")
    if not 0.0 <= cfg.reg_decay_start <= 1.0 or cfg.reg_final < 0:
        raise IlyaError(f"--reg-decay-start {cfg.reg_decay_start} must lie in [0, 1] and --reg-final "
                        f"{cfg.reg_final} be >= 0")
    with Run.open(SYSTEM, cfg) as run:
        model = build_model(cfg, data).to(device)
        trainer = Trainer(model, cfg.optim, total_steps=iters, device=device)
        start = trainer.resume(run)
        train_seconds = float(trainer.extra.get("train_seconds", 0.0))
        cpu_seconds = float(trainer.extra.get("cpu_seconds", 0.0))  # this process's CPU time in the steps
        unit = "bpd" if data.kind == "image" else "nll"
        bar = progress(range(start, iters), desc=f"ffjord {cfg.data}", total=iters - start)
        for step in bar:
            t0, c0 = time.perf_counter(), time.process_time()
            torch.manual_seed(step_seed(cfg.seed, step))  # Hutchinson noise and dequantisation of this step
            model.reset_nfe()
            with trainer.autocast():
                loss = batch_loss(model, train_batch(data, cfg, step), data, device).mean()  # nats or bits/dim
            regs = model.regularisation()
            scale = weight_scale(step, iters, cfg.reg_schedule, cfg.reg_decay_start, cfg.reg_final)
            total = loss + sum(scale * w * regs[k] for k, w in (("kinetic", cfg.kinetic), ("jacobian", cfg.jacobian))
                               if w > 0)
            nfe_f = model.nfe()
            loss_value = loss.item()
            if not math.isfinite(loss_value):
                raise IlyaError(f"training diverged at step {step + 1} (loss {loss_value}); "
                                "try a smaller --optim.lr or tighter --atol/--rtol")
            stats = trainer.step(total)
            nfe_b = model.nfe() - nfe_f if cfg.adjoint else model.nfe_vjp()
            train_seconds += time.perf_counter() - t0
            cpu_seconds += time.process_time() - c0
            row: dict[str, float] = {f"train/{unit}": loss_value, "train/nfe_forward": nfe_f,
                                     "train/nfe_backward": nfe_b, "train/end_time": sum(end_times(model)),
                                     "train/grad_norm": stats["grad_norm"]}
            row.update({f"train/{k}": float(v.detach()) for k, v in regs.items()})
            if regs and cfg.reg_schedule != "constant":
                row["train/reg_scale"] = scale
            due = (step + 1) % eval_every == 0 or step + 1 == iters
            if due:
                v = evaluate(model, data, data.valid, device, exact=False, desc="valid")
                row.update({f"valid/{unit}": v[unit], "valid/nfe": v["nfe"]})
            run.log(step + 1, **row)                    # the row first: a checkpoint never runs ahead of it
            if due:
                trainer.save(run, step + 1, shape=list(data.shape), train_seconds=train_seconds,
                             cpu_seconds=cpu_seconds)
            bar.set_postfix({unit: f"{loss_value:.3f}", "nfe": nfe_f})
        final = final_eval(run, cfg, model, data, device, train_seconds, cpu_seconds)
        run.summary(**final)
        draw_run(run)
    return final


def final_eval(run: Run, cfg: TrainConfig, model: Flow, data: Data, device: torch.device,
               train_seconds: float, cpu_seconds: float) -> dict[str, Any]:
    """Test NLL (exact trace up to 64 dims) or bits/dim, NFE and timing figures of a finished run: wall and
    CPU seconds per iteration count the training steps only (not validation, checkpoints or figures)."""
    exact = data.n_dims <= 64 and data.kind != "image"
    res = evaluate(model, data, data.test, device, exact=exact, desc="test")
    unit = "bpd" if data.kind == "image" else "nll"
    iters = need(cfg.iters, "iters")
    _, nfe_f = run.series("train/nfe_forward")
    _, nfe_b = run.series("train/nfe_backward")
    return {"data": cfg.data, f"test_{unit}": res[unit], "test_nfe": res["nfe"],
            "trace": "exact" if exact else "hutchinson", "iters": iters,
            "s_per_iter": train_seconds / iters, "cpu_s_per_iter": cpu_seconds / iters,
            "train_nfe_forward": float(np.mean(nfe_f[-50:])) if nfe_f else None,
            "train_nfe_backward": float(np.mean(nfe_b[-50:])) if nfe_b else None,
            "end_times": end_times(model)}


def train_command(cfg: TrainConfig) -> dict[str, Any]:
    """``ilya ffjord train``: train, then one line of final figures."""
    final = train(cfg)
    unit = "bpd" if "test_bpd" in final else "nll"
    print(f"ffjord {final['data']}: test {unit} {final[f'test_{unit}']:.4f} ({final['trace']} trace), "
          f"mean test NFE {final['test_nfe']:.0f}, {final['s_per_iter']:.3f} s/iter")
    return final


# ------------------------------------------------------------------------------------------ VAE (§5.3)
def binarised(name: str, root: Path | None, download_missing: bool) -> tuple[np.ndarray, np.ndarray]:
    im = load_images(name, root, download_missing)
    half = (im.n_bins - 1) / 2
    flat = [(a.reshape(len(a), -1) > half).astype(np.float32) for a in (im.train, im.test)]
    return flat[0], flat[1]


def neg_elbo_mean(model: VAE, x: np.ndarray, device: torch.device | str, batch_size: int = 500) -> float:
    g = torch.get_rng_state()
    torch.manual_seed(4321)  # the same posterior samples for every model
    model.eval()
    total = 0.0
    with torch.no_grad():
        for i in range(0, len(x), batch_size):
            total += float(model.neg_elbo(torch.from_numpy(x[i:i + batch_size]).to(device)).sum())
    model.train()
    torch.set_rng_state(g)
    return total / len(x)


def train_vae(cfg: VAEConfig) -> dict[str, Any]:
    """Each posterior's VAE in turn at the same budget; checkpoints number the steps of both in order."""
    device = resolve_device(cfg.device)
    train_x, test_x = binarised(cfg.data, cfg.data_dir, cfg.download)
    if cfg.max_train:
        train_x = train_x[: cfg.max_train]
    if len(train_x) <= 1000:
        raise IlyaError(f"--max-train {cfg.max_train}: expected more than the 1000 validation images")
    valid_x, train_x, test_x = train_x[:1000], train_x[1000:], test_x[: cfg.n_test]
    flow_hidden = parse_hidden(cfg.flow_hidden, cfg.d_z)
    posteriors = ["gaussian", "ffjord"] if cfg.posterior == "both" else [cfg.posterior]
    final: dict[str, Any] = {"data": cfg.data, "iters": cfg.iters}
    with Run.open(SYSTEM, cfg) as run:
        state = run.load_checkpoint() or {}
        for k, post in enumerate(posteriors):
            offset = k * cfg.iters  # checkpoint numbers: the first model's steps, then the second's
            torch.manual_seed(cfg.seed + k)
            model = VAE(train_x.shape[1], cfg.d_z, cfg.hidden, post, flow_hidden=flow_hidden,
                        flow_blocks=cfg.flow_blocks, solver=SolverOptions(atol=cfg.atol, rtol=cfg.atol)).to(device)
            trainer = Trainer(model, cfg.optim, total_steps=cfg.iters, device=device)
            start = 0
            if post in state:
                trainer.load_state_dict(state[post])
                start = int(state[post]["step"])
            t_start = time.time()
            for step in progress(range(start, cfg.iters), desc=f"vae {post}"):
                rng = np.random.default_rng([cfg.seed, k, step])
                torch.manual_seed(step_seed(cfg.seed, step, k))  # the posterior samples of this step
                x = torch.from_numpy(train_x[rng.integers(0, len(train_x), cfg.batch_size)]).to(device)
                if model.flow is not None:
                    model.flow.reset_nfe()
                with trainer.autocast():
                    loss = model.neg_elbo(x).mean()
                trainer.step(loss)
                row = {f"train/neg_elbo_{post}": loss.item()}
                if model.flow is not None:
                    row[f"train/nfe_{post}"] = model.flow.nfe()
                due = (step + 1) % cfg.eval_every == 0 or step + 1 == cfg.iters
                if due:
                    row[f"valid/neg_elbo_{post}"] = neg_elbo_mean(model, valid_x, device)
                run.log(offset + step + 1, **row)
                if due:
                    state[post] = {**trainer.state_dict(), "step": step + 1}
                    run.save_checkpoint(offset + step + 1, state)
            final[f"test_neg_elbo_{post}"] = neg_elbo_mean(model, test_x, device)
            final[f"s_per_iter_{post}"] = (time.time() - t_start) / max(cfg.iters - start, 1)
        if len(posteriors) == 2:
            final["improvement_nats"] = final["test_neg_elbo_gaussian"] - final["test_neg_elbo_ffjord"]
        run.summary(**final)
        draw_run(run)
    return final


def vae_command(cfg: VAEConfig) -> dict[str, Any]:
    """``ilya ffjord vae``: both posteriors' -ELBO (one JSON object with --json)."""
    final = train_vae(cfg)
    if not cfg.json:
        for k, v in final.items():
            print(f"{k}: {v:.4f}" if isinstance(v, float) else f"{k}: {v}")
    return final
