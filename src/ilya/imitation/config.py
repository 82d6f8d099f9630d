"""The flags of `ilya imitation` commands (no torch, numpy, ray or matplotlib: ``--help`` stays quick)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Literal

import tyro

from ilya.core.config import OptimConfig, RunConfig

Physics = Literal["full", "hybrid"]
Algo = Literal["bc", "dagger"]
Conditioning = Literal["demo", "final"]
Split = Literal["train", "test", "both"]


@dataclass
class TaskSetConfig:
    """Which tasks: the default is CPU-sized; the paper's set is --max-blocks 10 --max-stages 8
    --train-tasks 140 --test-tasks 43."""

    max_blocks: int = 6
    """blocks in every scene (labels a, b, ...); the paper: 10"""
    max_stages: int = 5
    """most stages (blocks placed) of a task; tasks spread evenly over 1..max_stages; the paper: 8"""
    train_tasks: int = 40
    """training layouts; the paper: 140"""
    test_tasks: int = 12
    """test layouts, disjoint from the training ones; the paper: 43"""
    task_seed: int = 0
    """which layouts are drawn"""
    physics: Physics = "hybrid"
    """hybrid (kinematic grasp, MuJoCo settles the blocks; fast) or full (contact-rich MuJoCo grasping)"""


def default_optim() -> OptimConfig:
    return OptimConfig(optimizer="adamax", lr=1e-3, grad_clip=1.0)


@dataclass
class CollectConfig(TaskSetConfig):
    """Collect scripted demonstrations of every task into a dataset folder (resumes an unfinished one)."""

    out: Path | None = None
    """dataset folder (default: <runs-dir>/datasets/imitation/<physics>-<task-set hash>)"""
    demos_per_task: int = 24
    """demonstrations per training task"""
    test_demos_per_task: int = 10
    """demonstrations per test task (what a policy is conditioned on at test time)"""
    seed: int = 0
    """seed of the initial block positions"""
    runs_dir: Path = Path("runs")
    """folder that holds runs/ and datasets/"""
    workers: int = 0
    """Ray workers (0: collect in this process; more starts local Ray workers)"""
    address: str | None = None
    """join this Ray cluster instead (e.g. auto)"""
    json: bool = False
    """print the dataset's figures as one JSON object"""


@dataclass
class ModelConfig:
    """The paper's networks (section 4), CPU-sized."""

    dim: int = 48
    """width of block embeddings"""
    block_layers: int = 1
    """neighbourhood-attention layers over blocks (per time step)"""
    conv_dilations: list[int] = field(default_factory=lambda: [1, 2, 4])
    """dilations of the demonstration network's temporal convolutions"""
    heads: int = 2
    """context network: attention heads over blocks"""
    hidden: int = 128
    """manipulation network: MLP width"""
    block_readout: bool = True
    """ours, not the paper's: the manipulation network also reads every block slot's context embedding and
    position relative to the gripper (a flat per-block readout beside the attention heads); without it the
    network underfits even one fixed task (docs/imitation.md, sanity checks)"""
    pooled_readout: bool = True
    """ours: the manipulation network also reads a max over the present blocks of a learned per-block feature"""
    step_scaled: bool = True
    """ours: the attended blocks' relative positions are also given in hand steps, clipped to [-1, 1]"""
    max_blocks: int = 6
    """block slots of the flat readout (set from the dataset by training)"""
    temporal_dropout: float = 0.95
    """probability of dropping a demonstration time step in training (the paper: 0.95)"""
    keep_final: bool = True
    """ours: temporal dropout in training always keeps the demonstration's final step, as the test-time
    subsampling does (with p = 0.95 a 70-step demonstration otherwise often shows no step after its move)"""
    time_feature: bool = True
    """ours: each kept demonstration step carries its rank among the kept steps (0 first, 1 last), so the
    order in which blocks were moved can be read"""
    random_tags: bool = True
    """ours: in training each example gives its block slots a random permutation of the label embeddings, so
    labels serve as identity tags (which block goes on which one) and carry no prior about the training layouts"""
    chained_heads: bool = True
    """ours: attention heads over blocks after the first also see the first head's attended block (head 0
    picks the block to move, head 1 the block it goes on)"""


