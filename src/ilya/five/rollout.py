"""Rollout workers: a batch of games played by the current policy against itself or past versions.

A `RolloutWorker` owns ``n`` games, the LSTM memory of all their heroes and its random generator, and
plays chunks of ``T`` steps with the weights it is sent (NumPy arrays, so the same class runs in the
learner's process or as a Ray actor).  At each game start it draws the opponent: the current policy
(both sides learn) with probability 1 - ``past_fraction``, otherwise a past version from the pool's
table (p ∝ exp(q)) on one side, the learner on the other.  A chunk returns time-major arrays for all
``n * 10`` hero rows, with ``learn`` marking the rows the current policy controlled, and the results of
the games that ended (for the quality scores and win rates).

The policies act every ``game.act_every`` steps (OpenAI Five acted on every fourth frame) and repeat
their action in between (`repeat_actions`): the same move, the same target *unit* (wherever it now sits
among the candidates; noop once it is gone), a spell until it is cast, then an attack on its target.
One row of a chunk is one decision; its reward is the sum over the steps it was repeated.  With
``bot_fraction`` > 0 a share of the games is played against the scripted bot (ours, not the paper's).
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import torch

from ilya.five.bots import RandomBot, ScriptedBot
from ilya.five.config import GameConfig
from ilya.five.envs import ATTACK, HEAD_SIZES, N_HEROES, NOOP, NUKE, STUN, TEAM, K, LaneGame
from ilya.five.policy import FivePolicy, PolicyShape, concat_masks, sample_actions
from ilya.five.rewards import final_rewards, shaped_rewards

Weights = dict[str, np.ndarray]
SELF, BOT, RANDOM = -1, -2, -3  # opponent codes of a game: the current policy, the scripted bot, random heroes
# (else a pool id)


def target_units(game: LaneGame, target: np.ndarray) -> np.ndarray:
    """(n, 10) the unit behind each hero's target slot among its current candidates (-1: none)."""
    return np.take_along_axis(game.s["cand"], np.clip(target, 0, K - 1)[..., None], 2)[..., 0]


