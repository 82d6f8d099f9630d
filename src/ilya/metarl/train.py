"""Training loops of MAML / E-MAML and RL² / E-RL², with the paper's protocol as defaults.

Protocol (Stadie et al. 2018, sec. 4 and appendix): 32 training worlds, 64 held-out test worlds; MAML
gets one inner update at test time; RL² gets a trial of 5 episodes, 3 to explore, and is scored on
episodes 4-5; PPO with clip 0.2 and GAE λ 0.997.  The test return of every method is "mean return per
episode after exploring" on the held-out worlds: the adapted policy's episodes for MAML, episodes 4-5
for RL².  Metrics are logged against environment steps (every step any sampler took counts).
"""

from __future__ import annotations

import sys
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from ilya.core.device import resolve_device
from ilya.core.errors import IlyaError
from ilya.core.figures import draw_run
from ilya.core.progress import progress
from ilya.core.runs import Run
from ilya.core.stats import mean_se
from ilya.metarl.config import TrainConfig, krazy_world
from ilya.metarl.maml import action_logp, adapt, advantages, emaml_surrogate, pg_inner_loss, replicate
from ilya.metarl.policy import init_mlp, to_numpy
from ilya.metarl.rl2 import episode_returns, objective_rewards, trial_dones
from ilya.metarl.sampling import EnvSpec, Sampler, rnn_inputs, rollout_random
from ilya.nn.ppo import gae, masked_mean, normalize, ppo_clip_loss
from ilya.nn.recurrent import RecurrentActorCritic


def env_spec(cfg: TrainConfig) -> EnvSpec:
    return EnvSpec(cfg.env, krazy_world(cfg.krazy, cfg.krazy_preset) if cfg.env == "krazy" else cfg.maze)


def world_seeds(cfg: TrainConfig) -> tuple[np.ndarray, np.ndarray]:
    """Training and test world seeds (disjoint)."""
    base = cfg.world_seed * 1_000_000
    return base + np.arange(cfg.train_worlds), base + 500_000 + np.arange(cfg.test_worlds)


def _t(x: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(x))


