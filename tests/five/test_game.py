"""The lane game's rules, each checked with a number, and PettingZoo's API test."""

from __future__ import annotations

import numpy as np
import pytest

from ilya.core.errors import IlyaError
from ilya.five.bots import RandomBot, ScriptedBot
from ilya.five.config import GameConfig
from ilya.five.envs import (
    ANCIENT_STATS,
    ATTACK,
    CREEP_XP,
    KILL_GOLD,
    LAST_HIT_GOLD,
    MOVE,
    N_HEROES,
    NOOP,
    PASSIVE_GOLD,
    RESPAWN,
    TEAM,
    TOWER_STATS,
    LaneGame,
    check_game,
    obs_dim,
)
from ilya.five.rewards import WEIGHTS


def empty_game(**kw: object) -> LaneGame:
    """One game with no creeps on the map, heroes at their fountains."""
    g = LaneGame(1, GameConfig(**kw))  # type: ignore[arg-type]
    g.s["alive"][:, g.L.creeps] = False
    g.s["hp"][:, g.L.creeps] = 0
    g.s["t"][:] = 1  # no wave on the next step
    g._dist = g._distances()
    g.observe()
    return g


def place(g: LaneGame, unit: int, x: float, y: float = 10.0, hp: float | None = None) -> None:
    g.s["pos"][0, unit] = (x, y)
    if hp is not None:
        g.s["hp"][0, unit] = hp
    g.s["alive"][0, unit] = True
    g._dist = g._distances()
    g.observe()


