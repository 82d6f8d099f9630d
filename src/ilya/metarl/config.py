"""The flags of `ilya metarl` commands and the task distributions' settings: dataclasses and Literal types
only (no torch, no numpy, no gymnasium), so `ilya metarl --help` is quick."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Annotated, Literal

import tyro

from ilya.core.config import RunConfig

Algo = Literal["maml", "emaml", "rl2", "erl2"]
EnvName = Literal["krazy", "maze", "bandit"]
ALGOS: tuple[Algo, ...] = ("maml", "emaml", "rl2", "erl2")
LABELS: dict[str, str] = {"maml": "MAML", "emaml": "E-MAML", "rl2": "RL²", "erl2": "E-RL²"}
TILE_NAMES = ("normal", "goal", "ice", "death", "wall", "lock", "key", "tele", "energy")
N_TILES = len(TILE_NAMES)


@dataclass(frozen=True)
class KrazyConfig:
    """What a Krazy World task distribution looks like (a field per flag of `ilya metarl train`)."""

    size: int = 10
    """board side (size x size tiles)"""
    obs: Literal["local", "full"] = "local"
    """local: the 3x3 window around the agent plus its row/column; full: the whole board"""
    pixels: bool = False
    """observe RGB images (palette colours) instead of one-hot vectors"""
    horizon: int = 40
    """steps per episode"""
    randomize_palette: bool = True
    """each task permutes the tile colours"""
    randomize_actions: bool = True
    """each task permutes the action mapping"""
    shuffle_features: bool = True
    """each task permutes the one-hot feature channels"""
    goals: float = 0.03
    """fraction of tiles that are goals (at least one)"""
    ice: float = 0.08
    """fraction of ice tiles"""
    death: float = 0.03
    """fraction of death tiles"""
    walls: float = 0.10
    """fraction of wall tiles"""
    locks: float = 0.03
    """fraction of lock tiles (one key per board when there are locks)"""
    teleporters: bool = True
    """place one teleporter pair"""
    energy_tiles: float = 0.02
    """fraction of energy tiles"""
    energy: int = 25
    """energy at the start and after a refill; 0 turns the energy rule off"""
    death_reward: float = -1.0
    """reward for stepping on a death tile"""
    energy_rule: Literal["refill", "additive"] = "refill"
    """refill: an energy tile resets energy to --energy and stays; additive: it adds --energy and is used up"""
    min_goal_dist: int = 0
    """goals lie at Manhattan distance > this from the start (the reference uses 2)"""
    end_on_all_goals: bool = True
    """the episode ends once every goal is taken (the reference does not end it)"""
    cell_px: int = 4
    """pixels per tile in RGB observations"""

    @property
    def obs_dim(self) -> int:
        n = self.size
        if self.obs == "full":
            return n * n * (N_TILES + 1) + 2
        return 9 * N_TILES + 2 * n + 2

    @property
    def image_shape(self) -> tuple[int, int, int]:
        side = (self.size if self.obs == "full" else 3) * self.cell_px
        return (side, side, 3)


# The world of the reference implementation (bstadie/krazyworld), used for the paper comparison; the
# defaults of `KrazyConfig` are our documented variant (death -1, walls and locks, refilling energy).
KRAZY_REFERENCE = KrazyConfig(death_reward=0.0, energy_rule="additive", walls=0.0, locks=0.0,
                              death=0.10, ice=0.05, energy_tiles=0.05, min_goal_dist=2,
                              end_on_all_goals=False)
KRAZY_PRESETS: dict[str, KrazyConfig] = {"ours": KrazyConfig(), "reference": KRAZY_REFERENCE}
KrazyPreset = Literal["ours", "reference"]
_RULE_FIELDS = ("death_reward", "energy_rule", "walls", "locks", "death", "ice", "energy_tiles",
                "min_goal_dist", "end_on_all_goals")


def krazy_world(k: KrazyConfig, preset: KrazyPreset) -> KrazyConfig:
    """``k`` with the preset's tile rules and shares (size, horizon, observations, permutations kept)."""
    if preset == "ours":
        return k
    ref = KRAZY_PRESETS[preset]
    return replace(k, **{f: getattr(ref, f) for f in _RULE_FIELDS})


@dataclass(frozen=True)
class MazeConfig:
    """What a maze task distribution looks like (a field per flag of `ilya metarl train --env maze`)."""

    size: int = 20
    """maze side in cells (the grid of walls and floor is 2*size+1 tiles wide)"""
    horizon: int = 250
    """steps per episode"""
    bump_penalty: float = 0.01
    """reward subtracted for walking into a wall"""
    goal_reward: float = 1.0
    """reward for reaching the goal (ends the episode)"""

    @property
    def obs_dim(self) -> int:
        return 9 + 2 * self.size


@dataclass(frozen=True)
class BanditConfig:
    """The RL² paper's Bernoulli multi-armed bandit (Duan et al. 2016, sec. 3.1): one pull per episode.

    A task seed draws each arm's success probability uniformly from [0, 1]; an RL² trial of
    ``--n-episodes`` episodes is that many pulls of the same arms, so the arms are redrawn per trial."""

    arms: int = 5
    """number of arms"""
    horizon: int = 1
    """pulls per episode (the RL² setting: 1, a trial of n episodes is n pulls)"""

    @property
    def obs_dim(self) -> int:
        return 1



