"""A 5v5 lane game with Dota's structure, vectorised in NumPy over a batch of games.

Two teams (0 "radiant" on the left, 1 "dire" on the right) of five heroes fight along one lane (three
with ``lanes=3``).  Every `WAVE_EVERY` steps each side sends a wave of creeps (three melee, one ranged)
down every lane; they walk towards the enemy ancient and fight what they meet.  Each side has one tower
per lane and an ancient; the ancient takes no damage while all towers of its side stand, and a game is
won by destroying the enemy ancient (at ``max_steps`` the side with more structure HP wins, equal is a
draw).  Heroes have health, mana, two abilities with cooldowns (a nuke and a stun), gold from last hits
(the hero whose damage kills a creep gets `LAST_HIT_GOLD`), from kills and a trickle over time; gold
raises a hero's damage; heroes near a dying enemy share its experience (XP, rewarded as in the paper).  Dead heroes respawn at their fountain after `RESPAWN` steps.  Each team sees
enemy units only within `VISION` of one of its own units (structures are always visible).

Rules a test can check, all in one step of `LaneGame.step` (simultaneous moves; damage is applied at
the end of the step):

* a unit whose HP reaches 0 dies; the hero that dealt the most damage to a dying creep this step gets
  the last hit (ties: the lower hero index);
* a tower attacks, in this order of priority: an enemy hero in its range that attacked one of its
  heroes this step (tower aggro), its current target while it stays alive and in range, the nearest
  enemy creep in range, the nearest enemy hero in range;
* creeps attack the nearest enemy in `CREEP_AGGRO` (heroes count `HERO_AGGRO_PENALTY` farther away);
* gold multiplies a hero's attack damage by ``1 + gold / gold_scale`` (per hero type).

Observations are per hero, in the hero's team frame (the dire side sees the map point-mirrored), so one
policy plays both sides.  Actions are three heads: kind (noop, move, attack, nuke, stun), direction (8)
and target (one of the `K` nearest visible enemies listed in the observation); `action_masks` says which
are legal.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ilya.core.errors import IlyaError
from ilya.five.config import HERO_NAMES, GameConfig
from ilya.five.rewards import shaped_rewards

N_HEROES = 10
TEAM = 5
K = 6  # target slots
KINDS = ("noop", "move", "attack", "nuke", "stun")
NOOP, MOVE, ATTACK, NUKE, STUN = range(5)
N_DIRS = 8
HEAD_SIZES = (len(KINDS), N_DIRS, K)
DIRS = np.array([[np.cos(a), np.sin(a)] for a in np.arange(N_DIRS) * 2 * np.pi / N_DIRS], np.float32)
DIRS[np.abs(DIRS) < 1e-6] = 0.0

# unit kinds
HERO, CREEP, TOWER, ANCIENT = range(4)

# timing (steps of 0.1 s)
WAVE_EVERY = 120
RESPAWN = 60
CREEPS_PER_WAVE = 4
CREEP_SLOTS = 16  # per team per lane
VISION = 10.0
CREEP_AGGRO = 6.0
HERO_AGGRO_PENALTY = 2.0
FOUNTAIN_RADIUS = 6.0
FOUNTAIN_HEAL = 0.03  # of max HP and mana per step
LAST_HIT_GOLD = 40.0
KILL_GOLD = 150.0
TOWER_GOLD = 100.0
PASSIVE_GOLD = 0.25
XP_RADIUS = 12.0  # heroes this close to a dying enemy share its experience
CREEP_XP = 100.0
HERO_XP = 200.0
GRID = 1024.0  # positions are multiples of 1/GRID

# kind stats: hp, damage, range, attack cooldown, speed
MELEE_CREEP = (200.0, 12.0, 1.5, 10, 0.5)
RANGED_CREEP = (150.0, 15.0, 5.0, 10, 0.5)
TOWER_STATS = (1000.0, 60.0, 9.0, 10, 0.0)
ANCIENT_STATS = (1500.0, 0.0, 0.0, 10, 0.0)


@dataclass(frozen=True)
class Hero:
    """One hero type: base stats and its two abilities (a nuke and a stun)."""

    hp: float
    damage: float
    range: float
    speed: float
    mana: float = 150.0
    attack_cd: int = 8
    nuke_damage: float = 90.0
    nuke_range: float = 7.0
    nuke_mana: float = 50.0
    nuke_cd: int = 50
    stun_steps: int = 12
    stun_damage: float = 30.0
    stun_range: float = 5.0
    stun_mana: float = 60.0
    stun_cd: int = 80
    gold_scale: float = 1500.0


HEROES: dict[str, Hero] = {
    "brawler": Hero(hp=650, damage=34, range=1.8, speed=0.85, stun_steps=15, stun_range=3.0),
    "archer": Hero(hp=420, damage=30, range=6.0, speed=0.8),
    "mage": Hero(hp=450, damage=24, range=5.0, speed=0.8, nuke_damage=130, mana=200),
    "support": Hero(hp=480, damage=22, range=5.0, speed=0.8, stun_steps=20, stun_cd=60),
    "carry": Hero(hp=500, damage=28, range=4.5, speed=0.85, gold_scale=900),
}
assert tuple(HEROES) == HERO_NAMES


def check_game(cfg: GameConfig) -> None:
    """Refuse a game configuration that cannot be played (one clear `IlyaError`)."""
    unknown = [h for h in cfg.heroes if h not in HEROES]
    if unknown:
        raise IlyaError(f"unknown hero {unknown[0]!r}: expected one of {', '.join(HEROES)}")
    if len(cfg.heroes) != TEAM:
        raise IlyaError(f"--game.heroes: a team has {TEAM} heroes, got {len(cfg.heroes)}")
    if cfg.lanes not in (1, 3):
        raise IlyaError(f"--game.lanes: expected 1 or 3, got {cfg.lanes}")
    if cfg.max_steps < 1:
        raise IlyaError(f"--game.max-steps: expected a positive number of steps, got {cfg.max_steps}")
    if cfg.act_every < 1:
        raise IlyaError(f"--game.act-every: expected a positive number of steps, got {cfg.act_every}")
    if not 40.0 <= cfg.lane_length <= 400.0:
        raise IlyaError(f"--game.lane-length: expected 40 to 400, got {cfg.lane_length}")


def obs_dim(cfg: GameConfig) -> int:
    """Features per hero observation for this game (see `LaneGame.observe`)."""
    base = 12 + len(HEROES) + 4 * 4 + 5 * 4 + K * 11 + 2 * cfg.lanes + 2 + 3 * cfg.lanes
    return base + (K + 1 if cfg.obs == "extended" else 0)


@dataclass
class Layout:
    """Where every unit of a game lives in the unit arrays, and the map's geometry."""

    lanes: int
    length: float
    width: float
    lane_y: np.ndarray
    team: np.ndarray  # (U,)
    kind: np.ndarray  # (U,)
    lane: np.ndarray  # (U,) lane of creeps and towers, -1 otherwise
    heroes: np.ndarray = field(default_factory=lambda: np.arange(N_HEROES))
    creeps: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    towers: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    ancients: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))

    @property
    def n_units(self) -> int:
        return len(self.team)

    def ancient_pos(self, team: int) -> np.ndarray:
        x = 4.0 if team == 0 else self.length - 4.0
        return np.array([x, self.width / 2], np.float32)

    def fountain(self, team: int) -> np.ndarray:
        x = 1.0 if team == 0 else self.length - 1.0
        return np.array([x, self.width / 2], np.float32)


