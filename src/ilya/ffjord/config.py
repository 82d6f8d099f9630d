"""The flags of ``ilya ffjord`` commands: dataclasses and Literal types only (``--help`` imports this)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, get_args

from ilya.core.config import DeviceName, OptimConfig, OptimizerName, RunConfig

ToyName = Literal["8gaussians", "checkerboard", "2spirals", "pinwheel", "moons", "circles", "rings", "swissroll"]
TabularName = Literal["power", "gas", "hepmass", "miniboone", "bsds300", "synthetic6"]
ImageName = Literal["fashion-mnist", "digits", "mnist", "cifar10"]
DataName = Literal["8gaussians", "checkerboard", "2spirals", "pinwheel", "moons", "circles", "rings", "swissroll",
                   "power", "gas", "hepmass", "miniboone", "bsds300", "synthetic6",
                   "fashion-mnist", "digits", "mnist", "cifar10"]
DataKind = Literal["toy", "tabular", "image"]
Solver = Literal["dopri5", "dopri8", "bosh3", "adaptive_heun", "fehlberg2", "euler", "midpoint", "rk4",
                 "explicit_adams", "implicit_adams"]
Activation = Literal["tanh", "softplus", "elu", "swish"]
RegSchedule = Literal["constant", "linear", "cosine"]
TOY_NAMES: tuple[str, ...] = get_args(ToyName)
TABULAR_NAMES: tuple[str, ...] = get_args(TabularName)
IMAGE_NAMES: tuple[str, ...] = get_args(ImageName)

# Per kind of data, the defaults of the fields left at None (small budgets that finish on a laptop CPU).
# 2D and tabular: t as 3 Fourier pairs into the first layer of an MLP, ELU for 2D and tanh for tabular
# data (each beats the paper code's concatsquash + tanh/softplus at equal iterations, and the other
# activation on its kind of data, see docs/ffjord.md); images: the paper's concatsquash.
DEFAULTS: dict[DataKind, dict[str, Any]] = {
    "toy": {"iters": 1500, "batch_size": 256, "hidden": "64-64-64", "num_blocks": 1, "activation": "elu",
            "layer": "input", "time_features": 3, "atol": 1e-5, "rtol": 1e-5, "eval_every": 250, "n_test": 5000},
    "tabular": {"iters": 1000, "batch_size": 512, "hidden": "", "num_blocks": 1, "activation": "tanh",
                "layer": "input", "time_features": 3, "atol": 1e-5, "rtol": 1e-5, "eval_every": 250,
                "n_test": 5000},
    "image": {"iters": 150, "batch_size": 32, "hidden": "16-16", "num_blocks": 1, "activation": "softplus",
              "layer": "concatsquash", "time_features": 0, "atol": 1e-3, "rtol": 1e-3, "eval_every": 50,
              "n_test": 1000},
}

@dataclass
class FfjordOptim(OptimConfig):
    """Adam at a constant learning rate, as FFJORD's code trains (no weight decay, no clipping)."""

    optimizer: OptimizerName = "adam"
    """adamw, adam (the paper's), adamax or sgd"""
    lr: float = 1e-3
    """peak learning rate"""


@dataclass
class TrainConfig(RunConfig):
    """Train a FFJORD flow by maximum likelihood on a 2D toy, a tabular set or an image set."""

    data: DataName = "checkerboard"
    """2D: 8gaussians checkerboard 2spirals pinwheel moons circles rings swissroll; tabular: power gas hepmass miniboone bsds300 synthetic6; images: fashion-mnist digits mnist cifar10"""
    iters: int | None = None
    """training iterations (default: 1500 for 2D, 1000 tabular, 150 images)"""
    batch_size: int | None = None
    """examples per iteration (default: 256 for 2D, 512 tabular, 32 images)"""
    optim: FfjordOptim = field(default_factory=FfjordOptim)
    """optimizer (Adam, lr 1e-3, as the paper's code), schedule, clipping (ilya.nn.training)"""
    hidden: str | None = None
    """hidden widths (channels for images), dash-separated (default: 64-64-64 for 2D, 10xD-10xD tabular, 16-16 images)"""
    num_blocks: int | None = None
    """stacked CNF blocks (per scale for images; default 1 for 2D and images, 2 tabular)"""
    layer: Literal["concatsquash", "concat", "input"] | None = None
    """how time enters the dynamics: gating and shifting every layer (concatsquash, the paper code's), as an input of every layer (concat), or of the first only (input: a plain MLP above; 2D and tabular only). Default: input for 2D and tabular, concatsquash for images"""
    time_features: int | None = None
    """feed t as F pairs cos(k pi t), sin(k pi t), k = 1..F, instead of t itself (0: t, the paper code's). Default: 3 for 2D and tabular, 0 for images"""
    activation: Activation | None = None
    """activation of the dynamics (default: tanh for 2D, softplus otherwise)"""
    divergence: Literal["approximate", "exact"] = "approximate"
    """trace in training: Hutchinson's estimator (approximate) or exact (D backward passes)"""
    noise: Literal["rademacher", "gaussian"] = "rademacher"
    """Hutchinson noise distribution (drawn once per solve)"""
    solver: Solver = "dopri5"
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
    reg_schedule: RegSchedule = "constant"
    """RNODE weights over training: constant, or kept until --reg-decay-start then decayed (linear, cosine) to --reg-final times their value at the last step"""
    reg_decay_start: float = 0.5
    """fraction of --iters after which the RNODE weights decay (--reg-schedule linear/cosine)"""
    reg_final: float = 0.0
    """factor on the RNODE weights at the last step (--reg-schedule linear/cosine)"""
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
    device: DeviceName = "auto"
    """auto, cpu or cuda"""
    runs_dir: Path = Path("runs")
    """folder that holds runs/<system>/<name>/"""
    json: bool = False
    """print one JSON object"""


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
    device: DeviceName = "auto"
    """auto, cpu or cuda"""
    runs_dir: Path = Path("runs")
    """folder that holds runs/<system>/<name>/"""


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
    optim: FfjordOptim = field(default_factory=FfjordOptim)
    """optimizer of each model (Adam, lr 1e-3), schedule, clipping (ilya.nn.training)"""
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