@dataclass
class TrainConfig(RunConfig):
    """Meta-train MAML, E-MAML, RL² or E-RL² on Krazy World or mazes, evaluating on held-out worlds."""

    algo: Algo = "emaml"
    """maml | emaml (MAML plus the pre-update sampling term) | rl2 | erl2 (exploratory returns left out)"""
    env: EnvName = "krazy"
    """task distribution"""
    env_steps: int = 300_000
    """training budget in environment steps (the paper trained far longer; see docs/metarl.md)"""
    krazy: KrazyConfig = field(default_factory=KrazyConfig)
    """Krazy World settings (used with --env krazy)"""
    krazy_preset: KrazyPreset = "ours"
    """ours: the --krazy.* rules as given; reference: bstadie/krazyworld's rules and tile shares override them"""
    maze: MazeConfig = field(default_factory=lambda: MazeConfig(size=5, horizon=60))
    """maze settings (used with --env maze; the paper's 20x20 is --maze.size 20 --maze.horizon 250)"""
    bandit: BanditConfig = field(default_factory=BanditConfig)
    """bandit settings (used with --env bandit)"""
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
    """E-MAML: scale the extra term by constants only (1/horizon on log π(τ), 1/running s.d. of past
    advantages), which keeps it unbiased (--no-emaml-normalize: the raw Σ(Rᵢ - bᵢ) log π(τᵢ))"""
    emaml_baseline_decay: float = 0.8
    """E-MAML: the baseline bᵢ of training world i is a running mean of its earlier post-update returns,
    bᵢ <- decay bᵢ + (1 - decay) Rᵢ after each iteration it appears in"""
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
    """MAML: post-update episodes scored per adaptation (each adaptation uses --episodes-per-task episodes)"""
    eval_adapts: int = 12
    """MAML: independent adaptations per test world at each evaluation"""
    eval_trials: int = 48
    """RL²: trials per test world at each evaluation"""
    floor_episodes: int = 256
    """episodes per test world of the uniform random policy (the floor)"""
    workers: int = 0
    """sampler processes: 0 or 1 samples in this process, more starts local Ray workers"""
    address: str | None = None
    """join this Ray cluster for sampling (e.g. auto or ray://host:10001)"""
    quiet: bool = False
    """no per-evaluation line on stderr"""
    json: bool = False
    """print the final figures as one JSON object"""


@dataclass
class CompareConfig:
    """Train MAML, E-MAML, RL² and E-RL² over several seeds; draw test return vs env steps (the paper's figure)."""

    env: EnvName = "krazy"
    """task distribution"""
    algos: list[Algo] = field(default_factory=lambda: list(ALGOS))
    """algorithms to compare"""
    seeds: list[int] = field(default_factory=lambda: [0, 1, 2])
    """training seeds per algorithm"""
    env_steps: int = 150_000
    """training budget of each run in environment steps"""
    jobs: int = 0
    """training runs in parallel processes (0: one per CPU core, at most one per run)"""
    krazy: KrazyConfig = field(default_factory=KrazyConfig)
    """Krazy World settings (used with --env krazy)"""
    krazy_preset: KrazyPreset = "ours"
    """ours: the --krazy.* rules as given; reference: bstadie/krazyworld's rules and tile shares override them"""
    maze: MazeConfig = field(default_factory=lambda: MazeConfig(size=5, horizon=60))
    """maze settings (used with --env maze)"""
    train_worlds: int = 32
    """number of training worlds"""
    test_worlds: int = 64
    """number of held-out test worlds"""
    bandit: BanditConfig = field(default_factory=BanditConfig)
    """bandit settings (used with --env bandit)"""
    eval_every: int = 3
    """evaluate on the test worlds every this many iterations"""
    n_episodes: int = 5
    """RL²: episodes per trial"""
    n_explore: int = 3
    """RL²: exploratory episodes per trial"""
    lr: float | None = None
    """learning rate of every run (default: train's --lr, 3e-3)"""
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
    trials: int | None = None
    """RL²: trials per test world (default: the run's --eval-trials)"""
    seed: int | None = None
    """seed of the evaluation's action sampling (default: the run's own evaluation seed, which gives its
    summary's figures)"""
    runs_dir: Path = Path("runs")
    """folder that holds runs/<system>/<name>/"""
    json: bool = False
    """print one JSON object"""


@dataclass
class WorldConfig:
    """Draw worlds of a task distribution (palette, board) and print their boards as text."""

    env: EnvName = "krazy"
    """task distribution"""
    task_seeds: list[int] = field(default_factory=lambda: [0, 1, 2])
    """which worlds"""
    krazy: KrazyConfig = field(default_factory=KrazyConfig)
    """Krazy World settings"""
    maze: MazeConfig = field(default_factory=MazeConfig)
    """maze settings"""
    bandit: BanditConfig = field(default_factory=BanditConfig)
    """bandit settings"""
    out: Path = Path("worlds.png")
    """where to write the picture"""