def act(g: LaneGame, orders: dict[int, tuple[int, int, int]]) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Step with the given (kind, direction, target-unit) orders; others do nothing."""
    k = np.full((1, N_HEROES), NOOP)
    d = np.zeros((1, N_HEROES), np.int64)
    t = np.zeros((1, N_HEROES), np.int64)
    for h, (kind, direction, unit) in orders.items():
        k[0, h], d[0, h] = kind, direction
        if unit >= 0:
            slots = list(g.s["cand"][0, h])
            assert unit in slots, f"unit {unit} is not a target of hero {h}: {slots}"
            t[0, h] = slots.index(unit)
    _, r, _, info = g.step(k, d, t)
    return r, info


def test_attack_damage_and_last_hit_gold() -> None:
    g = empty_game()
    creep = int(g.L.creeps[len(g.L.creeps) // 2])  # a dire creep
    place(g, 1, 46.0)  # radiant archer: damage 30, range 6
    place(g, creep, 50.0, hp=200.0)  # out of the radiant tower's range (x = 35, range 9)
    act(g, {1: (ATTACK, 0, creep)})
    assert g.s["hp"][0, creep] == pytest.approx(200.0 - 30.0)
    assert g.s["atk_timer"][0, 1] == 8  # the archer's attack cooldown
    g.s["atk_timer"][0, 1] = 0
    g.s["hp"][0, creep] = 25.0
    gold = float(g.s["gold"][0, 1])
    r, info = act(g, {1: (ATTACK, 0, creep)})
    assert not g.s["alive"][0, creep]
    assert g.s["last_hits"][0, 1] == 1
    assert g.s["gold"][0, 1] == pytest.approx(gold + LAST_HIT_GOLD + PASSIVE_GOLD)
    assert info["last_hits"][0, 1] == 1
    assert info["xp"][0, 1] == CREEP_XP  # the only hero near the creep takes all of its experience
    assert r[0, 1] == pytest.approx(WEIGHTS["last_hit"] + WEIGHTS["gold"] * (LAST_HIT_GOLD + PASSIVE_GOLD)
                                    + WEIGHTS["xp"] * CREEP_XP)


def test_out_of_range_attack_walks_towards_the_target() -> None:
    g = empty_game()
    creep = int(g.L.creeps[len(g.L.creeps) // 2])
    place(g, 1, 46.0)
    place(g, creep, 54.0, hp=200.0)  # 8 away: visible (vision 10), out of the archer's range (6)
    act(g, {1: (ATTACK, 0, creep)})
    assert g.s["pos"][0, 1, 0] == pytest.approx(46.8, abs=1e-3)  # the archer's speed
    assert g.s["hp"][0, creep] == 200.0


def test_death_respawn_and_kill_gold() -> None:
    g = empty_game()
    place(g, 1, 50.0, hp=10.0)  # radiant archer, nearly dead
    place(g, 6, 53.0)  # dire archer in range
    _, info = act(g, {6: (ATTACK, 0, 1)})
    assert not g.s["alive"][0, 1] and info["died"][0, 1] == 1
    assert g.s["kills"][0, 6] == 1 and g.s["deaths"][0, 1] == 1
    assert g.s["gold"][0, 6] == pytest.approx(KILL_GOLD + PASSIVE_GOLD)
    assert g.s["respawn"][0, 1] == RESPAWN
    for _ in range(RESPAWN - 1):
        act(g, {})
        assert not g.s["alive"][0, 1]
    act(g, {})
    assert g.s["alive"][0, 1]
    assert g.s["hp"][0, 1] == 420.0
    assert tuple(g.s["pos"][0, 1]) == pytest.approx(tuple(g.L.fountain(0)))


def test_tower_aggro() -> None:
    g = empty_game()
    tower = int(g.L.towers[1])  # the dire tower at x = 65
    creep = int(g.L.creeps[0])  # a radiant creep
    place(g, creep, 60.0, hp=200.0)
    place(g, 1, 59.0)  # radiant archer inside the tower's range (9)
    place(g, 6, 64.0)  # dire archer
    act(g, {})
    assert g.s["target"][0, tower] == creep  # creeps first
    assert g.s["hp"][0, creep] == pytest.approx(200.0 - TOWER_STATS[1])
    g.s["atk_timer"][0, tower] = 0
    hp = float(g.s["hp"][0, 1])
    act(g, {1: (ATTACK, 0, 6)})  # the archer hits a dire hero under the tower: aggro
    assert g.s["target"][0, tower] == 1
    assert g.s["hp"][0, 1] == pytest.approx(hp - TOWER_STATS[1] + 0.15)  # regeneration 0.15 per step


def test_ancient_is_invulnerable_while_towers_stand_then_the_win() -> None:
    g = empty_game()
    anc = int(g.L.ancients[1])
    place(g, 1, 90.0)
    act(g, {1: (ATTACK, 0, anc)})
    assert g.s["hp"][0, anc] == ANCIENT_STATS[0]  # invulnerable: the dire tower stands
    g.s["alive"][0, g.L.towers[1]] = False
    g.s["hp"][0, anc] = 20.0
    g.s["atk_timer"][0, 1] = 0
    g.observe()
    r, info = act(g, {1: (ATTACK, 0, anc)})
    assert info["winner"][0] == 0
    assert r[0, 0] == pytest.approx(WEIGHTS["win"] + WEIGHTS["ancient"] * 20.0 / ANCIENT_STATS[0]
                                    + WEIGHTS["gold"] * PASSIVE_GOLD)
    assert g.s["t"][0] == 0  # the finished game was reset


def test_timeout_goes_to_more_structure_hp_or_is_a_draw() -> None:
    g = empty_game(max_steps=3)
    _, info = act(g, {})
    assert info["winner"][0] == -1
    g.s["hp"][0, g.L.towers[0]] = 500.0
    _, info = act(g, {})
    assert info["winner"][0] == 1 and info["timeout"][0]
    g = empty_game(max_steps=2)
    _, info = act(g, {})
    assert info["winner"][0] == 2  # equal structures: a draw


def test_vision_hides_far_enemies() -> None:
    g = empty_game()
    place(g, 1, 30.0)
    place(g, 6, 50.0)  # 20 away from every radiant unit but the hero at 30... (vision 10)
    assert 6 not in g.s["cand"][0, 1]
    obs = g.observe()
    place(g, 6, 38.0)
    assert 6 in g.s["cand"][0, 1]
    assert not np.allclose(obs, g.observe())


def test_moves_are_mirrored_for_the_dire_side() -> None:
    g = empty_game()
    act(g, {0: (MOVE, 0, -1), 5: (MOVE, 0, -1)})  # direction 0 is "towards the enemy" for both sides
    assert g.s["pos"][0, 0, 0] == pytest.approx(1.0 + 0.85, abs=1e-3)
    assert g.s["pos"][0, 5, 0] == pytest.approx(99.0 - 0.85, abs=1e-3)


def test_scripted_bot_beats_random_and_mirror_matches_are_draws() -> None:
    n = 8
    results = {}
    for name in ("random", "scripted"):
        g = LaneGame(n, GameConfig(max_steps=600), seed=3)
        a, b = ScriptedBot(n), (RandomBot(1) if name == "random" else ScriptedBot(n))
        winners: list[int] = []
        while len(winners) < n:
            ka, da, ta = a.act(g)
            kb, db, tb = b.act(g)
            _, _, done, info = g.step(np.concatenate([ka[:, :TEAM], kb[:, TEAM:]], 1),
                                      np.concatenate([da[:, :TEAM], db[:, TEAM:]], 1),
                                      np.concatenate([ta[:, :TEAM], tb[:, TEAM:]], 1))
            winners += list(info["winner"][done])
        results[name] = np.bincount(winners, minlength=3)
    assert results["random"][0] >= 7  # the bot wins against random heroes
    assert results["scripted"][2] == n  # the two sides are exact mirror images


def test_bad_hero_and_options_are_refused() -> None:
    with pytest.raises(IlyaError, match="unknown hero 'pudge'"):
        check_game(GameConfig(heroes=("pudge", "archer", "mage", "support", "carry")))
    with pytest.raises(IlyaError, match="a team has 5 heroes"):
        check_game(GameConfig(heroes=("archer",)))
    with pytest.raises(IlyaError, match="max-steps"):
        check_game(GameConfig(max_steps=0))


def test_three_lanes_and_extended_observations() -> None:
    g = LaneGame(2, GameConfig(lanes=3, obs="extended"))
    obs = g.reset()
    assert obs.shape == (2, 10, obs_dim(GameConfig(lanes=3, obs="extended")))
    assert len(g.L.towers) == 6
    assert obs_dim(GameConfig(obs="extended")) == obs_dim(GameConfig()) + 7


def test_pettingzoo_api() -> None:
    from pettingzoo.test import parallel_api_test

    from ilya.five.pettingzoo_env import make_env

    env = make_env(GameConfig(max_steps=150))
    parallel_api_test(env, num_cycles=200)
    assert env.render().shape[2] == 3