def repeat_actions(game: LaneGame, kind: np.ndarray, direction: np.ndarray, unit: np.ndarray
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """An action chosen a few steps ago, for this step: the same move; the same target unit in its
    current slot (noop when it is no longer a candidate); a spell while it is ready, then an attack."""
    s, hp = game.s, game.hero_param
    hit = (s["cand"] == unit[..., None]) & (unit[..., None] >= 0)
    found = hit.any(-1)
    targeted = (kind == ATTACK) | (kind == NUKE) | (kind == STUN)
    nuke_ready = (s["cd"][..., 0] <= 0) & (s["mana"] >= hp["nuke_mana"])
    stun_ready = (s["cd"][..., 1] <= 0) & (s["mana"] >= hp["stun_mana"])
    kind = np.where(((kind == NUKE) & ~nuke_ready) | ((kind == STUN) & ~stun_ready), ATTACK, kind)
    kind = np.where(targeted & ~found, NOOP, kind)
    return kind, direction, np.where(found, hit.argmax(-1), 0)


def to_numpy(model: torch.nn.Module) -> Weights:
    return {k: v.detach().cpu().numpy().copy() for k, v in model.state_dict().items()}


def shape_of(weights: Weights) -> PolicyShape:
    """The network shape stored in a weight table."""
    w = weights["net.embed.0.weight"]
    return PolicyShape(obs_dim=int(w.shape[1]), hidden=int(weights["net.rnn.weight_hh_l0"].shape[1]),
                       embed=int(w.shape[0]))


def from_numpy(weights: Weights) -> FivePolicy:
    model = FivePolicy(shape_of(weights))
    model.load_state_dict({k: torch.as_tensor(v) for k, v in weights.items()})
    model.eval()
    return model


HeadTemperatures = tuple[float, float, float]  # kind, direction, target


def logit_divisor(temperature: float | HeadTemperatures) -> float | torch.Tensor:
    """What the concatenated logits are divided by: one temperature, or one per head (kind, direction,
    target), each repeated over its head's logits."""
    if isinstance(temperature, (int, float)):
        return float(temperature)
    if len(temperature) != len(HEAD_SIZES) or min(temperature) <= 0:
        raise ValueError(f"expected {len(HEAD_SIZES)} positive head temperatures, got {temperature}")
    return torch.cat([torch.full((n,), float(t)) for n, t in zip(HEAD_SIZES, temperature, strict=True)])


class PolicyPlayer:
    """One policy playing some heroes of ``n`` games, with its own memory and generator; it decides every
    ``act_every`` calls (the games of a match start together) and repeats its action in between.

    ``temperature`` is one sampling temperature or one per head (kind, direction, target).  With ``trace``
    a list, every decision appends (logits at temperature 1, mask, actions), each (n * 10, ...), so that
    the policy's distributions can be studied after a match (`benchmarks/five_temperature.py`)."""

    def __init__(self, model: FivePolicy, n: int, seed: int = 0, greedy: bool = False, act_every: int = 1,
                 temperature: float | HeadTemperatures = 1.0) -> None:
        self.model, self.n, self.greedy = model, n, greedy
        self.divisor = logit_divisor(temperature)
        self.trace: list[tuple[np.ndarray, np.ndarray, np.ndarray]] | None = None
        self.h = model.initial_state(n * N_HEROES)
        self.rng = np.random.default_rng(seed)
        self.act_every, self.calls = max(1, act_every), 0
        self.last: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None

    def reset(self, games: np.ndarray) -> None:
        rows = np.repeat(games, N_HEROES)
        keep = torch.as_tensor(~rows, dtype=torch.float32).view(1, -1, 1)
        self.h = (self.h[0] * keep, self.h[1] * keep)

    def act(self, game: LaneGame, obs: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        self.calls += 1
        if self.last is not None and (self.calls - 1) % self.act_every != 0:
            return repeat_actions(game, *self.last)
        kind, direction, target = self.decide(game, obs)
        self.last = (kind, direction, target_units(game, target))
        return kind, direction, target

    @torch.no_grad()
    def decide(self, game: LaneGame, obs: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        mask = concat_masks(*game.action_masks()).reshape(self.n * N_HEROES, -1)
        x = torch.as_tensor(obs.reshape(self.n * N_HEROES, 1, -1))
        logits, _, self.h = self.model(x, self.h)
        if self.greedy:
            from ilya.five.policy import split_heads

            heads = split_heads(logits[:, 0], torch.as_tensor(mask))
            a = np.stack([h.argmax(-1).numpy() for h in heads], -1)
        else:
            a, _ = sample_actions(logits[:, 0] / self.divisor, mask, self.rng)
        if self.trace is not None:
            self.trace.append((logits[:, 0].numpy().copy(), mask.copy(), a.copy()))
        a = a.reshape(self.n, N_HEROES, 3)
        return a[..., 0], a[..., 1], a[..., 2]


class RolloutWorker:
    """``n`` self-play games; `rollout` plays one chunk with the given weights."""

    def __init__(self, game: GameConfig, n: int, seed: int, past_fraction: float = 0.2,
                 bot_fraction: float = 0.0, reward_weights: dict[str, float] | None = None,
                 random_fraction: float = 0.0) -> None:
        self.random_fraction = random_fraction
        self.random_bot = RandomBot(seed + 104729)
        self.reward_weights = reward_weights  # None: the game's own rewards (rewards.WEIGHTS)
        self.cfg, self.n, self.past_fraction, self.bot_fraction = game, n, past_fraction, bot_fraction
        self.seed = seed
        self.game = LaneGame(n, game, seed=seed)
        self.obs = self.game.reset()
        self.rng = np.random.default_rng(seed + 7919)
        self.opp = np.full(n, SELF, np.int64)  # SELF: current policy on both sides, BOT, else a pool id
        self.side = np.zeros(n, np.int64)  # the side the learner plays in games against another player
        self.bot = ScriptedBot(n)
        self.h: tuple[torch.Tensor, torch.Tensor] | None = None
        self.h_opp: dict[int, tuple[torch.Tensor, torch.Tensor]] = {}  # per game: the opponent's memory
        self.starts = np.ones(n, bool)
        self.cache: dict[int, FivePolicy] = {}
        self.pool_weights: dict[int, Weights] = {}  # the past versions this worker was sent
        self.model: FivePolicy | None = None
        if bot_fraction > 0 or random_fraction > 0:
            self._draw_opponents(np.ones(n, bool), [])  # the first games too

    # ------------------------------------------------------------------ state (checkpoints)
    def state_dict(self) -> dict[str, Any]:
        assert self.h is not None
        return {"game": self.game.get_state(), "rng": self.rng.bit_generator.state, "opp": self.opp.copy(),
                "side": self.side.copy(), "h": self.h[0].numpy().copy(), "c": self.h[1].numpy().copy(),
                "starts": self.starts.copy(), "obs": self.obs.copy(), "bot": self.bot.retreating.copy(),
                "random_rng": self.random_bot.rng.bit_generator.state,
                "h_opp": {str(g): np.stack([v[0].numpy(), v[1].numpy()]) for g, v in self.h_opp.items()}}

    def load_state_dict(self, st: dict[str, Any]) -> None:
        self.game.set_state(st["game"])
        self.rng.bit_generator.state = st["rng"]
        self.opp, self.side = np.asarray(st["opp"]).copy(), np.asarray(st["side"]).copy()
        self.h = (torch.as_tensor(st["h"]).clone(), torch.as_tensor(st["c"]).clone())
        self.starts, self.obs = np.asarray(st["starts"]).copy(), np.asarray(st["obs"]).copy()
        if "bot" in st:
            self.bot.retreating = np.asarray(st["bot"]).copy()
        if "random_rng" in st:
            self.random_bot.rng.bit_generator.state = st["random_rng"]
        self.h_opp = {int(g): (torch.as_tensor(v[0]).clone(), torch.as_tensor(v[1]).clone())
                      for g, v in st["h_opp"].items()}

    def set_obs(self, obs: str) -> None:
        """Switch the observation set (surgery adds features); the current observations are recomputed."""
        from dataclasses import replace

        self.cfg = replace(self.cfg, obs=obs)  # type: ignore[arg-type]
        self.game.cfg = self.cfg
        self.obs = self.game.observe()

    # ------------------------------------------------------------------ helpers
    def _model(self, weights: Weights) -> FivePolicy:
        shape = shape_of(weights)
        if self.model is None or self.model.shape != shape:
            self.model = FivePolicy(shape)
            self.model.eval()
            if self.h is not None and self.h[0].shape[-1] != shape.hidden:  # surgery widened the LSTM
                pad = shape.hidden - self.h[0].shape[-1]
                self.h = (torch.nn.functional.pad(self.h[0], (0, pad)), torch.nn.functional.pad(self.h[1], (0, pad)))
        self.model.load_state_dict({k: torch.as_tensor(v) for k, v in weights.items()})
        if self.h is None:
            self.h = self.model.initial_state(self.n * N_HEROES)
        return self.model

    def _opponent(self, pid: int) -> FivePolicy:
        if pid not in self.cache:
            self.cache[pid] = from_numpy(self.pool_weights[pid])
        return self.cache[pid]

    def _draw_opponents(self, games: np.ndarray, table: list[tuple[int, float]]) -> None:
        for g in np.flatnonzero(games):
            self.h_opp.pop(int(g), None)
            u = self.rng.random() if (table or self.bot_fraction > 0 or self.random_fraction > 0) else 1.0
            if u < self.bot_fraction:
                self.opp[g] = BOT
                self.side[g] = int(self.rng.integers(2))
            elif u < self.bot_fraction + self.random_fraction:
                self.opp[g] = RANDOM
                self.side[g] = int(self.rng.integers(2))
            elif table and u < self.bot_fraction + self.random_fraction + self.past_fraction:
                ids = [t[0] for t in table]
                p = np.asarray([t[1] for t in table], np.float64)
                self.opp[g] = ids[int(self.rng.choice(len(ids), p=p / p.sum()))]
                self.side[g] = int(self.rng.integers(2))
            else:
                self.opp[g] = SELF

    def learn_rows(self) -> np.ndarray:
        """(n, 10): heroes the current policy controls."""
        learn = np.ones((self.n, N_HEROES), bool)
        past = self.opp != SELF
        team = np.arange(N_HEROES) // TEAM
        learn[past] = team[None] == self.side[past, None]
        return learn

    # ------------------------------------------------------------------ one chunk
    @torch.no_grad()
    def rollout(self, weights: Weights, T: int, tau: float, table: list[tuple[int, float]],
                pool_weights: dict[int, Weights], version: int = 0) -> dict[str, Any]:
        cpu0 = time.process_time()  # the chunk's CPU seconds in this process (a Ray worker's budget share)
        model = self._model(weights)
        self.pool_weights.update(pool_weights)  # only the versions this worker lacks are sent
        live = {t[0] for t in table} | {int(p) for p in self.opp[self.opp >= 0]}
        for pid in list(self.pool_weights):
            if pid not in live:
                self.pool_weights.pop(pid)
                self.cache.pop(pid, None)
        n, R = self.n, self.n * N_HEROES
        D = self.obs.shape[-1]
        buf = {"obs": np.zeros((T, R, D), np.float32), "actions": np.zeros((T, R, 3), np.int64),
               "logp": np.zeros((T, R), np.float32), "values": np.zeros((T, R), np.float32),
               "rewards": np.zeros((T, R), np.float32), "dones": np.zeros((T, R), np.float32),
               "starts": np.zeros((T, R), np.float32), "masks": np.zeros((T, R, 19), bool),
               "learn": np.zeros((T, R), bool)}
        assert self.h is not None
        h0 = (self.h[0].clone(), self.h[1].clone())
        results: list[dict[str, Any]] = []
        k = max(1, self.cfg.act_every)
        team = np.arange(N_HEROES) // TEAM
        for t in range(T):
            assert self.h is not None
            start_rows = np.repeat(self.starts, N_HEROES)
            keep = torch.as_tensor(~start_rows, dtype=torch.float32).view(1, -1, 1)
            self.h = (self.h[0] * keep, self.h[1] * keep)
            mask = concat_masks(*self.game.action_masks()).reshape(R, -1)
            x = torch.as_tensor(self.obs.reshape(R, 1, D))
            logits, value, self.h = model(x, self.h)
            a, lp = sample_actions(logits[:, 0], mask, self.rng)
            learn = self.learn_rows()
            for pid in np.unique(self.opp[self.opp >= 0]):
                games = np.flatnonzero(self.opp == pid)
                opp = self._opponent(int(pid))
                rows = np.concatenate([g * N_HEROES + (1 - self.side[g]) * TEAM + np.arange(TEAM) for g in games])
                hs = [self.h_opp.get(int(g)) for g in games]
                hid = opp.shape.hidden
                z = torch.zeros(1, TEAM, hid)
                hcat = (torch.cat([h[0] if h is not None else z for h in hs], 1),
                        torch.cat([h[1] if h is not None else z for h in hs], 1))
                ol, _, hn = opp(torch.as_tensor(self.obs.reshape(R, D)[rows][:, None]), hcat)
                oa, _ = sample_actions(ol[:, 0], mask[rows], self.rng)
                a[rows] = oa
                for j, g in enumerate(games):
                    self.h_opp[int(g)] = (hn[0][:, j * TEAM:(j + 1) * TEAM], hn[1][:, j * TEAM:(j + 1) * TEAM])
            a3 = a.reshape(n, N_HEROES, 3)
            kind, direction, target = a3[..., 0], a3[..., 1], a3[..., 2]
            unit = target_units(self.game, target)
            bot_rows = (self.opp == BOT)[:, None] & (team[None] != self.side[:, None])  # (n, 10)
            rnd_rows = (self.opp == RANDOM)[:, None] & (team[None] != self.side[:, None])
            acc = np.zeros((n, N_HEROES), np.float32)
            ended = np.zeros(n, bool)
            obs = self.obs
            for j in range(k):  # the decision, repeated for k game steps
                kj, dj, tj = (kind, direction, target) if j == 0 else repeat_actions(self.game, kind, direction, unit)
                if bot_rows.any():
                    bk, bd, bt = self.bot.act(self.game)
                    kj, dj, tj = (np.where(bot_rows, x_b, x) for x_b, x in ((bk, kj), (bd, dj), (bt, tj)))
                if rnd_rows.any():
                    rk, rd, rt = self.random_bot.act(self.game)
                    kj, dj, tj = (np.where(rnd_rows, x_r, x) for x_r, x in ((rk, kj), (rd, dj), (rt, tj)))
                kj = np.where(ended[:, None], NOOP, kj)  # a game that ended waits for the next decision
                obs, r, done, info = self.game.step(kj, dj, tj)
                if self.reward_weights is not None:
                    r = shaped_rewards(info, self.reward_weights)
                acc += np.where(ended[:, None], 0.0, final_rewards(r, tau))
                for g in np.flatnonzero(done & ~ended):
                    w = int(info["winner"][g])
                    results.append({"opp": int(self.opp[g]), "side": int(self.side[g]), "winner": w,
                                    "length": int(info["t"][g]),
                                    "last_hits": float(info["stats_last_hits"][g].mean()),
                                    "kills": float(info["stats_kills"][g].sum()),
                                    "learner_won": bool(self.opp[g] != SELF and w == self.side[g])})
                if done.any():
                    self.bot.reset(done)
                ended |= done
            buf["obs"][t] = self.obs.reshape(R, D)
            buf["actions"][t], buf["logp"][t], buf["values"][t] = a, lp, value[:, 0].numpy()
            buf["rewards"][t], buf["dones"][t] = acc.reshape(R), np.repeat(ended, N_HEROES)
            buf["starts"][t], buf["masks"][t], buf["learn"][t] = start_rows, mask, learn.reshape(R)
            self.obs = obs
            self.starts = ended.copy()
            if ended.any():
                self._draw_opponents(ended, table)
        # bootstrap value after the chunk (zero memory for games that just restarted)
        assert self.h is not None
        start_rows = np.repeat(self.starts, N_HEROES)
        keep = torch.as_tensor(~start_rows, dtype=torch.float32).view(1, -1, 1)
        _, last_v, _ = model(torch.as_tensor(self.obs.reshape(R, 1, D)), (self.h[0] * keep, self.h[1] * keep))
        buf["last_value"] = last_v[:, 0].numpy()
        buf["h0"], buf["c0"] = h0[0][0].numpy(), h0[1][0].numpy()
        return {"batch": buf, "results": results, "version": version, "steps": T * n * k,
                "cpu_s": time.process_time() - cpu0}
