"""Training and evaluation loops for density estimation (2D toys, tabular sets, images) and the VAE.

The loss is the negative log-likelihood (nats for 2D/tabular, bits/dim for images, as FFJORD reports
them) plus the RNODE terms weighted by ``--kinetic`` and ``--jacobian``.  Every step logs the loss, the
forward and backward NFE, the end times and the seconds it took.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch

from ilya.core.errors import IlyaError
from ilya.core.progress import progress
from ilya.core.runs import Run, RunConfig
from ilya.ffjord.cnf import CNF, FlowConfig, SequentialFlow, SolverOptions, build_flow
from ilya.ffjord.data import IMAGES, TABULAR, TOY, load_images, load_tabular, sample_toy
from ilya.ffjord.multiscale import MultiscaleCNF, bits_per_dim, dequantize

SYSTEM = "ffjord"

# Per kind of data, the defaults of the fields left at None (small budgets that finish on a laptop CPU).
DEFAULTS: dict[str, dict[str, Any]] = {
    "toy": {"iters": 1500, "batch_size": 256, "hidden": "64-64-64", "num_blocks": 1, "activation": "tanh",
            "atol": 1e-5, "rtol": 1e-5, "eval_every": 250, "lr": 1e-3, "n_test": 5000},
    "tabular": {"iters": 1000, "batch_size": 512, "hidden": "", "num_blocks": 2, "activation": "softplus",
                "atol": 1e-5, "rtol": 1e-5, "eval_every": 250, "lr": 1e-3, "n_test": 5000},
    "image": {"iters": 150, "batch_size": 32, "hidden": "16-16", "num_blocks": 1, "activation": "softplus",
              "atol": 1e-3, "rtol": 1e-3, "eval_every": 50, "lr": 1e-3, "n_test": 1000},
}


@dataclass
class TrainConfig(RunConfig):
    """Train a FFJORD flow by maximum likelihood on a 2D toy, a tabular set or an image set."""

    data: str = "checkerboard"
    """2D: 8gaussians checkerboard 2spirals pinwheel moons circles rings swissroll; tabular: power gas hepmass miniboone bsds300 synthetic6; images: fashion-mnist digits mnist cifar10"""
    iters: int | None = None
    """training iterations (default: 1500 for 2D, 1000 tabular, 150 images)"""
    batch_size: int | None = None
    """examples per iteration (default: 256 for 2D, 512 tabular, 32 images)"""
    lr: float | None = None
    """Adam learning rate (default 1e-3)"""
    weight_decay: float = 0.0
    """Adam weight decay"""
    hidden: str | None = None
    """hidden widths (channels for images), dash-separated (default: 64-64-64 for 2D, 10xD-10xD tabular, 16-16 images)"""
    num_blocks: int | None = None
    """stacked CNF blocks (per scale for images; default 1 for 2D and images, 2 tabular)"""
    layer: Literal["concatsquash", "concat"] = "concatsquash"
    """how time enters each layer of the dynamics"""
    activation: Literal["tanh", "softplus", "elu", "swish"] | None = None
    """activation of the dynamics (default: tanh for 2D, softplus otherwise)"""
    divergence: Literal["approximate", "exact"] = "approximate"
    """trace in training: Hutchinson's estimator (approximate) or exact (D backward passes)"""
    noise: Literal["rademacher", "gaussian"] = "rademacher"
    """Hutchinson noise distribution (drawn once per solve)"""
    solver: str = "dopri5"
    """torchdiffeq method: dopri5 dopri8 bosh3 adaptive_heun fehlberg2 euler midpoint rk4"""
    atol: float | None = None
    """absolute solver tolerance (default: 1e-5 as the paper, 1e-3 for the small image run)"""
    rtol: float | None = None
    """relative solver tolerance (default: as atol)"""
    step_size: float | None = None
    """step of fixed-grid solvers (euler, midpoint, rk4); default 0.05"""
    adjoint: bool = False
    """backprop with the adjoint method (O(1) memory) instead of through the solver"""
    T: float = 0.5
    """initial end time of each block"""
    train_T: bool = True
    """learn each block's end time"""
    kinetic: float = 0.0
    """RNODE kinetic-energy weight (0 = off)"""
    jacobian: float = 0.0
    """RNODE Jacobian-Frobenius weight (0 = off)"""
    n_scales: int = 2
    """images: number of scales of the multiscale CNF"""
    alpha: float = 0.05
    """images: logit-transform margin (the paper's code: 1e-6 for MNIST, 0.05 for CIFAR-10)"""
    max_train: int | None = None
    """use at most this many training examples (tabular and images)"""
    n_test: int | None = None
    """test examples for the final evaluation (2D: fresh samples; others: the first of the test split; default 5000, images 1000)"""
    eval_every: int | None = None
    """validate, checkpoint and log every this many iterations"""
    download: bool = False
    """download a missing data set (tabular, mnist, cifar10)"""
    data_dir: Path | None = None
    """data folder (default: $ILYA_DATA or ~/.cache/ilya)"""
    threads: int | None = None
    """torch CPU threads (default: 1 for 2D and tabular data, whose small matrices run fastest on one; torch's own default for images)"""


