"""Training loops of MAML / E-MAML and RL² / E-RL², with the paper's protocol as defaults.

Protocol (Stadie et al. 2018, sec. 4 and appendix): 32 training worlds, 64 held-out test worlds; MAML
gets one inner update at test time; RL² gets a trial of 5 episodes, 3 to explore, and is scored on
episodes 4-5; PPO with clip 0.2 and GAE λ 0.997.  The test return of every method is "mean return per
episode after exploring" on the held-out worlds: the adapted policy's episodes for MAML, episodes 4-5
for RL².  Metrics are logged against environment steps (every step any sampler took counts).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from ilya.core.device import resolve_device
from ilya.core.errors import IlyaError
from ilya.core.figures import draw_run
from ilya.core.progress import progress
from ilya.core.runs import Run
from ilya.metarl.config import TrainConfig, krazy_world
from ilya.metarl.maml import action_logp, adapt, advantages, emaml_surrogate, pg_inner_loss, replicate
from ilya.metarl.policy import init_mlp, to_numpy
from ilya.metarl.rl2 import episode_returns, objective_rewards, trial_dones
from ilya.metarl.sampling import EnvSpec, Sampler, rnn_inputs, rollout_random
from ilya.metarl.scoring import world_stats
from ilya.nn.ppo import gae, masked_mean, normalize, ppo_clip_loss
from ilya.nn.recurrent import RecurrentActorCritic


def env_spec(cfg: TrainConfig) -> EnvSpec:
    env_cfg = {"krazy": krazy_world(cfg.krazy, cfg.krazy_preset), "maze": cfg.maze, "bandit": cfg.bandit}[cfg.env]
    return EnvSpec(cfg.env, env_cfg)


def world_seeds(cfg: TrainConfig) -> tuple[np.ndarray, np.ndarray]:
    """Training and test world seeds (disjoint)."""
    base = cfg.world_seed * 1_000_000
    return base + np.arange(cfg.train_worlds), base + 500_000 + np.arange(cfg.test_worlds)


def eval_seed(cfg: TrainConfig) -> int:
    """The run's one evaluation seed: every evaluation point, the summary and `ilya metarl eval` use it."""
    return 777_000 + cfg.seed


def _t(x: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(x))


def _chunks(n: int, size: int) -> list[np.ndarray]:
    return [np.arange(i, min(n, i + size)) for i in range(0, n, size)]


# ---------------------------------------------------------------------------- MAML / E-MAML
@dataclass
class MamlBatch:
    """One meta-iteration's data: pre- and post-update rollouts of a meta-batch of training worlds."""

    worlds: np.ndarray                 # (N,) index of each task's training world
    pre: dict[str, torch.Tensor]       # obs (N, K, T, D), actions / rewards / mask (N, K, T)
    post: dict[str, torch.Tensor]
    adv_pre: torch.Tensor              # (N, K, T) the inner step's advantages
    adv_post: torch.Tensor             # (N, K, T) the PPO meta-update's advantages
    logp_old: torch.Tensor             # (N, K, T) log π_θ'(a|s) of the post-update steps when sampled
    post_return: torch.Tensor          # (N,) Rᵢ: each task's mean post-update episode return
    baseline: torch.Tensor             # (N,) bᵢ: its world's running mean from earlier iterations
    scale: float                       # running s.d. of Rᵢ - bᵢ from earlier iterations (1 at first)


