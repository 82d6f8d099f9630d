"""The flags of `ilya five` commands (no torch, numpy, ray or matplotlib: `--help` imports this)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Literal

import tyro

from ilya.core.config import OptimConfig, RunConfig

HERO_NAMES: tuple[str, ...] = ("brawler", "archer", "mage", "support", "carry")
"""the hero roster of the lane game (stats in `ilya.five.envs.HEROES`)"""
Opponent = Literal["scripted", "random"]
ObsSet = Literal["base", "extended"]
ModelShape = Literal["small", "paper"]


@dataclass
class GameConfig:
    """Rules of the 5v5 lane game that a run may change."""

    lanes: Literal[1, 3] = 1
    """lanes with creeps and a tower per side (1, or 3 like Dota's map)"""
    heroes: tuple[str, ...] = HERO_NAMES
    """the five heroes of each team (from: brawler, archer, mage, support, carry)"""
    max_steps: int = 1000
    """game length cap in steps (0.1 s of game time each); at the cap the side with more structure HP wins"""
    lane_length: float = 100.0
    """distance between the two ancients"""
    obs: ObsSet = "base"
    """observation set: base, or extended (+ last-hit features, the ones surgery adds)"""
    act_every: int = 4
    """a trained policy picks an action every this many steps and repeats it in between (OpenAI Five: every
    4th frame); the scripted bot and random heroes act every step"""


@dataclass
class ModelConfig:
    """The shared policy of the five heroes."""

    hidden: int = 128
    """LSTM units (OpenAI Five: 4096)"""
    embed: int = 128
    """width of the observation embedding before the LSTM"""
    shape: ModelShape = "small"
    """small (--model.hidden) or paper (a 4096-unit LSTM as in OpenAI Five: 101M parameters here)"""


@dataclass
class SurgeryPlan:
    """Model surgery in the middle of training (Berner et al. 2019, Appendix B)."""

    at: int = 0
    """iteration at which to operate (0: no surgery)"""
    hidden: int = 256
    """the LSTM width after surgery"""
    obs: ObsSet = "extended"
    """the observation set after surgery"""


@dataclass
class TrainConfig(RunConfig):
    """Self-play PPO for the shared LSTM policy of five heroes (OpenAI Five's recipe at small scale)."""

    game: GameConfig = field(default_factory=GameConfig)
    """game rules"""
    model: ModelConfig = field(default_factory=ModelConfig)
    """policy network"""
    optim: OptimConfig = field(default_factory=lambda: OptimConfig(optimizer="adam", lr=5e-4, grad_clip=5.0))
    """optimizer of the learner"""
    minutes: float = 0.0
    """wall-clock training budget in minutes (0: use --iterations); evaluations during training not counted"""
    cpu_minutes: float = 0.0
    """CPU-time training budget in minutes: the learner process's CPU time plus its Ray workers' (0: none);
    evaluations during training not counted; with --minutes too, whichever runs out first ends training"""
    iterations: int = 200
    """PPO iterations (a rollout of --rollout-len steps of every game, then --epochs of updates)"""
    num_games: int = 32
    """games played at once per rollout worker"""
    rollout_len: int = 32
    """steps per rollout chunk (the LSTM is trained on chunks of this length, as in the paper)"""
    epochs: int = 2
    """PPO epochs over each batch"""
    minibatches: int = 4
    """minibatches per epoch"""
    gamma: float = 0.995
    """discount per game step (paper: horizon of ~80 s of game time); gamma ** act_every per decision"""
    gae_lambda: float = 0.95
    """GAE λ (paper: 0.95)"""
    clip: float = 0.2
    """PPO clip ε (paper: 0.2)"""
    value_coef: float = 0.5
    """weight of the value loss"""
    entropy_coef: float = 0.01
    """entropy bonus"""
    entropy_end: float | None = None
    """entropy bonus at the end of training, reached linearly from the end of the τ anneal (ours, not the
    paper's; default: --entropy-coef throughout)"""
    lr_end: float = 1.0
    """learning rate at the end of training as a fraction of --optim.lr, reached linearly from the end of the
    τ anneal (ours, not the paper's; 1: constant)"""
    reward_kill: float = 0.0
    """reward per enemy hero killed, on top of its gold and XP (the paper's table: -0.6)"""
    reward_tower: float = 1.0
    """team reward per enemy tower destroyed, 2/3 as its HP falls, 1/3 when it falls (paper's tier-1 tower: 2.25)"""
    team_spirit_start: float = 0.3
    """team spirit τ at the start (paper: 0.3)"""
    team_spirit_end: float = 1.0
    """team spirit τ at the end of the anneal (paper: 1.0)"""
    team_spirit_anneal: float = 0.5
    """fraction of training over which τ goes linearly from start to end"""
    past_fraction: float = 0.2
    """fraction of games against past versions (paper: 0.2); the rest are against the current policy"""
    bot_fraction: float = 0.0
    """fraction of games against the scripted bot (ours, not the paper's: a fixed member of the pool)"""
    random_fraction: float = 0.0
    """fraction of games against random heroes (ours, not the paper's: a fixed member of the pool)"""
    pool_every: int = 10
    """add the current policy to the opponent pool every this many iterations"""
    pool_size: int = 32
    """most past versions kept in the pool"""
    quality_lr: float = 0.01
    """step size η of the quality-score update (paper: 0.01)"""
    staleness: int = 0
    """train on rollouts played by the policy of this many versions ago (0: on-policy; paper's Fig. 5b)"""
    max_staleness: int = 4
    """drop rollouts older than this many versions (Ray workers)"""
    workers: int = 0
    """Ray rollout workers (0: play in the learner's process)"""
    address: str | None = None
    """join this Ray cluster (e.g. auto); default: a local Ray"""
    surgery: SurgeryPlan = field(default_factory=SurgeryPlan)
    """model surgery in the middle of training"""
    init_from: str | None = None
    """start from another run's latest checkpoint (its architecture must match, or use ilya five surgery)"""
    eval_every: int = 25
    """play --eval-games against the scripted bot and random every this many iterations (0: never)"""
    eval_games: int = 16
    """games per evaluation"""
    eval_temperature: float = 1.0
    """sampling temperature of the policy in those evaluations (1: as trained)"""
    keep_best: bool = False
    """keep the policy of the best of those evaluations (win rate vs the scripted bot, then vs random) as
    best.safetensors; `ilya five eval --policy best` plays it (ours: checkpoint selection by held-out games)"""
    ckpt_every: int = 10
    """checkpoint every this many iterations"""
    ckpt_minutes: float = 3.0
    """also checkpoint when this many minutes passed since the last one"""
    threads: int = 1
    """torch threads of the learner"""


@dataclass
class EvalConfig:
    """Play a trained run's policy against the scripted bot or random heroes; win rate with its interval."""

    run: Annotated[str, tyro.conf.Positional]
    """the run (folder, five/name or name)"""
    opponent: Opponent = "scripted"
    """scripted bot or random heroes"""
    policy: Literal["latest", "best"] = "latest"
    """the run's latest checkpoint, or the best one its evaluations during training chose (--keep-best)"""
    temperature: float = 1.0
    """sampling temperature of the policy (1: as trained; 0.25: sharper, games still differ)"""
    games: int = 64
    """games to play (half on each side)"""
    seed: int = 0
    """seed of the games"""
    runs_dir: Path = Path("runs")
    """folder that holds runs/five/<name>/"""
    json: bool = False
    """print one JSON object"""


@dataclass
class RateConfig:
    """Rate a run's checkpoints against random, the scripted bot and each other with TrueSkill."""

    run: Annotated[str, tyro.conf.Positional]
    """the run (folder, five/name or name)"""
    games: int = 16
    """games per pairing"""
    snapshots: int = 12
    """rate at most this many snapshots, evenly spaced over training"""
    temperature: float = 1.0
    """sampling temperature of the policies (1: as trained)"""
    seed: int = 0
    """seed of the games"""
    runs_dir: Path = Path("runs")
    """folder that holds runs/five/<name>/"""
    json: bool = False
    """print one JSON object"""


@dataclass
class ReplayConfig:
    """Play one game (a run's policy or the scripted bot against an opponent) and write it as GIF or MP4."""

    out: Path = Path("five_replay.gif")
    """output file: .gif or .mp4"""
    run: str | None = None
    """the run whose policy plays the first side (default: the scripted bot)"""
    opponent: Opponent = "scripted"
    """the other side"""
    game: GameConfig = field(default_factory=GameConfig)
    """game rules (used without --run)"""
    steps: int = 400
    """most steps to record"""
    every: int = 2
    """record every this many steps"""
    seed: int = 0
    """seed of the game"""
    runs_dir: Path = Path("runs")
    """folder that holds runs/five/<name>/"""


@dataclass
class BenchConfig:
    """Game steps per second of the vectorised lane game on one core (random or scripted actions)."""

    games: int = 256
    """games stepped at once"""
    steps: int = 300
    """batched steps to time"""
    actions: Literal["random", "scripted"] = "random"
    """who picks the actions"""
    game: GameConfig = field(default_factory=GameConfig)
    """game rules"""
    json: bool = False
    """print one JSON object"""