@dataclass
class TrainConfig(TaskSetConfig, RunConfig):
    """Train the one-shot imitation policy by behaviour cloning or DAgger, then evaluate it by stages."""

    algo: Algo = "dagger"
    """bc (behaviour cloning on the demonstrations) or dagger (then expert labels on the policy's own states)"""
    conditioning: Conditioning = "demo"
    """train on the whole demonstration (temporal dropout) or on its final state only"""
    dataset: Path | None = None
    """dataset folder of `ilya imitation collect` (default: collected, or resumed, for these task flags)"""
    demos_per_task: int = 24
    """demonstrations per training task (when the dataset is collected here)"""
    test_demos_per_task: int = 10
    """demonstrations per test task (when the dataset is collected here)"""
    steps: int = 6000
    """gradient steps in all (BC, then DAgger's rounds share the rest)"""
    batch: int = 32
    """(demonstration, state, action) triples per step"""
    dagger_start: float = 0.5
    """DAgger: fraction of steps of plain BC before the first round"""
    dagger_rounds: int = 4
    """DAgger: rounds of rollouts of the policy labelled by the expert"""
    dagger_episodes: int = 2
    """DAgger: episodes per training task per round"""
    dagger_beta: float = 0.5
    """DAgger: probability the expert's action is executed in the first round (halves every round)"""
    aux_weight: float = 1.0
    """ours, not the paper's: weight of an auxiliary cross-entropy that makes the context network's first two
    attention heads over blocks name the current stage's block to move and the block it goes on (labels from
    the task and the state); 0 turns it off (the paper's loss)"""
    fine_weight: float = 1.0
    """ours: weight of the move error on steps where the expert's move is small but not zero (the fine approach
    to a block; 1: unweighted)"""
    select_every: int = 0
    """ours, not the paper's: from DAgger's first round on, every this many steps roll the policy alone (no
    expert actions) out on the training tasks from fresh initial states (validation episodes, never the test
    tasks) and end the run with the weights that succeeded most (0: the last weights)"""
    ema: float = 0.0
    """ours, not the paper's: decay of an exponential moving average of the weights (Polyak averaging; e.g.
    0.999); DAgger's rollouts, the validation checks and the final policy use the averaged weights (0: off)"""
    select_episodes: int = 1
    """validation episodes per training task of each `--select-every` check"""
    aux_force: float = 0.0
    """ours: probability that a training example's attention heads are replaced by the labelled blocks
    (teacher forcing of the auxiliary heads; 0: never)"""
    model: ModelConfig = field(default_factory=ModelConfig)
    """network sizes"""
    optim: OptimConfig = field(default_factory=default_optim)
    """optimizer (the paper: Adamax, lr 1e-3)"""
    log_every: int = 50
    """log the training loss every this many steps"""
    heldout_every: int = 250
    """log move error, grip accuracy and attention accuracy on 256 fixed test-task states every this many steps"""
    ckpt_every: int = 500
    """checkpoint every this many steps"""
    eval_trials: int = 10
    """episodes per task of the final evaluation (0: none)"""
    workers: int = 0
    """Ray workers for the final evaluation (0: in this process)"""
    address: str | None = None
    """join this Ray cluster instead"""
    threads: int = 0
    """torch threads (0: torch's default)"""
    json: bool = False
    """print the final figures as one JSON object"""


@dataclass
class EvalConfig:
    """Success rate by number of stages of a trained policy, on training and test tasks."""

    run: Annotated[str, tyro.conf.Positional]
    """the run to evaluate (a name under runs/imitation/, system/name, or a folder)"""
    conditioning: Conditioning = "demo"
    """demo (the whole demonstration) or final (its final state only)"""
    ensemble: int = 1
    """demonstrations whose actions are averaged (the paper: 1 or 10)"""
    split: Split = "test"
    """which tasks"""
    trials: int = 10
    """episodes per task"""
    physics: Physics | None = None
    """evaluate in another physics mode than the run's"""
    seed: int = 0
    """seed of the evaluation episodes' initial states"""
    workers: int = 0
    """Ray workers (0: in this process)"""
    address: str | None = None
    """join this Ray cluster instead"""
    runs_dir: Path = Path("runs")
    """folder that holds runs/<system>/<name>/"""
    json: bool = False
    """print the figures as one JSON object"""


@dataclass
class ExpertConfig(TaskSetConfig):
    """Success rate of the scripted expert by number of stages (on every task of the set)."""

    trials: int = 10
    """episodes per task"""
    seed: int = 0
    """seed of the initial states"""
    workers: int = 0
    """Ray workers (0: in this process)"""
    address: str | None = None
    """join this Ray cluster instead"""
    json: bool = False
    """print the figures as one JSON object"""


@dataclass
class VideoConfig:
    """Render an episode (the expert's, or a trained policy's) to a GIF or MP4 with MuJoCo's offscreen renderer."""

    layout: str = "ab cde"
    """the task (towers, bottom block first)"""
    blocks: int = 6
    """blocks in the scene"""
    run: str | None = None
    """a trained run to roll out (default: the scripted expert)"""
    physics: Physics = "hybrid"
    """physics mode"""
    seed: int = 0
    """initial state"""
    out: Path = Path("blockstack.gif")
    """output file (.gif or .mp4)"""
    width: int = 320
    """frame width"""
    height: int = 240
    """frame height"""
    every: int = 2
    """keep every this many frames"""
    runs_dir: Path = Path("runs")
    """folder that holds runs/<system>/<name>/"""
