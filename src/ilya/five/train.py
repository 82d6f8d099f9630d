"""The learner: PPO self-play for the shared LSTM policy (Berner et al. 2019, Sections 3-4).

One iteration: the rollout workers play a chunk of ``rollout_len`` steps in every game (the current
policy against itself, or against a past version in ``past_fraction`` of the games), rewards are
shaped, mixed by team spirit τ and made zero-sum; GAE (λ = 0.95) gives advantages; PPO (clip 0.2)
updates the policy for ``epochs`` passes over the chunk, the LSTM run from the memory saved at the
chunk's start.  Every ``pool_every`` iterations the policy joins the opponent pool.  Staleness (how
many versions behind the learner the data's policy is) and sample reuse (samples consumed by the
optimiser per sample collected) are measured and logged; ``--staleness k`` trains on rollouts of the
policy k versions old, the paper's Figure 5b experiment.  Surgery (``--surgery.at``) widens the LSTM and
adds observation features at an iteration, preserving the policy's function.
"""

from __future__ import annotations

import time
from collections import deque
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ilya.core.checkpoint import load_state, save_state
from ilya.core.errors import IlyaError
from ilya.core.figures import draw_run
from ilya.core.progress import progress
from ilya.core.runs import Run
from ilya.five.config import TrainConfig
from ilya.five.envs import check_game, obs_dim
from ilya.five.matches import play
from ilya.five.policy import FivePolicy, PolicyShape, log_prob_entropy
from ilya.five.rating import save_snapshot
from ilya.five.rewards import run_weights, tau_at
from ilya.five.rollout import BOT, RANDOM, RolloutWorker, Weights, from_numpy, to_numpy
from ilya.five.selfplay import OpponentPool
from ilya.five.surgery import operate
from ilya.nn.ppo import gae, masked_mean, normalize, ppo_clip_loss
from ilya.nn.training import Trainer

PAPER_HIDDEN = 4096