def data_kind(name: str) -> str:
    if name in TOY:
        return "toy"
    if name in (*TABULAR, "synthetic6"):
        return "tabular"
    if name in IMAGES:
        return "image"
    raise IlyaError(f"--data {name}: expected one of {', '.join([*TOY, *TABULAR, 'synthetic6', *IMAGES])}")


def resolve(cfg: TrainConfig) -> TrainConfig:
    """Fill the fields left at None with the defaults of the data's kind."""
    kind = data_kind(cfg.data)
    changes = {k: v for k, v in DEFAULTS[kind].items() if getattr(cfg, k) is None}
    out = replace(cfg, **changes)
    if cfg.rtol is None and cfg.atol is not None:
        out = replace(out, rtol=cfg.atol)
    if out.iters <= 0 or out.batch_size <= 0:
        raise IlyaError("--iters and --batch-size must be positive")
    return out


def parse_hidden(hidden: str, dim: int) -> tuple[int, ...]:
    if hidden == "":  # tabular default of the paper's code: widths a multiple of the dimension
        return (10 * dim, 10 * dim)
    try:
        out = tuple(int(h) for h in hidden.split("-"))
    except ValueError:
        raise IlyaError(f"--hidden {hidden!r}: expected dash-separated integers like 64-64-64") from None
    if not out or min(out) <= 0:
        raise IlyaError(f"--hidden {hidden!r}: widths must be positive")
    return out


# ------------------------------------------------------------------------------------------ data
@dataclass
class Data:
    kind: str
    shape: tuple[int, ...]
    train: np.ndarray | None = None  # tabular / images
    valid: np.ndarray | None = None
    test: np.ndarray | None = None
    n_bins: int = 256
    extra: dict = field(default_factory=dict)

    @property
    def n_dims(self) -> int:
        return int(np.prod(self.shape))


