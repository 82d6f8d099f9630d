"""Matches between players (a policy, the scripted bot, random heroes) over a batch of games."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from ilya.core.progress import progress
from ilya.five.bots import RandomBot, ScriptedBot
from ilya.five.config import GameConfig
from ilya.five.envs import TEAM, LaneGame


class Player(Protocol):
    def reset(self, games: np.ndarray) -> None: ...


@dataclass
class MatchResult:
    """Games of player A against player B; A played radiant in the first half of the games."""

    wins: int
    losses: int
    draws: int
    lengths: list[int]
    deaths: list[int] = field(default_factory=list)
    """per game: deaths of A's heroes"""
    kills: list[int] = field(default_factory=list)
    """per game: kills by A's heroes"""

    @property
    def games(self) -> int:
        return self.wins + self.losses + self.draws

    @property
    def win_rate(self) -> float:
        """Wins plus half the draws, per game."""
        return (self.wins + 0.5 * self.draws) / max(self.games, 1)


def make_player(spec: object, n: int, seed: int, act_every: int = 1,
                temperature: float | tuple[float, float, float] = 1.0) -> object:
    """'scripted', 'random', or a `FivePolicy` (played by a `PolicyPlayer` deciding every ``act_every`` steps;
    ``temperature``: one, or one per head); a `PolicyPlayer` built by the caller is used as it is."""
    if spec == "scripted":
        return ScriptedBot(n)
    if spec == "random":
        return RandomBot(seed)
    from ilya.five.rollout import PolicyPlayer

    if isinstance(spec, PolicyPlayer):
        return spec
    return PolicyPlayer(spec, n, seed=seed, act_every=act_every, temperature=temperature)  # type: ignore[arg-type]


def _act(player: object, game: LaneGame, obs: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    from ilya.five.rollout import PolicyPlayer

    if isinstance(player, PolicyPlayer):
        return player.act(game, obs)
    return player.act(game)  # type: ignore[attr-defined]


def sides(games: int) -> tuple[np.ndarray, np.ndarray]:
    """Where player A sits in each game of a `play` match: (games,) its side (0: radiant, in the first
    half; 1: dire) and (games, 10) which heroes are A's."""
    a_side = (np.arange(games) >= (games + 1) // 2).astype(np.int64)
    return a_side, (np.arange(10)[None] // TEAM) == a_side[:, None]


def play(a: object, b: object, games: int, cfg: GameConfig, seed: int = 0, desc: str | None = None,
         temperature: float | tuple[float, float, float] = 1.0) -> MatchResult:
    """Play ``games`` games (A radiant in half of them, dire in the others), each to its end; policies sample
    their actions at ``temperature`` (1: as trained; lower: sharper, still random, so games differ; or one
    per head: kind, direction, target)."""
    n = games
    game = LaneGame(n, cfg, seed=seed, autoreset=False)
    obs = game.reset()
    pa = make_player(a, n, seed + 1, cfg.act_every, temperature)
    pb = make_player(b, n, seed + 2, cfg.act_every, temperature)
    a_side, heroes_a = sides(n)
    finished = np.zeros(n, bool)
    winner = np.full(n, -1)
    length = np.zeros(n, np.int64)
    deaths, kills = np.zeros(n, np.int64), np.zeros(n, np.int64)
    bar = progress(total=cfg.max_steps, desc=desc or "match")
    while not finished.all():
        ka, da, ta = _act(pa, game, obs)
        kb, db, tb = _act(pb, game, obs)
        k, d, t = (np.where(heroes_a, x, y) for x, y in ((ka, kb), (da, db), (ta, tb)))
        obs, _, done, info = game.step(k, d, t)
        new = done & ~finished
        winner[new] = info["winner"][new]
        length[new] = info["t"][new]
        deaths[new] = np.where(heroes_a, info["stats_deaths"], 0).sum(-1)[new]
        kills[new] = np.where(heroes_a, info["stats_kills"], 0).sum(-1)[new]
        finished |= done
        bar.update(1)
    bar.close()
    wins = int(((winner == a_side)).sum())
    draws = int((winner == 2).sum())
    return MatchResult(wins, n - wins - draws, draws, length.tolist(), deaths.tolist(), kills.tolist())
