"""`ilya five eval | rate | replay | bench`: win rates, TrueSkill, replays and the game's speed."""

from __future__ import annotations

import sys
import time
from dataclasses import replace
from typing import Any

import numpy as np
import torch

from ilya.core.errors import IlyaError
from ilya.core.progress import progress
from ilya.core.runs import Run
from ilya.core.stats import rate as rate_stat
from ilya.five.bots import RandomBot, ScriptedBot
from ilya.five.config import BenchConfig, EvalConfig, GameConfig, RateConfig, ReplayConfig, TrainConfig
from ilya.five.envs import ATTACK, KINDS, MOVE, NUKE, STUN, TEAM, LaneGame, check_game, obs_dim
from ilya.five.matches import make_player, play, sides
from ilya.five.policy import FivePolicy, split_heads
from ilya.five.render import frame, write_replay


def run_game_config(run: Run) -> GameConfig:
    """The rules a run's latest policy plays by (after surgery, with the extended observations)."""
    tcfg = run.config_as(TrainConfig)
    from ilya.five.train import load_policy

    model, extra = load_policy(run)
    game = replace(tcfg.game, obs=tcfg.surgery.obs) if extra.get("operated") else tcfg.game
    if obs_dim(game) != model.shape.obs_dim:
        raise IlyaError(f"checkpoint of five/{run.name} reads {model.shape.obs_dim} features but its game gives "
                        f"{obs_dim(game)}", file=run.checkpoints_dir)
    return game


def _load(ref: str, runs_dir: Any, policy: str = "latest") -> tuple[Run, FivePolicy, GameConfig]:
    from ilya.five.train import load_best, load_policy

    run = Run.load(ref, runs_dir, system="five")
    if "game" not in run.config or "model" not in run.config:
        raise IlyaError(f"run {run.system}/{run.name} is not a five training run", file=run.path / "config.json")
    model, _ = load_best(run) if policy == "best" else load_policy(run)
    return run, model, run_game_config(run)


def evaluate(cfg: EvalConfig) -> dict[str, Any]:
    if cfg.games < 2:
        raise IlyaError(f"--games: expected at least 2 (one per side), got {cfg.games}")
    run, model, game = _load(cfg.run, cfg.runs_dir, cfg.policy)
    if cfg.temperature <= 0:
        raise IlyaError(f"--temperature: expected a positive number, got {cfg.temperature}")
    r = play(model, cfg.opponent, cfg.games, game, seed=cfg.seed, temperature=cfg.temperature)
    s = rate_stat(r.wins, r.games)
    out = {"run": run.name, "opponent": cfg.opponent, "games": r.games, "wins": r.wins, "losses": r.losses,
           "draws": r.draws, "win_rate": r.win_rate, "win_rate_lo": s.lo, "win_rate_hi": s.hi,
           "mean_length": float(np.mean(r.lengths)), "temperature": cfg.temperature, "policy": cfg.policy}
    if not cfg.json:
        print(f"five/{run.name}{' (best)' if cfg.policy == 'best' else ''} vs {cfg.opponent}: {r.wins} wins, {r.losses} losses, {r.draws} draws in {r.games} "
              f"games (win rate {r.win_rate:.3f}, 95% interval of wins {s.lo:.2f}-{s.hi:.2f})")
    return out


def rate(cfg: RateConfig) -> dict[str, Any]:
    from ilya.five.rating import rate as trueskill_rate
    from ilya.five.rating import snapshots

    run, _, game = _load(cfg.run, cfg.runs_dir)  # the latest checkpoint must be readable
    folder = run.path / "snapshots"
    if not snapshots(folder):
        raise IlyaError(f"run five/{run.name} has no snapshots to rate", file=folder)
    res = trueskill_rate(folder, game, cfg.games, seed=cfg.seed, max_snapshots=cfg.snapshots,
                         temperature=cfg.temperature)
    import json

    from ilya.core.checkpoint import atomic_write_text

    atomic_write_text(run.path / "trueskill.json", json.dumps(res, indent=1) + "\n")
    best = max((r for r in res["ratings"] if r["version"] >= 0), key=lambda r: r["version"])
    scripted = next(r for r in res["ratings"] if r["name"] == "scripted")
    out = {"run": run.name, "ratings": res["ratings"], "latest": best, "scripted_mu": scripted["mu"]}
    from ilya.five.plots import trueskill_figure

    out["figure"] = str(trueskill_figure(run))
    if not cfg.json:
        for r in res["ratings"]:
            print(f"{r['name']:>10}  game steps {r['game_steps']:>9}  TrueSkill μ {r['mu']:+7.2f} ± {r['sigma']:.2f}")
        print(f"figure: {out['figure']}")
    return out


