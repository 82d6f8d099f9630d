"""The flags of `ilya metarl` commands (kept free of torch so that `--help` is quick)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Literal

import tyro

from ilya.core.runs import RunConfig
from ilya.metarl.envs import KrazyConfig, MazeConfig

Algo = Literal["maml", "emaml", "rl2", "erl2"]


@dataclass
class TrainConfig(RunConfig):
    """Meta-train MAML, E-MAML, RL² or E-RL² on Krazy World or mazes, evaluating on held-out worlds."""

    algo: Algo = "emaml"
    """maml | emaml (MAML plus the pre-update sampling term) | rl2 | erl2 (exploratory returns left out)"""
    env: Literal["krazy", "maze"] = "krazy"
    """task distribution"""
    env_steps: int = 300_000
    """training budget in environment steps (the paper trained far longer; see docs/metarl.md)"""
    krazy: KrazyConfig = field(default_factory=KrazyConfig)
    """Krazy World settings (used with --env krazy)"""
    maze: MazeConfig = field(default_factory=lambda: MazeConfig(size=5, horizon=60))
    """maze settings (used with --env maze; the paper's 20x20 is --maze.size 20 --maze.horizon 250)"""
    train_worlds: int = 32
    """number of training worlds"""
    test_worlds: int = 64
    """number of held-out test worlds"""
    world_seed: int = 0
    """which worlds: training worlds are seeds world_seed*10^6 + [0, train_worlds), test worlds + 500000"""
    gamma: float = 0.99
    """discount"""
    gae_lambda: float = 0.997
    """GAE λ (paper: 0.997)"""
    clip: float = 0.2
    """PPO clip ε (paper: 0.2)"""
    ppo_epochs: int = 4
    """PPO epochs per batch"""
    lr: float = 3e-3
    """Adam learning rate of the meta-update (MAML) or of PPO (RL²)"""
    entropy_coef: float = 0.005
    """entropy bonus"""
    max_grad_norm: float = 1.0
    """gradient clipping"""
    hidden: int = 64
    """width of the MLP layers (MAML) and of the GRU (RL²)"""
    meta_batch: int = 32
    """MAML: tasks per meta-update (drawn from the training worlds)"""
    episodes_per_task: int = 8
    """MAML: episodes sampled per task, before and after the inner update"""
    inner_lr: float = 0.5
    """MAML: step size α of the policy-gradient inner update"""
    emaml_weight: float = 1.0
    """E-MAML: weight of the term through the pre-update sampling distribution (only for --algo emaml)"""
    emaml_normalize: bool = True
    """E-MAML: per-step log-probabilities and standardised post-update returns in the extra term
    (--no-emaml-normalize: the raw estimator, which swamped the PPO term in our runs)"""
    emaml_first_epoch: bool = True
    """E-MAML: add the extra term in the first PPO epoch only, where it is on-policy"""
    trials: int = 64
    """RL²: trials (one world each) per PPO batch"""
    n_episodes: int = 5
    """RL²: episodes per trial"""
    n_explore: int = 3
    """RL²: exploratory episodes per trial (E-RL² leaves their returns out; both are scored after them)"""
    minibatches: int = 4
    """RL²: PPO minibatches per epoch"""
    value_coef: float = 0.5
    """RL²: weight of the value loss"""
    eval_every: int = 5
    """evaluate on the test worlds every this many iterations"""
    eval_episodes: int = 8
    """MAML: episodes per test world before and after adapting (and of the random floor)"""
    eval_trials: int = 4
    """RL²: trials per test world"""
    workers: int = 0
    """sampler processes: 0 or 1 samples in this process, more starts local Ray workers"""
    address: str | None = None
    """join this Ray cluster for sampling (e.g. auto or ray://host:10001)"""
    quiet: bool = False
    """no per-evaluation line on stderr"""
    json: bool = False
    """print the final figures as one JSON object"""



ALGOS = ("maml", "emaml", "rl2", "erl2")


@dataclass
class CompareConfig:
    """Train MAML, E-MAML, RL² and E-RL² over several seeds; draw test return vs env steps (the paper's figure)."""

    env: Literal["krazy", "maze"] = "krazy"
    """task distribution"""
    algos: list[str] = field(default_factory=lambda: list(ALGOS))
    """algorithms to compare"""
    seeds: list[int] = field(default_factory=lambda: [0, 1, 2])
    """training seeds per algorithm"""
    env_steps: int = 150_000
    """training budget of each run in environment steps"""
    jobs: int = 0
    """training runs in parallel processes (0: one per CPU core, at most one per run)"""
    krazy: KrazyConfig = field(default_factory=KrazyConfig)
    """Krazy World settings (used with --env krazy)"""
    maze: MazeConfig = field(default_factory=lambda: MazeConfig(size=5, horizon=60))
    """maze settings (used with --env maze)"""
    train_worlds: int = 32
    """number of training worlds"""
    test_worlds: int = 64
    """number of held-out test worlds"""
    eval_every: int = 3
    """evaluate on the test worlds every this many iterations"""
    workers: int = 0
    """Ray sampler workers per run (0: sample in the training process)"""
    address: str | None = None
    """join this Ray cluster for sampling"""
    run: str | None = None
    """name of the comparison run (default: compare-<env>); its training runs are <name>-<algo>-s<seed>"""
    fresh: bool = False
    """start every run over instead of resuming finished or interrupted ones"""
    runs_dir: Path = Path("runs")
    """folder that holds runs/<system>/<name>/"""
    json: bool = False
    """print the results as one JSON object"""


@dataclass
class EvalConfig:
    """Mean test return (± standard error) of a trained run on the held-out worlds, with the random floor."""

    run: Annotated[str, tyro.conf.Positional]
    """the run to evaluate (a name under runs/metarl/, system/name, or a folder)"""
    test_worlds: int | None = None
    """number of held-out worlds (default: the run's)"""
    seed: int = 0
    """seed of the evaluation's action sampling"""
    runs_dir: Path = Path("runs")
    """folder that holds runs/<system>/<name>/"""
    json: bool = False
    """print one JSON object"""


@dataclass
class WorldConfig:
    """Draw worlds of a task distribution (palette, board) and print their boards as text."""

    env: Literal["krazy", "maze"] = "krazy"
    """task distribution"""
    task_seeds: list[int] = field(default_factory=lambda: [0, 1, 2])
    """which worlds"""
    krazy: KrazyConfig = field(default_factory=KrazyConfig)
    """Krazy World settings"""
    maze: MazeConfig = field(default_factory=MazeConfig)
    """maze settings"""
    out: Path = Path("worlds.png")
    """where to write the picture"""