def load_data(cfg: TrainConfig) -> Data:
    kind = data_kind(cfg.data)
    if kind == "toy":
        return Data("toy", (2,), test=sample_toy(cfg.data, cfg.n_test, seed=10**6 + cfg.seed),
                    valid=sample_toy(cfg.data, 2000, seed=10**6 + 1 + cfg.seed))
    if kind == "tabular":
        s = load_tabular(cfg.data, cfg.data_dir, cfg.download)
        train = s.train[: cfg.max_train] if cfg.max_train else s.train
        return Data("tabular", (s.dim,), train, s.valid[:cfg.n_test], s.test[: cfg.n_test])
    im = load_images(cfg.data, cfg.data_dir, cfg.download)
    train = im.train[: cfg.max_train] if cfg.max_train else im.train
    n_valid = min(len(train) // 10, 256)
    return Data("image", im.shape, train[n_valid:], train[:n_valid], im.test[: cfg.n_test], n_bins=im.n_bins)


def batch_iterator(data: Data, cfg: TrainConfig, start: int):
    """Yields training batches; 2D batches are fresh samples (seeded by step, so resuming is exact)."""
    rng = np.random.default_rng(cfg.seed + 7919 * start)
    step = start
    while True:
        if data.kind == "toy":
            yield sample_toy(cfg.data, cfg.batch_size, seed=np.random.default_rng([cfg.seed, step]))
        else:
            assert data.train is not None
            yield data.train[rng.integers(0, len(data.train), cfg.batch_size)]
        step += 1


# ------------------------------------------------------------------------------------------ model
def build_model(cfg: TrainConfig, data: Data) -> SequentialFlow | MultiscaleCNF:
    opts = SolverOptions(cfg.solver, cfg.atol, cfg.rtol, cfg.step_size, cfg.adjoint)
    regs = tuple(name for name, w in (("kinetic", cfg.kinetic), ("jacobian", cfg.jacobian)) if w > 0)
    hidden = parse_hidden(cfg.hidden, data.n_dims)
    try:
        if data.kind == "image":
            return MultiscaleCNF(data.shape, cfg.n_scales, cfg.num_blocks, hidden, cfg.layer, cfg.activation,
                                 cfg.divergence, cfg.noise, regs, cfg.T, cfg.train_T, opts, cfg.alpha)
        return build_flow(FlowConfig(dim=data.n_dims, hidden=hidden, num_blocks=cfg.num_blocks, layer=cfg.layer,
                                     activation=cfg.activation, divergence=cfg.divergence, noise=cfg.noise,
                                     regularisers=regs, T=cfg.T, train_T=cfg.train_T, solver=opts))
    except ValueError as e:
        raise IlyaError(str(e)) from None


def end_times(model: torch.nn.Module) -> list[float]:
    return [float(m.end_time.detach()) for m in model.modules() if isinstance(m, CNF)]


def batch_loss(model, x: np.ndarray, data: Data, device: torch.device,
               generator: torch.Generator | None = None) -> torch.Tensor:
    """Per-example NLL in nats (2D/tabular) or bits/dim (images)."""
    xt = torch.from_numpy(np.asarray(x)).to(device)
    if data.kind == "image":
        y = dequantize(xt, data.n_bins, generator)
        return bits_per_dim(model.log_prob_y(y), data.n_dims, data.n_bins)
    return -model.log_prob(xt.float())


def evaluate(model, data: Data, x: np.ndarray, device: torch.device, exact: bool = True,
             batch_size: int = 1000, atol: float | None = None, rtol: float | None = None,
             desc: str = "eval") -> dict[str, float]:
    """Mean NLL (nats) or bpd on ``x`` and the mean forward NFE per batch, without gradients."""
    was = [(f, f.divergence) for f in model.modules() if hasattr(f, "divergence") and hasattr(f, "nfe")]
    old_tol = [(m, m.options.atol, m.options.rtol) for m in model.modules() if isinstance(m, CNF)]
    if exact:
        model.set_divergence("exact")
    if atol is not None:
        model.set_solver(atol=atol, rtol=rtol if rtol is not None else atol)
    model.eval()
    total, n, nfes = 0.0, 0, []
    g = torch.Generator(device="cpu").manual_seed(1234)
    try:
        with torch.no_grad():
            for i in progress(range(0, len(x), batch_size), desc=desc):
                model.reset_nfe()
                losses = batch_loss(model, x[i:i + batch_size], data, device, g)
                nfes.append(model.nfe())
                total += float(losses.sum())
                n += len(losses)
    finally:
        for f, d in was:
            f.divergence = d
        for m, a, r in old_tol:
            m.options.atol, m.options.rtol = a, r
        model.train()
    key = "bpd" if data.kind == "image" else "nll"
    return {key: total / max(n, 1), "nfe": float(np.mean(nfes)) if nfes else 0.0}


# ------------------------------------------------------------------------------------------ train
def train(cfg: TrainConfig) -> dict[str, Any]:
    """The training loop; returns the final figures (also written to the run's summary.json)."""
    from ilya.core.device import resolve_device
    from ilya.ffjord import plots

    cfg = resolve(cfg)
    device = resolve_device(cfg.device)
    threads = cfg.threads or (1 if data_kind(cfg.data) != "image" else None)
    if threads:
        torch.set_num_threads(threads)
    data = load_data(cfg)
    with Run.open(SYSTEM, cfg) as run:
        model = build_model(cfg, data).to(device)
        opt = torch.optim.Adam(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
        start = 0
        state = run.load_checkpoint()
        if state is not None:
            model.load_state_dict(state["model"])
            opt.load_state_dict(state["optim"])
            start = int(state["step"])
        batches = batch_iterator(data, cfg, start)
        unit = "bpd" if data.kind == "image" else "nll"
        bar = progress(range(start, cfg.iters), desc=f"ffjord {cfg.data}", total=cfg.iters - start)
        for step in bar:
            t0 = time.time()
            model.reset_nfe()
            loss = batch_loss(model, next(batches), data, device).mean()  # nats or bits/dim
            regs = model.regularisation()
            total = loss + sum(w * regs[k] for k, w in (("kinetic", cfg.kinetic), ("jacobian", cfg.jacobian))
                               if w > 0)
            nfe_f = model.nfe()
            opt.zero_grad(set_to_none=True)
            total.backward()
            nfe_b = model.nfe() - nfe_f if cfg.adjoint else model.nfe_vjp()
            opt.step()
            loss_value = loss.item()
            if not math.isfinite(loss_value):
                raise IlyaError(f"training diverged at step {step + 1} (loss {float(loss)}); "
                                "try a smaller --lr or tighter --atol/--rtol")
            row = {f"train/{unit}": loss_value, "train/nfe_forward": nfe_f, "train/nfe_backward": nfe_b,
                   "train/s_per_iter": time.time() - t0, "train/end_time": sum(end_times(model))}
            row.update({f"train/{k}": float(v.detach()) for k, v in regs.items()})
            if (step + 1) % cfg.eval_every == 0 or step + 1 == cfg.iters:
                v = evaluate(model, data, data.valid, device, exact=False, desc="valid")
                row.update({f"valid/{unit}": v[unit], "valid/nfe": v["nfe"]})
                run.save_checkpoint(step + 1, {"model": model.state_dict(), "optim": opt.state_dict(),
                                               "shape": list(data.shape)})
            run.log(step + 1, **row)
            bar.set_postfix({unit: f"{loss_value:.3f}", "nfe": nfe_f})
        final = final_eval(run, cfg, model, data, device)
        run.summary(**final)
        plots.draw_all(run, model, data, cfg)
    return final


def final_eval(run: Run, cfg: TrainConfig, model, data: Data, device: torch.device) -> dict[str, Any]:
    exact = data.n_dims <= 64 and data.kind != "image"
    res = evaluate(model, data, data.test, device, exact=exact, desc="test")
    unit = "bpd" if data.kind == "image" else "nll"
    steps, secs = run.series("train/s_per_iter")
    _, nfe_f = run.series("train/nfe_forward")
    _, nfe_b = run.series("train/nfe_backward")
    return {"data": cfg.data, f"test_{unit}": res[unit], "test_nfe": res["nfe"],
            "trace": "exact" if exact else "hutchinson", "iters": cfg.iters,
            "s_per_iter": float(np.mean(secs)) if secs else None,
            "train_nfe_forward": float(np.mean(nfe_f[-50:])) if nfe_f else None,
            "train_nfe_backward": float(np.mean(nfe_b[-50:])) if nfe_b else None,
            "end_times": end_times(model)}


# ------------------------------------------------------------------------------------------ reload
def load_run_model(run: Run, device: torch.device | str = "cpu"):
    """Rebuild a run's model from its config and latest checkpoint: (model, cfg, data)."""
    fields = {k: v for k, v in run.config.items() if k in TrainConfig.__dataclass_fields__}
    if "data_dir" in fields and fields["data_dir"] is not None:
        fields["data_dir"] = Path(fields["data_dir"])
    fields["runs_dir"] = Path(fields.get("runs_dir", "runs"))
    cfg = resolve(TrainConfig(**fields))
    state = run.load_checkpoint()
    if state is None:
        raise IlyaError(f"run {run.system}/{run.name} has no checkpoint yet", file=run.path)
    data = load_data(cfg)
    model = build_model(cfg, data).to(device)
    model.load_state_dict(state["model"])
    return model, cfg, data


# ------------------------------------------------------------------------------------------ VAE (§5.3)
@dataclass
class VAEConfig(RunConfig):
    """Train VAEs on binarised images with a Gaussian and an amortised-FFJORD posterior; compare -ELBO (§5.3)."""

    data: Literal["fashion-mnist", "digits", "mnist"] = "fashion-mnist"
    """binarised image set (pixels above half the range are 1)"""
    posterior: Literal["both", "ffjord", "gaussian"] = "both"
    """which posterior(s) to train; both = the paper's comparison, same budget each"""
    iters: int = 1000
    """training iterations per model"""
    batch_size: int = 128
    """images per iteration"""
    lr: float = 1e-3
    """Adam learning rate"""
    d_z: int = 16
    """latent dimensions"""
    hidden: int = 256
    """encoder/decoder hidden width"""
    flow_hidden: str = "64-64"
    """hidden widths of the posterior flow's dynamics"""
    flow_blocks: int = 1
    """stacked CNF blocks in the posterior"""
    atol: float = 1e-4
    """solver tolerance (absolute and relative) of the posterior flow"""
    max_train: int | None = 20000
    """use at most this many training images"""
    n_test: int = 2000
    """test images for the final -ELBO"""
    eval_every: int = 250
    """validate and checkpoint every this many iterations"""
    download: bool = False
    """download a missing data set (mnist)"""
    data_dir: Path | None = None
    """data folder (default: $ILYA_DATA or ~/.cache/ilya)"""
    json: bool = False
    """print the final figures as one JSON object"""


def binarised(name: str, root: Path | None, download_missing: bool) -> tuple[np.ndarray, np.ndarray]:
    im = load_images(name, root, download_missing)
    half = (im.n_bins - 1) / 2
    flat = [(a.reshape(len(a), -1) > half).astype(np.float32) for a in (im.train, im.test)]
    return flat[0], flat[1]


def neg_elbo_mean(model, x: np.ndarray, device: torch.device, batch_size: int = 500) -> float:
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
    from ilya.core.device import resolve_device
    from ilya.ffjord.vae import VAE

    device = resolve_device(cfg.device)
    train_x, test_x = binarised(cfg.data, cfg.data_dir, cfg.download)
    if cfg.max_train:
        train_x = train_x[: cfg.max_train]
    valid_x, train_x, test_x = train_x[:1000], train_x[1000:], test_x[: cfg.n_test]
    flow_hidden = parse_hidden(cfg.flow_hidden, cfg.d_z)
    posteriors = ["gaussian", "ffjord"] if cfg.posterior == "both" else [cfg.posterior]
    final: dict[str, Any] = {"data": cfg.data, "iters": cfg.iters}
    with Run.open(SYSTEM, cfg) as run:
        state = run.load_checkpoint() or {}
        for post in posteriors:
            model = VAE(train_x.shape[1], cfg.d_z, cfg.hidden, post, flow_hidden=flow_hidden,
                        flow_blocks=cfg.flow_blocks, solver=SolverOptions(atol=cfg.atol, rtol=cfg.atol)).to(device)
            opt = torch.optim.Adam(model.parameters(), lr=cfg.lr)
            start = 0
            if post in state:
                model.load_state_dict(state[post]["model"])
                opt.load_state_dict(state[post]["optim"])
                start = int(state[post]["step"])
            rng = np.random.default_rng([cfg.seed, start])
            t_start = time.time()
            for step in progress(range(start, cfg.iters), desc=f"vae {post}"):
                x = torch.from_numpy(train_x[rng.integers(0, len(train_x), cfg.batch_size)]).to(device)
                if model.flow is not None:
                    model.flow.reset_nfe()
                loss = model.neg_elbo(x).mean()
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
                row = {f"train/neg_elbo_{post}": loss.item()}
                if model.flow is not None:
                    row[f"train/nfe_{post}"] = model.flow.nfe()
                if (step + 1) % cfg.eval_every == 0 or step + 1 == cfg.iters:
                    row[f"valid/neg_elbo_{post}"] = neg_elbo_mean(model, valid_x, device)
                    state[post] = {"model": model.state_dict(), "optim": opt.state_dict(), "step": step + 1}
                    run.save_checkpoint(step + 1, state)
                run.log(step + 1, **row)
            final[f"test_neg_elbo_{post}"] = neg_elbo_mean(model, test_x, device)
            final[f"s_per_iter_{post}"] = (time.time() - t_start) / max(cfg.iters - start, 1)
        if len(posteriors) == 2:
            final["improvement_nats"] = final["test_neg_elbo_gaussian"] - final["test_neg_elbo_ffjord"]
        run.summary(**final)
    return final