def replay(cfg: ReplayConfig) -> dict[str, Any]:
    if cfg.run is not None:
        _, model, game = _load(cfg.run, cfg.runs_dir)
        first: object = model
    else:
        check_game(cfg.game)
        game, first = cfg.game, "scripted"
    g = LaneGame(1, game, seed=cfg.seed, autoreset=False)
    obs = g.reset()
    pa, pb = make_player(first, 1, cfg.seed, game.act_every), make_player(cfg.opponent, 1, cfg.seed + 1)
    from ilya.five.matches import _act

    frames = [frame(g, 0, team_view=0)]
    winner = -1
    for t in range(min(cfg.steps, game.max_steps)):
        ka, da, ta = _act(pa, g, obs)
        kb, db, tb = _act(pb, g, obs)
        sl = slice(0, TEAM)
        k, d, tt = ka.copy(), da.copy(), ta.copy()
        k[:, TEAM:], d[:, TEAM:], tt[:, TEAM:] = kb[:, TEAM:], db[:, TEAM:], tb[:, TEAM:]
        del sl
        obs, _, done, info = g.step(k, d, tt)
        if (t + 1) % max(cfg.every, 1) == 0:
            frames.append(frame(g, 0, team_view=0))
        if done[0]:
            winner = int(info["winner"][0])
            break
    path = write_replay(frames, cfg.out)
    print(f"{len(frames)} frames -> {path} (winner: {['radiant', 'dire', 'draw'][winner] if winner >= 0 else 'none yet'})")
    return {"out": str(path), "frames": len(frames), "winner": winner}


def game_speed(cfg: BenchConfig) -> dict[str, Any]:
    g = LaneGame(cfg.games, cfg.game, seed=0)
    bot: RandomBot | ScriptedBot = RandomBot(0) if cfg.actions == "random" else ScriptedBot(cfg.games)
    for _ in range(10):
        g.step(*bot.act(g))
    t0 = time.perf_counter()
    for _ in range(cfg.steps):
        g.step(*bot.act(g))
    dt = time.perf_counter() - t0
    steps = cfg.steps * cfg.games / dt
    return {"games": cfg.games, "actions": cfg.actions, "game_steps_per_s": steps, "hero_steps_per_s": steps * 10,
            "seconds": dt}


def bench(cfg: BenchConfig) -> dict[str, Any]:
    r = game_speed(cfg)
    if not cfg.json:
        print(f"{r['game_steps_per_s']:,.0f} game steps/s ({r['hero_steps_per_s']:,.0f} hero-steps/s), "
              f"{cfg.games} games, {cfg.actions} actions", file=sys.stdout)
    return r


# ------------------------------------------------------------------ the sampling temperature's effect
HEADS = ("kind", "direction", "target")


def head_entropies(logits: np.ndarray, mask: np.ndarray, temperature: float = 1.0) -> np.ndarray:
    """(R, 3) the entropy in nats of each head's masked distribution at ``temperature``, per row."""
    heads = split_heads(torch.as_tensor(logits) / temperature, torch.as_tensor(mask))
    return np.stack([-(h.exp() * h.clamp_min(-1e4)).sum(-1).numpy() for h in heads], -1)