def make_layout(cfg: GameConfig) -> Layout:
    lanes = cfg.lanes
    width = 20.0 if lanes == 1 else 60.0
    lane_y = np.array([10.0] if lanes == 1 else [10.0, 30.0, 50.0], np.float32)
    team, kind, lane = [], [], []
    for t in (0, 1):
        team += [t] * TEAM
        kind += [HERO] * TEAM
        lane += [-1] * TEAM
    for t in (0, 1):
        for ln in range(lanes):
            team += [t] * CREEP_SLOTS
            kind += [CREEP] * CREEP_SLOTS
            lane += [ln] * CREEP_SLOTS
    for t in (0, 1):
        for ln in range(lanes):
            team.append(t)
            kind.append(TOWER)
            lane.append(ln)
    for t in (0, 1):
        team.append(t)
        kind.append(ANCIENT)
        lane.append(-1)
    team_a, kind_a = np.array(team), np.array(kind)
    return Layout(lanes, cfg.lane_length, width, lane_y, team_a, kind_a, np.array(lane),
                  creeps=np.flatnonzero(kind_a == CREEP), towers=np.flatnonzero(kind_a == TOWER),
                  ancients=np.flatnonzero(kind_a == ANCIENT))


class LaneGame:
    """``n`` games stepped together; every array's first axis is the game.

    ``reset()`` -> observations (n, 10, D); ``step(kind, direction, target)`` (each (n, 10) ints) ->
    (observations, rewards (n, 10), done (n,), info).  Finished games are reset at once (their final
    result is in ``info["winner"]``: -1 running, 0 or 1 the winning team, 2 a draw).
    """

    def __init__(self, n: int, cfg: GameConfig | None = None, seed: int = 0, autoreset: bool = True) -> None:
        self.cfg = cfg or GameConfig()
        self.autoreset = autoreset
        check_game(self.cfg)
        self.n = n
        self.L = make_layout(self.cfg)
        self.rng = np.random.default_rng(seed)
        L = self.L
        U = L.n_units
        self.U = U
        self.hero_types = [HEROES[h] for h in self.cfg.heroes] * 2
        ht = self.hero_types
        self.hero_index = np.array([HERO_NAMES.index(h) for h in self.cfg.heroes] * 2)
        f = np.float32
        self.max_hp_base = np.zeros(U, f)
        self.base_damage = np.zeros(U, f)
        self.attack_range = np.zeros(U, f)
        self.attack_cd = np.zeros(U, np.int32)
        self.speed = np.zeros(U, f)
        for i, h in enumerate(ht):
            self.max_hp_base[i], self.base_damage[i] = h.hp, h.damage
            self.attack_range[i], self.attack_cd[i], self.speed[i] = h.range, h.attack_cd, h.speed
        for u in L.creeps:
            slot = (u - L.creeps[0]) % CREEP_SLOTS
            s = RANGED_CREEP if slot % CREEPS_PER_WAVE == CREEPS_PER_WAVE - 1 else MELEE_CREEP
            self.max_hp_base[u], self.base_damage[u], self.attack_range[u], self.attack_cd[u], self.speed[u] = s
        for group, s in ((L.towers, TOWER_STATS), (L.ancients, ANCIENT_STATS)):
            for u in group:
                self.max_hp_base[u], self.base_damage[u], self.attack_range[u], self.attack_cd[u], \
                    self.speed[u] = s
        self.max_mana = np.array([h.mana for h in ht], f)
        self.hero_param = {k: np.array([getattr(h, k) for h in ht], f) for k in (
            "nuke_damage", "nuke_range", "nuke_mana", "nuke_cd", "stun_steps", "stun_damage",
            "stun_range", "stun_mana", "stun_cd", "gold_scale")}
        self.enemy = L.team[:, None] != L.team[None, :]  # (U, U)
        self.is_hero = L.kind == HERO
        self.is_creep = L.kind == CREEP
        self.is_struct = (L.kind == TOWER) | (L.kind == ANCIENT)
        self.hero_team = L.team[:N_HEROES]
        self.state: dict[str, np.ndarray] = {}
        self.reset()

    # ------------------------------------------------------------------ state
    def _fresh(self, n: int) -> dict[str, np.ndarray]:
        L, U, f = self.L, self.U, np.float32
        pos = np.zeros((n, U, 2), np.float64)  # float64 on a 1/1024 grid: the two sides stay mirror images
        for t in (0, 1):
            pos[:, t * TEAM:(t + 1) * TEAM] = L.fountain(t)
            for ln in range(L.lanes):
                x = 35.0 / 100.0 * L.length if t == 0 else L.length * (1 - 35.0 / 100.0)
                pos[:, L.towers[t * L.lanes + ln]] = (x, L.lane_y[ln])
            pos[:, L.ancients[t]] = L.ancient_pos(t)
        hp = np.where(self.is_creep, 0.0, self.max_hp_base)[None].repeat(n, 0).astype(f)
        return {
            "pos": pos, "hp": hp, "alive": (~self.is_creep)[None].repeat(n, 0),
            "atk_timer": np.zeros((n, U), np.int32), "stun": np.zeros((n, U), np.int32),
            "target": np.full((n, U), -1, np.int64),
            "mana": self.max_mana[None].repeat(n, 0).copy(), "cd": np.zeros((n, N_HEROES, 2), np.int32),
            "respawn": np.zeros((n, N_HEROES), np.int32), "gold": np.zeros((n, N_HEROES), f),
            "last_hits": np.zeros((n, N_HEROES), np.int32), "kills": np.zeros((n, N_HEROES), np.int32),
            "deaths": np.zeros((n, N_HEROES), np.int32), "xp": np.zeros((n, N_HEROES), f), "t": np.zeros(n, np.int64),
            "cand": np.full((n, N_HEROES, K), -1, np.int64),
        }

    def reset(self) -> np.ndarray:
        self.state = self._fresh(self.n)
        self._spawn_waves(np.ones(self.n, bool))
        self._dist = self._distances()
        return self.observe()

    def reset_games(self, games: np.ndarray) -> None:
        """Start the games in the boolean mask ``games`` over."""
        if not games.any():
            return
        fresh = self._fresh(int(games.sum()))
        for k, v in fresh.items():
            self.state[k][games] = v
        self._spawn_waves(games)

    def get_state(self) -> dict[str, Any]:
        return {"state": {k: v.copy() for k, v in self.state.items()}, "rng": self.rng.bit_generator.state}

    def set_state(self, blob: dict[str, Any]) -> None:
        self.state = {k: np.asarray(v).copy() for k, v in blob["state"].items()}
        self.rng.bit_generator.state = blob["rng"]
        self._dist = self._distances()
        self.observe()

    @property
    def s(self) -> dict[str, np.ndarray]:
        return self.state

    def max_hp(self) -> np.ndarray:
        return np.broadcast_to(self.max_hp_base, (self.n, self.U))

    def hero_damage(self) -> np.ndarray:
        return self.base_damage[None, :N_HEROES] * (1.0 + self.s["gold"] / self.hero_param["gold_scale"])

    # ------------------------------------------------------------------ helpers
    def _distances(self) -> np.ndarray:
        p = self.s["pos"]
        d = p[:, :, None, :] - p[:, None, :, :]
        return np.sqrt((d * d).sum(-1))

    def _spawn_waves(self, games: np.ndarray) -> None:
        """A wave in every lane of each side for the games in ``games``, into the first free block of slots."""
        L, s = self.L, self.s
        off = np.linspace(-1.5, 1.5, CREEPS_PER_WAVE, dtype=np.float32)
        for t in (0, 1):
            x = 8.0 - off if t == 0 else L.length - 8.0 + off
            for ln in range(L.lanes):
                base = L.creeps[0] + (t * L.lanes + ln) * CREEP_SLOTS
                pending = games.copy()
                for w in range(CREEP_SLOTS // CREEPS_PER_WAVE):
                    sl = slice(base + w * CREEPS_PER_WAVE, base + (w + 1) * CREEPS_PER_WAVE)
                    free = pending & ~s["alive"][:, sl].any(1)
                    if free.any():
                        s["alive"][free, sl] = True
                        s["hp"][free, sl] = self.max_hp_base[sl]
                        s["pos"][free, sl, 0] = x
                        s["pos"][free, sl, 1] = L.lane_y[ln]
                        s["atk_timer"][free, sl] = 0
                        s["stun"][free, sl] = 0
                        s["target"][free, sl] = -1
                        pending &= ~free
                    if not pending.any():
                        break

    def vulnerable(self) -> np.ndarray:
        """(n, U): the ancients take damage once one tower of their side has fallen."""
        L, s = self.L, self.s
        v = np.ones((self.n, self.U), bool)
        for t in (0, 1):
            towers = L.towers[t * L.lanes:(t + 1) * L.lanes]
            v[:, L.ancients[t]] = ~s["alive"][:, towers].all(1)
        return v

    def visible(self) -> np.ndarray:
        """(n, 2, U): which units each team sees (own units, structures, enemies within VISION)."""
        s, L = self.s, self.L
        out = np.zeros((self.n, 2, self.U), bool)
        for t in (0, 1):
            src = s["alive"] & (L.team == t)[None]
            near = ((self._dist <= VISION) & src[:, :, None]).any(1)
            out[:, t] = near | (L.team == t)[None] | self.is_struct[None]
        return out & s["alive"][:, None, :]

    # ------------------------------------------------------------------ observations
    def observe(self) -> np.ndarray:
        """(n, 10, D) per-hero features in the hero's team frame; also fills the target candidates."""
        s, L, cfg = self.s, self.L, self.cfg
        n, f = self.n, np.float32
        pos = s["pos"][:, :N_HEROES]
        team = self.hero_team
        vis = self.visible()  # (n, 2, U)
        vis_h = vis[:, team]  # (n, 10, U)
        d = self._dist[:, :N_HEROES]  # (n, 10, U)
        cand_ok = vis_h & self.enemy[:N_HEROES][None] & s["alive"][:, None, :]
        dd = np.where(cand_ok, d, np.inf)
        order = np.argsort(dd, axis=2, kind="stable")[:, :, :K]
        cand = np.where(np.take_along_axis(cand_ok, order, 2), order, -1)
        s["cand"] = cand
        sign = np.where(team == 0, 1.0, -1.0).astype(f)[None, :, None]  # mirror for dire
        max_hp = self.max_hp()
        hpf = s["hp"] / max_hp
        alive_h = s["alive"][:, :N_HEROES]
        feats: list[np.ndarray] = []
        mx = np.where(team == 0, pos[..., 0], L.length - pos[..., 0]) / L.length
        my = np.where(team == 0, pos[..., 1], L.width - pos[..., 1]) / L.width
        hp = self.hero_param
        atk_ready = (s["atk_timer"][:, :N_HEROES] <= 0)
        feats += [mx[..., None], my[..., None], hpf[:, :N_HEROES, None],
                  (s["mana"] / self.max_mana)[..., None],
                  (s["cd"][..., 0] / hp["nuke_cd"])[..., None], (s["cd"][..., 1] / hp["stun_cd"])[..., None],
                  alive_h[..., None], (s["respawn"] / RESPAWN)[..., None], (s["gold"] / 1000.0)[..., None],
                  atk_ready[..., None], (s["stun"][:, :N_HEROES] > 0)[..., None],
                  np.broadcast_to((s["t"] / cfg.max_steps)[:, None, None], (n, N_HEROES, 1))]
        onehot = np.zeros((N_HEROES, len(HEROES)), f)
        onehot[np.arange(N_HEROES), self.hero_index] = 1
        feats.append(np.broadcast_to(onehot, (n, N_HEROES, len(HEROES))))
        rel = (s["pos"][:, None, :, :] - pos[:, :, None, :]) * sign[..., None] / 20.0  # (n, 10, U, 2)
        # allies: the other four heroes of the team
        ally_idx = np.array([[j for j in range(t * TEAM, (t + 1) * TEAM) if j != i]
                             for i, t in enumerate(team)])  # (10, 4)
        ar = np.arange(N_HEROES)[:, None]
        feats.append(np.concatenate([rel[:, ar, ally_idx], hpf[:, ally_idx][..., None],
                                     alive_h[:, ally_idx][..., None]], -1).reshape(n, N_HEROES, 16))
        enemy_idx = np.array([list(range((1 - t) * TEAM, (2 - t) * TEAM)) for t in team])  # (10, 5)
        ev = vis_h[:, ar, enemy_idx]  # (n, 10, 5)
        e = np.concatenate([rel[:, ar, enemy_idx], hpf[:, enemy_idx][..., None], ev[..., None]], -1) * ev[..., None]
        feats.append(e.reshape(n, N_HEROES, 20))
        c = np.maximum(cand, 0)
        ok = (cand >= 0)[..., None]
        g = np.arange(n)[:, None, None]
        crel = np.take_along_axis(rel, c[..., None], 2)  # (n, 10, K, 2)
        cdist = np.take_along_axis(d, c, 2)[..., None] / 20.0
        chpf = hpf[g, c][..., None]
        chp = s["hp"][g, c][..., None] / 100.0
        ckind = np.eye(4, dtype=f)[L.kind[c]]
        rng_h = self.attack_range[:N_HEROES][None, :, None]
        in_range = (np.take_along_axis(d, c, 2) <= rng_h)[..., None]
        vuln = self.vulnerable()[g, c][..., None]
        cf = np.concatenate([crel, cdist, chpf, chp, ckind, in_range, vuln], -1) * ok
        feats.append(cf.reshape(n, N_HEROES, K * 11))
        own = np.where(team[None, :, None] == 0, 0, 1)
        tw = hpf[:, L.towers].reshape(n, 2, L.lanes)
        an = hpf[:, L.ancients]  # (n, 2)
        tw_own = np.where(own == 0, tw[:, None, 0], tw[:, None, 1])
        tw_en = np.where(own == 0, tw[:, None, 1], tw[:, None, 0])
        an_own = np.where(team[None] == 0, an[:, :1], an[:, 1:])[..., None]
        an_en = np.where(team[None] == 0, an[:, 1:], an[:, :1])[..., None]
        feats += [tw_own, tw_en, an_own, an_en]
        # creep summary per lane: own alive count, visible enemy count, own creep front (team frame)
        cal = s["alive"][:, L.creeps].reshape(n, 2, L.lanes, CREEP_SLOTS)
        cx = s["pos"][:, L.creeps, 0].reshape(n, 2, L.lanes, CREEP_SLOTS)
        front0 = np.where(cal[:, 0], cx[:, 0], 0).max(-1) / L.length
        front1 = np.where(cal[:, 1], L.length - cx[:, 1], 0).max(-1) / L.length
        cnt = cal.sum(-1) / CREEP_SLOTS  # (n, 2, lanes)
        vis_c = vis[:, :, L.creeps].reshape(n, 2, 2, L.lanes, CREEP_SLOTS)  # seer, team, lane, slot
        en_vis = np.stack([(vis_c[:, 0, 1] & cal[:, 1]).sum(-1), (vis_c[:, 1, 0] & cal[:, 0]).sum(-1)],
                          1) / CREEP_SLOTS
        t_of = team[None, :, None]
        feats += [np.where(t_of == 0, cnt[:, None, 0], cnt[:, None, 1]),
                  np.where(t_of == 0, en_vis[:, None, 0], en_vis[:, None, 1]),
                  np.where(t_of == 0, front0[:, None], front1[:, None])]
        if cfg.obs == "extended":
            dmg = self.hero_damage()[..., None]  # (n, 10, 1)
            lethal = ((s["hp"][g, c] <= dmg) & (cand >= 0) & self.is_creep[c])
            feats += [lethal.astype(f), dmg / 100.0]
        obs = np.concatenate([np.asarray(x, f).reshape(n, N_HEROES, -1) for x in feats], -1)
        assert obs.shape[-1] == obs_dim(cfg), (obs.shape, obs_dim(cfg))
        return obs

    def action_masks(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Legal (kind (n,10,5), direction (n,10,8), target (n,10,K)) for the current state."""
        s = self.s
        alive = s["alive"][:, :N_HEROES] & (s["stun"][:, :N_HEROES] <= 0)
        has_t: np.ndarray = np.asarray((s["cand"] >= 0).any(-1))
        hp = self.hero_param
        kind = np.zeros((self.n, N_HEROES, len(KINDS)), bool)
        kind[..., NOOP] = True
        kind[..., MOVE] = alive
        kind[..., ATTACK] = alive & has_t
        kind[..., NUKE] = alive & has_t & (s["cd"][..., 0] <= 0) & (s["mana"] >= hp["nuke_mana"])
        kind[..., STUN] = alive & has_t & (s["cd"][..., 1] <= 0) & (s["mana"] >= hp["stun_mana"])
        direction = np.ones((self.n, N_HEROES, N_DIRS), bool)
        target = s["cand"] >= 0
        target = np.where(has_t[..., None], target, True)  # an all-false row would have no legal value
        return kind, direction, target

    # ------------------------------------------------------------------ dynamics
    def step(self, kind: np.ndarray, direction: np.ndarray, target: np.ndarray
             ) -> tuple[np.ndarray, np.ndarray, np.ndarray, dict[str, np.ndarray]]:
        s, L, n, U = self.s, self.L, self.n, self.U
        f = np.float32
        D = self._dist
        g1 = np.arange(n)
        gh = g1[:, None]
        before_hp = s["hp"].copy()
        before_mana = s["mana"].copy()
        before_alive = s["alive"].copy()
        before_gold = s["gold"].copy()
        before_lh = s["last_hits"].copy()
        before_kills = s["kills"].copy()
        for k in ("atk_timer", "stun"):
            s[k] = np.maximum(s[k] - 1, 0)
        s["cd"] = np.maximum(s["cd"] - 1, 0)
        dmg = np.zeros((n, U), f)
        hero_dmg = np.zeros((n, N_HEROES, U), f)  # for last hits
        hero_hit_hero = np.zeros((n, N_HEROES), bool)  # tower aggro
        move = np.zeros((n, U, 2), np.float64)
        alive = s["alive"]
        active = alive & (s["stun"] <= 0)
        # ---- heroes
        ha = active[:, :N_HEROES]
        tgt = np.take_along_axis(s["cand"], np.clip(target, 0, K - 1)[..., None], 2)[..., 0]
        has = (tgt >= 0) & ha
        tgt_c = np.maximum(tgt, 0)
        has &= alive[gh, tgt_c]
        dt = D[gh, np.arange(N_HEROES)[None], tgt_c]
        hp_ = self.hero_param
        sign = np.where(self.hero_team == 0, 1.0, -1.0).astype(f)
        mv = (kind == MOVE) & ha
        move[:, :N_HEROES] += np.where(mv[..., None], DIRS[direction] * sign[None, :, None], 0) \
            * self.speed[None, :N_HEROES, None]
        hd = self.hero_damage()
        rng = np.where(kind == NUKE, hp_["nuke_range"], np.where(kind == STUN, hp_["stun_range"],
                                                                  self.attack_range[:N_HEROES]))
        acting = has & ((kind == ATTACK) | (kind == NUKE) | (kind == STUN))
        can_spell_target = ~self.is_struct[tgt_c]
        nuke_ok = (kind == NUKE) & (s["cd"][..., 0] <= 0) & (s["mana"] >= hp_["nuke_mana"]) & can_spell_target
        stun_ok = (kind == STUN) & (s["cd"][..., 1] <= 0) & (s["mana"] >= hp_["stun_mana"]) & can_spell_target
        in_range = dt <= rng
        fire_atk = acting & (kind == ATTACK) & in_range & (s["atk_timer"][:, :N_HEROES] <= 0)
        fire_nuke = acting & nuke_ok & in_range
        fire_stun = acting & stun_ok & in_range
        amount = np.where(fire_atk, hd, 0) + np.where(fire_nuke, hp_["nuke_damage"], 0) \
            + np.where(fire_stun, hp_["stun_damage"], 0)
        firing = fire_atk | fire_nuke | fire_stun
        hero_dmg[gh, np.arange(N_HEROES)[None], tgt_c] = np.where(firing, amount, 0)
        hero_hit_hero = firing & self.is_hero[tgt_c]
        s["atk_timer"][:, :N_HEROES] = np.where(fire_atk, self.attack_cd[None, :N_HEROES],
                                                 s["atk_timer"][:, :N_HEROES])
        s["mana"] -= np.where(fire_nuke, hp_["nuke_mana"], 0) + np.where(fire_stun, hp_["stun_mana"], 0)
        s["cd"][..., 0] = np.where(fire_nuke, hp_["nuke_cd"], s["cd"][..., 0])
        s["cd"][..., 1] = np.where(fire_stun, hp_["stun_cd"], s["cd"][..., 1])
        stun_add = np.zeros((n, U), np.int32)
        np.maximum.at(stun_add, (np.broadcast_to(gh, tgt_c.shape)[fire_stun], tgt_c[fire_stun]),
                      hp_["stun_steps"][None].repeat(n, 0)[fire_stun].astype(np.int32))
        # approach targets out of range
        approach = acting & ~in_range
        delta = s["pos"][gh, tgt_c] - s["pos"][:, :N_HEROES]
        dist = np.maximum(dt, 1e-6)
        step_len = np.minimum(self.speed[None, :N_HEROES], dist - rng * 0.9)
        move[:, :N_HEROES] += np.where(approach[..., None], delta / dist[..., None] * step_len[..., None], 0)
        dmg += hero_dmg.sum(1)
        # ---- creeps
        cr = L.creeps
        Dc = D[:, cr]  # (n, C, U)
        ok = self.enemy[cr][None] & alive[:, None, :] & (Dc <= CREEP_AGGRO)
        cost = np.where(ok, Dc + HERO_AGGRO_PENALTY * self.is_hero[None, None], np.inf)
        ct = np.argmin(cost, 2)  # (n, C)
        c_has = np.isfinite(np.take_along_axis(cost, ct[..., None], 2)[..., 0]) & active[:, cr]
        cdist = np.take_along_axis(Dc, ct[..., None], 2)[..., 0]
        c_in = cdist <= self.attack_range[cr][None]
        c_fire = c_has & c_in & (s["atk_timer"][:, cr] <= 0)
        np.add.at(dmg, (np.broadcast_to(gh, ct.shape)[c_fire], ct[c_fire]),
                  np.broadcast_to(self.base_damage[cr][None], ct.shape)[c_fire])
        s["atk_timer"][:, cr] = np.where(c_fire, self.attack_cd[cr][None], s["atk_timer"][:, cr])
        cpos = s["pos"][:, cr]
        # walking: along the lane to the enemy ancient
        team_c = L.team[cr]
        enemy_anc = np.where(team_c == 0, L.length - 4.0, 4.0)
        lane_goal = np.stack([enemy_anc, L.lane_y[L.lane[cr]]], -1)[None]
        anc_goal = np.stack([enemy_anc, np.full_like(enemy_anc, L.width / 2)], -1)[None]
        near_end = np.abs(cpos[..., 0] - enemy_anc[None]) < 12.0
        goal = np.where(near_end[..., None], anc_goal, lane_goal)
        to = np.where(c_has[..., None], s["pos"][gh, ct] - cpos, goal - cpos)
        tl = np.maximum(np.sqrt((to * to).sum(-1)), 1e-6)
        walk = active[:, cr] & ~(c_has & c_in)
        sl = np.minimum(self.speed[cr][None], np.where(c_has, np.maximum(tl - self.attack_range[cr] * 0.9, 0),
                                                        tl))
        move[:, cr] += np.where(walk[..., None], to / tl[..., None] * sl[..., None], 0)
        # ---- towers
        tw = L.towers
        Dt = D[:, tw]  # (n, T, U)
        en = self.enemy[tw][None] & alive[:, None, :] & (Dt <= TOWER_STATS[2]) & ~self.is_struct[None, None]
        aggro_src = np.zeros((n, U), bool)
        aggro_src[:, :N_HEROES] = hero_hit_hero
        # aggro: an enemy hero in range that attacked one of the tower's heroes this step
        tgt_team = L.team[tgt_c]  # (n, 10): team of each hero's target
        hit_team = np.zeros((n, 2, U), bool)  # hit_team[g, t, u]: unit u hit a hero of team t
        for t in (0, 1):
            hit_team[:, t, :N_HEROES] = hero_hit_hero & (tgt_team == t)
        aggro = en & hit_team[:, L.team[tw]]
        cur = s["target"][:, tw]
        cur_c = np.maximum(cur, 0)
        cur_ok = (cur >= 0) & np.take_along_axis(en, cur_c[..., None], 2)[..., 0]
        def nearest(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            c = np.where(mask, Dt, np.inf)
            i = np.argmin(c, 2)
            return i, np.isfinite(np.take_along_axis(c, i[..., None], 2)[..., 0])
        a_i, a_ok = nearest(aggro)
        c_i, c_ok = nearest(en & self.is_creep[None, None])
        h_i, h_ok = nearest(en & self.is_hero[None, None])
        new_t = np.where(a_ok, a_i, np.where(cur_ok, cur_c, np.where(c_ok, c_i, np.where(h_ok, h_i, -1))))
        new_t = np.where(alive[:, tw], new_t, -1)
        s["target"][:, tw] = new_t
        t_fire = (new_t >= 0) & (s["atk_timer"][:, tw] <= 0)
        np.add.at(dmg, (np.broadcast_to(gh, new_t.shape)[t_fire], new_t[t_fire]), TOWER_STATS[1])
        s["atk_timer"][:, tw] = np.where(t_fire, TOWER_STATS[3], s["atk_timer"][:, tw])
        # ---- apply
        dmg *= self.vulnerable()
        s["hp"] = np.where(alive, s["hp"] - dmg, s["hp"])
        s["stun"] = np.maximum(s["stun"], stun_add)
        s["pos"] = np.round((s["pos"] + move * alive[..., None]) * GRID) / GRID
        s["pos"][..., 0] = np.clip(s["pos"][..., 0], 0, L.length)
        s["pos"][..., 1] = np.clip(s["pos"][..., 1], 0, L.width)
        dying = alive & (s["hp"] <= 0)
        # last hits: creeps dying with hero damage on them
        hd_max = hero_dmg.max(1)  # (n, U)
        killer = hero_dmg.argmax(1)  # first max: the lower hero index
        credited = dying & (hd_max > 0)
        gold = np.zeros((n, N_HEROES), f)
        lh = credited & self.is_creep[None]
        gi, ui = np.nonzero(lh)
        np.add.at(s["last_hits"], (gi, killer[gi, ui]), 1)
        np.add.at(gold, (gi, killer[gi, ui]), LAST_HIT_GOLD)
        kh = credited & self.is_hero[None]
        gi, ui = np.nonzero(kh)
        np.add.at(s["kills"], (gi, killer[gi, ui]), 1)
        np.add.at(gold, (gi, killer[gi, ui]), KILL_GOLD)
        tower_fell = dying[:, tw]  # (n, T)
        for t in (0, 1):
            fell = tower_fell[:, L.team[tw] == t].sum(1)  # towers of team t that fell
            gold[:, (1 - t) * TEAM:(2 - t) * TEAM] += (fell * TOWER_GOLD)[:, None]
        gold += PASSIVE_GOLD
        s["gold"] += gold
        # experience: shared by the enemy heroes near a dying creep or hero
        xp_unit = np.where(self.is_creep, CREEP_XP, np.where(self.is_hero, HERO_XP, 0.0))[None] * dying  # (n, U)
        near = (D[:, :N_HEROES] <= XP_RADIUS) & self.enemy[:N_HEROES][None] & alive[:, :N_HEROES, None]
        share = near / np.maximum(near.sum(1, keepdims=True), 1)
        xp = (share * xp_unit[:, None, :]).sum(-1).astype(f)
        s["xp"] = s["xp"] + xp
        s["alive"] = alive & ~dying
        s["hp"] = np.maximum(s["hp"], 0)
        s["target"][:, tw] = np.where(np.take_along_axis(s["alive"], np.maximum(s["target"][:, tw], 0), 1),
                                      s["target"][:, tw], -1)
        hero_died = dying[:, :N_HEROES]
        s["deaths"] += hero_died
        s["respawn"] = np.where(hero_died, RESPAWN, np.maximum(s["respawn"] - 1, 0))
        # regeneration, fountain
        ah = s["alive"][:, :N_HEROES]
        mh = self.max_hp_base[:N_HEROES]
        s["mana"] = np.minimum(s["mana"] + 0.3 * ah, self.max_mana)
        hp_h = s["hp"][:, :N_HEROES] + 0.15 * ah
        for t in (0, 1):
            sl_t = slice(t * TEAM, (t + 1) * TEAM)
            fd = np.sqrt(((s["pos"][:, sl_t] - L.fountain(t)) ** 2).sum(-1))
            at = (fd <= FOUNTAIN_RADIUS) & ah[:, sl_t]
            hp_h[:, sl_t] += at * FOUNTAIN_HEAL * mh[sl_t]
            s["mana"][:, sl_t] = np.minimum(s["mana"][:, sl_t] + at * FOUNTAIN_HEAL * self.max_mana[sl_t],
                                            self.max_mana[sl_t])
        s["hp"][:, :N_HEROES] = np.where(ah, np.minimum(hp_h, mh), s["hp"][:, :N_HEROES])
        # respawn
        back = ~ah & (s["respawn"] == 0) & ~hero_died
        if back.any():
            gi, hi = np.nonzero(back)
            s["alive"][gi, hi] = True
            s["hp"][gi, hi] = mh[hi]
            s["mana"][gi, hi] = self.max_mana[hi]
            s["cd"][gi, hi] = 0
            s["stun"][gi, hi] = 0
            s["atk_timer"][gi, hi] = 0
            s["pos"][gi, hi] = np.where((self.hero_team[hi] == 0)[:, None], L.fountain(0), L.fountain(1))
        s["t"] += 1
        waves = (s["t"] % WAVE_EVERY) == 0
        if waves.any():
            self._spawn_waves(waves)
        # ---- outcome
        anc_alive = s["alive"][:, L.ancients]  # (n, 2)
        winner = np.full(n, -1, np.int64)
        winner = np.where(~anc_alive[:, 1] & anc_alive[:, 0], 0, winner)
        winner = np.where(~anc_alive[:, 0] & anc_alive[:, 1], 1, winner)
        winner = np.where(~anc_alive[:, 0] & ~anc_alive[:, 1], 2, winner)
        timeout = (winner < 0) & (s["t"] >= self.cfg.max_steps)
        sh = self.structure_hp()
        winner = np.where(timeout, np.where(sh[:, 0] > sh[:, 1] + 1e-6, 0,
                                            np.where(sh[:, 1] > sh[:, 0] + 1e-6, 1, 2)), winner)
        done = winner >= 0
        # ---- rewards (per hero, before team spirit and zero-sum; see ilya.five.rewards)
        info = {
            "winner": winner, "timeout": timeout, "t": s["t"].copy(),
            "hp_frac_delta": np.where(before_alive[:, :N_HEROES] & s["alive"][:, :N_HEROES],
                                      (s["hp"][:, :N_HEROES] - before_hp[:, :N_HEROES]) / mh, 0).astype(f),
            "mana_frac_delta": np.where(before_alive[:, :N_HEROES] & s["alive"][:, :N_HEROES],
                                        (s["mana"] - before_mana) / self.max_mana, 0).astype(f),
            "gold": (s["gold"] - before_gold).astype(f), "xp": xp,
            "last_hits": (s["last_hits"] - before_lh).astype(f), "kills": (s["kills"] - before_kills).astype(f),
            "died": hero_died.astype(f),
            "towers_lost": np.stack([tower_fell[:, L.team[tw] == t].sum(1) for t in (0, 1)], 1).astype(f),
            "tower_dmg": np.stack([(before_hp[:, tw[L.team[tw] == t]] - s["hp"][:, tw[L.team[tw] == t]]).sum(1)
                                   / TOWER_STATS[0] for t in (0, 1)], 1).astype(f),
            "ancient_dmg": np.stack([(before_hp[:, L.ancients[t]] - s["hp"][:, L.ancients[t]])
                                     / ANCIENT_STATS[0] for t in (0, 1)], 1).astype(f),
            "stats_last_hits": s["last_hits"].copy(), "stats_kills": s["kills"].copy(),
            "stats_deaths": s["deaths"].copy(), "structure_hp": sh,
        }
        rewards = shaped_rewards(info)
        if done.any() and self.autoreset:
            self.reset_games(done)
        self._dist = self._distances()
        obs = self.observe()
        return obs, rewards, done, info

    def structure_hp(self) -> np.ndarray:
        """(n, 2): each side's towers and ancient HP as fractions, summed."""
        L, s = self.L, self.s
        frac = s["hp"] / self.max_hp_base[None]
        out = np.zeros((self.n, 2), np.float32)
        for t in (0, 1):
            units = np.concatenate([L.towers[t * L.lanes:(t + 1) * L.lanes], L.ancients[t:t + 1]])
            out[:, t] = frac[:, units].sum(1)
        return out