class MamlLearner:
    """θ of an MLP policy; one meta-iteration = pre-update rollouts, inner step, post-update rollouts, PPO.

    E-MAML's extra term uses a per-world baseline: bᵢ is a running mean of the post-update returns of
    training world i in *earlier* iterations (and of all worlds for a world not seen yet), so it does not
    depend on the trajectories it is subtracted from and the estimator stays unbiased.
    """

    def __init__(self, cfg: TrainConfig, spec: EnvSpec, sampler: Sampler) -> None:
        self.cfg, self.spec, self.sampler = cfg, spec, sampler
        gen = torch.Generator().manual_seed(cfg.seed)
        self.params = {k: v.requires_grad_(True) for k, v in
                       init_mlp(spec.obs_dim, spec.n_actions, (cfg.hidden, cfg.hidden), gen).items()}
        self.opt = torch.optim.Adam(self.params.values(), lr=cfg.lr)
        self.weight = cfg.emaml_weight if cfg.algo == "emaml" else 0.0
        n = max(1, cfg.train_worlds)
        self.baseline = torch.zeros(n, dtype=torch.float64)   # per training world
        self.seen = torch.zeros(n, dtype=torch.bool)
        self.adv_var = torch.ones((), dtype=torch.float64)    # running mean of (R - b)²
        self.adv_var_seen = torch.zeros((), dtype=torch.bool)

    def _batch(self, params: dict[str, np.ndarray], tasks: np.ndarray, seed: int) -> dict[str, torch.Tensor]:
        b = self.sampler.mlp(params, tasks, self.cfg.episodes_per_task, seed)
        return {k: _t(v) for k, v in b.items()}

    def _adapted(self, pre: dict[str, torch.Tensor], adv_pre: torch.Tensor, create_graph: bool):
        """(θ' per task, log π_θ of the pre-update steps)."""
        rep = replicate(self.params, pre["obs"].shape[0])
        logp_pre, _ = action_logp(rep, pre["obs"], pre["actions"])
        inner = pg_inner_loss(logp_pre, adv_pre, pre["mask"])
        return adapt(rep, inner, self.cfg.inner_lr, create_graph=create_graph), logp_pre

    # ------------------------------------------------------------------ the per-world baseline
    def world_baseline(self, worlds: np.ndarray) -> torch.Tensor:
        """bᵢ for each task's world, from earlier iterations only."""
        idx = torch.as_tensor(worlds, dtype=torch.long)
        fallback = self.baseline[self.seen].mean() if bool(self.seen.any()) else torch.zeros((), dtype=torch.float64)
        return torch.where(self.seen[idx], self.baseline[idx], fallback).float()

    def update_baseline(self, batch: MamlBatch) -> None:
        """After the meta-update: fold this iteration's post-update returns into the running statistics."""
        d = self.cfg.emaml_baseline_decay
        R = batch.post_return.double()
        resid = float(((R - batch.baseline.double()) ** 2).mean())
        self.adv_var = torch.tensor(d * float(self.adv_var) + (1 - d) * resid if bool(self.adv_var_seen) else resid,
                                    dtype=torch.float64)
        self.adv_var_seen = torch.ones((), dtype=torch.bool)
        for w in np.unique(batch.worlds):
            r = R[torch.as_tensor(batch.worlds == w)].mean()
            self.baseline[w] = d * self.baseline[w] + (1 - d) * r if bool(self.seen[w]) else r
            self.seen[w] = True

    # ------------------------------------------------------------------ one meta-iteration
    def collect(self, it: int, rng: np.random.Generator, train_seeds: np.ndarray) -> MamlBatch:
        cfg = self.cfg
        worlds = rng.choice(len(train_seeds), size=cfg.meta_batch, replace=cfg.meta_batch > len(train_seeds))
        tasks = train_seeds[worlds]
        seed = cfg.seed * 1_000_003 + 2 * it
        pre = self._batch(to_numpy(self.params), tasks, seed)
        adv_pre = advantages(pre["obs"], pre["rewards"], pre["mask"], cfg.gamma, cfg.gae_lambda)
        adapted, _ = self._adapted(pre, adv_pre, create_graph=False)
        post = self._batch(to_numpy(adapted), tasks, seed + 1)
        adv_post = advantages(post["obs"], post["rewards"], post["mask"], cfg.gamma, cfg.gae_lambda)
        with torch.no_grad():
            logp_old, _ = action_logp({k: v.detach() for k, v in adapted.items()}, post["obs"], post["actions"])
        scale = float(self.adv_var.sqrt()) if bool(self.adv_var_seen) else 1.0
        return MamlBatch(worlds, pre, post, adv_pre, adv_post, logp_old, post["rewards"].sum(-1).mean(-1),
                         self.world_baseline(worlds), max(scale, 1e-3))

    def emaml_term(self, logp_pre: torch.Tensor, batch: MamlBatch) -> torch.Tensor:
        """The scalar whose gradient is E-MAML's extra term: mean over tasks of (Rᵢ - bᵢ) ∇ log π_θ(τᵢ)
        (log π_θ(τᵢ) averaged over the task's K pre-update episodes), rescaled by constants only with
        ``--emaml-normalize``: 1/horizon and 1/(running s.d. of Rᵢ - bᵢ from earlier iterations)."""
        traj_logp = (logp_pre * batch.pre["mask"]).sum(-1)  # (N, K) log π_θ(τ) per pre-update episode
        adv = batch.post_return - batch.baseline
        if self.cfg.emaml_normalize:
            traj_logp = traj_logp / float(self.spec.horizon)
            adv = adv / batch.scale
        return emaml_surrogate(traj_logp, adv, baseline=torch.zeros(()))

    def loss(self, batch: MamlBatch, epoch: int) -> tuple[torch.Tensor, dict[str, float]]:
        """The meta-loss of one PPO epoch: clipped surrogate through θ'(θ), entropy, and E-MAML's term."""
        cfg = self.cfg
        adapted, logp_pre = self._adapted(batch.pre, batch.adv_pre, create_graph=True)
        logp_post, ent = action_logp(adapted, batch.post["obs"], batch.post["actions"])
        loss, info = ppo_clip_loss(logp_post, batch.logp_old, batch.adv_post, cfg.clip, batch.post["mask"])
        loss = loss - cfg.entropy_coef * masked_mean(ent, batch.post["mask"])
        if self.weight and (epoch == 0 or not cfg.emaml_first_epoch):
            loss = loss - self.weight * self.emaml_term(logp_pre, batch)
        return loss, info

    def iteration(self, it: int, rng: np.random.Generator, train_seeds: np.ndarray) -> tuple[dict[str, float], int]:
        cfg = self.cfg
        batch = self.collect(it, rng, train_seeds)
        info: dict[str, float] = {}
        for epoch in range(cfg.ppo_epochs):
            loss, info = self.loss(batch, epoch)
            self.opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(self.params.values(), cfg.max_grad_norm)
            self.opt.step()
        self.update_baseline(batch)
        pre, post = batch.pre, batch.post
        steps = int(pre["mask"].sum() + post["mask"].sum())
        metrics = {"train/pre_return": float(pre["rewards"].sum(-1).mean()),
                   "train/post_return": float(batch.post_return.mean()), "train/approx_kl": info["approx_kl"]}
        return metrics, steps

    def evaluate(self, seeds: np.ndarray, seed: int) -> dict[str, np.ndarray]:
        """Per test world and adaptation: the mean return of ``eval_episodes`` post-update episodes after one
        inner update on ``episodes_per_task`` pre-update episodes (MAML's test-time protocol), (N, M)."""
        cfg = self.cfg
        M, N = max(1, cfg.eval_adapts), len(seeds)
        tasks = np.tile(seeds, M)  # replica m of world n at m * N + n
        score, before = np.zeros(N * M), np.zeros(N * M)
        theta = to_numpy(self.params)
        for c, idx in enumerate(_chunks(N * M, 256)):
            s = seed * 1009 + 2 * c
            pre = self._batch(theta, tasks[idx], s)
            adv_pre = advantages(pre["obs"], pre["rewards"], pre["mask"], cfg.gamma, cfg.gae_lambda)
            adapted, _ = self._adapted(pre, adv_pre, create_graph=False)
            post = self.sampler.mlp(to_numpy(adapted), tasks[idx], max(1, cfg.eval_episodes), s + 1)
            score[idx] = post["rewards"].sum(-1).mean(-1)
            before[idx] = pre["rewards"].sum(-1).mean(-1).numpy()
        return {"score": score.reshape(M, N).T, "before": before.reshape(M, N).T}

    def adapted_numpy(self, seeds: np.ndarray, seed: int) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
        """(θ, θ' per task) as NumPy, for drawing trajectories."""
        cfg = self.cfg
        pre = self._batch(to_numpy(self.params), seeds, seed)
        adv_pre = advantages(pre["obs"], pre["rewards"], pre["mask"], cfg.gamma, cfg.gae_lambda)
        adapted, _ = self._adapted(pre, adv_pre, create_graph=False)
        return to_numpy(self.params), to_numpy(adapted)

    def state_dict(self) -> dict[str, Any]:
        return {"policy": {k: v.detach().clone() for k, v in self.params.items()}, "optim": self.opt.state_dict(),
                "baseline": {"mean": self.baseline.clone(), "seen": self.seen.clone(),
                             "adv_var": self.adv_var.clone(), "adv_var_seen": self.adv_var_seen.clone()}}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        with torch.no_grad():
            for k, v in state["policy"].items():
                self.params[k].copy_(torch.as_tensor(v))
        self.opt.load_state_dict(state["optim"])
        if "baseline" in state:
            b = state["baseline"]
            self.baseline = torch.as_tensor(b["mean"], dtype=torch.float64).clone()
            self.seen = torch.as_tensor(b["seen"], dtype=torch.bool).clone()
            self.adv_var = torch.as_tensor(b["adv_var"], dtype=torch.float64).clone()
            self.adv_var_seen = torch.as_tensor(b["adv_var_seen"], dtype=torch.bool).clone()


