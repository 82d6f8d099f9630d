"""OpenAI Five's rewards: shaped per-hero rewards, team spirit and the zero-sum subtraction.

Berner et al. 2019, Appendix F (Table 6): each hero is rewarded for its own health, mana, gold, last hits
and deaths, and its team for towers, the enemy ancient's health and the win.  *Team spirit* τ mixes each
hero's reward with its team's mean, ``r_i <- (1 - τ) r_i + τ mean_team(r)`` (τ annealed from 0.3 to
1.0), and the game is made zero-sum by subtracting the opposing team's mean reward from every hero.
The weights below are the paper's, applied to this game's units (HP and mana as fractions of the maximum).
"""

from __future__ import annotations

import numpy as np

TEAM = 5
WEIGHTS: dict[str, float] = {
    "win": 5.0,
    "hp": 0.2,  # per fraction of max HP (paper 2.0: at 2.0 and 0.5 our policies learned to hide in the fountain)
    "mana": 0.75,  # per fraction of max mana
    "gold": 0.006,  # per gold
    "xp": 0.002,  # per experience point
    "last_hit": 0.16,
    "kill": 0.0,  # per enemy hero killed, on top of its gold and XP (paper: -0.6)
    "death": -1.0,
    "tower": 1.0,  # every hero of the side that destroys a tower: 2/3 as its HP falls, 1/3 when it falls
    "ancient": 5.0,  # per fraction of the enemy ancient's HP, to the attacking side
}


def run_weights(kill: float, tower: float) -> dict[str, float] | None:
    """`WEIGHTS` with a run's kill and tower weights (None when they are the defaults)."""
    if kill == WEIGHTS["kill"] and tower == WEIGHTS["tower"]:
        return None
    return {**WEIGHTS, "kill": kill, "tower": tower}


def shaped_rewards(info: dict[str, np.ndarray], weights: dict[str, float] | None = None) -> np.ndarray:
    """(n, 10) per-hero rewards of one step from the game's step ``info``."""
    w = WEIGHTS if weights is None else weights
    r = (w["hp"] * info["hp_frac_delta"] + w["mana"] * info["mana_frac_delta"] + w["gold"] * info["gold"] + w["xp"] * info["xp"]
         + w["last_hit"] * info["last_hits"] + w.get("kill", 0.0) * info["kills"]
         + w["death"] * info["died"]).astype(np.float32)
    team_r = np.zeros((r.shape[0], 2), np.float32)
    lost = info["towers_lost"]  # (n, 2): towers of each side that fell
    anc = info["ancient_dmg"]  # (n, 2): damage fraction taken by each side's ancient
    winner = info["winner"]
    for t in (0, 1):
        e = 1 - t
        team_r[:, t] = w["tower"] * (lost[:, e] / 3.0 + 2.0 / 3.0 * info["tower_dmg"][:, e]) \
            + w["ancient"] * anc[:, e] + w["win"] * (winner == t)
    r[:, :TEAM] += team_r[:, :1]
    r[:, TEAM:] += team_r[:, 1:]
    return r


def team_spirit(r: np.ndarray, tau: float) -> np.ndarray:
    """``(1 - τ) r_i + τ mean(r of i's team)`` over the last axis of 10 heroes (two teams of five)."""
    teams = r.reshape(*r.shape[:-1], 2, TEAM)
    mixed = (1.0 - tau) * teams + tau * teams.mean(-1, keepdims=True)
    return mixed.reshape(r.shape)


def zero_sum(r: np.ndarray) -> np.ndarray:
    """Subtract the opposing team's mean reward from every hero (the sum over all ten is then 0)."""
    teams = r.reshape(*r.shape[:-1], 2, TEAM)
    means = teams.mean(-1, keepdims=True)
    return (teams - means[..., ::-1, :]).reshape(r.shape)


def final_rewards(r: np.ndarray, tau: float) -> np.ndarray:
    """What PPO trains on: team spirit first, then zero-sum (paper, Appendix F)."""
    return zero_sum(team_spirit(r, tau))


def tau_at(progress: float, start: float = 0.3, end: float = 1.0, anneal: float = 0.5) -> float:
    """Team spirit at a fraction ``progress`` of training: linear from start to end over ``anneal``."""
    if anneal <= 0:
        return end
    return start + (end - start) * min(max(progress / anneal, 0.0), 1.0)
