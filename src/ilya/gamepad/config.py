"""Configs of `ilya gamepad` commands (dataclasses and Literal types only: ``--help`` imports this)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Literal

import tyro

from ilya.core.config import OptimConfig, RunConfig

Task = Literal["position", "tactic"]
ModelName = Literal["constant", "svm", "gru", "treelstm"]
Split = Literal["train", "valid", "test"]


@dataclass
class ExtractConfig:
    """Step every proof of a Coq corpus through coqtop and write the proof-state dataset."""

    corpus: str = "mathcomp"
    """mathcomp, stdlib, odd-order, or a folder of .v files (or one .v file)"""
    out: Path | None = None
    """dataset folder (default: data/gamepad/<corpus name>); an existing one is resumed"""
    workers: int = 2
    """coqtop processes working on files in parallel"""
    timeout: float = 120.0
    """seconds one sentence may take before coqtop is killed and the lemma logged as failed"""
    max_goals: int = 4
    """goals per proof state recorded with their hypotheses (the others by conclusion only)"""
    only: list[str] = field(default_factory=list)
    """extract only files whose path contains one of these strings (e.g. ssreflect/div.v)"""
    limit: int | None = None
    """extract at most this many (not yet extracted) files in this session"""
    sha256: str | None = None
    """sha256 of the odd-order archive (verifies the download)"""
    json: bool = False
    """print the manifest as one JSON object"""


@dataclass
class TrainOptim(OptimConfig):
    lr: float = 2e-3
    """peak learning rate"""


@dataclass
class TrainConfig(RunConfig):
    """Train a position-evaluation or tactic-prediction model on an extracted dataset."""

    task: Task = "position"
    """position (steps left in 3 bins: <5, 5-20, >20) or tactic (the next tactic's class)"""
    model: ModelName = "svm"
    """constant (majority class), svm (bag of tokens), gru or treelstm (term-tree embedders)"""
    data: str = "data/gamepad/mathcomp"
    """dataset folder written by `ilya gamepad extract`, or `tiny` (a built-in sample, extracted once)"""
    steps: int = 3000
    """gradient steps (gru, treelstm)"""
    batch_size: int = 32
    """proof states per batch"""
    dim: int = 64
    """embedding width"""
    sharing: bool = True
    """embed each shared subterm once per batch (the paper's embedding sharing)"""
    max_nodes: int = 4000
    """proof states with more distinct term nodes are cut to their conclusion and last hypotheses"""
    max_train: int | None = None
    """use at most this many training examples (learning curves)"""
    eval_every: int = 500
    """evaluate on the valid split every this many steps"""
    ckpt_every: int = 100
    """checkpoint every this many steps"""
    log_every: int = 50
    """log the training loss every this many steps"""
    threads: int = 2
    """torch CPU threads"""
    optim: TrainOptim = field(default_factory=TrainOptim)


@dataclass
class EvalConfig:
    """Evaluate a trained model on every split: accuracy beside the paper's, confusion matrices."""

    run: Annotated[str, tyro.conf.Positional]
    """the training run (gamepad/<name> or a run folder)"""
    runs_dir: Path = Path("runs")
    """folder that holds runs/<system>/<name>/"""
    json: bool = False
    """print one JSON object"""


@dataclass
class RewriteConfig(RunConfig):
    """Algebraic rewrite synthesis (the paper's section 4): generate, train, synthesize, check with Coq."""

    train_problems: int = 300
    """rewrite problems for training (proved by the scripted strategy)"""
    test_problems: int = 60
    """held-out problems to synthesize proofs for"""
    train_size: int = 6
    """expansion steps of training problems"""
    test_size: int = 8
    """expansion steps of test problems (larger than training)"""
    max_steps: int = 60
    """rewrite steps allowed per synthesized proof"""
    fallback_k: int = 3
    """with fallback: candidates tried in the model's order after a rejected step"""
    json: bool = False
    """print one JSON object"""


@dataclass
class SearchConfig:
    """Model-guided best-first proof search in the live Coq environment on held-out lemmas."""

    data: str = "data/gamepad/mathcomp"
    """dataset folder (its test split gives the lemmas)"""
    run: str | None = None
    """a tactic-prediction run (svm) that ranks tactics (default: the tactic frequencies of the dataset)"""
    lemmas: int = 40
    """held-out lemmas to attempt"""
    expansions: int = 8
    """proof states expanded per lemma"""
    per_class: int = 8
    """most frequent training tactic sentences of each class added to the candidates"""
    step_timeout: float = 5.0
    """seconds per tactic"""
    seed: int = 0
    """which held-out lemmas are drawn"""
    runs_dir: Path = Path("runs")
    """folder that holds runs/<system>/<name>/"""
    json: bool = False
    """print one JSON object"""
