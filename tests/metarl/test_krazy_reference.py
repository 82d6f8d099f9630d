"""The `reference` Krazy World preset (bstadie/krazyworld): one test per rule of the preset."""

import dataclasses

import numpy as np
from tests.metarl.test_krazy import RIGHT, board_env

from ilya.metarl.config import KRAZY_PRESETS, KRAZY_REFERENCE
from ilya.metarl.envs import make_task
from ilya.metarl.envs.krazy import DEATH, ENERGY, GOAL, ICE, LOCK, NORMAL, WALL

REF = dataclasses.replace(KRAZY_REFERENCE, size=5, horizon=50, teleporters=False)


def test_reference_is_a_named_preset_and_ours_stays_default():
    assert KRAZY_PRESETS["reference"] is KRAZY_REFERENCE
    ours = KRAZY_PRESETS["ours"]
    assert (ours.death_reward, ours.energy_rule, ours.walls, ours.locks) == (-1.0, "refill", 0.10, 0.03)


def test_no_death_penalty_but_death_ends_the_episode():
    env = board_env(["AX...", ".....", ".....", ".....", "....."], REF)
    _, r, term, _ = env.step(np.array([RIGHT]))
    assert r[0] == 0.0 and term[0]


def test_energy_is_additive_and_energy_tiles_are_used_up():
    env = board_env(["AE...", ".....", ".....", ".....", "....."], REF)
    e0 = int(env.energy[0])
    env.step(np.array([RIGHT]))
    assert int(env.energy[0]) == e0 - 1 + REF.energy  # 25 - 1 + 25 = 49, not reset to 25
    assert env.board[0, 0, 1] == NORMAL


def test_no_walls_or_locks():
    for s in range(50):
        b = make_task(s, KRAZY_REFERENCE).board
        assert not (b == WALL).any() and not (b == LOCK).any()


def test_tile_shares_10_percent_death_5_ice_5_energy():
    b = make_task(3, KRAZY_REFERENCE).board  # 10x10 board: 10 death, 5 ice, 5 energy tiles
    assert ((b == DEATH).sum(), (b == ICE).sum(), (b == ENERGY).sum()) == (10, 5, 5)


def test_goals_further_than_manhattan_2_from_the_start():
    for s in range(100):
        t = make_task(s, KRAZY_REFERENCE)
        g = np.argwhere(t.board == GOAL)
        assert (np.abs(g - t.start).sum(1) > 2).all()


def test_episode_goes_on_after_every_goal_is_taken():
    env = board_env(["AG...", ".....", ".....", ".....", "....."], REF)
    _, r, term, trunc = env.step(np.array([RIGHT]))
    assert r[0] == 1.0 and not term[0] and not trunc[0] and env.goals_left[0] == 0


def test_train_flag_selects_the_reference_rules():
    from ilya.metarl.config import KrazyConfig, TrainConfig, krazy_world

    cfg = TrainConfig(krazy=KrazyConfig(size=6, horizon=30), krazy_preset="reference")
    w = krazy_world(cfg.krazy, cfg.krazy_preset)
    assert (w.size, w.horizon, w.death_reward, w.walls, w.energy_rule) == (6, 30, 0.0, 0.0, "additive")
    assert krazy_world(cfg.krazy, "ours") == cfg.krazy
