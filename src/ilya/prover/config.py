"""The configs of ``ilya prover ...`` (dataclasses and Literal types only: ``--help`` imports this).

Every flag's help line is its field's docstring; a ``Literal`` field lists its choices in ``--help`` and
the parser refuses any other value.  Values no flag type can rule out (``--e 0``, a negative time limit)
are refused in ``__post_init__`` with one ``ilya: error:`` line.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Literal

import tyro

from ilya.core.config import OptimConfig, RunConfig
from ilya.core.data import metamath_database
from ilya.core.errors import IlyaError

DEFAULT_DB = metamath_database("set.mm", must_exist=False)
"""Debian's set.mm (package metamath-databases)"""
DEFAULT_DATA = Path("data/prover/set.mm")
"""where `ilya prover dataset` writes the set.mm dataset"""

Split = Literal["train", "valid", "test"]
PolicyKind = Literal["model", "frequency"]
Priority = Literal["logprob", "value"]
Decode = Literal["constrained", "sample"]
TokenizerKind = Literal["bpe", "char"]
SubstFormat = Literal["free", "full"]

PRIORITIES: tuple[Priority, ...] = ("logprob", "value")
DECODES: tuple[Decode, ...] = ("constrained", "sample")
SPLITS: tuple[Split, ...] = ("train", "valid", "test")


def _positive(**values: float) -> None:
    for name, v in values.items():
        if not v > 0:
            raise IlyaError(f"--{name.replace('_', '-')} {v:g}: expected a positive number")


def _at_least(lo: int, **values: int) -> None:
    for name, v in values.items():
        if v < lo:
            raise IlyaError(f"--{name.replace('_', '-')} {v}: expected at least {lo}")


# ---------------------------------------------------------------------------- dataset
@dataclass
class DatasetConfig:
    """Build the proof-step dataset (train/valid/test by a hash of the theorem label) and its statistics."""

    db: Path = DEFAULT_DB
    """Metamath database to read (a path, or a Debian database's name such as iset.mm)"""
    out: Path = DEFAULT_DATA
    """folder to write train/valid/test.jsonl and stats.json into"""
    valid: int = 1000
    """theorems in the valid split (about; paper: 1,000)"""
    test: int = 1000
    """theorems in the test split (about; paper: 1,000)"""
    max_theorems: int = 0
    """use only the first N theorems of the database (0 = all)"""
    max_steps_per_theorem: int = 5000
    """keep at most this many steps of one (expanded) proof"""
    clean_only: bool = False
    """do not rebuild: only flag the valid/test theorems of the dataset in --out that are in effect in the
    training data (alpha-equivalent duplicates, statements derived in train proofs; ~1 min)"""
    json: bool = False
    """print the statistics as one JSON object"""


# ---------------------------------------------------------------------------- train
@dataclass
class ProverOptim(OptimConfig):
    """The prover's optimizer: AdamW, linear warm-up then cosine decay to 10%, gradient norm clipped at 1."""

    lr: float = 2e-3
    """peak learning rate"""
    weight_decay: float = 0.1
    """decoupled weight decay on matrices (biases, norms and embeddings are never decayed)"""
    beta2: float = 0.95
    """second-moment decay"""
    warmup: int = 200
    """linear warm-up steps"""
    schedule: Literal["cosine", "linear", "constant"] = "cosine"
    """learning rate after warm-up: cosine or linear decay to min_lr_ratio * lr, or constant"""
    grad_clip: float = 1.0
    """clip the global gradient norm to this (0: no clipping)"""