def policy_shape(cfg: TrainConfig) -> PolicyShape:
    if cfg.model.shape == "paper":
        return PolicyShape(obs_dim(cfg.game), PAPER_HIDDEN, PAPER_HIDDEN // 2)
    return PolicyShape(obs_dim(cfg.game), cfg.model.hidden, cfg.model.embed)


def check_config(cfg: TrainConfig) -> None:
    check_game(cfg.game)
    for name in ("iterations", "num_games", "rollout_len", "epochs", "minibatches", "pool_every"):
        if getattr(cfg, name) < 1:
            raise IlyaError(f"--{name.replace('_', '-')}: expected a positive number, got {getattr(cfg, name)}")
    if not 0.0 <= cfg.past_fraction <= 1.0:
        raise IlyaError(f"--past-fraction: expected 0 to 1, got {cfg.past_fraction}")
    if min(cfg.bot_fraction, cfg.random_fraction) < 0 or cfg.bot_fraction + cfg.random_fraction + cfg.past_fraction > 1:
        raise IlyaError(f"--bot-fraction {cfg.bot_fraction} and --random-fraction {cfg.random_fraction}: expected "
                        f"0 or more, with --past-fraction at most 1 together")
    if cfg.lr_end < 0 or (cfg.entropy_end is not None and cfg.entropy_end < 0):
        raise IlyaError(f"--lr-end {cfg.lr_end} / --entropy-end {cfg.entropy_end}: expected 0 or more")
    if cfg.minutes < 0 or cfg.cpu_minutes < 0:
        raise IlyaError(f"--minutes {cfg.minutes} / --cpu-minutes {cfg.cpu_minutes}: expected 0 or more")
    if cfg.keep_best and cfg.eval_every <= 0:
        raise IlyaError("--keep-best needs evaluations during training (--eval-every > 0)")
    if cfg.staleness < 0:
        raise IlyaError(f"--staleness: expected 0 or more, got {cfg.staleness}")
    if cfg.surgery.at > 0 and cfg.surgery.hidden < policy_shape(cfg).hidden:
        raise IlyaError(f"--surgery.hidden {cfg.surgery.hidden}: surgery only widens the LSTM "
                        f"(it has {policy_shape(cfg).hidden} units)")


BEST = "best.safetensors"


def late_anneal(frac: float, cfg: TrainConfig) -> tuple[float, float]:
    """(learning rate, entropy bonus) at fraction ``frac`` of training: constant until the τ anneal ends, then
    linear to ``lr_end * lr`` and ``entropy_end`` at the end (ours, not the paper's)."""
    a = cfg.team_spirit_anneal
    late = min(max((frac - a) / max(1.0 - a, 1e-9), 0.0), 1.0) if a < 1.0 else 0.0
    lr = cfg.optim.lr * (1.0 + (cfg.lr_end - 1.0) * late)
    end = cfg.entropy_coef if cfg.entropy_end is None else cfg.entropy_end
    return lr, cfg.entropy_coef + (end - cfg.entropy_coef) * late


def budget_fraction(it: int, wall_s: float, cpu_s: float, cfg: TrainConfig) -> float:
    """How much of the training budget is spent: the larger of wall time / --minutes and CPU time /
    --cpu-minutes (those set), else iterations / --iterations.  Training ends at 1; τ and the late anneal
    follow it, so a CPU budget gives the same schedule on a loaded machine as on a quiet one."""
    fracs = [t / (m * 60.0) for t, m in ((wall_s, cfg.minutes), (cpu_s, cfg.cpu_minutes)) if m > 0]
    return max(fracs) if fracs else it / cfg.iterations


def eval_score(ev: dict[str, float]) -> float:
    """What --keep-best ranks evaluations by: the win rate against the scripted bot, ties broken by the win
    rate against random heroes."""
    return ev["eval/win_rate_scripted"] + 1e-3 * ev["eval/win_rate_random"]


def save_best(run: Run, it: int, game_steps: int, score: float, weights: Weights) -> None:
    save_state(run.path / BEST, {"iteration": it, "game_steps": game_steps, "score": score, "weights": weights})


def load_best(run: Run) -> tuple[FivePolicy, dict[str, Any]]:
    """The policy --keep-best kept (the best evaluation during training), and its iteration, steps, score."""
    path = run.path / BEST
    if not path.is_file():
        raise IlyaError(f"run five/{run.name} has no best policy (train it with --keep-best)", file=path)
    blob = load_state(path)
    weights = {k: np.asarray(v) for k, v in blob["weights"].items()}
    return from_numpy(weights), {k: blob[k] for k in ("iteration", "game_steps", "score")}


def load_policy(run: Run) -> tuple[FivePolicy, dict[str, Any]]:
    """The latest policy of a five run, and its checkpoint's extra state."""
    state = run.load_checkpoint()
    if state is None:
        raise IlyaError(f"run five/{run.name} has no checkpoint yet", file=run.checkpoints_dir)
    if "model" not in state or "net.embed.0.weight" not in state.get("model", {}):
        raise IlyaError(f"run {run.system}/{run.name} is not a five training run", file=run.checkpoints_dir)
    weights = {k: v.numpy() for k, v in state["model"].items()}
    return from_numpy(weights), dict(state.get("extra") or {})


class LocalRollouts:
    """One worker in the learner's process (deterministic for a seed)."""

    def __init__(self, cfg: TrainConfig) -> None:
        self.worker = RolloutWorker(cfg.game, cfg.num_games, seed=cfg.seed * 1000 + 1, past_fraction=cfg.past_fraction,
                                    bot_fraction=cfg.bot_fraction, random_fraction=cfg.random_fraction,
                                    reward_weights=run_weights(cfg.reward_kill, cfg.reward_tower))
        self.restarts = 0

    def collect(self, weights: Weights, version: int, tau: float, pool: OpponentPool, T: int) -> dict[str, Any]:
        return self.worker.rollout(weights, T, tau, pool.table(), pool.weights, version)

    def worker_cpu_s(self) -> float:
        return 0.0  # the worker plays in the learner's process: its CPU time is the learner's

    def set_obs(self, obs: str) -> None:
        self.worker.set_obs(obs)

    def state_dict(self) -> dict[str, Any]:
        return self.worker.state_dict()

    def load_state_dict(self, st: dict[str, Any]) -> None:
        self.worker.load_state_dict(st)

    def close(self) -> None:
        pass


def ppo_update(model: FivePolicy, trainer: Trainer, batch: dict[str, np.ndarray], cfg: TrainConfig,
               rng: np.random.Generator, entropy_coef: float | None = None) -> dict[str, float]:
    """PPO epochs over one chunk; sequences are the hero rows, run from their saved memory."""
    ent_coef = cfg.entropy_coef if entropy_coef is None else entropy_coef
    def rt(k: str) -> torch.Tensor:  # time-major (T, R, ...) -> row-major (R, T, ...)
        return torch.as_tensor(np.swapaxes(batch[k], 0, 1).copy())

    obs, actions, logp_old = rt("obs"), rt("actions"), rt("logp")
    values, rewards, dones = rt("values"), rt("rewards"), rt("dones")
    starts, masks, learn = rt("starts"), rt("masks"), rt("learn").float()
    last = torch.as_tensor(np.array(batch["last_value"]))
    gamma = cfg.gamma ** max(1, cfg.game.act_every)  # one row is a decision of act_every game steps
    adv, ret = gae(rewards, values, dones, last, gamma, cfg.gae_lambda)
    rows = np.flatnonzero(learn.sum(1).numpy() > 0)
    h0, c0 = torch.as_tensor(np.array(batch["h0"])), torch.as_tensor(np.array(batch["c0"]))
    adv = normalize(adv, learn)
    stats: dict[str, list[float]] = {k: [] for k in ("policy_loss", "value_loss", "entropy", "approx_kl",
                                                      "clip_frac", "grad_norm")}
    used = 0
    for _ in range(cfg.epochs):
        perm = rng.permutation(rows)
        for mb in np.array_split(perm, cfg.minibatches):
            if len(mb) == 0:
                continue
            idx = torch.as_tensor(mb)
            h = (h0[idx][None].contiguous(), c0[idx][None].contiguous())
            logits, v, _ = model(obs[idx], h, starts[idx])
            lp, ent = log_prob_entropy(logits, masks[idx], actions[idx])
            m = learn[idx]
            pl, diag = ppo_clip_loss(lp, logp_old[idx], adv[idx], cfg.clip, mask=m)
            vl = masked_mean((v - ret[idx]) ** 2, m)
            en = masked_mean(ent, m)
            loss = pl + cfg.value_coef * vl - ent_coef * en
            out = trainer.step(loss)
            used += int(m.sum())
            for k, val in (("policy_loss", pl.item()), ("value_loss", vl.item()), ("entropy", en.item()),
                           ("approx_kl", diag["approx_kl"]), ("clip_frac", diag["clip_frac"]),
                           ("grad_norm", out["grad_norm"])):
                stats[k].append(val)
    res = {k: float(np.mean(v)) if v else 0.0 for k, v in stats.items()}
    res["samples_used"] = float(used)
    res["samples"] = float(learn.sum())
    return res


def evaluate_policy(model: FivePolicy, cfg: TrainConfig, games: int, seed: int, operated: bool = False
                    ) -> dict[str, float]:
    game = replace(cfg.game, obs=cfg.surgery.obs) if operated else cfg.game
    out = {}
    for opp in ("scripted", "random"):
        r = play(model, opp, games, game, seed=seed, desc=f"eval vs {opp}", temperature=cfg.eval_temperature)
        out[f"eval/win_rate_{opp}"] = r.win_rate
    return out


def train(cfg: TrainConfig) -> dict[str, Any]:
    check_config(cfg)
    torch.set_num_threads(max(1, cfg.threads))
    with Run.open("five", cfg) as run:
        result = _train(cfg, run)
        draw_run(run)
        run.summary(**result)
    return result


def _init_weights(cfg: TrainConfig, shape: PolicyShape) -> FivePolicy | None:
    if cfg.init_from is None:
        return None
    src = Run.load(cfg.init_from, cfg.runs_dir, system="five")
    model, _ = load_policy(src)
    if model.shape != shape:
        raise IlyaError(f"checkpoint of five/{src.name} has another architecture ({model.shape.obs_dim} inputs, "
                        f"{model.shape.hidden} LSTM units) than this run ({shape.obs_dim} inputs, {shape.hidden} "
                        "units); continue it with --surgery.at instead, or match --model and --game.obs",
                        file=src.checkpoints_dir)
    return model


def _train(cfg: TrainConfig, run: Run) -> dict[str, Any]:
    shape = policy_shape(cfg)
    state = run.load_checkpoint()
    extra: dict[str, Any] = dict(state.get("extra") or {}) if state else {}
    if state is not None:
        shape = PolicyShape(**{k: int(v) for k, v in extra["shape"].items()})
    model = FivePolicy(shape)
    init = _init_weights(cfg, policy_shape(cfg)) if state is None else None
    if init is not None:
        model.load_state_dict(init.state_dict())
    total_updates = cfg.iterations * cfg.epochs * cfg.minibatches
    trainer = Trainer(model, cfg.optim, total_steps=total_updates)
    pool = OpponentPool(cfg.pool_size, cfg.quality_lr)
    rollouts: Any
    if cfg.workers > 0:
        from ilya.five.workers import RayRollouts

        rollouts = RayRollouts(cfg)
    else:
        rollouts = LocalRollouts(cfg)
    rng = np.random.default_rng(cfg.seed + 17)
    history: deque[Weights] = deque(maxlen=cfg.staleness + 1)
    start, version, game_steps, wall_train, cpu_train = 0, 0, 0, 0.0, 0.0
    operated = False
    if state is not None:
        trainer.load_state_dict(state)
        start = int(state["step"])
        version, game_steps = int(extra["version"]), int(extra["game_steps"])
        wall_train = float(extra.get("wall_train", 0.0))
        cpu_train = float(extra.get("cpu_train", 0.0))
        operated = bool(extra.get("operated", False))
        pool.load_state_dict(extra["pool"])
        rng.bit_generator.state = extra["rng"]
        for w in extra["history"]:
            history.append({k: np.asarray(v) for k, v in w.items()})
        if operated:
            rollouts.set_obs(cfg.surgery.obs)
        if cfg.workers == 0:
            rollouts.load_state_dict(extra["worker"])
    timed = cfg.minutes > 0 or cfg.cpu_minutes > 0
    total = 10**9 if timed else cfg.iterations
    bar = progress(total=None if timed else total, initial=start, desc="five train")
    cpu_eval = float(extra.get("cpu_eval", 0.0))
    t_ckpt = time.time()
    recent: deque[dict[str, Any]] = deque(maxlen=200)
    last_eval: dict[str, float] = {}
    best_score, best_it = float(extra.get("best_score", -1.0)), int(extra.get("best_iteration", -1))
    it = start

    def save(step: int) -> None:
        run.save_checkpoint(step, {**trainer.state_dict(), "extra": {
            "shape": model.shape.as_dict(), "version": version, "game_steps": game_steps,
            "wall_train": wall_train, "cpu_train": cpu_train, "cpu_eval": cpu_eval, "operated": operated, "pool": pool.state_dict(),
            "best_score": best_score, "best_iteration": best_it,
            "rng": rng.bit_generator.state, "history": list(history),
            "worker": rollouts.state_dict() if cfg.workers == 0 else {}}})

    if state is None:
        save_snapshot(run.path / "snapshots", 0, 0, to_numpy(model))
    try:
        while it < total:
            frac = budget_fraction(it, wall_train, cpu_train, cfg)
            if timed and frac >= 1.0:
                break
            t0, c0, w0 = time.time(), time.process_time(), rollouts.worker_cpu_s()
            tau = tau_at(frac, cfg.team_spirit_start, cfg.team_spirit_end, cfg.team_spirit_anneal)
            lr, ent_coef = late_anneal(frac, cfg)
            if lr != trainer.cfg.lr:
                trainer.cfg = replace(trainer.cfg, lr=lr)  # the schedule is by training time, not steps
            if cfg.surgery.at > 0 and it == cfg.surgery.at and not operated:
                new_dim = obs_dim(replace(cfg.game, obs=cfg.surgery.obs))
                model = operate(model, obs_dim=new_dim, hidden=cfg.surgery.hidden, seed=cfg.seed)
                step_count = trainer.step_count
                trainer = Trainer(model, cfg.optim, total_steps=total_updates)
                trainer.step_count = step_count
                rollouts.set_obs(cfg.surgery.obs)
                history.clear()
                operated = True
            weights = to_numpy(model)
            history.append(weights)
            behaviour = history[0]  # the policy `staleness` versions ago (or the oldest there is)
            out = rollouts.collect(behaviour, version - (len(history) - 1), tau, pool, cfg.rollout_len)
            stale = version - int(out["version"])
            for res in out["results"]:
                if res["opp"] >= 0:
                    pool.update(res["opp"], res["learner_won"])
                recent.append(res)
            b = out["batch"]
            if b["obs"].shape[-1] != model.shape.obs_dim or b["h0"].shape[-1] != model.shape.hidden:
                # played before surgery (by a Ray worker): not this network's data
                stats = {"samples_used": 0.0, "samples": 1.0}
            else:
                stats = ppo_update(model, trainer, out["batch"], cfg, rng, ent_coef)
            version += 1
            game_steps += int(out["steps"])
            if (it + 1) % cfg.pool_every == 0:
                now = to_numpy(model)
                pool.add(version, now)
                save_snapshot(run.path / "snapshots", version, game_steps, now)
            it += 1
            wall_train += time.time() - t0
            cpu_train += time.process_time() - c0 + rollouts.worker_cpu_s() - w0
            learn = b["learn"]
            past = [r for r in recent if r["opp"] >= 0]
            vs_bot = [r for r in recent if r["opp"] == BOT]
            vs_rnd = [r for r in recent if r["opp"] == RANDOM]
            row: dict[str, Any] = {
                "train/reward": float((b["rewards"] * learn).sum() / max(learn.sum(), 1)),
                "train/policy_loss": stats.get("policy_loss", 0.0), "train/value_loss": stats.get("value_loss", 0.0),
                "train/entropy": stats.get("entropy", 0.0), "train/approx_kl": stats.get("approx_kl", 0.0),
                "train/clip_frac": stats.get("clip_frac", 0.0), "tau": tau, "staleness": stale,
                "train/lr": lr, "train/entropy_coef": ent_coef,
                "sample_reuse": stats["samples_used"] / max(stats["samples"], 1.0),
                "game_steps": game_steps, "pool_size": len(pool), "lstm_units": model.shape.hidden,
                "game/length": float(np.mean([r["length"] for r in recent])) if recent else 0.0,
                "game/last_hits": float(np.mean([r["last_hits"] for r in recent])) if recent else 0.0,
                "selfplay/win_rate_vs_past": float(np.mean([r["learner_won"] for r in past])) if past else 0.5,
                "selfplay/win_rate_vs_bot": float(np.mean([r["learner_won"] for r in vs_bot])) if vs_bot else 0.0,
                "selfplay/win_rate_vs_random": float(np.mean([r["learner_won"] for r in vs_rnd])) if vs_rnd else 0.0,
                "restarts": getattr(rollouts, "restarts", 0),
                "speed/game_steps_per_s": out["steps"] / max(time.time() - t0, 1e-9),
                "time/train_minutes": wall_train / 60.0, "time/train_cpu_minutes": cpu_train / 60.0,
                "time/budget_fraction": budget_fraction(it, wall_train, cpu_train, cfg),
            }
            if cfg.eval_every > 0 and it % cfg.eval_every == 0:
                ce = time.process_time()
                last_eval = evaluate_policy(model, cfg, cfg.eval_games, seed=10_000 + it, operated=operated)
                cpu_eval += time.process_time() - ce
                row.update(last_eval)
                if cfg.keep_best and eval_score(last_eval) > best_score:
                    best_score, best_it = eval_score(last_eval), it
                    save_best(run, it, game_steps, best_score, to_numpy(model))
                if cfg.keep_best:
                    row["eval/best_iteration"] = best_it
            run.log(it, **row)
            bar.update(1)
            if it % cfg.ckpt_every == 0 or time.time() - t_ckpt > cfg.ckpt_minutes * 60:
                save(it)
                t_ckpt = time.time()
    finally:
        bar.close()
        rollouts.close()
    save(it)
    final = evaluate_policy(model, cfg, max(cfg.eval_games, 2), seed=99_999, operated=operated)
    best = {"best_iteration": best_it, "best_score": best_score} if cfg.keep_best else {}
    return {**best, "run": str(run.path), "iterations": it, "game_steps": game_steps, "params": model.param_count(),
            "lstm_units": model.shape.hidden, "win_rate_scripted": final["eval/win_rate_scripted"],
            "win_rate_random": final["eval/win_rate_random"], "train_minutes": wall_train / 60.0,
            "train_cpu_minutes": cpu_train / 60.0, "budget_minutes": cfg.minutes, "budget_cpu_minutes": cfg.cpu_minutes,
            "eval_cpu_minutes": cpu_eval / 60.0}


def runs_dir_of(cfg: TrainConfig) -> Path:
    return Path(cfg.runs_dir)


def train_command(cfg: TrainConfig) -> dict[str, Any]:
    """`ilya five train`: the run, then one line on stderr with the final win rates."""
    import sys

    result = train(cfg)
    print(f"after {result['iterations']} iterations ({result['game_steps']:,} game steps): win rate "
          f"{result['win_rate_scripted']:.2f} vs the scripted bot, {result['win_rate_random']:.2f} vs random; "
          f"figures in {result['run']}/plots", file=sys.stderr)
    return result