# ---------------------------------------------------------------------------- MAML / E-MAML
class MamlLearner:
    """θ of an MLP policy; one meta-iteration = pre-update rollouts, inner step, post-update rollouts, PPO."""

    def __init__(self, cfg: TrainConfig, spec: EnvSpec, sampler: Sampler) -> None:
        self.cfg, self.spec, self.sampler = cfg, spec, sampler
        gen = torch.Generator().manual_seed(cfg.seed)
        self.params = {k: v.requires_grad_(True) for k, v in
                       init_mlp(spec.obs_dim, spec.n_actions, (cfg.hidden, cfg.hidden), gen).items()}
        self.opt = torch.optim.Adam(self.params.values(), lr=cfg.lr)
        self.weight = cfg.emaml_weight if cfg.algo == "emaml" else 0.0

    def _batch(self, params: dict[str, np.ndarray], tasks: np.ndarray, seed: int) -> dict[str, torch.Tensor]:
        b = self.sampler.mlp(params, tasks, self.cfg.episodes_per_task, seed)
        return {k: _t(v) for k, v in b.items()}

    def _adapted(self, pre: dict[str, torch.Tensor], adv_pre: torch.Tensor, create_graph: bool):
        """(θ' per task, log π_θ of the pre-update steps)."""
        rep = replicate(self.params, pre["obs"].shape[0])
        logp_pre, _ = action_logp(rep, pre["obs"], pre["actions"])
        inner = pg_inner_loss(logp_pre, adv_pre, pre["mask"])
        return adapt(rep, inner, self.cfg.inner_lr, create_graph=create_graph), logp_pre

    def iteration(self, it: int, rng: np.random.Generator, train_seeds: np.ndarray) -> tuple[dict[str, float], int]:
        cfg = self.cfg
        tasks = rng.choice(train_seeds, size=cfg.meta_batch, replace=cfg.meta_batch > len(train_seeds))
        seed = cfg.seed * 1_000_003 + 2 * it
        pre = self._batch(to_numpy(self.params), tasks, seed)
        adv_pre = advantages(pre["obs"], pre["rewards"], pre["mask"], cfg.gamma, cfg.gae_lambda)
        adapted, _ = self._adapted(pre, adv_pre, create_graph=False)
        post = self._batch(to_numpy(adapted), tasks, seed + 1)
        adv_post = advantages(post["obs"], post["rewards"], post["mask"], cfg.gamma, cfg.gae_lambda)
        with torch.no_grad():
            logp_old, _ = action_logp({k: v.detach() for k, v in adapted.items()}, post["obs"], post["actions"])
        post_return = post["rewards"].sum(-1).mean(-1)  # (N,) each task's adapted return
        info: dict[str, float] = {}
        for epoch in range(cfg.ppo_epochs):
            adapted, logp_pre = self._adapted(pre, adv_pre, create_graph=True)
            logp_post, ent = action_logp(adapted, post["obs"], post["actions"])
            loss, info = ppo_clip_loss(logp_post, logp_old, adv_post, cfg.clip, post["mask"])
            loss = loss - cfg.entropy_coef * masked_mean(ent, post["mask"])
            if self.weight and (epoch == 0 or not cfg.emaml_first_epoch):
                pre_traj_logp = (logp_pre * pre["mask"]).sum(-1)  # (N, K) log π_θ(τ) per trajectory
                R = post_return
                if cfg.emaml_normalize:  # same scale as the PPO term: per-step log-prob, standardised returns
                    pre_traj_logp = pre_traj_logp / pre["mask"].sum(-1).clamp_min(1.0)
                    R = (R - R.mean()) / (R.std() + 1e-8)
                loss = loss - self.weight * emaml_surrogate(pre_traj_logp, R)
            self.opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(self.params.values(), cfg.max_grad_norm)
            self.opt.step()
        steps = int(pre["mask"].sum() + post["mask"].sum())
        metrics = {"train/pre_return": float(pre["rewards"].sum(-1).mean()),
                   "train/post_return": float(post_return.mean()), "train/approx_kl": info["approx_kl"]}
        return metrics, steps

    def evaluate(self, seeds: np.ndarray, seed: int) -> dict[str, np.ndarray]:
        """Per test world: return before and after one inner update (MAML's test-time protocol)."""
        cfg = self.cfg
        pre = self._batch(to_numpy(self.params), seeds, seed)
        adv_pre = advantages(pre["obs"], pre["rewards"], pre["mask"], cfg.gamma, cfg.gae_lambda)
        adapted, _ = self._adapted(pre, adv_pre, create_graph=False)
        post = self._batch(to_numpy(adapted), seeds, seed + 1)
        return {"score": post["rewards"].sum(-1).mean(-1).numpy(),
                "before": pre["rewards"].sum(-1).mean(-1).numpy()}

    def adapted_numpy(self, seeds: np.ndarray, seed: int) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
        """(θ, θ' per task) as NumPy, for drawing trajectories."""
        cfg = self.cfg
        pre = self._batch(to_numpy(self.params), seeds, seed)
        adv_pre = advantages(pre["obs"], pre["rewards"], pre["mask"], cfg.gamma, cfg.gae_lambda)
        adapted, _ = self._adapted(pre, adv_pre, create_graph=False)
        return to_numpy(self.params), to_numpy(adapted)

    def state_dict(self) -> dict[str, Any]:
        return {"policy": {k: v.detach().clone() for k, v in self.params.items()}, "optim": self.opt.state_dict()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        with torch.no_grad():
            for k, v in state["policy"].items():
                self.params[k].copy_(torch.as_tensor(v))
        self.opt.load_state_dict(state["optim"])


# ---------------------------------------------------------------------------- RL² / E-RL²
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

    def iteration(self, it: int, rng: np.random.Generator, train_seeds: np.ndarray) -> tuple[dict[str, float], int]:
        cfg, T, A = self.cfg, self.spec.horizon, self.spec.n_actions
        tasks = rng.choice(train_seeds, size=cfg.trials, replace=cfg.trials > len(train_seeds))
        b = self._trials(tasks, cfg.seed * 1_000_003 + 2 * it)
        x = _t(rnn_inputs(b["obs"], b["actions"], b["rewards"], T, A))  # (B, L, D + A + 2)
        actions, rewards, mask = _t(b["actions"]), _t(b["rewards"]), _t(b["mask"])
        B, L = rewards.shape
        with torch.no_grad():
            logits, values, _ = self.net(x)
            logp_old = F.log_softmax(logits, -1).gather(-1, actions[..., None]).squeeze(-1)
        r_obj = objective_rewards(rewards, T, cfg.n_explore, self.explore_free)
        adv, ret = gae(r_obj, values, trial_dones(B, L), torch.zeros(B), cfg.gamma, cfg.gae_lambda)
        adv = normalize(adv, mask)
        info: dict[str, float] = {}
        for _ in range(cfg.ppo_epochs):
            for idx in torch.randperm(B, generator=torch.Generator().manual_seed(it)).chunk(cfg.minibatches):
                logits, v, _ = self.net(x[idx])  # memory from the start of each trial
                logp_all = F.log_softmax(logits, -1)
                logp = logp_all.gather(-1, actions[idx][..., None]).squeeze(-1)
                ent = -(logp_all.exp() * logp_all).sum(-1)
                pg, info = ppo_clip_loss(logp, logp_old[idx], adv[idx], cfg.clip, mask[idx])
                loss = (pg + cfg.value_coef * ((v - ret[idx]) ** 2).mean()
                        - cfg.entropy_coef * masked_mean(ent, mask[idx]))
                self.opt.zero_grad()
                loss.backward()
                torch.nn.utils.clip_grad_norm_(self.net.parameters(), cfg.max_grad_norm)
                self.opt.step()
        ep = episode_returns(b["rewards"], T)  # (B, E)
        metrics = {"train/explore_return": float(ep[:, : cfg.n_explore].mean()),
                   "train/exploit_return": float(ep[:, cfg.n_explore:].mean()), "train/approx_kl": info["approx_kl"]}
        return metrics, int(mask.sum())

    def evaluate(self, seeds: np.ndarray, seed: int) -> dict[str, np.ndarray]:
        """Per test world: mean return of the scored episodes (after n_explore), and per-episode returns."""
        k = max(1, self.cfg.eval_trials)
        b = self._trials(np.repeat(seeds, k), seed)
        ep = episode_returns(b["rewards"], self.spec.horizon).reshape(len(seeds), k, -1).mean(1)  # (N, E)
        return {"score": ep[:, self.cfg.n_explore:].mean(1), "before": ep[:, : self.cfg.n_explore].mean(1),
                "episodes": ep.mean(0)}

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
    """Per-world mean episode return of the uniform random policy."""
    return rollout_random(env_spec(cfg), seeds, max(cfg.eval_episodes, 4), seed=12345)


def check_config(cfg: TrainConfig) -> None:
    if cfg.algo not in LEARNERS:
        raise IlyaError(f"--algo {cfg.algo}: expected one of {', '.join(LEARNERS)}")
    if cfg.train_worlds < 1 or cfg.test_worlds < 2:
        raise IlyaError("--train-worlds must be >= 1 and --test-worlds >= 2")
    if not 0 <= cfg.n_explore < cfg.n_episodes:
        raise IlyaError(f"--n-explore {cfg.n_explore}: expected 0 <= n_explore < n_episodes ({cfg.n_episodes})")
    if cfg.env_steps <= 0:
        raise IlyaError("--env-steps must be positive")
    resolve_device(cfg.device)  # a bad or unavailable device is a user error; the small policies train on CPU
    try:
        env_spec(cfg).make([0])
    except ValueError as e:
        raise IlyaError(f"--{cfg.env}.*: {e}") from None


def train(cfg: TrainConfig) -> dict[str, Any]:
    """Meta-train until ``env_steps``; log test return vs env steps; resume from the last checkpoint."""
    check_config(cfg)
    torch.set_num_threads(max(1, min(2, torch.get_num_threads())))
    spec = env_spec(cfg)
    train_seeds, test_seeds = world_seeds(cfg)
    with Run.open("metarl", cfg) as run:
        sampler = Sampler(spec, cfg.workers, cfg.address)
        learner = LEARNERS[cfg.algo](cfg, spec, sampler)
        state = run.load_checkpoint()
        steps, it = 0, 0
        if state is not None:
            learner.load_state_dict(state["learner"])
            steps, it = int(state["env_steps"]), int(state["iteration"])
        floor = random_floor(cfg, test_seeds)
        floor_mean, floor_se = mean_se(floor)
        bar = progress(total=cfg.env_steps, desc=f"metarl {cfg.algo}", unit="step")
        bar.update(steps)
        if steps == 0:
            test = learner.evaluate(test_seeds, seed=777)
            run.log(0, **{"test/return": float(test["score"].mean()), "test/random": floor_mean})
        while steps < cfg.env_steps:
            # each iteration's tasks come from (seed, iteration): a resumed run draws what an unbroken one would
            rng = np.random.default_rng([cfg.seed, it])
            metrics, n = learner.iteration(it, rng, train_seeds)
            steps += n
            it += 1
            bar.update(n)
            if it % cfg.eval_every == 0 or steps >= cfg.env_steps:
                test = learner.evaluate(test_seeds, seed=777)
                m, se = mean_se(test["score"])
                run.log(steps, **metrics, **{"test/return": m, "test/return_se": se, "test/random": floor_mean})
                run.save_checkpoint(steps, {"learner": learner.state_dict(), "env_steps": steps, "iteration": it})
                if not cfg.quiet:
                    bar.write(f"[{cfg.algo} seed {cfg.seed}] env steps {steps:>8d}  test return {m:+.3f} ± {se:.3f}"
                              f"  (random {floor_mean:+.3f})", file=sys.stderr)
        bar.close()
        test = learner.evaluate(test_seeds, seed=778)
        m, se = mean_se(test["score"])
        summary = {"algo": cfg.algo, "env": cfg.env, "seed": cfg.seed, "env_steps": steps, "iterations": it,
                   "test_return": m, "test_return_se": se, "test_before": float(np.mean(test["before"])),
                   "random_return": floor_mean, "random_return_se": floor_se, "test_worlds": len(test_seeds)}
        if "episodes" in test:
            summary["test_episode_returns"] = [float(x) for x in test["episodes"]]
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