@dataclass
class TrainConfig(RunConfig):
    """Train the GPT-f proof-step language model (loss on the PROOFSTEP part only)."""

    data: Path = DEFAULT_DATA
    """dataset folder written by `ilya prover dataset`"""
    slice: int = 0
    """instead of --data: a dataset of the first N theorems of set.mm, built in the run folder (quick runs)"""
    tokenizer: TokenizerKind = "bpe"
    """bpe (Hugging Face tokenizers, fitted on train) or char"""
    subst: SubstFormat = "free"
    """free (only the variables the goal does not determine: the kernel fills in the rest by unification;
    the default, measured better at small budgets: docs/prover.md) or full (the paper: a term for every
    variable of the applied assertion)"""
    vocab_size: int = 1024
    """BPE vocabulary size"""
    n_layer: int = 4
    """transformer layers (12 for the GPT-3 Small shape that GPT-f's models follow)"""
    n_head: int = 4
    """attention heads (12 for the GPT-3 Small shape)"""
    n_embd: int = 128
    """model width (768 for the GPT-3 Small shape)"""
    block_size: int = 256
    """context length in tokens; longer examples are dropped and counted (GPT-3: 2048)"""
    dropout: float = 0.0
    """dropout"""
    steps: int = 4000
    """optimizer steps (4,000 x 32 examples: ~20 minutes on 2 cores, 35 on one)"""
    batch_size: int = 32
    """examples per step"""
    optim: ProverOptim = field(default_factory=ProverOptim)
    """optimizer, schedule and numerics (ilya.nn.training)"""
    max_examples: int = 200_000
    """train steps read from the split (theorems in a seeded random order); 0 = all"""
    steps_per_theorem: int = 8
    """at most this many distinct steps of each theorem: the examples cover more of set.mm (0 = all)"""
    value_data: Path | None = None
    """JSON lines {"goal", "provable"} of value targets (written by `ilya prover iterate`)"""
    extra_data: Path | None = None
    """JSON lines {"goal", "step", "hyps"} of proof steps found by search, added to the train examples (iterate)"""
    value_fraction: float = 0.25
    """share of each batch given to value examples when value_data is set"""
    init: Path | None = None
    """start from this model folder (a run's model/) instead of random weights"""
    log_every: int = 25
    """steps between train-loss log lines"""
    eval_interval: int = 500
    """steps between valid-loss evaluations and checkpoints"""
    threads: int = 0
    """torch CPU threads (0 = all cores: 1.75x faster than 1 on this 2-core machine; use 1 on a busy CPU)"""

    def __post_init__(self) -> None:
        _at_least(1, steps=self.steps, batch_size=self.batch_size, eval_interval=self.eval_interval,
                  log_every=self.log_every, block_size=self.block_size)
        _at_least(0, slice=self.slice)
        if not 0.0 <= self.value_fraction < 1.0:
            raise IlyaError(f"--value-fraction {self.value_fraction:g}: expected a share in [0, 1)")


# ---------------------------------------------------------------------------- eval
@dataclass
class EvalConfig(RunConfig):
    """Prove the theorems of a split with best-first search; report % proved; write proofs.jsonl."""

    model: str | None = None
    """trained model: a prover run name (its model/ folder) or a model folder"""
    policy: PolicyKind = "model"
    """model (the trained language model) or frequency (the model-free baseline)"""
    data: Path | None = None
    """dataset folder (default: the one the model was trained on, else data/prover/set.mm)"""
    db: Path | None = None
    """Metamath database (default: the one the dataset was built from)"""
    split: Split = "test"
    """split to prove"""
    limit: int = 100
    """number of theorems of the split (a fixed hash-chosen subset; 0 = all)"""
    labels: list[str] | None = None
    """prove these labels instead of a split"""
    clean: bool = False
    """prove only the clean theorems of the split (no alpha-equivalent duplicate elsewhere, not derived in a
    train proof: `ilya prover dataset`); the figures report % proved on the clean ones either way"""
    e: int = 8
    """candidate steps sampled per expansion (paper: 32)"""
    d: int = 32
    """expansions per theorem (paper: 128)"""
    time_limit: float = 30.0
    """seconds per theorem: its own model and kernel time (not the wall time of the lockstep batch);
    inf = only --e and --d bound the search"""
    priority: Priority = "logprob"
    """logprob (cumulative log-probability) or value (the learned value function)"""
    decode: Decode = "constrained"
    """constrained (the model scores only assertions that match the goal, then writes the missing terms)
    or sample (the paper: free sampling, the kernel drops what does not apply)"""
    temperature: float = 1.0
    """sampling temperature (paper: 1)"""
    batch: int = 8
    """searches run in lockstep per worker (their policy calls are batched)"""
    workers: int = 1
    """Ray workers (1 = no Ray)"""
    address: str | None = None
    """join this Ray cluster instead of starting a local one"""
    metamath_exe: bool = False
    """also check every found proof with Debian's metamath binary"""
    threads: int = 1
    """torch threads per worker"""
    json: bool = False
    """print the figures as one JSON object"""

    def __post_init__(self) -> None:
        _at_least(1, e=self.e, d=self.d, batch=self.batch, workers=self.workers)
        _at_least(0, limit=self.limit, threads=self.threads)
        _positive(time_limit=self.time_limit, temperature=self.temperature)