# ---------------------------------------------------------------------------- RL² / E-RL²
@dataclass
class Rl2Batch:
    """A PPO batch of RL² trials (B trials, L steps: the longest trial's real length)."""

    data: dict[str, np.ndarray]        # the sampler's arrays, cut to L
    x: torch.Tensor                    # (B, L, D + A + 2) the GRU's inputs
    actions: torch.Tensor              # (B, L)
    mask: torch.Tensor                 # (B, L) 1 on real steps, 0 on the padding after a trial
    logp_old: torch.Tensor             # (B, L)
    adv: torch.Tensor                  # (B, L) normalised GAE advantages of the objective's rewards
    ret: torch.Tensor                  # (B, L) value targets


class Rl2Learner:
    """A GRU actor-critic trained with PPO on whole trials; E-RL² zeroes exploratory rewards in the objective."""

    def __init__(self, cfg: TrainConfig, spec: EnvSpec, sampler: Sampler) -> None:
        self.cfg, self.spec, self.sampler = cfg, spec, sampler
        torch.manual_seed(cfg.seed)
        self.net_kwargs: dict[str, Any] = {"obs_dim": spec.obs_dim + spec.n_actions + 2, "n_actions": spec.n_actions,
                           "hidden": cfg.hidden, "embed": cfg.hidden}
        self.net = RecurrentActorCritic(**self.net_kwargs)
        self.opt = torch.optim.Adam(self.net.parameters(), lr=cfg.lr)
        self.explore_free = cfg.algo == "erl2"

    def _trials(self, tasks: np.ndarray, seed: int) -> dict[str, np.ndarray]:
        state = {k: v.detach().numpy() for k, v in self.net.state_dict().items()}
        return self.sampler.rnn(self.net_kwargs, state, tasks, self.cfg.n_episodes, seed)

    def collect(self, it: int, rng: np.random.Generator, train_seeds: np.ndarray) -> Rl2Batch:
        """A batch of trials on training worlds, with GAE advantages and value targets over whole trials."""
        cfg, A = self.cfg, self.spec.n_actions
        tasks = rng.choice(train_seeds, size=cfg.trials, replace=cfg.trials > len(train_seeds))
        b = self._trials(tasks, cfg.seed * 1_000_003 + 2 * it)
        length = max(1, int(b["mask"].sum(1).max()))  # episodes are packed: only the trials' tails are padding
        b = {k: v[:, :length] for k, v in b.items()}
        x = _t(rnn_inputs(b["obs"], b["actions"], b["rewards"], b["first"], A))  # (B, L, D + A + 2)
        actions, rewards, mask, episode = _t(b["actions"]), _t(b["rewards"]), _t(b["mask"]), _t(b["episode"])
        with torch.no_grad():
            logits, values, _ = self.net(x)
            logp_old = F.log_softmax(logits, -1).gather(-1, actions[..., None]).squeeze(-1)
        r_obj = objective_rewards(rewards, episode, cfg.n_explore, self.explore_free)
        adv, ret = gae(r_obj, values, trial_dones(mask), torch.zeros(rewards.shape[0]), cfg.gamma, cfg.gae_lambda)
        return Rl2Batch(b, x, actions, mask, logp_old, normalize(adv, mask), ret)

    def loss(self, batch: Rl2Batch, idx: torch.Tensor) -> tuple[torch.Tensor, dict[str, float]]:
        """PPO loss of the trials ``idx``: clipped surrogate, value loss and entropy, all over real steps only."""
        cfg = self.cfg
        logits, v, _ = self.net(batch.x[idx])  # memory from the start of each trial
        mask = batch.mask[idx]
        logp_all = F.log_softmax(logits, -1)
        logp = logp_all.gather(-1, batch.actions[idx][..., None]).squeeze(-1)
        ent = -(logp_all.exp() * logp_all).sum(-1)
        pg, info = ppo_clip_loss(logp, batch.logp_old[idx], batch.adv[idx], cfg.clip, mask)
        value_loss = masked_mean((v - batch.ret[idx]) ** 2, mask)
        return pg + cfg.value_coef * value_loss - cfg.entropy_coef * masked_mean(ent, mask), info

    def iteration(self, it: int, rng: np.random.Generator, train_seeds: np.ndarray) -> tuple[dict[str, float], int]:
        cfg = self.cfg
        batch = self.collect(it, rng, train_seeds)
        B = batch.x.shape[0]
        info: dict[str, float] = {}
        for _ in range(cfg.ppo_epochs):
            for idx in torch.randperm(B, generator=torch.Generator().manual_seed(it)).chunk(cfg.minibatches):
                loss, info = self.loss(batch, idx)
                self.opt.zero_grad()
                loss.backward()
                torch.nn.utils.clip_grad_norm_(self.net.parameters(), cfg.max_grad_norm)
                self.opt.step()
        b = batch.data
        ep = episode_returns(b["rewards"], b["episode"], cfg.n_episodes)  # (B, E)
        metrics = {"train/explore_return": float(ep[:, : cfg.n_explore].mean()) if cfg.n_explore else 0.0,
                   "train/exploit_return": float(ep[:, cfg.n_explore:].mean()), "train/approx_kl": info["approx_kl"]}
        return metrics, int(batch.mask.sum())

    def evaluate(self, seeds: np.ndarray, seed: int) -> dict[str, np.ndarray]:
        """Per test world and trial (N, M): the mean return of the scored episodes (after n_explore) and of
        the exploratory ones; and the mean return of each episode of a trial (E,)."""
        cfg, E = self.cfg, self.cfg.n_episodes
        M, N = max(1, cfg.eval_trials), len(seeds)
        tasks = np.tile(seeds, M)
        ep = np.zeros((N * M, E))
        for c, idx in enumerate(_chunks(N * M, 1024)):
            b = self._trials(tasks[idx], seed * 1009 + c)
            ep[idx] = episode_returns(b["rewards"], b["episode"], E)
        score = ep[:, cfg.n_explore:].mean(1)
        before = ep[:, : cfg.n_explore].mean(1) if cfg.n_explore else np.full(N * M, np.nan)
        return {"score": score.reshape(M, N).T, "before": before.reshape(M, N).T, "episodes": ep.mean(0)}

    def state_dict(self) -> dict[str, Any]:
        return {"net": self.net.state_dict(), "optim": self.opt.state_dict()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.net.load_state_dict({k: torch.as_tensor(v) for k, v in state["net"].items()})
        self.opt.load_state_dict(state["optim"])


Learner = MamlLearner | Rl2Learner
LEARNERS: dict[str, type[MamlLearner] | type[Rl2Learner]] = {
    "maml": MamlLearner, "emaml": MamlLearner, "rl2": Rl2Learner, "erl2": Rl2Learner}


def make_learner(cfg: TrainConfig, sampler: Sampler | None = None) -> Learner:
    spec = env_spec(cfg)
    return LEARNERS[cfg.algo](cfg, spec, sampler or Sampler(spec))


def random_floor(cfg: TrainConfig, seeds: np.ndarray) -> np.ndarray:
    """(N, floor_episodes) episode returns of the uniform random policy on each world."""
    return rollout_random(env_spec(cfg), seeds, max(2, cfg.floor_episodes), seed=eval_seed(cfg) + 1)


def bandit_references(cfg: TrainConfig, seeds: np.ndarray) -> dict[str, dict[str, float]]:
    """On bandit test worlds: Thompson sampling's and the random policy's mean return per scored episode
    (episodes n_explore+1..n_episodes of a trial, as the learners are scored), ``eval_trials`` trials each."""
    from ilya.metarl.envs import BanditVec, random_rewards, thompson_rewards

    env = env_spec(cfg).make(seeds)
    assert isinstance(env, BanditVec)
    M, E, H = max(1, cfg.eval_trials), cfg.n_episodes, cfg.bandit.horizon
    p = np.repeat(env.p, M, axis=0)  # (N * M, arms), world n's trials at n * M ...
    rng = np.random.default_rng(eval_seed(cfg) + 2)
    out = {}
    for name, fn in (("thompson", thompson_rewards), ("random", random_rewards)):
        r = fn(p, E * H, rng).reshape(len(seeds), M, E, H).sum(-1)  # episode returns
        out[name] = world_stats(r[:, :, cfg.n_explore:].mean(-1))
    return out


def check_config(cfg: TrainConfig) -> None:
    if cfg.algo not in LEARNERS:
        raise IlyaError(f"--algo {cfg.algo}: expected one of {', '.join(LEARNERS)}")
    if cfg.train_worlds < 1 or cfg.test_worlds < 2:
        raise IlyaError("--train-worlds must be >= 1 and --test-worlds >= 2")
    if not 0 <= cfg.n_explore < cfg.n_episodes:
        raise IlyaError(f"--n-explore {cfg.n_explore}: expected 0 <= n_explore < n_episodes ({cfg.n_episodes})")
    if cfg.env_steps <= 0:
        raise IlyaError("--env-steps must be positive")
    if cfg.eval_adapts < 1 or cfg.eval_trials < 1 or cfg.eval_episodes < 1 or cfg.floor_episodes < 2:
        raise IlyaError("--eval-adapts, --eval-trials and --eval-episodes must be >= 1, --floor-episodes >= 2")
    if not 0.0 <= cfg.emaml_baseline_decay < 1.0:
        raise IlyaError(f"--emaml-baseline-decay {cfg.emaml_baseline_decay}: expected 0 <= decay < 1")
    resolve_device(cfg.device)  # a bad or unavailable device is a user error; the small policies train on CPU
    try:
        env_spec(cfg).make([0])
    except ValueError as e:
        raise IlyaError(f"--{cfg.env}.*: {e}") from None


def _test_metrics(test: dict[str, np.ndarray]) -> dict[str, float]:
    st = world_stats(test["score"])
    out = {"test/return": st["mean"], "test/return_se": st["se"], "test/return_se_worlds": st["se_worlds"]}
    before = test["before"]
    if not np.isnan(before).all():
        out["test/before"] = float(np.mean(before))
    return out


def train(cfg: TrainConfig) -> dict[str, Any]:
    """Meta-train within ``env_steps``; log test return vs env steps; resume from the last checkpoint.

    The loop stops before an iteration that would take it past the budget (predicted by the size of
    the previous iteration), so a run uses at most about ``env_steps`` steps.  Every evaluation uses
    the run's one evaluation seed, so the last point of the curve is the summary's figure.
    """
    check_config(cfg)
    torch.set_num_threads(max(1, min(2, torch.get_num_threads())))
    spec = env_spec(cfg)
    train_seeds, test_seeds = world_seeds(cfg)
    es = eval_seed(cfg)
    with Run.open("metarl", cfg) as run:
        sampler = Sampler(spec, cfg.workers, cfg.address)
        learner = LEARNERS[cfg.algo](cfg, spec, sampler)
        state = run.load_checkpoint()
        steps, it, last_n = 0, 0, 0
        if state is not None:
            learner.load_state_dict(state["learner"])
            steps, it = int(state["env_steps"]), int(state["iteration"])
            last_n = int(state.get("last_iteration_steps", 0))
        floor = world_stats(random_floor(cfg, test_seeds))
        bar = progress(total=cfg.env_steps, desc=f"metarl {cfg.algo}", unit="step")
        bar.update(min(steps, cfg.env_steps))
        last: dict[str, float] | None = None
        test: dict[str, np.ndarray] | None = None
        if steps == 0:
            test = learner.evaluate(test_seeds, seed=es)
            last = _test_metrics(test)
            run.log(0, **last, **{"test/random": floor["mean"], "test/random_se": floor["se"]})

        def more() -> bool:
            return steps < cfg.env_steps and not (last_n and steps + last_n > cfg.env_steps)

        while more():
            # each iteration's tasks come from (seed, iteration): a resumed run draws what an unbroken one would
            rng = np.random.default_rng([cfg.seed, it])
            metrics, last_n = learner.iteration(it, rng, train_seeds)
            steps += last_n
            it += 1
            bar.update(last_n)
            if it % cfg.eval_every == 0 or not more():
                test = learner.evaluate(test_seeds, seed=es)
                last = _test_metrics(test)
                run.log(steps, **metrics, **last, **{"test/random": floor["mean"], "test/random_se": floor["se"]})
                run.save_checkpoint(steps, {"learner": learner.state_dict(), "env_steps": steps, "iteration": it,
                                            "last_iteration_steps": last_n})
                if not cfg.quiet:
                    bar.write(f"[{cfg.algo} seed {cfg.seed}] env steps {steps:>8d}  test return "
                              f"{last['test/return']:+.3f} ± {last['test/return_se']:.3f}"
                              f"  (random {floor['mean']:+.3f} ± {floor['se']:.3f})", file=sys.stderr)
        bar.close()
        if test is None or last is None:  # a finished run resumed: the same seed gives the same figures again
            test = learner.evaluate(test_seeds, seed=es)
            last = _test_metrics(test)
        summary = {"algo": cfg.algo, "env": cfg.env, "seed": cfg.seed, "env_steps": steps, "iterations": it,
                   "test_return": last["test/return"], "test_return_se": last["test/return_se"],
                   "test_return_se_worlds": last["test/return_se_worlds"],
                   "test_before": last.get("test/before"),
                   "random_return": floor["mean"], "random_return_se": floor["se"],
                   "random_return_se_worlds": floor["se_worlds"], "test_worlds": len(test_seeds),
                   "eval_seed": es}
        if "episodes" in test:
            summary["test_episode_returns"] = [float(x) for x in test["episodes"]]
        if cfg.env == "bandit":
            for name, st in bandit_references(cfg, test_seeds).items():
                summary[f"{name}_return"], summary[f"{name}_return_se"] = st["mean"], st["se"]
        run.summary(**summary)
        draw_run(run)
        summary["run"] = str(run.path)
    return summary


def train_command(cfg: TrainConfig) -> dict[str, Any]:
    """``ilya metarl train``: train, then one line on stderr (the figures as one JSON object with --json)."""
    result = train(cfg)
    print(f"test return {result['test_return']:+.3f} ± {result['test_return_se']:.3f} on {result['test_worlds']} "
          f"held-out worlds (random policy {result['random_return']:+.3f}); figures in {result['run']}/plots",
          file=sys.stderr)
    return result