def traced_match(model: FivePolicy, opponent: str, games: int, game: GameConfig, seed: int,
                 temperature: float | tuple[float, float, float]) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """`play` (the same games and draws as `evaluate` with this seed) with the policy's decisions recorded;
    returns the match's numbers and, for the policy's own heroes in games still running, the logits at
    temperature 1, the masks and the sampled actions."""
    from ilya.five.rollout import PolicyPlayer

    player = PolicyPlayer(model, games, seed=seed + 1, act_every=game.act_every, temperature=temperature)
    player.trace = []
    r = play(player, opponent, games, game, seed=seed, temperature=temperature)
    _, mine = sides(games)  # (games, 10): the policy's heroes
    lengths = np.asarray(r.lengths)
    rows: dict[str, list[np.ndarray]] = {"logits": [], "mask": [], "actions": []}
    for i, (lg, mk, ac) in enumerate(player.trace):
        keep = (mine & (i * game.act_every < lengths)[:, None]).reshape(-1)
        for k, v in zip(rows, (lg, mk, ac), strict=True):
            rows[k].append(v[keep])
    s = rate_stat(r.wins, r.games)
    out = {"games": r.games, "wins": r.wins, "draws": r.draws, "losses": r.losses, "win_rate": r.win_rate,
           "wins_lo": s.lo, "wins_hi": s.hi, "deaths_per_game": float(np.mean(r.deaths)),
           "kills_per_game": float(np.mean(r.kills))}
    return out, {k: np.concatenate(v) for k, v in rows.items()}


def decision_statistics(trace: dict[str, np.ndarray], temperature: float) -> dict[str, Any]:
    """Of a match's decisions: each head's mean entropy at temperature 1 and at ``temperature`` (the
    direction over the rows that moved, the target over those that attacked or cast), how often the
    sampled choice is not the head's most likely one, and how often each kind was chosen."""
    logits, mask, acts = trace["logits"], trace["mask"], trace["actions"]
    kind = acts[:, 0]
    used = [np.ones(len(kind), bool), kind == MOVE, (kind == ATTACK) | (kind == NUKE) | (kind == STUN)]
    e1, et = head_entropies(logits, mask, 1.0), head_entropies(logits, mask, temperature)
    greedy = np.stack([h.argmax(-1).numpy() for h in split_heads(torch.as_tensor(logits), torch.as_tensor(mask))], -1)
    free = mask[:, : len(KINDS)].sum(-1) > 1  # rows with a choice of kind (not dead, not stunned)
    out: dict[str, Any] = {"decisions": int(len(kind)), "with_a_choice": float(free.mean())}
    for j, name in enumerate(HEADS):
        u = used[j] & free
        out[name] = {"rows": int(u.sum()), "entropy_t1": float(e1[u, j].mean()) if u.any() else 0.0,
                     "entropy": float(et[u, j].mean()) if u.any() else 0.0,
                     "not_greedy": float((acts[u, j] != greedy[u, j]).mean()) if u.any() else 0.0}
    out["kinds"] = {k: float((kind[free] == i).mean()) for i, k in enumerate(KINDS)}
    return out


def temperature_study(ref: str, runs_dir: Any = "runs", temperatures: tuple[float, ...] = (0.25, 0.5, 0.75, 1.0),
                      head_variants: tuple[tuple[float, float, float], ...] = (), games: int = 64, seed: int = 1,
                      policy: str = "best", opponent: str = "scripted") -> dict[str, Any]:
    """Win rate against ``opponent`` and the decisions' statistics at each temperature, then with one
    temperature per head (kind, direction, target) for each of ``head_variants``; CPU seconds per match."""
    run, model, game = _load(ref, runs_dir, policy)
    out: dict[str, Any] = {"run": run.name, "policy": policy, "opponent": opponent, "games": games, "seed": seed,
                           "temperatures": [], "heads": []}
    jobs: list[tuple[str, float | tuple[float, float, float]]] = [("temperatures", t) for t in temperatures]
    jobs += [("heads", hv) for hv in head_variants]
    for key, t in progress(jobs, desc=f"five/{run.name} temperatures"):
        c0 = time.process_time()
        res, trace = traced_match(model, opponent, games, game, seed, t)
        res["cpu_s"] = time.process_time() - c0
        res["temperature"] = t
        if isinstance(t, float):
            res["decisions"] = decision_statistics(trace, t)
        out[key].append(res)
    return out