# ---------------------------------------------------------------------------- suggest / prove
@dataclass
class SuggestConfig:
    """Proof assistant: the top-k next steps for a theorem (or a goal) with log-probabilities and subgoals."""

    target: Annotated[str, tyro.conf.Positional, tyro.conf.arg(metavar="target")]
    """a theorem label of the database, or a goal such as '|- ( ph -> ph )'"""
    model: str | None = None
    """trained model (prover run name or model folder); omit for the frequency baseline"""
    data: Path = DEFAULT_DATA
    """dataset folder (for the baseline and the default database)"""
    db: Path | None = None
    """Metamath database (default: the dataset's)"""
    k: int = 5
    """steps to show"""
    e: int = 32
    """samples drawn to rank them"""
    seed: int = 0
    """sampling seed"""
    runs_dir: Path = Path("runs")
    """folder that holds runs/"""
    json: bool = False
    """print one JSON object"""

    def __post_init__(self) -> None:
        _at_least(1, k=self.k, e=self.e)


@dataclass
class ProveConfig:
    """Prove a theorem of the database, or the last $p of a small .mm file, and print the proof."""

    target: Annotated[str, tyro.conf.Positional, tyro.conf.arg(metavar="target")]
    """a theorem label, or a .mm file whose last $p statement is to be proved"""
    model: str | None = None
    """trained model (prover run name or model folder); omit for the frequency baseline"""
    data: Path = DEFAULT_DATA
    """dataset folder (for the baseline and the default database)"""
    db: Path | None = None
    """Metamath database (default: the dataset's)"""
    e: int = 16
    """candidate steps per expansion"""
    d: int = 128
    """expansions"""
    time_limit: float = 120.0
    """seconds"""
    priority: Priority = "logprob"
    """logprob or value"""
    seed: int = 0
    """sampling seed"""
    runs_dir: Path = Path("runs")
    """folder that holds runs/"""
    json: bool = False
    """print one JSON object"""

    def __post_init__(self) -> None:
        _at_least(1, e=self.e, d=self.d)
        _positive(time_limit=self.time_limit)


@dataclass
class ServeConfig:
    """Web proof assistant: open a theorem or a goal, see ranked steps, apply them, prove, export."""

    model: str | None = None
    """trained model (prover run name or model folder); omit for the frequency baseline"""
    policy: PolicyKind = "model"
    """model (needs --model) or frequency (the model-free baseline)"""
    data: Path = DEFAULT_DATA
    """dataset folder (for the baseline and the default database)"""
    db: Path | None = None
    """Metamath database (default: the dataset's)"""
    host: str = "127.0.0.1"
    """address to bind (localhost by default)"""
    port: int = 8765
    """port to bind"""
    k: int = 8
    """suggestions shown"""
    e: int = 16
    """samples drawn per suggestion request / candidates per expansion"""
    d: int = 128
    """expansions of a 'prove' request"""
    time_limit: float = 30.0
    """seconds a 'prove' request may search"""
    seed: int = 0
    """sampling seed"""
    runs_dir: Path = Path("runs")
    """folder that holds runs/"""

    def __post_init__(self) -> None:
        _at_least(1, k=self.k, e=self.e, d=self.d)
        _positive(time_limit=self.time_limit)


