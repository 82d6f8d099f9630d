"""Fixed opponents: heroes that act at random, and a scripted bot that plays sensibly.

The scripted bot, per hero and step (vectorised over games and heroes):

1. retreats to its fountain below 30 % HP and stays there until 90 %;
2. last-hits: attacks an enemy creep in range that its next attack kills;
3. casts its nuke, then its stun, on an enemy hero in range;
4. stays out of an enemy tower's range unless its own creeps are there to tank;
5. otherwise pushes with its creeps: attacks the weakest enemy in range (creeps first, the tower when its
   creeps are at it), or walks to its creep front.
"""

from __future__ import annotations

import numpy as np

from ilya.five.envs import (
    ATTACK,
    CREEP,
    DIRS,
    HERO,
    MOVE,
    N_HEROES,
    NOOP,
    NUKE,
    STUN,
    TOWER,
    TOWER_STATS,
    LaneGame,
)

ENGAGE = 10.0  # walk up to attack enemy creeps this close
Actions = tuple[np.ndarray, np.ndarray, np.ndarray]


def sample_masked(mask: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A uniformly random legal index along the last axis of a boolean mask."""
    u = rng.random(mask.shape) * mask
    return u.argmax(-1)


class RandomBot:
    """Every hero picks a uniformly random legal action on every head."""

    def __init__(self, seed: int = 0) -> None:
        self.rng = np.random.default_rng(seed)

    def reset(self, games: np.ndarray) -> None:
        pass

    def act(self, game: LaneGame) -> Actions:
        k, d, t = game.action_masks()
        return sample_masked(k, self.rng), sample_masked(d, self.rng), sample_masked(t, self.rng)


def direction_to(vec: np.ndarray, team: np.ndarray) -> np.ndarray:
    """The move direction (in each hero's team frame) closest to the world vector ``vec`` (..., 10, 2)."""
    sign = np.where(team == 0, 1.0, -1.0)[:, None]
    return np.argmax((vec * sign) @ DIRS.T, axis=-1)


class ScriptedBot:
    """A rule-based player for all ten heroes (callers keep the heroes it should control)."""

    def __init__(self, n: int, low: float = 0.3, high: float = 0.9) -> None:
        self.retreating = np.zeros((n, N_HEROES), bool)
        self.low, self.high = low, high

    def reset(self, games: np.ndarray) -> None:
        self.retreating[games] = False

    def act(self, game: LaneGame) -> Actions:
        s, L = game.s, game.L
        n = game.n
        team = game.hero_team
        gh = np.arange(n)[:, None]
        hi = np.arange(N_HEROES)[None]
        pos = s["pos"][:, :N_HEROES]
        alive = s["alive"][:, :N_HEROES]
        hpf = s["hp"][:, :N_HEROES] / game.max_hp_base[:N_HEROES]
        self.retreating = alive & ((hpf < self.low) | (self.retreating & (hpf < self.high)))
        kind = np.full((n, N_HEROES), NOOP)
        target = np.zeros((n, N_HEROES), np.int64)
        fountain = np.where((team == 0)[:, None], L.fountain(0), L.fountain(1))[None]
        home = direction_to(fountain - pos, team)
        direction = home.copy()
        cand = s["cand"]
        c = np.maximum(cand, 0)
        ok = cand >= 0
        ckind = L.kind[c]
        chp = s["hp"][gh[..., None], c]
        cd = game._dist[:, :N_HEROES][gh[..., None], hi[..., None], c]
        dmg = game.hero_damage()[..., None]
        rng = game.attack_range[:N_HEROES][None, :, None]
        in_range = ok & (cd <= rng)
        hp_ = game.hero_param
        vuln = game.vulnerable()[gh[..., None], c]
        decided = ~alive | self.retreating
        kind = np.where(self.retreating, MOVE, kind)

        def choose(mask: np.ndarray, score: np.ndarray, what: int) -> None:
            nonlocal kind, target, decided
            sc = np.where(mask, score, np.inf)
            j = np.argmin(sc, -1)
            has = mask.any(-1) & ~decided
            kind = np.where(has, what, kind)
            target = np.where(has, j, target)
            decided = decided | has

        # 2. last hits
        choose(in_range & (ckind == CREEP) & (chp <= dmg), chp, ATTACK)
        # 3. spells on heroes
        nuke_ready = (s["cd"][..., 0] <= 0) & (s["mana"] >= hp_["nuke_mana"])
        stun_ready = (s["cd"][..., 1] <= 0) & (s["mana"] >= hp_["stun_mana"])
        is_h = ok & (ckind == HERO)
        choose(is_h & (cd <= hp_["nuke_range"][None, :, None]) & nuke_ready[..., None], chp, NUKE)
        choose(is_h & (cd <= hp_["stun_range"][None, :, None]) & stun_ready[..., None], chp, STUN)
        # 4. enemy towers: keep out of range unless own creeps are under it
        tw_pos = s["pos"][:, L.towers]  # (n, T, 2)
        tw_alive = s["alive"][:, L.towers]
        tw_team = L.team[L.towers]
        creep_pos = s["pos"][:, L.creeps]
        creep_alive = s["alive"][:, L.creeps]
        creep_team = L.team[L.creeps]
        d_ct = np.sqrt(((creep_pos[:, :, None] - tw_pos[:, None]) ** 2).sum(-1))  # (n, C, T)
        tanked = np.zeros((n, 2, len(L.towers)), bool)  # tanked[g, t, tower]: team t's creeps under it
        for t in (0, 1):
            tanked[:, t] = ((d_ct <= TOWER_STATS[2]) & (creep_alive & (creep_team == t))[..., None]).any(1)
        d_ht = np.sqrt(((pos[:, :, None] - tw_pos[:, None]) ** 2).sum(-1))  # (n, 10, T)
        enemy_tw = (tw_team[None, None] != team[None, :, None]) & tw_alive[:, None]
        danger = enemy_tw & (d_ht <= TOWER_STATS[2] + 1.0) & ~tanked[:, team]
        flee = danger.any(-1) & ~decided
        kind = np.where(flee, MOVE, kind)
        decided |= flee
        # 5. push: the weakest enemy creep in range, the tower when tanked, else a hero in range
        cand_tanked = np.zeros_like(ok)
        for j, u in enumerate(L.towers):
            cand_tanked |= (c == u) & tanked[:, team, j][..., None]
        choose(in_range & (ckind == CREEP), chp, ATTACK)
        choose(ok & (ckind == TOWER) & cand_tanked & (cd <= rng + 4.0), cd, ATTACK)
        choose(ok & (ckind > TOWER) & (cd <= rng + 6.0) & vuln, cd, ATTACK)
        choose(ok & (ckind == CREEP) & (cd <= ENGAGE), chp, ATTACK)
        choose(in_range & (ckind == HERO), chp, ATTACK)
        # walk to the creep front (or hold at the own tower when there are no creeps)
        own_c = creep_alive[:, None, :] & (creep_team[None, None] == team[None, :, None])  # (n, 10, C)
        x = creep_pos[..., 0][:, None]
        fx = np.where(team[None, :, None] == 0, np.where(own_c, x, -np.inf).max(-1, keepdims=True)[..., 0:1],
                      np.where(own_c, x, np.inf).min(-1, keepdims=True)[..., 0:1])[..., 0]
        has_front = np.isfinite(fx)
        tower_x = np.where(team == 0, L.length * 0.35, L.length * 0.65)[None]
        back = np.where(team == 0, -1.0, 1.0)[None]
        goal_x = np.where(has_front, fx + back, tower_x + back)
        # once the enemy towers are down, march on the enemy ancient
        en_towers_down = ~np.stack([tw_alive[:, tw_team == 1].any(1), tw_alive[:, tw_team == 0].any(1)], 1)
        anc_x = np.where(team == 0, L.length - 4.0, 4.0)[None]
        goal_x = np.where(en_towers_down[:, (team == 1).astype(int)], anc_x, goal_x)
        lane_y = L.lane_y[hi % L.lanes]  # heroes spread over the lanes in a three-lane game
        goal = np.stack([goal_x, np.broadcast_to(lane_y, goal_x.shape)], -1)
        far = np.sqrt(((goal - pos) ** 2).sum(-1)) > 1.0
        walk = ~decided & far
        kind = np.where(walk, MOVE, kind)
        direction = np.where(walk, direction_to(goal - pos, team), direction)
        return kind.astype(np.int64), direction.astype(np.int64), target.astype(np.int64)
