"""FFJORD's density models from a training config: data, the flow, the per-example loss, evaluation, reload.

`resolve` fills the fields a `TrainConfig` leaves at None with the defaults of the data's kind (2D toy,
tabular, image); `build_model` makes the stacked CNF (2D/tabular) or the multiscale CNF (images);
`batch_loss` is the per-example NLL in nats (bits/dim for images); `evaluate` scores a set without
gradients; `load_run_model` reopens a run (`Run.config_as`) at its latest checkpoint.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from typing import Any, TypeVar

import numpy as np
import torch

from ilya.core.errors import IlyaError
from ilya.core.progress import progress
from ilya.core.runs import Run
from ilya.ffjord.cnf import CNF, FlowConfig, SequentialFlow, SolverOptions, build_flow
from ilya.ffjord.config import DEFAULTS, IMAGE_NAMES, TABULAR_NAMES, TOY_NAMES, DataKind, TrainConfig
from ilya.ffjord.data import load_images, load_tabular, sample_toy
from ilya.ffjord.multiscale import MultiscaleCNF, bits_per_dim, dequantize

SYSTEM = "ffjord"
T = TypeVar("T")
Flow = SequentialFlow | MultiscaleCNF


def need(value: T | None, name: str = "value") -> T:
    """A field `resolve` has filled (never None after it)."""
    if value is None:
        raise IlyaError(f"--{name.replace('_', '-')} is not set")
    return value


def data_kind(name: str) -> DataKind:
    if name in TOY_NAMES:
        return "toy"
    if name in TABULAR_NAMES:
        return "tabular"
    if name in IMAGE_NAMES:
        return "image"
    raise IlyaError(f"--data {name}: expected one of {', '.join([*TOY_NAMES, *TABULAR_NAMES, *IMAGE_NAMES])}")


def resolve(cfg: TrainConfig) -> TrainConfig:
    """Fill the fields left at None with the defaults of the data's kind."""
    kind = data_kind(cfg.data)
    changes = {k: v for k, v in DEFAULTS[kind].items() if getattr(cfg, k) is None}
    out = replace(cfg, **changes)
    if cfg.rtol is None and cfg.atol is not None:
        out = replace(out, rtol=cfg.atol)
    if need(out.iters, "iters") <= 0 or need(out.batch_size, "batch_size") <= 0:
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
    """A data set's splits: 2D toys have fresh samples for training, so only valid and test arrays."""

    kind: DataKind
    shape: tuple[int, ...]
    valid: np.ndarray
    test: np.ndarray
    train: np.ndarray | None = None  # tabular / images
    n_bins: int = 256
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def n_dims(self) -> int:
        return int(np.prod(self.shape))


def load_data(cfg: TrainConfig) -> Data:
    kind = data_kind(cfg.data)
    if kind == "toy":
        return Data("toy", (2,), test=sample_toy(cfg.data, need(cfg.n_test, "n_test"), seed=10**6 + cfg.seed),
                    valid=sample_toy(cfg.data, 2000, seed=10**6 + 1 + cfg.seed))
    if kind == "tabular":
        s = load_tabular(cfg.data, cfg.data_dir, cfg.download)
        train = s.train[: cfg.max_train] if cfg.max_train else s.train
        return Data("tabular", (s.dim,), s.valid[:cfg.n_test], s.test[: cfg.n_test], train)
    im = load_images(cfg.data, cfg.data_dir, cfg.download)
    train = im.train[: cfg.max_train] if cfg.max_train else im.train
    n_valid = min(len(train) // 10, 256)
    return Data("image", im.shape, train[:n_valid], im.test[: cfg.n_test], train[n_valid:], n_bins=im.n_bins)


def train_batch(data: Data, cfg: TrainConfig, step: int) -> np.ndarray:
    """The batch of ``step``: fresh 2D samples, or rows drawn, from a generator seeded by (seed, step), so a
    resumed run sees the batches an unbroken one would."""
    rng = np.random.default_rng([cfg.seed, step])
    n = need(cfg.batch_size, "batch_size")
    if data.kind == "toy":
        return sample_toy(cfg.data, n, seed=rng)
    assert data.train is not None
    return data.train[rng.integers(0, len(data.train), n)]


def batch_iterator(data: Data, cfg: TrainConfig, start: int) -> Iterator[np.ndarray]:
    """`train_batch` of ``start``, ``start + 1``, ..."""
    step = start
    while True:
        yield train_batch(data, cfg, step)
        step += 1


# ------------------------------------------------------------------------------------------ model
def build_model(cfg: TrainConfig, data: Data) -> Flow:
    """The flow of a resolved config: stacked CNF blocks (2D, tabular) or the multiscale CNF (images)."""
    opts = SolverOptions(cfg.solver, need(cfg.atol, "atol"), need(cfg.rtol, "rtol"), cfg.step_size, cfg.adjoint)
    regs = tuple(name for name, w in (("kinetic", cfg.kinetic), ("jacobian", cfg.jacobian)) if w > 0)
    hidden = parse_hidden(need(cfg.hidden, "hidden"), data.n_dims)
    blocks, activation = need(cfg.num_blocks, "num_blocks"), need(cfg.activation, "activation")
    try:
        if data.kind == "image":
            if need(cfg.time_features, "time_features") or cfg.layer == "input":
                raise IlyaError("--time-features and --layer input are for 2D and tabular data (MLP dynamics)")
            c, h, w = data.shape
            return MultiscaleCNF((c, h, w), cfg.n_scales, blocks, hidden, need(cfg.layer, "layer"), activation,
                                 cfg.divergence, cfg.noise, regs, cfg.T, cfg.train_T, opts, cfg.alpha)
        return build_flow(FlowConfig(dim=data.n_dims, hidden=hidden, num_blocks=blocks,
                                     layer=need(cfg.layer, "layer"),
                                     activation=activation, divergence=cfg.divergence, noise=cfg.noise,
                                     regularisers=regs, T=cfg.T, train_T=cfg.train_T, solver=opts,
                                     time_features=need(cfg.time_features, "time_features")))
    except ValueError as e:
        raise IlyaError(str(e)) from None


def end_times(model: torch.nn.Module) -> list[float]:
    return [float(m.end_time.detach()) for m in model.modules() if isinstance(m, CNF)]


def batch_loss(model: Flow, x: np.ndarray, data: Data, device: torch.device | str,
               generator: torch.Generator | None = None) -> torch.Tensor:
    """Per-example NLL in nats (2D/tabular) or bits/dim (images)."""
    xt = torch.from_numpy(np.asarray(x)).to(device)
    if isinstance(model, MultiscaleCNF):
        y = dequantize(xt, data.n_bins, generator)
        return bits_per_dim(model.log_prob_y(y), data.n_dims, data.n_bins)
    return -model.log_prob(xt.float())


def evaluate(model: Flow, data: Data, x: np.ndarray, device: torch.device | str, exact: bool = True,
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


# ------------------------------------------------------------------------------------------ reload
def load_run_model(run: Run, device: torch.device | str = "cpu") -> tuple[Flow, TrainConfig, Data]:
    """Rebuild a run's model from its config and latest checkpoint: (model, cfg, data)."""
    cfg = resolve(run.config_as(TrainConfig))
    state = run.load_checkpoint()
    if state is None:
        raise IlyaError(f"run {run.system}/{run.name} has no checkpoint yet", file=run.path)
    data = load_data(cfg)
    model = build_model(cfg, data).to(device)
    model.load_state_dict(state["model"])
    return model, cfg, data