# ---------------------------------------------------------------------------- iterate / shorten
@dataclass
class IterateConfig(RunConfig):
    """Run the paper's value-function loop: search train theorems, add proofs and value targets, retrain."""

    model: str = ""
    """starting model: a prover train run name or a model folder"""
    data: Path = DEFAULT_DATA
    """dataset folder"""
    db: Path | None = None
    """Metamath database (default: the dataset's)"""
    iterations: int = 2
    """number of search -> retrain rounds"""
    train_theorems: int = 64
    """train theorems searched per iteration (a fixed hash-chosen subset)"""
    test_theorems: int = 32
    """test theorems evaluated after each iteration"""
    e: int = 8
    """candidate steps per expansion"""
    d: int = 16
    """expansions per theorem"""
    time_limit: float = 20.0
    """seconds per theorem"""
    steps: int = 200
    """fine-tuning steps per iteration"""
    batch: int = 8
    """searches in lockstep"""
    value_fraction: float = 0.25
    """share of each fine-tuning batch given to value targets"""
    max_examples: int = 50_000
    """dataset steps mixed into each fine-tuning"""
    balance: bool = True
    """keep as many UNPROVABLE value targets as PROVABLE ones per iteration (searches yield ~10x more)"""
    json: bool = False
    """print the final figures as one JSON object"""

    def __post_init__(self) -> None:
        _at_least(1, e=self.e, d=self.d, steps=self.steps, batch=self.batch, train_theorems=self.train_theorems,
                  test_theorems=self.test_theorems)
        _at_least(0, iterations=self.iterations)
        _positive(time_limit=self.time_limit)


@dataclass
class ShortenConfig(RunConfig):
    """Look for proofs shorter than set.mm's; keep those both verifiers accept; write a patch."""

    model: str | None = None
    """trained model (prover run name or model folder); omit for the frequency baseline"""
    data: Path = DEFAULT_DATA
    """dataset folder"""
    db: Path | None = None
    """Metamath database (default: the dataset's)"""
    split: Split = "test"
    """theorems to try"""
    limit: int = 100
    """theorems tried (fixed hash-chosen subset; 0 = all)"""
    offset: int = 0
    """skip the first N theorems of that fixed order, to continue over more of a split without redoing
    theorems (`--offset 1500 --limit 700` tries the 1,501st to 2,200th)"""
    labels: list[str] | None = None
    """try these labels instead"""
    min_setmm_steps: int = 2
    """do not search theorems whose set.mm proof has fewer |- steps (below 2 nothing can be shorter)"""
    max_setmm_steps: int = 0
    """do not search theorems whose set.mm proof has more |- steps (0 = no cap; the baseline proves
    next to none above 40)"""
    combine: list[str] | None = None
    """search nothing: merge the kept proofs of these shorten runs (names or folders) into one patch
    against the database, which metamath-exe verifies whole"""
    e: int = 16
    """candidate steps per expansion"""
    d: int = 64
    """expansions per theorem (the search continues after the first proof)"""
    time_limit: float = 30.0
    """seconds per theorem"""
    batch: int = 8
    """searches in lockstep"""
    verify_patch: bool = True
    """also have metamath-exe verify every proof of the patched database (set.mm: about a minute)"""
    json: bool = False
    """print the figures as one JSON object"""

    def __post_init__(self) -> None:
        _at_least(1, e=self.e, d=self.d, batch=self.batch)
        _at_least(0, limit=self.limit, offset=self.offset, max_setmm_steps=self.max_setmm_steps)
        _at_least(2, min_setmm_steps=self.min_setmm_steps)
        if self.max_setmm_steps and self.max_setmm_steps < self.min_setmm_steps:
            raise IlyaError(f"--max-setmm-steps {self.max_setmm_steps}: expected at least --min-setmm-steps "
                            f"{self.min_setmm_steps} (or 0: no cap)")
        _positive(time_limit=self.time_limit)
        if self.labels and self.offset:
            raise IlyaError("--offset counts theorems of --split: it cannot go with --labels")
        if self.combine is not None and (self.labels or self.offset or self.model):
            raise IlyaError("--combine merges finished runs: it cannot go with --labels, --offset or --model")
        if self.combine is not None and not self.combine:
            raise IlyaError("--combine: expected at least one shorten run")

